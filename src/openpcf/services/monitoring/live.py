"""Live emissions of a tenant's sites: windows per meter, equipment or site, the dashboard's
snapshot with alerts, rejected readings, and ETS allowance tracking. Reads only; every query
is scoped to the principal's tenant through the site it names."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openpcf.domain.monitoring import RESOLUTIONS, allowance_status, window_start
from openpcf.domain.platform import Principal
from openpcf.services.errors import InvalidRequest
from openpcf.services.monitoring.registry import ETS_SOURCES, meter_spec, site_of
from openpcf.store.models_monitoring import (
    MonitoringAggregate,
    MonitoringAllowance,
    MonitoringMeter,
    MonitoringRejected,
)

Resolution = Literal["1m", "15m", "1h", "1d"]
Group = Literal["meter", "equipment", "site"]
MAX_WINDOWS = 10_000


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Window(_Out):
    start: datetime
    key: str = Field(description="meter id, equipment name or site id")
    amount: float | None = Field(description="energy or fuel used (meters only: one unit)")
    unit: str | None = None
    kg_co2e: float
    kg_co2: float
    kg_ch4: float
    kg_n2o: float
    readings: int


class MeterLive(_Out):
    meter: str
    equipment: str
    carrier: str
    unit: str
    scope: int
    last_reading: datetime | None
    minute_amount: float = Field(description="use in the latest complete minute")
    rate_kg_co2e_per_h: float = Field(description="latest complete minute × 60")
    today_kg_co2e: float
    alert_above: float | None
    alert: bool


class AllowanceInfo(_Out):
    year: int
    sector: str
    source: str
    allowance_t_co2: float
    emitted_t_co2: float = Field(description="year to date: direct CO2 of the fuel meters")
    forecast_t_co2: float = Field(description="at year end, at the run rate so far")
    remaining_t_co2: float
    forecast_share: float
    over: bool
    note: str | None


class SiteLive(_Out):
    site: str
    name: str
    at: datetime
    rate_kg_co2e_per_h: float
    today_kg_co2e: float
    alert_above: float | None
    alerts: list[str]
    meters: list[MeterLive]
    allowance: AllowanceInfo | None


class RejectedInfo(_Out):
    meter: str
    topic: str
    ts: datetime | None
    payload: str
    reason: str
    received_at: datetime


def emissions(
    session: Session,
    who: Principal,
    site: str,
    resolution: Resolution,
    start: datetime,
    end: datetime,
    group: Group = "meter",
) -> list[Window]:
    """The windows of `resolution` that start in [start, end), summed by `group`."""
    row = site_of(session, who, site)
    size = RESOLUTIONS[resolution]
    lo, hi = _ms(start), _ms(end)
    if hi <= lo:
        raise InvalidRequest("'to' must be after 'from'")
    if (hi - lo) // size > MAX_WINDOWS:
        raise InvalidRequest(f"more than {MAX_WINDOWS} windows; choose a coarser resolution")
    meters = {m.id: m for m in session.scalars(_meters_of(row.id))}
    a = MonitoringAggregate
    rows = session.execute(
        select(a).where(
            a.meter_id.in_(meters), a.resolution == resolution, a.start_ms >= lo, a.start_ms < hi
        )
    ).scalars()
    sums: dict[tuple[int, str], list[float]] = {}
    for r in rows:
        m = meters[r.meter_id]
        key = {"meter": m.slug, "equipment": m.equipment, "site": row.slug}[group]
        s = sums.setdefault((r.start_ms, key), [0.0] * 6)
        for i, v in enumerate((r.amount, r.kg_co2e, r.kg_co2, r.kg_ch4, r.kg_n2o, r.readings)):
            s[i] += v
    units = {m.slug: m.unit for m in meters.values()}
    return [
        Window(
            start=_dt(start_ms),
            key=key,
            amount=s[0] if group == "meter" else None,
            unit=units[key] if group == "meter" else None,
            kg_co2e=s[1],
            kg_co2=s[2],
            kg_ch4=s[3],
            kg_n2o=s[4],
            readings=int(s[5]),
        )
        for (start_ms, key), s in sorted(sums.items())
    ]


def live(session: Session, who: Principal, site: str, now: float | None = None) -> SiteLive:
    """What the dashboard shows: each meter's latest minute, today, alerts, the allowance."""
    row = site_of(session, who, site)
    now_ms = int((now if now is not None else time.time()) * 1000)
    zone = ZoneInfo(row.timezone)
    offset = _offset_ms(zone, now_ms)
    minute = window_start(now_ms, RESOLUTIONS["1m"], offset) - RESOLUTIONS["1m"]
    today = window_start(now_ms, RESOLUTIONS["1d"], offset)
    meters = list(session.scalars(_meters_of(row.id)))
    a = MonitoringAggregate
    ids = [m.id for m in meters]
    latest = {
        (r.meter_id, r.resolution): r
        for r in session.scalars(
            select(a).where(
                a.meter_id.in_(ids),
                ((a.resolution == "1m") & (a.start_ms == minute))
                | ((a.resolution == "1d") & (a.start_ms == today)),
            )
        )
    }
    # The newest reading of each meter, from the daily windows (every accepted reading is in
    # one, with the window's newest time): one query over a few rows per meter and day,
    # where the readings table would need a query per meter.
    newest = dict(
        session.execute(
            select(a.meter_id, func.max(a.last_ts_ms))
            .where(a.meter_id.in_(ids), a.resolution == "1d")
            .group_by(a.meter_id)
        ).all()
    )
    out: list[MeterLive] = []
    alerts: list[str] = []
    for m in meters:
        last = newest.get(m.id)
        one, day = latest.get((m.id, "1m")), latest.get((m.id, "1d"))
        rate = one.kg_co2e * 60 if one else 0.0
        alert = m.alert_above is not None and rate > m.alert_above
        if alert:
            alerts.append(f"{m.slug} ({m.equipment}): {rate:,.0f} kg CO2e/h > {m.alert_above:,.0f}")
        out.append(
            MeterLive(
                meter=m.slug,
                equipment=m.equipment,
                carrier=m.carrier,
                unit=m.unit,
                scope=meter_spec(m, row.slug).scope,
                last_reading=_dt(last) if last is not None else None,
                minute_amount=one.amount if one else 0.0,
                rate_kg_co2e_per_h=rate,
                today_kg_co2e=day.kg_co2e if day else 0.0,
                alert_above=m.alert_above,
                alert=alert,
            )
        )
    rate = sum(m.rate_kg_co2e_per_h for m in out)
    if row.alert_above is not None and rate > row.alert_above:
        alerts.insert(0, f"site: {rate:,.0f} kg CO2e/h > {row.alert_above:,.0f}")
    status = allowance(session, who, site, datetime.fromtimestamp(now_ms / 1000, zone).year,
                       now_ms / 1000)  # fmt: skip
    if status is not None and status.over:
        alerts.append(
            f"allowance {status.year}: forecast {status.forecast_t_co2:,.0f} t CO2 exceeds "
            f"{status.allowance_t_co2:,.0f} t"
        )
    return SiteLive(
        site=row.slug,
        name=row.name,
        at=_dt(now_ms),
        rate_kg_co2e_per_h=rate,
        today_kg_co2e=sum(m.today_kg_co2e for m in out),
        alert_above=row.alert_above,
        alerts=alerts,
        meters=out,
        allowance=status,
    )


def allowance(
    session: Session, who: Principal, site: str, year: int, now: float | None = None
) -> AllowanceInfo | None:
    """The site's allowance for `year` against its direct CO2 so far, forecast linearly."""
    row = site_of(session, who, site)
    grant = session.scalar(
        select(MonitoringAllowance).where(
            MonitoringAllowance.site_id == row.id, MonitoringAllowance.year == year
        )
    )
    if grant is None or row.ets_sector is None:
        return None
    zone = ZoneInfo(row.timezone)
    begin = datetime(year, 1, 1, tzinfo=zone).timestamp()
    end = datetime(year + 1, 1, 1, tzinfo=zone).timestamp()
    now_s = now if now is not None else time.time()
    elapsed = min(max(now_s, begin), end) - begin
    direct = [m.id for m in session.scalars(_meters_of(row.id)) if m.factor.get("kind") == "fuel"]
    a = MonitoringAggregate
    kg = session.scalar(
        select(func.coalesce(func.sum(a.kg_co2), 0.0)).where(
            a.meter_id.in_(direct),
            a.resolution == "1d",
            a.start_ms >= int(begin * 1000),
            a.start_ms < int(end * 1000),
        )
    )
    days = (end - begin) / 86400
    status = allowance_status(
        year, grant.tonnes_co2, float(kg) / 1000, elapsed / 86400, round(days)
    )
    note = None
    if elapsed < 7 * 86400:
        note = "less than a week of the year has passed; the forecast is rough"
    return AllowanceInfo(
        year=year,
        sector=row.ets_sector,
        source=grant.source or ETS_SOURCES[row.ets_sector],
        allowance_t_co2=status.allowance_t,
        emitted_t_co2=status.emitted_t,
        forecast_t_co2=status.forecast_t,
        remaining_t_co2=status.remaining_t,
        forecast_share=status.forecast_share,
        over=status.over,
        note=note,
    )


def rejected(
    session: Session, who: Principal, site: str, limit: int = 100, offset: int = 0
) -> list[RejectedInfo]:
    """Refused readings of a site's topics, newest first."""
    site_of(session, who, site)
    r = MonitoringRejected
    rows = session.scalars(
        select(r)
        .where(r.tenant == who.tenant, r.site == site)
        .order_by(r.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        RejectedInfo(
            meter=x.meter,
            topic=x.topic,
            ts=_dt(x.ts_ms) if x.ts_ms is not None else None,
            payload=x.payload,
            reason=x.reason,
            received_at=x.received_at
            if x.received_at.tzinfo
            else x.received_at.replace(tzinfo=UTC),
        )
        for x in rows
    ]


def _meters_of(site_id: int) -> Any:
    return (
        select(MonitoringMeter)
        .where(MonitoringMeter.site_id == site_id)
        .order_by(MonitoringMeter.slug)
    )


def _offset_ms(zone: ZoneInfo, ts_ms: int) -> int:
    off = datetime.fromtimestamp(ts_ms / 1000, zone).utcoffset()
    return int(off.total_seconds() * 1000) if off else 0


def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _dt(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, UTC)


def sse_interval() -> float:
    """OPENPCF_MONITOR_SSE_INTERVAL: seconds between dashboard updates. Default: 0.5."""
    import os

    return float(os.environ.get("OPENPCF_MONITOR_SSE_INTERVAL") or 0.5)


async def live_events(
    open_session: Any, who: Principal, site: str, every: float, disconnected: Any
) -> Any:
    """Server-sent events of `live` snapshots, one per `every` seconds while the client stays
    (`open_session()` gives a read-only session; `disconnected()` is awaited each round)."""
    import asyncio

    from anyio import to_thread

    def snapshot() -> str:
        with open_session() as s:
            return live(s, who, site).model_dump_json()

    n = 0
    while not await disconnected():
        data = await to_thread.run_sync(snapshot)
        n += 1
        yield f"id: {n}\nevent: live\ndata: {data}\n\n"
        await asyncio.sleep(every)
