"""The meter registry: sites, meters and ETS allowances of a tenant.

Written through the ORM in one transaction per use case, so every created or changed row has
its own audit entry naming the actor. A meter that already has readings keeps its unit, reading
kind and rollover: changing them would rewrite the meaning of the stored counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import FactorError, Location, ModelError, UnitError
from openpcf.domain.monitoring import AllowanceSpec, MeterSpec, PlantSpec, SiteSpec
from openpcf.domain.platform import Principal, Role
from openpcf.services.errors import Conflict, InvalidRequest, NotFound
from openpcf.services.monitoring.factors import check_meter
from openpcf.services.platform.access import require, writer
from openpcf.store.audit import attribute
from openpcf.store.models import Tenant
from openpcf.store.models_monitoring import (
    MonitoringAllowance,
    MonitoringMeter,
    MonitoringReading,
    MonitoringSite,
)

#: Sectors of China's national ETS. Power since the first compliance period (2019–2020
#: emissions; 碳排放权交易管理办法（试行）, MEE order No. 19, 2020-12-31). Steel, cement and
#: aluminium smelting join with 2024 as the first management year and allowances allocated
#: from 2025 (全国碳排放权交易市场覆盖钢铁、水泥、铝冶炼行业工作方案, MEE, 2025-03-26).
#: The market covers the direct emissions of fuels burnt and processes on site, not purchased
#: electricity or heat, so allowance tracking counts the site's fuel (scope 1) meters.
ETS_SECTORS: dict[str, int] = {"power": 2019, "steel": 2024, "cement": 2024, "aluminium": 2024}
ETS_SOURCES = {
    "power": "碳排放权交易管理办法（试行）(MEE order No. 19, 2020)",
    "steel": "全国碳排放权交易市场覆盖钢铁、水泥、铝冶炼行业工作方案 (MEE, 2025-03)",
    "cement": "全国碳排放权交易市场覆盖钢铁、水泥、铝冶炼行业工作方案 (MEE, 2025-03)",
    "aluminium": "全国碳排放权交易市场覆盖钢铁、水泥、铝冶炼行业工作方案 (MEE, 2025-03)",
}


def load_plant(path: Path) -> PlantSpec:
    """A plant registry file (YAML or JSON), validated; errors name the file and field."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"cannot read the plant file: {exc}", Location(path)) from None
    return plant_from(doc, path)


def plant_from(doc: Any, path: Path | str | None = None) -> PlantSpec:
    try:
        plant = PlantSpec.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ModelError(
            f"{first['msg']} ({len(exc.errors())} problem(s))", Location(path, field=field)
        ) from None
    sites = {s.id: s for s in plant.sites}
    for i, m in enumerate(plant.meters):
        if m.site not in sites:
            raise ModelError(
                f"meter '{m.id}' names site '{m.site}', which the file does not define",
                Location(path, field=f"meters.{i}.site"),
            )
        check_meter(m, sites[m.site].region)
    for i, a in enumerate(plant.allowances):
        site = sites.get(a.site)
        if site is None:
            raise ModelError(f"allowance for unknown site '{a.site}'",
                             Location(path, field=f"allowances.{i}.site"))  # fmt: skip
        _check_allowance(site, a, Location(path, field=f"allowances.{i}"))
    meters = {f"{m.site}/{m.id}" for m in plant.meters}
    for key in plant.simulation:
        if key not in meters:
            raise ModelError(f"simulation of unknown meter '{key}' (expected '<site>/<meter>')",
                             Location(path, field=f"simulation.{key}"))  # fmt: skip
    return plant


def _check_allowance(site: SiteSpec, a: AllowanceSpec, where: Location | None = None) -> None:
    if site.ets_sector is None:
        raise ModelError(
            f"site '{site.id}' has an allowance but no ets_sector; the national ETS covers "
            f"{', '.join(ETS_SECTORS)}",
            where,
        )
    since = ETS_SECTORS[site.ets_sector]
    if a.year < since:
        raise ModelError(
            f"the {site.ets_sector} sector is in the national ETS from {since} "
            f"({ETS_SOURCES[site.ets_sector]}); no allowance for {a.year}",
            where,
        )


def tenant_principal(session: Session, tenant: str, who: Principal) -> Principal:
    """`who` (an operator on the server) acting as an admin of `tenant`."""
    t = session.scalar(select(Tenant).where(Tenant.slug == tenant))
    if t is None:
        raise NotFound(f"no tenant '{tenant}' (create it: openpcf tenants create {tenant})")
    return who.model_copy(update={"tenant": tenant, "tenant_id": t.id, "role": Role.admin})


def apply_plant(session: Session, who: Principal, plant: PlantSpec) -> dict[str, int]:
    """Create or update the plant's sites, meters and allowances in `who`'s tenant."""
    counts = {"sites": 0, "meters": 0, "allowances": 0}
    with session.begin():
        writer(session, who)
        sites: dict[str, MonitoringSite] = {}
        for spec in plant.sites:
            sites[spec.id], changed = _put_site(session, who, spec)
            counts["sites"] += changed
        session.flush()
        for spec in plant.meters:
            counts["meters"] += _put_meter(session, who, sites[spec.site], spec)
        for spec in plant.allowances:
            counts["allowances"] += _put_allowance(session, who, sites[spec.site], spec)
    return counts


def add_site(session: Session, who: Principal, spec: SiteSpec) -> SiteSpec:
    with session.begin():
        writer(session, who)
        _put_site(session, who, spec)
    return spec


def add_meter(session: Session, who: Principal, spec: MeterSpec) -> MeterSpec:
    with session.begin():
        writer(session, who)
        site = _site(session, who, spec.site)
        try:
            check_meter(spec, site.region)
        except (ModelError, UnitError, FactorError) as exc:
            raise InvalidRequest(str(exc)) from None
        _put_meter(session, who, site, spec)
    return spec


def add_allowance(session: Session, who: Principal, spec: AllowanceSpec) -> AllowanceSpec:
    with session.begin():
        writer(session, who)
        site = _site(session, who, spec.site)
        try:
            _check_allowance(site_spec(site), spec)
        except ModelError as exc:
            raise InvalidRequest(exc.message) from None
        _put_allowance(session, who, site, spec)
    return spec


def _put_site(session: Session, who: Principal, spec: SiteSpec) -> tuple[MonitoringSite, int]:
    row = session.scalar(
        select(MonitoringSite).where(
            MonitoringSite.tenant_id == who.tenant_id, MonitoringSite.slug == spec.id
        )
    )
    if row is None:
        row = MonitoringSite(tenant_id=who.tenant_id, slug=spec.id)
        session.add(row)
    values = spec.model_dump(exclude={"id"})
    changed = _assign(row, values)
    return row, changed


def _put_meter(session: Session, who: Principal, site: MonitoringSite, spec: MeterSpec) -> int:
    row = session.scalar(
        select(MonitoringMeter).where(
            MonitoringMeter.site_id == site.id, MonitoringMeter.slug == spec.id
        )
    )
    values = {
        "equipment": spec.equipment,
        "carrier": spec.carrier.value,
        "unit": spec.unit,
        "reading": spec.reading.value,
        "factor": spec.factor.model_dump(),
        "rollover": spec.rollover,
        "alert_above": spec.alert_above,
        "public_key": spec.public_key,
    }
    if row is None:
        session.add(
            MonitoringMeter(tenant_id=who.tenant_id, site_id=site.id, slug=spec.id, **values)
        )
        return 1
    fixed = [k for k in ("unit", "reading", "rollover") if getattr(row, k) != values[k]]
    if fixed and session.scalar(select(exists().where(MonitoringReading.meter_id == row.id))):
        raise Conflict(
            f"meter '{site.slug}/{spec.id}' has readings; its {', '.join(fixed)} cannot change "
            f"(register a new meter id for the new counter)"
        )
    return _assign(row, values)


def _put_allowance(
    session: Session, who: Principal, site: MonitoringSite, spec: AllowanceSpec
) -> int:
    row = session.scalar(
        select(MonitoringAllowance).where(
            MonitoringAllowance.site_id == site.id, MonitoringAllowance.year == spec.year
        )
    )
    if row is None:
        row = MonitoringAllowance(tenant_id=who.tenant_id, site_id=site.id, year=spec.year)
        session.add(row)
    return _assign(row, {"tonnes_co2": spec.tonnes_co2, "source": spec.source})


def _assign(row: object, values: dict[str, Any]) -> int:
    changed = 0
    for key, value in values.items():
        if getattr(row, key, None) != value:
            setattr(row, key, value)
            changed = 1
    return changed


def _site(session: Session, who: Principal, slug: str) -> MonitoringSite:
    row = session.scalar(
        select(MonitoringSite).where(
            MonitoringSite.tenant_id == who.tenant_id, MonitoringSite.slug == slug
        )
    )
    if row is None:
        raise NotFound(f"no monitoring site '{slug}'")
    return row


def site_of(session: Session, who: Principal, slug: str) -> MonitoringSite:
    """A site of the principal's tenant (any role), else not found."""
    require(who, *Role)
    return _site(session, who, slug)


def site_spec(row: MonitoringSite) -> SiteSpec:
    return SiteSpec(
        id=row.slug,
        name=row.name,
        region=row.region,
        timezone=row.timezone,
        ets_sector=row.ets_sector,  # type: ignore[arg-type]
        type=row.type or "plant",  # type: ignore[arg-type]
        alert_above=row.alert_above,
    )


def meter_spec(row: MonitoringMeter, site: str) -> MeterSpec:
    return MeterSpec.model_validate(
        {
            "id": row.slug,
            "site": site,
            "equipment": row.equipment,
            "carrier": row.carrier,
            "unit": row.unit,
            "reading": row.reading,
            "factor": row.factor,
            "rollover": row.rollover,
            "alert_above": row.alert_above,
            "public_key": row.public_key,
        }
    )


def list_sites(session: Session, who: Principal) -> list[SiteSpec]:
    require(who, *Role)
    rows = session.scalars(
        select(MonitoringSite)
        .where(MonitoringSite.tenant_id == who.tenant_id)
        .order_by(MonitoringSite.slug)
    )
    return [site_spec(r) for r in rows]


def list_meters(session: Session, who: Principal, site: str) -> list[MeterSpec]:
    row = site_of(session, who, site)
    meters = session.scalars(
        select(MonitoringMeter)
        .where(MonitoringMeter.site_id == row.id)
        .order_by(MonitoringMeter.slug)
    )
    return [meter_spec(m, site) for m in meters]


def operator_session(session: Session, who: Principal, tenant: str) -> Principal:
    """For the CLI: the operator acting in `tenant`, attributed in the audit log."""
    with session.begin():
        p = tenant_principal(session, tenant, who)
    attribute(session, p.actor, tenant)
    return p
