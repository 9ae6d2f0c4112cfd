"""A data centre's renewable share from metered readings and claimed certificates, against its
province's requirement as the policy tracker holds it; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.services.certification.gec_issuance import import_issuances
from openpcf.services.monitoring.data_centre import requirement_for
from openpcf.services.monitoring.registry import apply_plant, plant_from, tenant_principal
from openpcf.services.platform import accounts
from openpcf.store.db import sessions
from tests.platform_world import World, make_world
from tests.test_national_metered import _ingest

PLANT = {
    "sites": [{"id": "dc", "name": "Xining DC", "region": "CN-QH", "type": "data-centre"}],
    "meters": [
        {"id": "grid-in", "site": "dc", "equipment": "grid intake", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative", "factor": {"kind": "grid"}},
        {"id": "green-in", "site": "dc", "equipment": "direct line", "carrier": "electricity",
         "unit": "MWh", "reading": "cumulative",
         "factor": {"kind": "supply", "generation": "solar-pv"}},
        {"id": "chp", "site": "dc", "equipment": "gas CHP line", "carrier": "electricity",
         "unit": "kWh", "reading": "cumulative",
         "factor": {"kind": "supply", "generation": "gas", "co2e": 0.45}},
    ],
}  # fmt: skip
ISSUED = """id,volume,unit,generation,project,province,period_start,period_end,issuer
GEC-QH-DC-1,1,MWh,solar-pv,Golmud PV,CN-QH,2025-03-01,2025-03-31,GEC platform
"""
MARCH = int(datetime(2025, 3, 10, tzinfo=UTC).timestamp())
APRIL = int(datetime(2025, 4, 10, tzinfo=UTC).timestamp())
MAY = int(datetime(2025, 5, 10, tzinfo=UTC).timestamp())


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, World, str]]:
    world = make_world(database_url)
    factory = sessions(database_url)
    with factory() as s:
        who = tenant_principal(s, "acme", accounts.operator("tests"))
    apply_plant(factory(), who, plant_from(PLANT))
    import_issuances(factory(), accounts.operator("tests"), ISSUED)
    with TestClient(create_app(database_url)) as client:
        yield client, world, database_url


def test_a_data_centres_share_is_computed_from_readings_and_claims(api) -> None:
    client, world, url = api
    # March: grid 0 -> 6 000 kWh; direct line 0 -> 3 MWh = 3 000 kWh
    _ingest(url, "grid-in", [0, 6000], MARCH)
    _ingest(url, "green-in", [0, 3], MARCH)
    # April: grid unchanged (0 kWh); direct line 3 -> 8 MWh = 5 000 kWh
    _ingest(url, "grid-in", [6000, 6000], APRIL)
    _ingest(url, "green-in", [3, 8], APRIL)
    # May: a gas-fired direct supply, 0 -> 2 000 kWh: consumption, but not renewable
    _ingest(url, "chp", [0, 2000], MAY)
    member = world.auth("acme/member")
    cert = {"certificate_id": "GEC-QH-DC-1", "amount": 1, "unit": "MWh", "generation": "solar-pv"}
    r = client.post("/monitoring/sites/dc/green-certificates", json=cert, headers=member)
    assert r.status_code == 201, r.text
    # claimed once on the platform: another company's claim of it is refused
    r = client.post("/monitoring/sites/dc/green-certificates", json=cert,
                    headers=world.auth("other/member"))  # fmt: skip
    assert r.status_code == 404  # other has no site dc: nothing is claimed
    r = client.get("/monitoring/sites/dc/renewable-share?year=2025", headers=member)
    assert r.status_code == 200, r.text
    body = r.json()
    # Qinghai, from the policy tracker: new or expanded data centres 100 % renewable from 2025
    req = body["requirement"]
    assert (req["policy"], req["share"]) == ("qh-2025-data-centre-renewables", 100.0)
    march, april = body["months"][2], body["months"][3]
    # March: consumption 6 000 + 3 000 = 9 000 kWh; direct 3 000; the certificate's 1 000 kWh
    # (issued for 2025-03-01..31) all in March: (3 000 + 1 000) / 9 000 = 44.444 %
    assert (march["consumption_kwh"], march["direct_kwh"]) == (9000.0, 3000.0)
    assert march["certificates_kwh"] == pytest.approx(1000.0)
    assert march["share"] == pytest.approx(4000 / 9000 * 100) and march["meets"] is False
    # April: 5 000 kWh, all direct: 100 %, meets the requirement
    assert april["share"] == pytest.approx(100.0) and april["meets"] is True
    may = body["months"][4]
    assert (may["consumption_kwh"], may["direct_kwh"], may["share"]) == (2000.0, 0.0, 0.0)
    # the year: (8 000 + 1 000) / (9 000 + 5 000 + 2 000) = 56.25 %
    year = body["year_total"]
    assert year["consumption_kwh"] == 16000.0
    assert year["share"] == pytest.approx(9000 / 16000 * 100) and year["meets"] is False
    assert body["months"][0]["share"] is None  # January: no consumption metered


def test_inner_mongolia_requirement_comes_from_the_policy_tracker(database_url: str) -> None:
    with sessions(database_url)() as s:
        nm = requirement_for(s, "CN-NM", 2025)
        assert requirement_for(s, "CN-NM", 2024) is None  # from 2025
        assert requirement_for(s, "CN-JS", 2025) is None
    assert nm is not None and (nm.policy, nm.share) == ("nm-2025-data-centre-renewables", 80.0)
