"""A direct connection from metered data, against SQLite and PostgreSQL: its 60 % and 30 %
thresholds and its credited share come from the stored, ledger-chained readings, not from the
typed numbers; a verifier reads the readings' ledger proof."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.domain.result import Result
from openpcf.factors.bundled import bundled_set
from openpcf.io.label import label_svg
from openpcf.services.monitoring.ingest import Ingestor
from openpcf.services.monitoring.registry import apply_plant, plant_from, tenant_principal
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from tests.platform_world import World, acknowledgements, add_tenant, make_world

PLANT = {
    "sites": [{"id": "dc", "name": "Data centre", "region": "CN-QH"}],
    "meters": [
        {"id": "farm", "site": "dc", "equipment": "wind farm output", "carrier": "electricity",
         "unit": "MWh", "reading": "cumulative",
         "factor": {"kind": "supply", "generation": "wind"}},
        {"id": "green-in", "site": "dc", "equipment": "direct line in", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative",
         "factor": {"kind": "supply", "generation": "wind"}},
        {"id": "total", "site": "dc", "equipment": "site intake", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative", "factor": {"kind": "grid"}},
    ],
}  # fmt: skip
T0 = int(datetime(2025, 3, 3, tzinfo=UTC).timestamp())
MODEL = """
openpcf: 1
product: {{name: Rack hour, declared_unit: {{amount: 1, unit: kg}}, region: CN-QH, year: 2024}}
inputs:
  - name: Power
    stage: production
    amount: 100
    unit: kWh
    electricity:
{dc}
"""
# Typed: 7 000 of 10 000 kWh used on site = 70 % (passes 60 %), covering 7 000 / 8 000 = 87.5 %.
TYPED = """      direct_connection:
        generation: wind
        year: 2025
        project_generation: {amount: 10000, unit: kWh}
        on_site_use: {amount: 7000, unit: kWh}
        consumption: {amount: 8000, unit: kWh}"""
METERED = (
    TYPED
    + """
        meters: {site: dc, generation: farm, on_site_use: green-in, consumption: total,
                 start: 2025-03-01, end: 2025-03-31}"""
)
GRID_ONLY = """      basis: footprint"""


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, World, str]]:
    world = make_world(database_url)
    factory = sessions(database_url)
    with factory() as s:
        who = tenant_principal(s, "acme", accounts.operator("tests"))
    apply_plant(factory(), who, plant_from(PLANT))
    add_tenant(world, "cnverify", TenantKind.verifier, (Role.verifier,))
    with TestClient(create_app(database_url)) as client:
        yield client, world, database_url


def _ingest(url: str, meter: str, values: list[float], start: int = T0) -> None:
    readings = [{"ts": start + 600 * i, "value": v} for i, v in enumerate(values)]
    topic = f"openpcf/acme/dc/{meter}"
    Ingestor(url, name="test", clock=lambda: start + 86400).ingest(
        [(topic, json.dumps(readings).encode())]
    )


def _calc(client: TestClient, world: World, slug: str, dc: str) -> dict:
    auth = world.auth("acme/member")
    urn = f"urn:openpcf:product:acme:{slug}"
    assert (
        client.post("/products", json={"slug": slug, "name": slug}, headers=auth).status_code == 201
    )
    r = client.post(f"/products/{urn}/versions", content=MODEL.format(dc=dc),
                    headers=auth | {"content-type": "application/yaml"})  # fmt: skip
    assert r.status_code == 201, r.text
    # a direct connection below the thresholds breaks the rule: computed, marked as such
    r = client.post(f"/products/{urn}/calculations", json={"allow_violations": True}, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def _certify(client: TestClient, world: World, slug: str, calc_id: str) -> tuple[str, str]:
    """(submission id, certificate id) of the calculation, certified by cnverify."""
    r = client.post("/certification/submissions", headers=world.auth("acme/member"),
                    json={"product": f"urn:openpcf:product:acme:{slug}", "calculation_id": calc_id,
                          "verifier": "cnverify"})  # fmt: skip
    assert r.status_code == 201, r.text
    sub = r.json()["id"]
    for who, action in (("acme/member", "submit"), ("cnverify/verifier", "start_review"),
                        ("cnverify/verifier", "certify")):  # fmt: skip
        r = client.post(
            f"/certification/submissions/{sub}/transitions",
            json={
                "action": action,
                "comment": "ok",
                **(
                    {"acknowledgements": acknowledgements(client, sub, world.auth(who))}
                    if action == "certify"
                    else {}
                ),
            },
            headers=world.auth(who),
        )
        assert r.status_code == 200, r.text
    return sub, r.json()["certificate_id"]


def _notes(result: dict, code: str) -> list[str]:
    return [n["message"] for n in result["warnings"] if n["code"] == code]


def test_metered_on_site_share_of_55_percent_is_not_credited(api) -> None:
    client, world, url = api
    # farm: a counter in MWh, 0 -> 4 -> 10 = 10 MWh = 10 000 kWh generated in March
    _ingest(url, "farm", [0, 4, 10])
    # green-in: 0 -> 5 500 kWh used on site = 55 % of generation (< 60 %)
    _ingest(url, "green-in", [0, 2000, 5500])
    # total: 0 -> 8 000 kWh consumed by the site
    _ingest(url, "total", [0, 3000, 8000])
    grid = _calc(client, world, "grid", GRID_ONLY)["result"]
    declared_calc = _calc(client, world, "declared", TYPED)
    declared = declared_calc["result"]
    metered = _calc(client, world, "metered", METERED)["result"]
    # the typed numbers (70 %) would be credited: less than the grid average, and marked
    assert declared["pcf"]["value"] < grid["pcf"]["value"]
    assert _notes(declared, "DIRECT_CONNECTION_DECLARED")
    # the readings say 5 500 / 10 000 = 55.0 %: not credited, the grid average is used
    assert metered["pcf"]["value"] == pytest.approx(grid["pcf"]["value"])
    (rejected,) = _notes(metered, "DIRECT_CONNECTION_REJECTED")
    assert "only 55.0% of the project's generation is used on site" in rejected
    (said,) = _notes(metered, "DIRECT_CONNECTION_METERED")
    assert "generation 10000 kWh, on-site use 5500 kWh, consumption 8000 kWh" in said
    assert "9 stored readings" in said
    assert not _notes(metered, "DIRECT_CONNECTION_DECLARED")
    # a certificate of the declared footprint carries the note in its signed document
    _, cert = _certify(client, world, "declared", declared_calc["id"])
    doc = client.get(f"/certification/certificates/{cert}", headers=world.auth("acme/member"))
    assert doc.json()["document"]["electricity_evidence"] == _notes(
        declared, "DIRECT_CONNECTION_DECLARED")  # fmt: skip
    # the label's description says which evidence it rests on
    assert "direct connection declared, not metered" in label_svg(Result.model_validate(declared))
    assert "direct connection metered" in label_svg(Result.model_validate(metered))
    # the verifier's proof: the chained entries of green-in match the stored readings
    r = client.get("/monitoring/sites/dc/meters/green-in/ledger-proof?start=2025-03-01"
                   "&end=2025-03-31", headers=world.auth("acme/verifier"))  # fmt: skip
    assert r.status_code == 200, r.text
    proof = r.json()
    assert (proof["readings"], proof["amount"], proof["chained"]) == (3, 5500.0, True)
    assert [e["matches"] for e in proof["entries"]] == [True]
    assert proof["entries"][0]["seq"] in [int(s) for s in said.rsplit("entries ", 1)[1].split(", ")]
    # a reading changed behind the ledger's back: the proof says so, the credit is refused
    from sqlalchemy import text

    with sessions(url)() as s, s.begin():
        s.execute(text("UPDATE monitoring_readings SET delta = 6000 WHERE delta = 3500"))
    proof = client.get("/monitoring/sites/dc/meters/green-in/ledger-proof?start=2025-03-01"
                       "&end=2025-03-31", headers=world.auth("acme/verifier")).json()  # fmt: skip
    assert [e["matches"] for e in proof["entries"]] == [False]


def test_metered_share_above_the_thresholds_is_credited_from_readings(api, tmp_path: Path) -> None:
    client, world, url = api
    _ingest(url, "farm", [0, 10])  # 10 000 kWh
    _ingest(url, "green-in", [0, 6400])  # 64 % of generation (>= 60 %)
    _ingest(url, "total", [0, 16000])  # 6 400 / 16 000 = 40 % of consumption (>= 30 %)
    grid = _calc(client, world, "grid", GRID_ONLY)["result"]
    metered_calc = _calc(client, world, "metered", METERED)
    metered = metered_calc["result"]
    assert not _notes(metered, "DIRECT_CONNECTION_REJECTED")
    # the verification body reviewing it sees each meter's readings and their ledger proof
    sub, _ = _certify(client, world, "metered", metered_calc["id"])
    r = client.get(f"/certification/submissions/{sub}/evidence",
                   headers=world.auth("cnverify/verifier"))  # fmt: skip
    assert r.status_code == 200, r.text
    proofs = {p["role"]: p for p in r.json()["meter_proofs"]}
    assert {k: (p["meter"], p["amount"]) for k, p in proofs.items()} == {
        "generation": ("farm", 10.0), "on_site_use": ("green-in", 6400.0),
        "consumption": ("total", 16000.0)}  # fmt: skip
    assert all(e["matches"] for p in proofs.values() for e in p["entries"])
    assert proofs["generation"]["entries"] and proofs["consumption"]["chained"] is False
    # credited share 40 %: pcf = 100 kWh × (0.6 × grid + 0.4 × wind); wind's factor is the
    # generation factor the result lists; grid is the grid-only result's per kWh
    wind_id = next(f["id"] for f in metered["factors"] if f["id"].startswith("cn-mee-efp/wind@"))
    wind = next(f.co2e for f in bundled_set().factors if f.id == wind_id)
    expected = 100 * (0.6 * grid["pcf"]["value"] / 100 + 0.4 * wind)
    assert metered["pcf"]["value"] == pytest.approx(expected)


def test_metered_evidence_cannot_be_typed_into_a_model(write) -> None:
    from openpcf.domain.errors import OpenpcfError
    from openpcf.services.calculation.project import load_project

    forged = TYPED + "\n        metered: {readings: 1, ledger_entries: [1], kwh: {}}"
    path = write("m.yaml", MODEL.format(dc=forged))
    with pytest.raises(OpenpcfError, match="'metered' is set by openpcf from stored readings"):
        load_project(path)
