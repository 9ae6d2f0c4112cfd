"""openpcf's own model of the PACT data model (io/pact/model.py, which validates every export and
import) against the specification's own schemas (../shared/specs/pact, io/pact/schema.py): the
same verdict, at the same place, on openpcf's exports of every shipped example and on documents
broken on purpose, one rule at a time.

Where the two differ, the difference is listed in KNOWN_DIFFERENCES with the reason, and the test
asserts it stays exactly that (a change on either side shows up here).
"""

from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openpcf.io.pact.model import footprint_errors
from openpcf.io.pact.schema import schema_errors
from openpcf.services.exchange.files import export_pact
from tests.conftest import REPO
from tests.shared import pact_spec_dir
from tests.test_pact_files import CONTEXT as PELLET_CONTEXT
from tests.test_pact_files import PELLET

Doc = dict[str, Any]
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.yaml"))
CONTEXT = """
company_name: Example Co
company_ids: [urn:openpcf:company:example]
product_classifications: [urn:pact:productclassification:un-cpc:4642]
"""
#: pv-module's declared unit is 1 m2 of module: PACT needs the mass of it (the model's glass,
#: frame and cell inputs per m2 add up to about 11 kg; the export must be told, not guess).
MASS = {"pv-module.yaml": "product_mass_per_declared_unit: 11.2\n"}


def _paths(errors: list[str]) -> set[str]:
    """Where each error is, a missing property named by its own path (the spec's validator
    reports it at the parent, ours at the property)."""
    out = set()
    for error in errors:
        path, _, message = error.partition(": ")
        missing = re.match(r"'(\w+)' is a required property", message)
        if missing:
            parent = "" if path == "(document)" else path + "."
            path = parent + missing.group(1)
        out.add(path)
    return out


def _both(doc: Doc, version: str) -> tuple[list[str], list[str]]:
    pact_spec_dir()  # skips without ../shared
    return footprint_errors(doc, version), schema_errors(doc, version)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Doc]:
    folder = tmp_path_factory.mktemp("pact-contexts")
    out = {}
    for name in EXAMPLES:
        context = folder / f"{name}.context.yaml"
        context.write_text(CONTEXT + MASS.get(name, ""), encoding="utf-8")
        for version in ("3", "2"):
            exported = export_pact(REPO / "examples" / name, version=version, context_file=context)  # type: ignore[arg-type]
            out[(name, version)] = exported.document
    # the pellet of test_pact_files: data quality ratings (dqi), a subdivision, biogenic uptake
    pellet, context = folder / "pellet.yaml", folder / "pellet.context.yaml"
    pellet.write_text(textwrap.dedent(PELLET), encoding="utf-8")
    context.write_text(textwrap.dedent(PELLET_CONTEXT), encoding="utf-8")
    for version in ("3", "2"):
        exported = export_pact(pellet, version=version, context_file=context)  # type: ignore[arg-type]
        out[("pellet", version)] = exported.document
    return out


@pytest.mark.parametrize("version", ["3", "2"])
def test_every_example_exports_valid_by_both(
    exports: dict[tuple[str, str], Doc], version: str
) -> None:
    assert len(EXAMPLES) >= 6
    for name in [*EXAMPLES, "pellet"]:
        ours, spec = _both(exports[(name, version)], version)
        assert (ours, spec) == ([], []), name


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    *parents, last = path.split(".")

    def change(doc: Doc) -> None:
        for key in parents:
            doc = doc[key]
        if value is _DROP:
            del doc[last]
        else:
            doc[last] = value

    return change


_DROP = object()

#: (version, what is broken, the change, where both must report it)
BROKEN: list[tuple[str, str, Callable[[Doc], None], set[str]]] = [
    ("3", "id not a UUID", _set("id", "pf-1"), {"id"}),
    ("3", "no companyName", _set("companyName", _DROP), {"companyName"}),
    ("3", "empty companyName", _set("companyName", ""), {"companyName"}),
    ("3", "no company id", _set("companyIds", []), {"companyIds"}),
    ("3", "company id not a URN", _set("companyIds", ["acme"]), {"companyIds[0]"}),
    ("3", "a product id twice", _set("productIds", ["urn:x:1", "urn:x:1"]), {"productIds"}),
    ("3", "unknown status", _set("status", "Retired"), {"status"}),
    ("3", "created not a date-time", _set("created", "2025-06-01"), {"created"}),
    ("3", "created without zone", _set("created", "2025-06-01T08:00:00"), {"created"}),
    ("3", "specVersion not x.y.z", _set("specVersion", "3"), {"specVersion"}),
    ("3", "preceding id not a UUID", _set("precedingPfIds", ["x"]), {"precedingPfIds[0]"}),
    ("3", "unknown declared unit", _set("pcf.declaredUnitOfMeasurement", "ton"),
     {"pcf.declaredUnitOfMeasurement"}),
    ("3", "declared amount 0", _set("pcf.declaredUnitAmount", "0"), {"pcf.declaredUnitAmount"}),
    ("3", "negative fossil emissions", _set("pcf.fossilGhgEmissions", "-1"),
     {"pcf.fossilGhgEmissions"}),
    ("3", "a number, not a string", _set("pcf.fossilGhgEmissions", 12.5),
     {"pcf.fossilGhgEmissions"}),
    ("3", "positive uptake", _set("pcf.biogenicCO2Uptake", "5"), {"pcf.biogenicCO2Uptake"}),
    ("3", "no reference period end", _set("pcf.referencePeriodEnd", _DROP),
     {"pcf.referencePeriodEnd"}),
    ("3", "country not ISO 3166-1", _set("pcf.geographyCountrySubdivision", "China"),
     {"pcf.geographyCountrySubdivision"}),
    ("3", "two geographies", _set("pcf.geographyCountry", "CN"), {"pcf"}),
    ("3", "GWP set not ARn", _set("pcf.ipccCharacterizationFactors", ["GWP100"]),
     {"pcf.ipccCharacterizationFactors[0]"}),
    ("3", "no cross-sectoral standard", _set("pcf.crossSectoralStandards", []),
     {"pcf.crossSectoralStandards"}),
    ("3", "a DQR missing", _set("pcf.dqi.temporalDQR", _DROP), {"pcf.dqi.temporalDQR"}),
    ("3", "boolean as a string", _set("pcf.packagingEmissionsIncluded", "false"),
     {"pcf.packagingEmissionsIncluded"}),
    ("2", "negative version", _set("version", -1), {"version"}),
    ("2", "version as a string", _set("version", "1"), {"version"}),
    ("2", "no comment", _set("comment", _DROP), {"comment"}),
    ("2", "empty CPC", _set("productCategoryCpc", ""), {"productCategoryCpc"}),
    ("2", "piece is not a v2 unit", _set("pcf.declaredUnit", "piece"), {"pcf.declaredUnit"}),
    ("2", "AR4", _set("pcf.characterizationFactors", "AR4"), {"pcf.characterizationFactors"}),
    ("2", "unknown standard", _set("pcf.crossSectoralStandardsUsed", ["PACT"]),
     {"pcf.crossSectoralStandardsUsed[0]"}),
    ("2", "exempted above 100 %", _set("pcf.exemptedEmissionsPercent", 101),
     {"pcf.exemptedEmissionsPercent"}),
    ("2", "DQR above 3", _set("pcf.dqi.technologicalDQR", 4), {"pcf.dqi.technologicalDQR"}),
    ("2", "no packaging statement", _set("pcf.packagingEmissionsIncluded", _DROP),
     {"pcf.packagingEmissionsIncluded"}),
    ("2", "negative primary share", _set("pcf.primaryDataShare", -1), {"pcf.primaryDataShare"}),
]  # fmt: skip

#: Where openpcf's model is stricter than the spec's schema, and why (ours follows the data
#: model's text). Each must stay: refused by ours, accepted by the spec's schema.
KNOWN_DIFFERENCES: list[tuple[str, str, Callable[[Doc], None], str]] = [
    # v2.3 marks its quantities `format: decimal`, a format JSON Schema validators do not check;
    # the data model says a Decimal is "a dotted-decimal number" encoded as a string.
    ("2", "quantity not a decimal", _set("pcf.pCfExcludingBiogenic", "about 2"),
     "pcf.pCfExcludingBiogenic"),
    # v3's NegativeOrZeroDecimal pattern `^(-\d+(\.\d+)?)|0+(\.0+)?$` lacks a group around the
    # alternatives, so any value ending in 0 matches; the data type is "negative or zero".
    ("3", "uptake of +10", _set("pcf.biogenicCO2Uptake", "10"), "pcf.biogenicCO2Uptake"),
]  # fmt: skip


def _base(exports: dict[tuple[str, str], Doc], version: str) -> Doc:
    doc = copy.deepcopy(exports[("pellet", version)])
    assert "dqi" in doc["pcf"] and "geographyCountrySubdivision" in doc["pcf"]
    if version == "3":
        doc["pcf"].setdefault("biogenicCO2Uptake", "0")
        doc["pcf"].setdefault("packagingEmissionsIncluded", False)
    else:
        doc["pcf"].setdefault("primaryDataShare", 50.0)
    return doc


@pytest.mark.parametrize(("version", "what", "change", "where"), BROKEN, ids=[b[1] for b in BROKEN])
def test_a_broken_document_is_refused_by_both_at_the_same_place(
    exports: dict[tuple[str, str], Doc],
    version: str,
    what: str,
    change: Callable[[Doc], None],
    where: set[str],
) -> None:
    doc = _base(exports, version)
    assert _both(doc, version) == ([], [])  # valid before the change
    change(doc)
    ours, spec = _both(doc, version)
    assert _paths(ours) == where, ours
    assert _paths(spec) == where, spec


@pytest.mark.parametrize(
    ("version", "what", "change", "where"),
    KNOWN_DIFFERENCES,
    ids=[d[1] for d in KNOWN_DIFFERENCES],
)
def test_where_the_spec_schema_is_looser_ours_refuses(
    exports: dict[tuple[str, str], Doc],
    version: str,
    what: str,
    change: Callable[[Doc], None],
    where: str,
) -> None:
    doc = _base(exports, version)
    change(doc)
    ours, spec = _both(doc, version)
    assert _paths(ours) == {where} and spec == []


def test_spec_examples_get_the_same_verdict_from_both() -> None:
    import json

    checked = 0
    for version in ("3", "2"):
        for path in sorted((pact_spec_dir() / f"v{version}" / "examples").glob("*.json")):
            doc = json.loads(path.read_text("utf-8"))
            data = doc.get("data") if isinstance(doc.get("data"), dict | list) else None
            found = data if isinstance(data, list) else [data] if data and "pcf" in data else []
            found = found or ([doc] if "pcf" in doc else (data or {}).get("pfs", []))
            for pf in found:
                ours, spec = _both(pf, version)
                assert _paths(ours) == _paths(spec), (path.name, ours, spec)
                checked += 1
    # v3: 4 examples + get (1) + list (3?) + invalid (1) + event; v2 likewise: at least 10
    assert checked >= 10


def test_the_own_model_needs_no_copy_of_the_spec(
    exports: dict[tuple[str, str], Doc], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENPCF_PACT_SPEC", str(tmp_path / "nowhere"))
    for (name, version), doc in exports.items():
        assert footprint_errors(doc, version) == [], name  # type: ignore[arg-type]
    assert footprint_errors({"id": "x"}, "3")[0].startswith("companyIds: ")
