"""Build openpcf's bundled factor set from the sourced tables in shared/data.

Every number in `src/openpcf/factors/data/openpcf-bundled.json`, `gwp.json` and
`cbam-defaults.json` comes from a row of shared/data; `tests/test_factors.py` rebuilds them and
checks they are unchanged.

    python scripts/build_factor_set.py [--shared ../shared/data] [--out src/openpcf/factors/data]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

SET_ID = "openpcf-bundled"
SET_VERSION = "2026.1"
ROOT = Path(__file__).resolve().parents[1]

PROVINCES = {
    "北京": "CN-BJ", "天津": "CN-TJ", "河北": "CN-HE", "山西": "CN-SX", "内蒙古": "CN-NM",
    "辽宁": "CN-LN", "吉林": "CN-JL", "黑龙江": "CN-HL", "上海": "CN-SH", "江苏": "CN-JS",
    "浙江": "CN-ZJ", "安徽": "CN-AH", "福建": "CN-FJ", "江西": "CN-JX", "山东": "CN-SD",
    "河南": "CN-HA", "湖北": "CN-HB", "湖南": "CN-HN", "广东": "CN-GD", "广西": "CN-GX",
    "海南": "CN-HI", "重庆": "CN-CQ", "四川": "CN-SC", "贵州": "CN-GZ", "云南": "CN-YN",
    "西藏": "CN-XZ", "陕西": "CN-SN", "甘肃": "CN-GS", "青海": "CN-QH", "宁夏": "CN-NX",
    "新疆": "CN-XJ",
}  # fmt: skip
GRIDS = {
    "华北": "north", "东北": "northeast", "华东": "east", "华中": "central",
    "西北": "northwest", "南方": "south", "西南": "southwest",
}  # fmt: skip
NATIONAL_GRID_BASES = {  # basis text in china_grid_factors.csv -> key suffix
    "location-based": "CN",
    "excluding market-traded": "CN-excl-market-nonfossil",
    "fossil-fuel electricity": "CN-fossil",
}
ELECTRICITY_TYPES = {
    "全国电力平均碳足迹因子": "CN", "燃煤发电": "coal", "燃气发电": "gas", "水力发电": "hydro",
    "核能发电": "nuclear", "风力发电": "wind", "光伏发电": "solar-pv",
    "光热发电": "solar-thermal", "生物质发电": "biomass",
}  # fmt: skip
# Chinese guideline fuel (english name in china_fuel_defaults_unverified.csv) -> IPCC 2006 fuel.
CN_TO_IPCC = {
    "anthracite": "Anthracite", "bituminous coal": "Other bituminous coal",
    "lignite": "Lignite", "washed coal": "Coking coal", "other washed coal": "Other bituminous coal",
    "coke": "Coke oven coke and lignite coke", "crude oil": "Crude oil",
    "fuel oil": "Residual fuel oil", "gasoline": "Motor gasoline", "diesel": "Gas/diesel oil",
    "kerosene": "Other kerosene", "jet kerosene": "Jet kerosene", "naphtha": "Naphtha",
    "petroleum coke": "Petroleum coke", "coal tar": "Coal tar", "refinery dry gas": "Refinery gas",
    "LPG": "Liquefied petroleum gases", "LNG": "Natural gas", "natural gas": "Natural gas",
    "coke oven gas": "Coke oven gas", "blast furnace gas": "Blast furnace gas",
    "converter gas": "Oxygen steel furnace gas",
}  # fmt: skip
CO2_PER_C = 44.0 / 12.0


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def sig(x: float) -> float:
    """Twelve significant digits: drops float noise, keeps far more than the sources give."""
    return float(f"{x:.12g}")


def flags_of(note: str) -> list[str]:
    if "UNVERIFIED" in note:
        return ["UNVERIFIED"]
    return ["VERIFY"] if "VERIFY" in note else []


def rows(shared: Path, name: str) -> list[dict[str, str]]:
    with (shared / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def clean(factor: dict) -> dict:
    return {k: v for k, v in factor.items() if v not in (None, "", [])}


def grid_factors(shared: Path) -> list[dict]:
    out = []
    for r in rows(shared, "china_grid_factors.csv"):
        assert r["unit"] == "kgCO2/kWh", r
        if r["level"] == "province":
            key, region = PROVINCES[r["region"]], PROVINCES[r["region"]]
        elif r["level"] == "regional_grid":
            key, region = f"grid-{GRIDS[r['region']]}", "CN"
        else:
            key = next(v for k, v in NATIONAL_GRID_BASES.items() if k in r["basis"])
            region = "CN"
        out.append(clean({
            "id": f"cn-mee-grid/{key}@{r['year']}",
            "name": f"Electricity CO2 emission factor, {r['region_en']} {r['year']} ({r['region']})",
            "unit": "kWh",
            "gases": {"CO2": float(r["value"])},
            "source": r["source_title"],
            "publisher": r["source_publisher"],
            "source_url": r["source_url"],
            "published": r["published"],
            "year": int(r["year"]),
            "region": region,
            "version": r["year"],
            "kind": "grid-co2",
            "flags": flags_of(r["note"]),
            "note": "; ".join(x for x in (r["basis"], r["note"]) if x),
        }))  # fmt: skip
    return out


def electricity_footprint_factors(shared: Path) -> list[dict]:
    out = []
    for r in rows(shared, "china_electricity_cf_factors.csv"):
        assert r["unit"] == "kgCO2e/kWh", r
        key = ELECTRICITY_TYPES[r["item"]]
        out.append(clean({
            "id": f"cn-mee-efp/{key}@{r['year']}",
            "name": f"Electricity carbon footprint factor, {r['item_en']} {r['year']} ({r['item']})",
            "unit": "kWh",
            "co2e": float(r["value"]),
            "source": r["source_title"],
            "publisher": r["source_publisher"],
            "source_url": r["source_url"],
            "published": r["published"],
            "year": int(r["year"]),
            "region": "CN",
            "version": r["year"],
            "kind": "electricity-footprint" if key == "CN" else "electricity-footprint-by-type",
            "flags": flags_of(r["note"]),
            "note": "; ".join(x for x in (r["basis"], r["note"],
                              "the publisher states no GWP set for this CO2e value") if x),
        }))  # fmt: skip
    return out


def ipcc_gases_per_tj(r: dict[str, str]) -> dict[str, float]:
    gases = {"CO2": float(r["co2_kg_per_TJ"])}
    if r["ch4_kg_per_TJ_energy_industries"]:
        gases["CH4"] = float(r["ch4_kg_per_TJ_energy_industries"])
    if r["n2o_kg_per_TJ_energy_industries"]:
        gases["N2O"] = float(r["n2o_kg_per_TJ_energy_industries"])
    return gases


def ipcc_origin(r: dict[str, str]) -> str:
    return "biogenic" if "biogenic" in r["fuel"] else "fossil"


def fuel_factors(shared: Path) -> list[dict]:
    ipcc = {r["fuel"]: r for r in rows(shared, "ipcc_fuel_factors.csv")}
    out = []
    for r in ipcc.values():
        name = r["fuel"].split(" (")[0]
        out.append(clean({
            "id": f"ipcc2006/{slug(name)}",
            "name": f"{r['fuel']} ({r['fuel_zh']}), stationary combustion, per TJ (NCV)",
            "unit": "TJ",
            "gases": ipcc_gases_per_tj(r),
            "origin": ipcc_origin(r),
            "source": r["source_title"],
            "publisher": "IPCC",
            "source_url": r["source_url"],
            "published": r["published"],
            "year": 2006,
            "region": "GLO",
            "version": "2006",
            "kind": "fuel-combustion",
            "flags": flags_of(r["note"]),
            "note": "; ".join(x for x in (r["basis"], "CH4 and N2O: energy-industries defaults",
                                          r["note"]) if x),
        }))  # fmt: skip
    for r in rows(shared, "china_fuel_defaults_unverified.csv"):
        if r["fuel_en"] not in CN_TO_IPCC:
            continue
        ip = ipcc[CN_TO_IPCC[r["fuel_en"]]]
        ncv = float(r["ncv"])  # GJ per t, or GJ per 10^4 Nm3
        per_nm3 = r["ncv_unit"] == "GJ/10^4 Nm3"
        unit, gj_per_unit = ("Nm3", ncv / 1e4) if per_nm3 else ("t", ncv)
        assert per_nm3 or r["ncv_unit"] == "GJ/t", r
        common = {
            "publisher": r["source_publisher"],
            "source_url": r["source_url"],
            "published": r["published"],
            # the source gives "2013-2015 (unconfirmed)"; the guideline series began in 2013
            "year": 2013,
            "region": "CN",
            "kind": "fuel-combustion",
            "flags": ["UNVERIFIED"],
        }
        gases = {g: sig(v * gj_per_unit / 1000) for g, v in ipcc_gases_per_tj(ip).items()}
        out.append(clean({
            "id": f"ipcc2006-cn-ncv/{slug(r['fuel_en'])}",
            "name": f"{r['fuel_en']} ({r['fuel_zh']}), combustion per {unit}: IPCC 2006 factors "
                    f"with the Chinese default NCV {r['ncv']} {r['ncv_unit']}",
            "unit": unit,
            "gases": gases,
            "source": f"{ip['source_title']}; NCV: {r['source_title']}",
            "version": "2006+cn-ncv",
            "note": f"IPCC fuel '{ip['fuel']}'; {r['note']}",
            **common,
        }))  # fmt: skip
        co2 = (
            gj_per_unit
            * float(r["carbon_content_tC_per_GJ"])
            * 1000
            * (float(r["oxidation_rate_pct"]) / 100)
            * CO2_PER_C
        )
        out.append(clean({
            "id": f"cn-ndrc-fuel/{slug(r['fuel_en'])}",
            "name": f"{r['fuel_en']} ({r['fuel_zh']}), combustion CO2 per {unit}: NCV × carbon "
                    f"content × oxidation rate × 44/12 (Chinese guideline defaults)",
            "unit": unit,
            "gases": {"CO2": sig(co2)},
            "source": r["source_title"],
            "version": "2013-2015",
            "note": f"NCV {r['ncv']} {r['ncv_unit']}, carbon content {r['carbon_content_tC_per_GJ']}"
                    f" tC/GJ, oxidation {r['oxidation_rate_pct']}%; CO2 only; {r['note']}",
            **common,
        }))  # fmt: skip
    return out


def gwp_table(shared: Path) -> dict:
    values: dict[str, dict[str, float]] = {"AR5": {}, "AR6": {}}
    non_fossil: dict[str, float] = {}
    sources: dict[str, str] = {}
    names = {"CH2FCF3": "HFC-134a", "CHF3": "HFC-23", "CH2F2": "HFC-32"}
    for r in rows(shared, "gwp.csv"):
        formula = r["formula"]
        if formula == "CH4 (non-fossil)":
            non_fossil[r["ar"]] = float(r["gwp100"])
        elif formula == "CH4 (fossil)":
            # AR6 fossil CH4 29.8 replaces the single value; AR5 keeps 28 for all methane, as
            # the product-model spec fixes (the AR5 fossil value 30 is UNVERIFIED in the source).
            if r["ar"] == "AR6":
                values["AR6"]["CH4"] = float(r["gwp100"])
        elif not (formula == "CH4" and r["ar"] == "AR6"):
            values[r["ar"]][names.get(formula, formula)] = float(r["gwp100"])
        if formula == "CO2":
            sources[r["ar"]] = r["source_title"]
    return {"values": values, "ch4_non_fossil": non_fossil, "sources": sources}


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def cbam_defaults(shared: Path) -> dict:
    """The EU CBAM default values of cbam_defaults.csv, one record a row, in t CO2e per t."""
    out = []
    for r in rows(shared, "cbam_defaults.csv"):
        assert r["unit"] == "tCO2e per tonne of good", r
        doubt = f"{r['note']} {r['verification']}"
        out.append({
            "cn_code": r["cn_code"],
            "description": r["description"],
            "sector": slug(r["sector"]),
            "direct": _number(r["direct_tCO2e_per_t"]),
            "indirect": _number(r["indirect_tCO2e_per_t"]),
            "total": _number(r["total_tCO2e_per_t"]),
            "region": r["region"],
            "period": r["period"],
            "source": r["source_title"],
            "publisher": r["source_publisher"],
            "source_url": r["source_url"],
            "published": r["published"],
            "verification": r["verification"],
            "note": r["note"] or None,
            "flags": ["VERIFY"] if "VERIFY" in doubt or "single secondary source" in doubt else [],
        })  # fmt: skip
    codes = [d["cn_code"] for d in out]
    assert len(codes) == len(set(codes)), "duplicate CN codes"
    return {
        "title": "EU CBAM default values (specific embedded emissions per tonne of good)",
        "unit": "t CO2e per t",
        "defaults": out,
    }


def build(shared: Path) -> tuple[dict, dict]:
    factors = grid_factors(shared) + electricity_footprint_factors(shared) + fuel_factors(shared)
    ids = [f["id"] for f in factors]
    assert len(ids) == len(set(ids)), "duplicate factor ids"
    factor_set = {
        "id": SET_ID,
        "version": SET_VERSION,
        "title": "openpcf bundled national factor set (China): MEE grid and electricity "
        "carbon-footprint factors, IPCC 2006 fuel factors with Chinese calorific values",
        "published": "2026-11-23",
        "sources": sorted({f["source"] for f in factors}),
        "factors": factors,
    }
    return factor_set, gwp_table(shared)


def write(shared: Path, out: Path) -> None:
    factor_set, gwp = build(shared)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("openpcf-bundled.json", factor_set),
        ("gwp.json", gwp),
        ("cbam-defaults.json", cbam_defaults(shared)),
    ):
        (out / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "openpcf" / "factors" / "data")
    args = parser.parse_args()
    write(args.shared, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
