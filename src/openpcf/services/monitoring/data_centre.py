"""A data centre's renewable share: per month and for the year, the share of its electricity
consumption covered by metered direct connection and by green certificates claimed for the
site, against the requirement of its province as the policy tracker holds it (documents whose
requirements have metric `data-centre-renewable-share`).

Meters of a data-centre site: each electricity meter measures one supply into the site, so the
site's consumption is their sum; `supply` meters of renewable generation (direct connection,
chained in the ledger) are the metered renewable part. A certificate claimed for the site (once
on the platform, like any claim) counts with the issued period of its registry record, spread
over the period's days; a claim without an issuance record has no period and is not counted
(said in `notes`).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.model import Generation
from openpcf.domain.platform import Principal, Role
from openpcf.services.certification.gec_issuance import issuance_records
from openpcf.services.certification.green_certificates import (
    CertificateRefused,
    Claim,
    claim,
    record_refusal,
)
from openpcf.services.errors import InvalidRequest
from openpcf.services.monitoring.registry import site_of
from openpcf.services.platform.access import require, writer
from openpcf.services.policy.documents import current
from openpcf.services.policy.regions import DATA_CENTRE_METRIC
from openpcf.store.models import CertificateClaim
from openpcf.store.models_monitoring import MonitoringMeter, MonitoringReading, MonitoringSite
from openpcf.units import factor_between

#: Generation types counted as renewable (a gas-fired direct supply is not; nor is nuclear).
RENEWABLE = frozenset({"wind", "solar-pv", "solar-thermal", "hydro", "biomass"})


class SiteCertificate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_id: str = Field(min_length=1, max_length=200)
    amount: float = Field(gt=0)
    unit: str = Field(examples=["MWh"])
    generation: Generation


class ProvincialRequirement(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: str = Field(description="the policy tracker's document id")
    text: str
    share: float = Field(description="required renewable share, %")
    from_year: int | None
    verify: bool = Field(description="the policy's primary text was not read (VERIFY)")
    source: str | None


class MonthShare(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str = Field(description="YYYY-MM, or YYYY for the year")
    consumption_kwh: float
    direct_kwh: float = Field(description="metered direct connection (supply meters)")
    certificates_kwh: float = Field(description="certificates claimed for the site, by period")
    share: float | None = Field(description="(direct + certificates) / consumption, %")
    meets: bool | None = Field(description="share at least the requirement (null: none)")


class DataCentreShare(BaseModel):
    model_config = ConfigDict(frozen=True)

    site: str
    region: str
    year: int
    requirement: ProvincialRequirement | None
    months: list[MonthShare]
    year_total: MonthShare
    notes: list[str]


def claim_for_site(
    session: Session, who: Principal, site: str, cert: SiteCertificate
) -> list[Claim]:
    """Claim a certificate for a data centre's consumption: once on the platform, ledgered."""
    kwh = cert.amount * factor_between(cert.unit, "kWh", f"certificate {cert.certificate_id}")
    c = Claim(cert.certificate_id, kwh, cert.generation, f"site {site}")
    try:
        with session.begin():
            writer(session, who)
            row = site_of(session, who, site)
            return claim(session, who.tenant or "", _site_key(who, row.slug), [c], who.actor)
    except CertificateRefused as exc:
        record_refusal(session, who.actor, who.tenant or "", exc)
        raise


def renewable_share(session: Session, who: Principal, site: str, year: int) -> DataCentreShare:
    """The site's renewable share per month and for `year` (any role of the tenant)."""
    with session.begin():
        require(who, *Role)
        row = site_of(session, who, site)
        if row.type != "data-centre":
            raise InvalidRequest(f"site '{site}' is not a data centre (type: {row.type})")
        tz = ZoneInfo(row.timezone)
        meters = list(session.scalars(select(MonitoringMeter).where(
            MonitoringMeter.site_id == row.id, MonitoringMeter.carrier == "electricity")))  # fmt: skip
        months = []
        certs, notes = _certificates(session, who, row, year)
        requirement = requirement_for(session, row.region, year)
        for m in range(1, 13):
            start = date(year, m, 1)
            end = date(year, m, calendar.monthrange(year, m)[1])
            consumed, direct = _metered(session, meters, tz, start, end)
            months.append(_share(f"{year}-{m:02d}", consumed, direct, certs[m - 1], requirement))
        total = _share(str(year), sum(x.consumption_kwh for x in months),
                       sum(x.direct_kwh for x in months), sum(certs), requirement)  # fmt: skip
    return DataCentreShare(site=site, region=row.region, year=year, requirement=requirement,
                           months=months, year_total=total, notes=notes)  # fmt: skip


def requirement_for(session: Session, region: str, year: int) -> ProvincialRequirement | None:
    """The province's data-centre renewable-share requirement in force in `year` (the highest
    if several), from the policy tracker."""
    found = []
    for doc in current(session).values():
        if region not in doc.regions or doc.superseded_by:
            continue
        for r in doc.requirements:
            if r.metric == DATA_CENTRE_METRIC and r.value is not None and (
                    r.from_year is None or r.from_year <= year):  # fmt: skip
                found.append(ProvincialRequirement(
                    policy=doc.id, text=r.text, share=r.value, from_year=r.from_year,
                    verify=doc.verify, source=doc.source_url or doc.obtained,
                ))  # fmt: skip
    return max(found, key=lambda r: r.share) if found else None


def _share(
    period: str, consumed: float, direct: float, certs: float, req: ProvincialRequirement | None
) -> MonthShare:
    share = (direct + certs) / consumed * 100 if consumed > 0 else None
    meets = None if req is None or share is None else share >= req.share - 1e-9
    return MonthShare(period=period, consumption_kwh=consumed, direct_kwh=direct,
                      certificates_kwh=certs, share=share, meets=meets)  # fmt: skip


def _metered(
    session: Session, meters: list[MonitoringMeter], tz: ZoneInfo, start: date, end: date
) -> tuple[float, float]:
    lo = int(datetime.combine(start, time(0), tz).timestamp() * 1000)
    hi = int(datetime.combine(end + timedelta(days=1), time(0), tz).timestamp() * 1000)
    consumed = direct = 0.0
    for m in meters:
        amount = session.scalar(select(func.coalesce(func.sum(MonitoringReading.delta), 0.0)).where(
            MonitoringReading.meter_id == m.id, MonitoringReading.ts_ms >= lo,
            MonitoringReading.ts_ms < hi))  # fmt: skip
        kwh = float(amount or 0.0) * factor_between(m.unit, "kWh", f"meter {m.slug}")
        consumed += kwh
        if m.factor.get("kind") == "supply" and m.factor.get("generation") in RENEWABLE:
            direct += kwh
    return consumed, direct


def _certificates(
    session: Session, who: Principal, site: MonitoringSite, year: int
) -> tuple[list[float], list[str]]:
    """kWh of the site's claimed certificates by month of `year`, spread by issued period."""
    rows = list(session.scalars(select(CertificateClaim).where(
        CertificateClaim.product == _site_key(who, site.slug))))  # fmt: skip
    issued = issuance_records(session, [r.certificate_id for r in rows])
    by_month = [0.0] * 12
    notes = []
    for r in rows:
        rec = issued.get(r.certificate_id)
        if rec is None:
            notes.append(f"certificate {r.certificate_id} has no issuance record, so no period: "
                         "not counted")  # fmt: skip
            continue
        days = (rec.period_end - rec.period_start).days + 1
        per_day = r.kwh / days
        d = rec.period_start
        while d <= rec.period_end:
            if d.year == year:
                by_month[d.month - 1] += per_day
            d += timedelta(days=1)
    return by_month, notes


def _site_key(who: Principal, slug: str) -> str:
    return f"site:{who.tenant}/{slug}"
