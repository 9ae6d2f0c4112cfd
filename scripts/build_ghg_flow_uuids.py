"""Build src/openpcf/io/data/ghg_flow_uuids.csv: the EF 3.1 reference elementary flows (ILCD
UUIDs) that openpcf's name rules map to a gas, read from the EF 3.1 "Climate change" LCIA
method data set the TianGong release ships (../shared/data/lci/tiangong-lca-data-ilcd.zip).

Every flow a name rule maps is written with that rule's gas and origin. Where the rule's gas at
its AR6 GWP100 does not give EF 3.1's own factor (within 1 %) the difference is printed: in the
release it is only methodological (EF gives biogenic CO2 a factor 0 and methane from land use
the fossil value 29.8, openpcf counts biogenic CO2 and gives non-fossil methane 27.0), never a
wrong gas. Flows EF characterises that no rule maps (ethane, siloxanes, ...) are printed too.

    .venv/bin/python scripts/build_ghg_flow_uuids.py
"""

from __future__ import annotations

import csv
import re
import sys
import zipfile
from pathlib import Path

from lxml import etree

from openpcf.domain.gases import Flow
from openpcf.factors.bundled import gwp_table
from openpcf.io.ghg_flow_map import parse_map

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT.parent / "shared" / "data" / "lci" / "tiangong-lca-data-ilcd.zip"
METHOD = "tiangong_lca_data/lciamethods/6209b35f-9447-40b5-b68c-a1099e3674a0.xml"
OUT = ROOT / "src" / "openpcf" / "io" / "data" / "ghg_flow_uuids.csv"
NS = {"m": "http://lca.jrc.it/ILCD/LCIAMethod", "c": "http://lca.jrc.it/ILCD/Common"}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
# "carbon dioxide (fossil) (Mass, kg, Emissions to air, unspecified)"
SHORT = re.compile(r"^(?P<name>.*) \((?P<prop>[^,()]+), (?P<unit>[^,()]+), (?P<cat>[^()]+)\)$")


def main() -> int:
    names = (ROOT / "src" / "openpcf" / "io" / "data" / "ghg_flow_map.csv").read_text("utf-8")
    rules = parse_map(names)
    table = gwp_table()
    with zipfile.ZipFile(ZIP) as z:
        root = etree.fromstring(z.read(METHOD), SAFE)
    rows, unmapped, disagree = [], [], []
    for f in root.iterfind(".//m:characterisationFactors/m:factor", NS):
        ref = f.find("m:referenceToFlowDataSet", NS)
        uuid, short = ref.get("refObjectId"), ref.findtext("c:shortDescription", "", NS)
        direction = f.findtext("m:exchangeDirection", "", NS)
        value = float(f.findtext("m:meanValue", "0", NS))
        m = SHORT.match(short.strip())
        if not m or m.group("unit") != "kg":
            continue
        name, category = m.group("name"), m.group("cat")
        if direction == "Input":
            category = "Resources/" + category
        rule = rules.match(name, category, None)
        if rule is None:
            if value:
                unmapped.append(f"{name} ({category}): EF {value}")
            continue
        ours = rule.factor * table.gwp(Flow(rule.flow.gas, rule.flow.origin), "AR6")
        ef = value if direction != "Input" else -value  # per signed amount (inputs negative)
        if abs(ours - ef) > 0.01 * max(abs(ours), abs(ef)):
            disagree.append(f"{name} ({category}, {direction}): ours {ours} vs EF 3.1 {ef}")
        rows.append((uuid, rule.flow.gas, rule.flow.origin, rule.factor, name, category))
    with OUT.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "# EF 3.1 reference elementary flows (ILCD UUIDs) and the gas each one is, written by\n"
            "# scripts/build_ghg_flow_uuids.py from the EF 3.1 'Climate change' LCIA method data\n"
            "# set (UUID 6209b35f-9447-40b5-b68c-a1099e3674a0) shipped in the TianGong LCA release\n"
            "# (linancn/TianGong-LCA-Data, commit a55b302e, MIT): every flow of it that a name rule\n"
            "# of ghg_flow_map.csv maps, with that rule's gas, origin and factor. Matched first, by\n"
            "# UUID, so a renamed flow keeps its gas.\n"
        )
        w = csv.writer(out, lineterminator="\n")
        w.writerow(("uuid", "gas", "origin", "factor", "name", "category"))
        w.writerows(sorted(set(rows)))
    print(f"{len(set(rows))} flows written to {OUT}")
    for label, items in (("EF characterises, no rule maps", unmapped),
                         ("rule and EF disagree", disagree)):  # fmt: skip
        print(f"{label}: {len(items)}")
        for item in sorted(set(items)):
            print("  ", item)
    return 0


if __name__ == "__main__":
    sys.exit(main())
