"""Plant monitoring: the tenant's sites, meters and allowances (the registry), live emissions
per window, the live snapshot and its server-sent event stream, and refused readings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from starlette.responses import StreamingResponse

from openpcf.api.deps import PrincipalDep, SessionDep
from openpcf.api.errors import responses
from openpcf.domain.monitoring import AllowanceSpec, MeterSpec, SiteSpec
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.services.monitoring import data_centre, live, registry
from openpcf.services.monitoring.data_centre import DataCentreShare, SiteCertificate
from openpcf.services.monitoring.direct_connection import MeterProof, meter_proof

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
SiteId = Annotated[str, Path(description="site id", examples=["wuxi-mill"])]


@router.get("/sites", response_model=list[SiteSpec], summary="The tenant's monitored sites",
            responses=responses(401))  # fmt: skip
def list_sites(db: SessionDep, who: PrincipalDep) -> list[SiteSpec]:
    return registry.list_sites(db, who)


@router.post("/sites", response_model=SiteSpec, status_code=status.HTTP_201_CREATED,
             summary="Register a site (or change it)", responses=responses(401, 403, 422))  # fmt: skip
def put_site(site: SiteSpec, db: SessionDep, who: PrincipalDep) -> SiteSpec:
    return registry.add_site(db, who, site)


@router.get("/sites/{site}/meters", response_model=list[MeterSpec],
            summary="The meters of a site", responses=responses(401, 404))  # fmt: skip
def list_meters(site: SiteId, db: SessionDep, who: PrincipalDep) -> list[MeterSpec]:
    return registry.list_meters(db, who, site)


@router.post("/sites/{site}/meters", response_model=MeterSpec,
             status_code=status.HTTP_201_CREATED, summary="Register a meter (or change it)",
             responses=responses(401, 403, 404, 409, 422))  # fmt: skip
def put_meter(site: SiteId, meter: MeterSpec, db: SessionDep, who: PrincipalDep) -> MeterSpec:
    if meter.site != site:
        raise InvalidRequest(f"the meter names site '{meter.site}', the path '{site}'")
    return registry.add_meter(db, who, meter)


@router.post("/sites/{site}/allowances", response_model=AllowanceSpec,
             status_code=status.HTTP_201_CREATED, summary="Record an ETS allowance for a year",
             responses=responses(401, 403, 404, 422))  # fmt: skip
def put_allowance(
    site: SiteId, allowance: AllowanceSpec, db: SessionDep, who: PrincipalDep
) -> AllowanceSpec:
    if allowance.site != site:
        raise InvalidRequest(f"the allowance names site '{allowance.site}', the path '{site}'")
    return registry.add_allowance(db, who, allowance)


@router.get("/sites/{site}/emissions", response_model=list[live.Window],
            summary="Emissions per window (1m, 15m, 1h, 1d) by meter, equipment or site",
            responses=responses(401, 404, 422))  # fmt: skip
def emissions(
    site: SiteId,
    db: SessionDep,
    who: PrincipalDep,
    resolution: live.Resolution = "1h",
    start: Annotated[datetime | None, Query(alias="from", description="default 24 h ago")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="default now")] = None,
    group: live.Group = "meter",
) -> list[live.Window]:
    end = end or datetime.now(UTC)
    return live.emissions(db, who, site, resolution, start or end - timedelta(hours=24), end, group)


@router.get("/sites/{site}/live", response_model=live.SiteLive,
            summary="The live snapshot: each meter's latest minute, today, alerts, allowance",
            responses=responses(401, 404))  # fmt: skip
def snapshot(site: SiteId, db: SessionDep, who: PrincipalDep) -> live.SiteLive:
    return live.live(db, who, site)


@router.get(
    "/sites/{site}/stream",
    response_model=live.SiteLive,
    summary="The live snapshot as server-sent events (`event: live`, data: the snapshot JSON)",
    description="`text/event-stream`: an event `live` every `every` seconds (default "
    "OPENPCF_MONITOR_SSE_INTERVAL) whose data is the JSON documented here, until the client "
    "disconnects.",
    responses={200: {"content": {"text/event-stream": {}}}, **responses(401, 404)},
)
def stream(
    site: SiteId,
    request: Request,
    db: SessionDep,
    who: PrincipalDep,
    every: Annotated[
        float | None, Query(ge=0.2, le=60, description="seconds between events")
    ] = None,
) -> StreamingResponse:
    registry.site_of(db, who, site)  # 404 before the stream starts
    events = live.live_events(lambda: request.app.state.sessions(read_only=True), who, site,
                              every or live.sse_interval(), request.is_disconnected)  # fmt: skip
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip


@router.get("/sites/{site}/allowance", response_model=live.AllowanceInfo | None,
            summary="The ETS allowance of a year against direct CO2 so far, with a forecast",
            responses=responses(401, 404))  # fmt: skip
def allowance(
    site: SiteId, db: SessionDep, who: PrincipalDep, year: Annotated[int | None, Query()] = None
) -> live.AllowanceInfo | None:
    return live.allowance(db, who, site, year or datetime.now(UTC).year)


@router.get("/sites/{site}/rejected", response_model=list[live.RejectedInfo],
            summary="Readings the ingestion service refused, with the reason, newest first",
            responses=responses(401, 404))  # fmt: skip
def rejected(
    site: SiteId,
    db: SessionDep,
    who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[live.RejectedInfo]:
    return live.rejected(db, who, site, limit, offset)


@router.get(
    "/sites/{site}/meters/{meter}/ledger-proof",
    response_model=MeterProof,
    summary="A meter's readings over a period and the ledger entries chaining them, checked",
    responses=responses(401, 404, 422),
)
def ledger_proof(
    site: SiteId,
    meter: Annotated[str, Path(description="meter id", examples=["wind-in"])],
    start: Annotated[date, Query(description="first day (the site's time zone)")],
    end: Annotated[date, Query(description="last day, inclusive")],
    db: SessionDep,
    who: PrincipalDep,
) -> MeterProof:
    """For a verifier (any role of the tenant): what a metered direct connection was computed
    from, and whether every ledger entry still matches the stored readings."""
    if start > end:
        raise InvalidRequest(f"start {start} is after end {end}")
    with db.begin():
        registry.site_of(db, who, site)
        try:
            return meter_proof(db, who.tenant_id or 0, who.tenant or "", site, meter, start, end)
        except LookupError as exc:
            raise NotFound(str(exc)) from None


@router.post(
    "/sites/{site}/green-certificates",
    status_code=status.HTTP_201_CREATED,
    summary="Claim a green certificate for a site's consumption (once on the platform)",
    responses=responses(401, 403, 404, 422),
)
def claim_certificate(
    site: SiteId, cert: SiteCertificate, db: SessionDep, who: PrincipalDep
) -> dict[str, object]:
    (c,) = data_centre.claim_for_site(db, who, site, cert)
    return {"certificate_id": c.certificate_id, "kwh": c.kwh, "generation": c.generation}


@router.get(
    "/sites/{site}/renewable-share",
    response_model=DataCentreShare,
    summary="A data centre's renewable share by month and year, against its province's requirement",
    responses=responses(401, 404, 422),
)
def renewable_share(
    site: SiteId,
    db: SessionDep,
    who: PrincipalDep,
    year: Annotated[int, Query(ge=2000, le=2100, examples=[2025])],
) -> DataCentreShare:
    return data_centre.renewable_share(db, who, site, year)
