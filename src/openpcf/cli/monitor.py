"""`openpcf monitor`: plant meters over MQTT to live emissions, allowances and primary data.

The commands act on the configured database (OPENPCF_DATABASE_URL) for a tenant (--tenant,
default OPENPCF_TENANT); registry writes are audited under `operator:<login>`, ingestion
batches under `service:<client id>`.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from openpcf import config
from openpcf.cli.common import err, fail, out
from openpcf.domain.errors import OpenpcfError
from openpcf.domain.platform import Principal

T = TypeVar("T")

monitor_app = typer.Typer(
    help="Plant monitoring: meters over MQTT, live emissions, allowances, primary data.",
    no_args_is_help=True,
)

TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Tenant; default OPENPCF_TENANT (local).")
]
BrokerOption = Annotated[
    str,
    typer.Option("--broker", envvar="OPENPCF_MQTT_BROKER", help="MQTT broker as HOST:PORT."),
]


def _as_tenant(tenant: str | None) -> tuple[object, Principal]:
    from openpcf.services.monitoring.registry import tenant_principal
    from openpcf.services.platform import accounts
    from openpcf.store.db import sessions

    factory = sessions()
    with factory() as s:
        who = tenant_principal(s, tenant or config.tenant(), accounts.operator())
    return factory, who


def _query(tenant: str | None, query: Callable[..., T], *args: Any) -> T:
    """`query(session, who, *args)` for the tenant (as its service acts); an error exits 1."""
    try:
        factory, who = _as_tenant(tenant)
        with factory() as s:  # type: ignore[operator]
            return query(s, who, *args)
    except OpenpcfError as exc:
        fail(exc)
        raise  # not reached: fail exits


@monitor_app.command("registry")
def registry(
    plant: Annotated[Path, typer.Argument(help="Plant file (YAML): sites, meters, allowances.")],
    tenant: TenantOption = None,
) -> None:
    """Create or update the sites, meters and ETS allowances of a plant file."""
    from openpcf.services.monitoring.registry import apply_plant, load_plant

    try:
        spec = load_plant(plant)
        factory, who = _as_tenant(tenant)
        counts = apply_plant(factory(), who, spec)  # type: ignore[operator]
    except OpenpcfError as exc:
        fail(exc)
        return
    out.print(
        f"{who.tenant}: {len(spec.sites)} site(s), {len(spec.meters)} meter(s), "
        f"{len(spec.allowances)} allowance(s); {counts['sites']} site(s), {counts['meters']} "
        f"meter(s), {counts['allowances']} allowance(s) created or changed"
    )


@monitor_app.command("meters")
def meters(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    tenant: TenantOption = None,
) -> None:
    """The meters of a site."""
    from openpcf.services.monitoring.registry import list_meters

    rows = _query(tenant, list_meters, site)
    table = Table()
    for col in ("meter", "equipment", "carrier", "unit", "reading", "factor", "scope"):
        table.add_column(col)
    for m in rows:
        rule = m.factor.model_dump()
        table.add_row(m.id, m.equipment, m.carrier.value, m.unit, m.reading.value,
                      " ".join(f"{k}={v}" for k, v in rule.items() if v is not None),
                      str(m.scope))  # fmt: skip
    out.print(table)


@monitor_app.command("run")
def run(
    broker: BrokerOption = "127.0.0.1:1883",
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant's meters; default all.")
    ] = None,
    client_id: Annotated[
        str, typer.Option(help="MQTT client id: the broker keeps this session's queue.")
    ] = "openpcf-monitor",
    max_messages: Annotated[
        int,
        typer.Option(
            help="Write a batch at this many messages (half the broker's inflight limit, so it "
            "sends the next ones while a batch is written)."
        ),
    ] = 10,
    max_readings: Annotated[int, typer.Option(help="…or at this many readings.")] = 20_000,
    flush_ms: Annotated[int, typer.Option(help="…or this long after the first.")] = 100,
    quiet: Annotated[bool, typer.Option("--quiet", help="No per-minute summary.")] = False,
) -> None:
    """The ingestion service: readings from the broker into the store, until Ctrl-C/SIGTERM."""
    from openpcf.services.monitoring.ingest import Ingestor
    from openpcf.services.monitoring.mqtt import IngestionService, Settings, parse_broker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)  # fmt: skip
    try:
        host, port = parse_broker(broker)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    settings = Settings(host, port, client_id, tenant, max_messages, max_readings, flush_ms / 1000)
    ingestor = Ingestor(name=client_id, tenant=tenant)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    service = IngestionService(ingestor, settings)
    if not quiet:
        threading.Thread(target=_report, args=(service, stop), daemon=True).start()
    err.print(f"ingesting from {host}:{port} topic {service.topic} into {config.database_url()}")
    totals = service.run(stop)
    err.print(
        f"stopped: {totals.accepted} readings stored, {totals.duplicates} duplicates, "
        f"{totals.rejected} rejected, in {totals.batches} batches"
    )


def _report(service: object, stop: threading.Event) -> None:
    before = 0
    while not stop.wait(60):
        t = service.totals  # type: ignore[attr-defined]
        err.print(f"{datetime.now():%H:%M:%S} {t.accepted - before} readings/min stored, "
                  f"{t.rejected} rejected so far, connected={t.connected}")  # fmt: skip
        before = t.accepted


@monitor_app.command("simulate")
def simulate(
    plant: Annotated[Path, typer.Argument(help="Plant file with a 'simulation' section.")],
    tenant: TenantOption = None,
    broker: BrokerOption = "127.0.0.1:1883",
    interval: Annotated[float, typer.Option(help="Seconds between a meter's readings.")] = 1.0,
    per_message: Annotated[int, typer.Option(help="Readings of a meter per message.")] = 1,
    start: Annotated[
        datetime | None,
        typer.Option(help="Backfill from this time (UTC) as fast as possible; default live."),
    ] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many readings.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Live: stop after this long.")] = None,
) -> None:
    """Publish realistic readings for the plant's meters (the demo plant:
    examples/monitoring/plant.yaml)."""
    from openpcf.services.monitoring.mqtt import parse_broker
    from openpcf.services.monitoring.registry import load_plant
    from openpcf.services.monitoring.simulate import simulate as run_simulation

    try:
        spec = load_plant(plant)
        host, port = parse_broker(broker)
    except (OpenpcfError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if minutes is not None:
        threading.Timer(minutes * 60, stop.set).start()
    begin = start.replace(tzinfo=start.tzinfo or UTC).timestamp() if start else None
    who = tenant or config.tenant()
    err.print(f"publishing to {host}:{port} as openpcf/{who}/… ({'backfill' if begin else 'live'})")
    t0 = time.monotonic()
    n = run_simulation(spec, who, host, port, interval, per_message, begin, count, stop)
    err.print(f"published {n} readings in {time.monotonic() - t0:.1f} s")


@monitor_app.command("status")
def status(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    tenant: TenantOption = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Live emissions of a site: each meter's latest minute, today, alerts, the allowance."""
    from openpcf.services.monitoring.live import live

    snap = _query(tenant, live, site)
    if format == "json":
        sys.stdout.write(snap.model_dump_json(indent=2) + "\n")
        return
    table = Table(title=f"{snap.name} at {snap.at:%Y-%m-%d %H:%M:%S} UTC")
    for col in ("meter", "equipment", "last reading", "kg CO2e/h", "today kg CO2e", "alert"):
        table.add_column(col)
    for m in snap.meters:
        table.add_row(m.meter, m.equipment,
                      f"{m.last_reading:%Y-%m-%d %H:%M:%S}" if m.last_reading else "-",
                      f"{m.rate_kg_co2e_per_h:,.1f}", f"{m.today_kg_co2e:,.1f}",
                      "ALERT" if m.alert else "")  # fmt: skip
    out.print(table)
    out.print(f"site: {snap.rate_kg_co2e_per_h:,.1f} kg CO2e/h, today {snap.today_kg_co2e:,.1f} kg")
    if snap.allowance is not None:
        a = snap.allowance
        out.print(f"allowance {a.year} ({a.sector}): {a.emitted_t_co2:,.1f} of "
                  f"{a.allowance_t_co2:,.0f} t CO2 emitted; forecast {a.forecast_t_co2:,.0f} t "
                  f"({a.forecast_share:.0%})")  # fmt: skip
    for alert in snap.alerts:
        out.print(f"[bold red]alert:[/] {escape(alert)}")


@monitor_app.command("emissions")
def emissions_cmd(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    resolution: Annotated[str, typer.Option(help="1m, 15m, 1h or 1d.")] = "1h",
    hours: Annotated[float, typer.Option(help="The last this many hours.")] = 24,
    by: Annotated[str, typer.Option(help="meter, equipment or site.")] = "site",
    tenant: TenantOption = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Emissions of a site per window."""
    from openpcf.services.monitoring.live import emissions

    end = datetime.now(UTC)
    rows = _query(tenant, emissions, site, resolution, end - timedelta(hours=hours), end, by)
    if format == "json":
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], indent=2) + "\n")
        return
    table = Table()
    for col in ("start (UTC)", by, "amount", "kg CO2e", "kg CO2", "readings"):
        table.add_column(col)
    for r in rows:
        amount = f"{r.amount:,.3f} {r.unit}" if r.amount is not None else ""
        table.add_row(f"{r.start:%Y-%m-%d %H:%M}", r.key, amount, f"{r.kg_co2e:,.2f}",
                      f"{r.kg_co2:,.2f}", str(r.readings))  # fmt: skip
    out.print(table)


@monitor_app.command("rejected")
def rejected_cmd(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    tenant: TenantOption = None,
) -> None:
    """Readings the ingestion service refused, with the reason."""
    from openpcf.services.monitoring.live import rejected

    rows = _query(tenant, rejected, site, limit)
    table = Table()
    for col in ("received", "meter", "reason", "payload"):
        table.add_column(col)
    for r in rows:
        table.add_row(f"{r.received_at:%Y-%m-%d %H:%M:%S}", r.meter, r.reason, r.payload[:60])
    out.print(table)


@monitor_app.command("activity")
def activity_cmd(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    period: Annotated[str, typer.Option("--period", help="YYYY, YYYY-MM or YYYY-Qn.")],
    produced: Annotated[
        list[str],
        typer.Option("--produced", help="PRODUCT=AMOUNT UNIT made at the site; repeat."),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for one YAML fragment per product.")
    ] = Path("."),
    tenant: TenantOption = None,
) -> None:
    """Allocate a period's metered energy to products by production volume and write
    product-model inputs (primary data, with data-quality ratings)."""
    from openpcf.services.monitoring.activity import activity, fragment_yaml, parse_produced

    try:
        volumes = [parse_produced(p) for p in produced]
    except OpenpcfError as exc:
        fail(exc)
        return
    result = _query(tenant, activity, site, period, volumes)
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in result:
        slug = p.product.rsplit(":", 1)[-1].replace("/", "-") or "product"
        path = out_dir / f"{slug}.{period}.inputs.yaml"
        path.write_text(fragment_yaml(site, period, p), encoding="utf-8")
        out.print(f"{escape(p.product)}: {len(p.inputs)} metered input(s), share "
                  f"{p.share:.1%} -> {escape(str(path))}")  # fmt: skip
