"""Products carry a UN CPC Ver.2.1 code and other classification URNs (PACT v2
productCategoryCpc, v3 productClassifications), checked on create and update."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from tests.databases import empty_database
from tests.platform_world import World, make_world

HS = "urn:pact:productclassification:hs:252329"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    with empty_database("sqlite", tmp_path_factory.mktemp("classes")) as url:
        world = make_world(url)
        with TestClient(create_app(url)) as client:
            yield client, world


def test_a_product_keeps_its_cpc_code_and_classifications(api: tuple[TestClient, World]) -> None:
    client, world = api
    auth = world.auth("acme/member")
    new = {"slug": "cement", "name": "Cement", "cpc": "3744", "classifications": [HS, HS.upper()]}
    r = client.post("/products", json=new, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["cpc"] == "3744" and r.json()["classifications"] == [HS]  # one of each
    urn = r.json()["urn"]
    r = client.patch(f"/products/{urn}", json={"cpc": "37440"}, headers=auth)
    assert (r.json()["cpc"], r.json()["classifications"]) == ("37440", [HS])
    r = client.patch(f"/products/{urn}", json={"cpc": "", "classifications": []}, headers=auth)
    assert (r.json()["cpc"], r.json()["classifications"]) == (None, [])
    r = client.patch(f"/products/{urn}", json={"name": "Cement P.O 42.5"}, headers=auth)
    assert r.json()["cpc"] is None and r.json()["name"] == "Cement P.O 42.5"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"cpc": "37-44"}, "cpc"),
        ({"cpc": "374401"}, "cpc"),  # CPC codes have at most 5 digits (subclass)
        ({"classifications": ["hs:252329"]}, "classifications[0]"),
        ({"classifications": [HS, "urn:has space:x"]}, "classifications[1]"),
        (  # a UN CPC URN contradicting the code
            {"cpc": "3744", "classifications": ["urn:pact:productclassification:un-cpc:4121"]},
            "classifications[0]",
        ),
    ],
)
def test_bad_classifications_are_refused_with_the_field_named(
    api: tuple[TestClient, World], body: dict, names: str
) -> None:
    client, world = api
    r = client.post(
        "/products", json={"slug": "bad", "name": "Bad"} | body, headers=world.auth("acme/member")
    )
    assert r.status_code == 422, r.text
    assert names in r.json()["message"]
    assert (
        client.get(
            "/products/urn:openpcf:product:acme:bad", headers=world.auth("acme/member")
        ).status_code
        == 404
    )
