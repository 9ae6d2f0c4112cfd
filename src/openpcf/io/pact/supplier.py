"""A supplier's PACT footprint in: read and validated from a file, and as a `pcf:` value."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpcf.domain.errors import Location
from openpcf.domain.model import DataQuality, Pcf
from openpcf.io.pact import DQ_NAMES, PACT_UNITS, PactError, rating_of_v2_dqr
from openpcf.io.pact.schema import PactSpecMissing, PactVersion, schema_errors


@dataclass(frozen=True)
class SupplierFootprint:
    """A supplier's PACT footprint as an openpcf `pcf:` value, with what the value holds."""

    pcf: Pcf
    unit: str  # the openpcf unit the value is per, e.g. 'kg'
    name: str
    parts: dict[str, float]  # kg CO2e per one `unit`: fossil, land-use, biogenic non-CO2, uptake
    dq: DataQuality | None
    notes: tuple[str, ...] = field(default=())


def read_footprints(path: Path) -> list[tuple[PactVersion, dict[str, Any]]]:
    """Every ProductFootprint in a PACT JSON file, validated: one footprint, a list, a response
    body ({"data": ...}) or a RequestFulfilledEvent."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PactError("file not found", Location(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PactError(f"cannot read the file: {exc}", Location(path)) from None
    except json.JSONDecodeError as exc:
        raise PactError(f"invalid JSON: {exc.msg}", Location(path, exc.lineno)) from None
    found = _footprints(data)
    if not found:
        raise PactError(
            'no ProductFootprint found (expected one, a list, {"data": ...} or an event)',
            Location(path),
        )
    out: list[tuple[PactVersion, dict[str, Any]]] = []
    for i, pf in enumerate(found):
        version = _version_of(pf, path)
        try:
            errors = schema_errors(pf, version)
        except PactSpecMissing:
            errors = []  # no copy of the spec here; the fields read below are still checked
        if errors:
            where = f"footprint {i + 1} " if len(found) > 1 else ""
            raise PactError(
                f"{where}is not a valid PACT v{version} ProductFootprint: "
                + "; ".join(errors[:10]),
                Location(path),
            )
        out.append((version, pf))
    return out


def _footprints(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if not isinstance(data, dict):
        return []
    if "pcf" in data:
        return [data]
    inner = data.get("data")
    if isinstance(inner, dict) and "pfs" in inner:
        return _footprints(inner["pfs"])
    return _footprints(inner) if inner is not None else []


def _version_of(pf: dict[str, Any], path: Path) -> PactVersion:
    major = str(pf.get("specVersion", "")).split(".")[0]
    if major in ("2", "3"):
        return major  # type: ignore[return-value]
    pcf = pf.get("pcf") if isinstance(pf.get("pcf"), dict) else {}
    if "declaredUnitOfMeasurement" in pcf:
        return "3"
    if "declaredUnit" in pcf:
        return "2"
    raise PactError(
        f"unsupported PACT specVersion '{pf.get('specVersion')}'; openpcf reads 2.x and 3.x",
        Location(path),
    )


def supplier_footprint(version: PactVersion, pf: dict[str, Any]) -> SupplierFootprint:
    """A validated footprint as a `pcf:` value per one declared unit, keeping its provenance."""
    cf = pf["pcf"]
    notes: list[str] = []
    if version == "3":
        pact_unit, amount = cf["declaredUnitOfMeasurement"], _num(cf["declaredUnitAmount"])
        headline = _num(cf["pcfExcludingBiogenicUptake"]) / amount
        fossil = sum(_num(cf.get(k, "0")) for k in ("fossilGhgEmissions",
                     "technologicalCO2Removals", "ccsTechnologicalCO2Capture"))  # fmt: skip
        land = sum(_num(cf.get(k, "0")) for k in ("landUseChangeGhgEmissions",
                   "landManagementBiogenicCO2Emissions", "landManagementBiogenicCO2Removals"))  # fmt: skip
        biogenic = _num(cf.get("biogenicNonCO2Emissions", "0"))
        uptake = _num(cf.get("biogenicCO2Uptake", "0"))
        gwps = list(cf["ipccCharacterizationFactors"])
        version_no = None
        dq = None
        if "dqi" in cf:
            d = cf["dqi"]
            notes.append(
                f"PACT v3 gives three DQRs (technological {d['technologicalDQR']}, geographical "
                f"{d['geographicalDQR']}, temporal {d['temporalDQR']}); openpcf's dq needs five, "
                f"so none is set"
            )
    else:
        pact_unit, amount = cf["declaredUnit"], 1.0  # v2 values are per one declared unit
        headline = _num(cf["pCfExcludingBiogenic"])
        fossil = _num(cf["fossilGhgEmissions"])
        land = _num(cf.get("dLucGhgEmissions", "0")) + _num(
            cf.get("landManagementGhgEmissions", "0")
        )
        biogenic = _num(cf.get("otherBiogenicGhgEmissions", "0"))
        uptake = _num(cf.get("biogenicCarbonWithdrawal", "0"))
        gwps = list(cf.get("ipccCharacterizationFactorsSources") or [cf["characterizationFactors"]])
        version_no = pf.get("version")
        dq = _dq_from_v2(cf["dqi"]) if "dqi" in cf else None
    if pact_unit not in PACT_UNITS:
        raise PactError(
            f"the declared unit '{pact_unit}' has no openpcf unit; openpcf reads "
            f"{', '.join(PACT_UNITS)}"
        )
    unit = PACT_UNITS[pact_unit]
    parts = {name: value / amount for name, value in
             (("fossil", fossil), ("land-use", land), ("biogenic", biogenic), ("uptake", uptake))}  # fmt: skip
    origin = max(("fossil", "land-use", "biogenic"), key=lambda o: abs(parts[o]))
    if origin != "fossil" or parts["land-use"] or parts["biogenic"]:
        notes.append(
            f"the value mixes origins (fossil {parts['fossil']:.6g}, land use "
            f"{parts['land-use']:.6g}, biogenic non-CO2 {parts['biogenic']:.6g} kg CO2e/{unit}); "
            f"a pcf input has one, so it takes the largest: {origin}"
        )
    gwp = gwps[0] if len(gwps) == 1 and gwps[0] in ("AR5", "AR6") else None
    if gwp is None:
        notes.append(f"GWP sets {'+'.join(gwps)}: not one openpcf knows, so left unstated")
    valid_until, implied = _valid_until(pf, cf)
    if implied:
        notes.append("no validityPeriodEnd: valid until 3 years after referencePeriodEnd")
    pcf = Pcf(
        value=headline,
        unit=f"kg CO2e/{unit}",
        source=f"PACT {pf['specVersion']} footprint {pf['id']} by {pf['companyName']}: "
        f"{pf['productNameCompany']}",
        gwp=gwp,
        origin=origin,
        pact_id=pf["id"],
        company=pf["companyName"],
        spec_version=pf["specVersion"],
        version=version_no,
        valid_until=valid_until,
    )
    return SupplierFootprint(pcf, unit, pf["productNameCompany"], parts, dq, tuple(notes))


def _num(text: str | float) -> float:
    try:
        return float(Decimal(str(text)))
    except InvalidOperation:
        raise PactError(f"'{text}' is not a decimal number") from None


def _dq_from_v2(dqi: dict[str, float]) -> DataQuality:
    return DataQuality(**{name: rating_of_v2_dqr(dqi[f"{name}DQR"]) for name in DQ_NAMES})


def _valid_until(pf: dict[str, Any], cf: dict[str, Any]) -> tuple[date, bool]:
    if "validityPeriodEnd" in pf:
        return _date(pf["validityPeriodEnd"]), False
    end = _date(cf["referencePeriodEnd"])
    try:
        return end.replace(year=end.year + 3), True
    except ValueError:  # 29 February
        return end.replace(year=end.year + 3, day=28), True


def _date(text: str) -> date:
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).date()
