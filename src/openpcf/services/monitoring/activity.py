"""Primary data: a period's metered energy allocated to products, as product-model inputs.

Allocation is by production volume: every product of the site gets the same energy per unit
produced, E_meter ÷ Σ volumes (so all volumes must be in one dimension, e.g. tonnes). Each
meter becomes one input line per product reference unit, marked `primary: true` with pedigree
data-quality ratings:
- technological 1, geographical 1: measured at the site, on the equipment that makes it;
- temporal 1: measured in the period the footprint describes;
- completeness: from the share of the period's hours with accepted readings (≥95% → 1,
  ≥80% → 2, ≥60% → 3, ≥40% → 4, else 5);
- reliability 2: measured, not third-party verified (pedigree matrix: 1 needs verification).

The inputs name what turns activity into emissions the way the product model does, so the
methodology profile still chooses the factor: grid meters `electricity: {region, year}`, fuel
meters their fuel factor, wind/PV direct-connection supply the generation type's life-cycle
factor (cn-mee-efp/<generation>), another supply its own factor as a `pcf`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import FactorError
from openpcf.domain.model import Input
from openpcf.domain.monitoring import completeness_score, parse_period
from openpcf.domain.platform import Principal
from openpcf.factors.electricity import generation_factor
from openpcf.services.errors import InvalidRequest
from openpcf.services.monitoring.factors import catalogue
from openpcf.services.monitoring.registry import meter_spec, site_of
from openpcf.store.models_monitoring import MonitoringAggregate, MonitoringMeter
from openpcf.units import factor_between, quantity_of


@dataclass(frozen=True)
class Produced:
    product: str  # URN or name
    amount: float
    unit: str


@dataclass(frozen=True)
class MeterTotal:
    meter: str
    equipment: str
    carrier: str
    unit: str
    amount: float
    kg_co2e: float
    coverage: float  # share of the period's hours with readings


@dataclass(frozen=True)
class ProductInputs:
    product: str
    amount: float  # produced in the period
    unit: str
    share: float  # of the site's metered energy
    inputs: list[Input]
    metered_kg_co2e_per_unit: float  # operational emissions metered, per unit produced


def parse_produced(text: str) -> Produced:
    """'urn:…:coil=52000 t' -> Produced."""
    product, sep, quantity = text.rpartition("=")
    if not sep or not product:
        raise InvalidRequest(f"'{text}': expected PRODUCT=AMOUNT UNIT, e.g. coil=52000 t")
    try:
        q = quantity_of(quantity)
    except Exception as exc:
        raise InvalidRequest(f"'{text}': {exc}") from None
    if q.magnitude <= 0:
        raise InvalidRequest(f"'{text}': the amount produced must be positive")
    return Produced(product.strip(), float(q.magnitude), f"{q.units:~}".replace(" ", ""))


def meter_totals(session: Session, who: Principal, site: str, period: str) -> list[MeterTotal]:
    row = site_of(session, who, site)
    begin, end = _bounds(period, row.timezone)
    a = MonitoringAggregate
    out = []
    hours = (end - begin) / 3_600_000
    for m in session.scalars(
        select(MonitoringMeter)
        .where(MonitoringMeter.site_id == row.id)
        .order_by(MonitoringMeter.slug)
    ):
        in_period = (a.meter_id == m.id, a.start_ms >= begin, a.start_ms < end)
        amount, kg = session.execute(
            select(func.coalesce(func.sum(a.amount), 0.0), func.coalesce(func.sum(a.kg_co2e), 0.0))
            .where(*in_period, a.resolution == "1d")
        ).one()  # fmt: skip
        covered = session.scalar(select(func.count()).where(*in_period, a.resolution == "1h"))
        out.append(
            MeterTotal(m.slug, m.equipment, m.carrier, m.unit, float(amount), float(kg),
                       min(1.0, (covered or 0) / hours))
        )  # fmt: skip
    return out


def activity(
    session: Session, who: Principal, site: str, period: str, produced: list[Produced]
) -> list[ProductInputs]:
    """Product-model inputs for each product made at `site` in `period`."""
    if not produced:
        raise InvalidRequest("give the production volumes: --produced PRODUCT=AMOUNT UNIT")
    unit = produced[0].unit
    try:
        volumes = [p.amount * factor_between(p.unit, unit, f"production of {p.product}")
                   for p in produced]  # fmt: skip
    except Exception as exc:
        raise InvalidRequest(f"production volumes must share one dimension: {exc}") from None
    total = sum(volumes)
    row = site_of(session, who, site)
    meters = {m.slug: m for m in session.scalars(
        select(MonitoringMeter).where(MonitoringMeter.site_id == row.id))}  # fmt: skip
    totals = [t for t in meter_totals(session, who, site, period) if t.amount > 0]
    if not totals:
        raise InvalidRequest(f"no metered energy at site '{site}' in {period}")
    year = parse_period(period)[0][0]
    out = []
    for p, volume in zip(produced, volumes, strict=True):
        inputs = [
            _input(meter_spec(meters[t.meter], site), row.region, t, total, period, year)
            for t in totals
        ]
        out.append(
            ProductInputs(
                product=p.product,
                amount=p.amount,
                unit=p.unit,
                share=volume / total,
                inputs=inputs,
                metered_kg_co2e_per_unit=sum(t.kg_co2e for t in totals) / total,
            )
        )
    return out


def _input(spec: Any, region: str, t: MeterTotal, total: float, period: str, year: int) -> Input:
    doc: dict[str, Any] = {
        "name": f"{t.carrier}, {t.equipment} (metered {spec.site}/{t.meter}, {period})",
        "stage": "production",
        "amount": t.amount / total,
        "unit": t.unit,
        "primary": True,
        "dq": {
            "technological": 1,
            "geographical": 1,
            "temporal": 1,
            "completeness": completeness_score(t.coverage),
            "reliability": 2,
        },
    }
    rule = spec.factor
    if rule.kind == "grid":
        doc["electricity"] = {"region": region, "year": _published_year(year)}
    elif rule.kind == "fuel":
        doc["factor"] = rule.factor
    elif rule.co2e is None:
        try:
            doc["factor"] = generation_factor(catalogue(), rule.generation, year).factor.id
        except FactorError:
            doc["pcf"] = {"value": 0.0, "unit": "kg CO2e/kWh",
                          "source": f"direct-connection {rule.generation} supply"}  # fmt: skip
    else:
        per_kwh = factor_between(t.unit, "kWh", "supply meter")
        doc["pcf"] = {"value": rule.co2e * per_kwh, "unit": f"kg CO2e/{t.unit}",
                      "source": f"direct-connection {rule.generation} supply (its own factor)"}  # fmt: skip
    return Input.model_validate(doc)


def _published_year(year: int) -> int:
    """The latest year ≤ `year` for which both electricity bases (grid CO2, life-cycle
    footprint) are published, so the model computes under any profile."""
    cat = catalogue()
    years = [
        {f.year for f in cat.by_id.values() if f.kind == kind and f.year}
        for kind in ("grid-co2", "electricity-footprint")
    ]
    both = sorted(years[0] & years[1])
    earlier = [y for y in both if y <= year]
    return earlier[-1] if earlier else both[0]


def _bounds(period: str, timezone: str) -> tuple[int, int]:
    try:
        (y0, m0, d0), (y1, m1, d1) = parse_period(period)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    zone = ZoneInfo(timezone)
    begin = datetime(y0, m0, d0, tzinfo=zone).timestamp()
    end = datetime(y1, m1, d1, tzinfo=zone).timestamp()
    return int(begin * 1000), int(end * 1000)


def fragment_yaml(site: str, period: str, p: ProductInputs) -> str:
    """A YAML fragment of product model format 1: the `inputs` to add to the product's model."""
    import yaml

    head = (
        f"# openpcf monitor activity: site {site}, {period}; metered primary data for\n"
        f"# {p.product}, per 1 {p.unit} produced ({p.amount:g} {p.unit} in the period,\n"
        f"# {p.share:.1%} of the site's production; allocation by production volume).\n"
        f"# Operational emissions metered: {p.metered_kg_co2e_per_unit:.6g} kg CO2e per {p.unit}.\n"
        f"# Add these lines to the model's `inputs` (reference amount: 1 {p.unit}), replacing\n"
        f"# earlier metered lines of this site.\n"
    )
    doc = {"inputs": [i.model_dump(mode="json", exclude_defaults=True) | {"primary": True}
                      for i in p.inputs]}  # fmt: skip
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
