"""A direct connection (绿电直连) from metered data: the kWh of its generation, on-site use and
site consumption meters over a period, summed from the stored readings, and the ledger proof
of those readings for a verifier.

The generation and on-site meters must be direct-connection supply meters (their readings are
chained in the ledger as they are ingested, one entry per meter and batch: count, sum, sha256);
the consumption meter is any electricity meter of the site. A ledger entry that no longer
matches the stored readings (sum or sha256) refuses the credit: the readings were changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import ModelError
from openpcf.domain.ledger import METER_READING
from openpcf.domain.model import DirectConnectionMeters, MeteredEvidence
from openpcf.services.calculation.project import Project, names_meters
from openpcf.store.models_certification import LedgerEntry
from openpcf.store.models_monitoring import MonitoringMeter, MonitoringReading, MonitoringSite
from openpcf.units import factor_between

ROLES = (("project_generation", "generation"), ("on_site_use", "on_site_use"),
         ("consumption", "consumption"))  # fmt: skip
MAX_PROOF_ENTRIES = 10_000


class ProofEntry(BaseModel):
    """One ledger entry of a meter's readings and whether the stored readings still match it."""

    model_config = ConfigDict(frozen=True)

    seq: int
    hash: str
    first: str
    last: str
    readings: int
    amount: float = Field(description="sum of the readings' deltas, in the meter's unit")
    stored_amount: float
    sha256: str
    stored_sha256: str
    matches: bool


class MeterProof(BaseModel):
    model_config = ConfigDict(frozen=True)

    site: str
    meter: str
    unit: str
    start: date
    end: date
    readings: int = Field(description="stored readings in the period")
    amount: float = Field(description="sum of their deltas, in the meter's unit")
    chained: bool = Field(description="a supply meter, whose readings the ledger chains")
    entries: list[ProofEntry]


def period_ms(site: MonitoringSite, start: date, end: date) -> tuple[int, int]:
    """[start 00:00, the day after end 00:00) in the site's time zone, as epoch ms."""
    tz = ZoneInfo(site.timezone)
    a = datetime.combine(start, time(0), tz)
    b = datetime.combine(end + timedelta(days=1), time(0), tz)
    return int(a.timestamp() * 1000), int(b.timestamp() * 1000)


def meter_proof(
    session: Session, tenant_id: int, tenant: str, site_slug: str, meter_slug: str,
    start: date, end: date,
) -> MeterProof:  # fmt: skip
    """A meter's readings over the period, and every ledger entry of them, checked."""
    site, meter = _site_meter(session, tenant_id, site_slug, meter_slug)
    lo, hi = period_ms(site, start, end)
    count, total = _sum(session, meter.id, lo, hi)
    entries = []
    chained = meter.factor.get("kind") == "supply"
    if chained:
        needle = f'"meter":{json.dumps(meter_slug)}'
        rows = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.kind == METER_READING, LedgerEntry.payload.contains(needle))
            .order_by(LedgerEntry.seq)
            .limit(MAX_PROOF_ENTRIES)
        )
        for row in rows:
            p = json.loads(row.payload)
            if (p.get("tenant"), p.get("site"), p.get("meter")) != (tenant, site_slug, meter_slug):
                continue
            a, b = _ms(p["first"]), _ms(p["last"])
            if b < lo or a >= hi:
                continue
            n, stored = _sum(session, meter.id, a, b + 1)
            digest = _digest(session, meter.id, site_slug, meter_slug, a, b + 1)
            ok = n == p["readings"] and abs(stored - p["amount"]) <= 1e-9 * max(1.0, abs(stored))
            entries.append(ProofEntry(
                seq=row.seq, hash=row.hash, first=p["first"], last=p["last"],
                readings=p["readings"], amount=p["amount"], stored_amount=stored,
                sha256=p["sha256"], stored_sha256=digest, matches=ok and digest == p["sha256"],
            ))  # fmt: skip
    return MeterProof(site=site_slug, meter=meter_slug, unit=meter.unit, start=start, end=end,
                      readings=count, amount=total, chained=chained, entries=entries)  # fmt: skip


def resolve_for_tenant(session: Session, tenant: str, project: Project) -> Project:
    """`resolve_metered` for a tenant named by slug (the command line's OPENPCF_TENANT)."""
    if not names_meters(project):
        return project
    from openpcf.store.models import Tenant

    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
    if tenant_id is None:
        raise ModelError(f"the direct connection names meters, and tenant '{tenant}' has no "
                         "monitoring data in this installation")  # fmt: skip
    return resolve_metered(session, tenant_id, tenant, project)


def resolve_metered(session: Session, tenant_id: int, tenant: str, project: Project) -> Project:
    """The project with each metered direct connection's quantities read from the store."""
    models = list(project.models)
    for i, lm in enumerate(models):
        inputs = list(lm.model.inputs)
        changed = False
        for k, inp in enumerate(inputs):
            spec = inp.electricity
            dc = spec.direct_connection if spec else None
            if dc is None or dc.meters is None:
                continue
            where = lm.where("inputs", k, "electricity", "direct_connection", "meters")
            evidence = _evidence(session, tenant_id, tenant, dc.meters, where)
            new_dc = dc.model_copy(update={"metered": evidence})
            new_spec = spec.model_copy(update={"direct_connection": new_dc})  # type: ignore[union-attr]
            inputs[k] = inp.model_copy(update={"electricity": new_spec})
            changed = True
        if changed:
            models[i] = replace(lm, model=lm.model.model_copy(update={"inputs": inputs}))
    return replace(project, models=tuple(models))


def _evidence(
    session: Session, tenant_id: int, tenant: str, m: DirectConnectionMeters, where: object
) -> MeteredEvidence:
    kwh: dict[str, float] = {}
    readings, seqs = 0, []
    for field, attr in ROLES:
        slug = getattr(m, attr)
        try:
            proof = meter_proof(session, tenant_id, tenant, m.site, slug, m.start, m.end)
        except LookupError as exc:
            raise ModelError(str(exc), where) from None  # type: ignore[arg-type]
        if proof.readings == 0:
            raise ModelError(f"meter '{slug}' of site '{m.site}' has no stored reading from "
                             f"{m.start} to {m.end}", where)  # type: ignore[arg-type]  # fmt: skip
        if field != "consumption" and not proof.chained:
            raise ModelError(f"meter '{slug}' ({attr}) is not a direct-connection supply meter; "
                             "its readings are not chained in the ledger",
                             where)  # type: ignore[arg-type]  # fmt: skip
        bad = [e.seq for e in proof.entries if not e.matches]
        if bad:
            raise ModelError(f"the stored readings of meter '{slug}' no longer match ledger "
                             f"entries {', '.join(map(str, bad))}; the direct connection is not "
                             "credited", where)  # type: ignore[arg-type]  # fmt: skip
        kwh[field] = proof.amount * factor_between(proof.unit, "kWh", f"meter {slug}")
        readings += proof.readings
        seqs += [e.seq for e in proof.entries]
    return MeteredEvidence(readings=readings, ledger_entries=tuple(sorted(set(seqs))), kwh=kwh)


def _site_meter(
    session: Session, tenant_id: int, site_slug: str, meter_slug: str
) -> tuple[MonitoringSite, MonitoringMeter]:
    site = session.scalar(select(MonitoringSite).where(
        MonitoringSite.tenant_id == tenant_id, MonitoringSite.slug == site_slug))  # fmt: skip
    if site is None:
        raise LookupError(f"no monitoring site '{site_slug}'")
    meter = session.scalar(select(MonitoringMeter).where(
        MonitoringMeter.site_id == site.id, MonitoringMeter.slug == meter_slug))  # fmt: skip
    if meter is None:
        raise LookupError(f"site '{site_slug}' has no meter '{meter_slug}'")
    if meter.carrier != "electricity":
        raise LookupError(f"meter '{meter_slug}' measures {meter.carrier}, not electricity")
    return site, meter


def _sum(session: Session, meter_id: int, lo: int, hi: int) -> tuple[int, float]:
    n, total = session.execute(
        select(func.count(), func.coalesce(func.sum(MonitoringReading.delta), 0.0)).where(
            MonitoringReading.meter_id == meter_id,
            MonitoringReading.ts_ms >= lo,
            MonitoringReading.ts_ms < hi,
        )
    ).one()
    return int(n), float(total)


def _digest(session: Session, meter_id: int, site: str, meter: str, lo: int, hi: int) -> str:
    """As `monitoring.batch.readings_digest`: one line per reading, by time."""
    h = hashlib.sha256()
    rows = session.execute(
        select(MonitoringReading.ts_ms, MonitoringReading.value)
        .where(MonitoringReading.meter_id == meter_id, MonitoringReading.ts_ms >= lo,
               MonitoringReading.ts_ms < hi)
        .order_by(MonitoringReading.ts_ms)
    )  # fmt: skip
    for ts, value in rows:
        h.update(f"{site}/{meter} {ts} {float(value)!r}\n".encode())
    return h.hexdigest()


def _ms(text: str) -> int:
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
