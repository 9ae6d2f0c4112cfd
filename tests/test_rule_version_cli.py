"""`openpcf calc|check --rule-version`: offline, under a product rule version a regulator
published in the store, the same result as the server's; a draft or unknown version is refused
with the versions that exist; without the option the bundled rule is used, and said so. And
`GET /rules` lists the published versions beside the bundled rules."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.rules.catalogue import BUNDLED, bundled_rules
from tests.cli_runner import openpcf
from tests.platform_world import World, add_tenant, make_world
from tests.test_national_rules import MODEL, URN

# Version 2 of the clinker rule: grade A up to 800 kg CO2e/t, and gypsum a mandatory input
# (the model has none: one MISSING_INPUT violation under version 2, none under the bundled rule).
GRADES = [{"grade": "A", "max_kg_co2e": 800.0}]
GYPSUM = {"name": "gypsum", "kind": "any", "match": ["gypsum"]}


@dataclass
class Ctx:
    client: TestClient
    world: World
    env: dict[str, str]
    model: Path


def _clinker(version_grades: list[dict], gypsum: bool) -> str:
    data = bundled_rules()["clinker"].model_dump(mode="json")
    data["benchmark_classes"] = version_grades
    if gypsum:
        data["mandatory_inputs"] = [*data["mandatory_inputs"], GYPSUM]
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Ctx]:
    """A platform (SQLite file) where the regulator published clinker version 2 (in force from
    yesterday) and left version 3 a draft; acme stored the clinker model."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    world = make_world(url)
    add_tenant(world, "gov", TenantKind.regulator, (Role.admin,))
    reg = world.auth("gov/admin") | {"content-type": "application/yaml"}
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    model = tmp_path / "clinker.yaml"
    model.write_text(MODEL, "utf-8")
    env = {**os.environ, "OPENPCF_DATABASE_URL": url, "OPENPCF_HOME": str(tmp_path / "home")}
    with TestClient(create_app(url)) as client:
        for version, grades, gypsum in (("2", GRADES, True), ("3", [], False)):
            r = client.post(f"/rules/clinker/versions?version={version}&valid_from={yesterday}",
                            content=_clinker(grades, gypsum), headers=reg)  # fmt: skip
            assert r.status_code == 201, r.text
        r = client.post("/rules/clinker/versions/2/publish", headers=world.auth("gov/admin"))
        assert r.status_code == 200, r.text
        acme = world.auth("acme/member")
        r = client.post("/products", json={"slug": "clinker-a", "name": "Clinker A"}, headers=acme)
        assert r.status_code == 201, r.text
        r = client.post(f"/products/{URN}/versions", content=MODEL,
                        headers=acme | {"content-type": "application/yaml"})  # fmt: skip
        assert r.status_code == 201, r.text
        yield Ctx(client, world, env, model)


def _server(ctx: Ctx) -> dict:
    r = ctx.client.post(f"/products/{URN}/calculations", json={"allow_violations": True},
                        headers=ctx.world.auth("acme/member"))  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["result"]


def _cli(ctx: Ctx, *args: str) -> dict:
    done = openpcf("calc", str(ctx.model), "--allow-violations", "-f", "json", *args, env=ctx.env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("version", ["2", "latest"])
def test_calc_under_a_published_version_equals_the_server(ctx: Ctx, version: str) -> None:
    server = _server(ctx)  # version 2 is the one in force today
    cli = _cli(ctx, "--rule-version", version)
    assert server["rule_version"] == cli["rule_version"] == "2"
    # 1.55 t limestone × 10 kg CO2e/t + 500 kg process CO2 = 515.5, plus 1 kWh of grid power
    # (about 0.6 kg): under 800 -> grade A, which the bundled rule (no grades) never gives
    assert 515.5 < cli["pcf"]["value"] < 800
    assert cli["pcf"]["value"] == pytest.approx(server["pcf"]["value"], rel=1e-9, abs=1e-9)
    for key in ("stages", "gases"):
        assert cli[key].keys() == server[key].keys()
        for k, v in server[key].items():
            assert cli[key][k] == pytest.approx(v, rel=1e-9, abs=1e-9), (key, k)
    assert cli["grade"] == server["grade"] == "A"
    assert cli["rule"] == server["rule"] == "clinker"
    codes = sorted(v["code"] for v in cli["violations"] if v["rule"] == "clinker")
    assert codes == sorted(v["code"] for v in server["violations"] if v["rule"] == "clinker")
    assert codes == ["MISSING_INPUT"]  # gypsum, which version 2 asks for
    table = openpcf("calc", str(ctx.model), "--allow-violations", "--rule-version", version,
                    env=ctx.env)  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "product rule clinker · version 2 (published in the store, in force from" in table.stdout


def test_without_the_option_the_bundled_rule_is_used_and_named(ctx: Ctx) -> None:
    cli = _cli(ctx)
    assert cli["rule_version"] == BUNDLED and cli["grade"] is None
    assert not [v for v in cli["violations"] if v["rule"] == "clinker"]
    table = openpcf("calc", str(ctx.model), env=ctx.env)
    assert table.returncode == 0, table.stderr
    assert f"product rule clinker · {BUNDLED} (bundled with openpcf)" in table.stdout
    check = openpcf("check", str(ctx.model), env=ctx.env)
    assert f"product rule clinker · {BUNDLED} (bundled with openpcf)" in check.stdout
    assert "MISSING_INPUT" not in check.stdout


def test_check_under_a_published_version_applies_it(ctx: Ctx) -> None:
    done = openpcf("check", str(ctx.model), "--rule-version", "latest", "-f", "json", env=ctx.env)
    assert done.returncode == 1  # the gypsum version 2 requires is missing
    codes = [v["code"] for v in json.loads(done.stdout) if v["rule"] == "clinker"]
    assert codes == ["MISSING_INPUT"]
    assert "product rule clinker · version 2 (published in the store" in done.stderr
    table = openpcf("check", str(ctx.model), "--rule-version", "2", env=ctx.env)
    assert table.returncode == 1 and "gypsum" in table.stdout
    assert "product rule clinker · version 2" in table.stdout


@pytest.mark.parametrize("command", ["calc", "check"])
def test_a_draft_or_unknown_version_is_refused_naming_what_exists(ctx: Ctx, command: str) -> None:
    draft = openpcf(command, str(ctx.model), "--rule-version", "3", env=ctx.env)
    assert draft.returncode == 1 and draft.stdout == ""
    lines = draft.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: version '3' of product rule clinker "
                                                   "is a draft, not published")  # fmt: skip
    yesterday = date.today() - timedelta(days=1)
    assert f"published: 2 (from {yesterday}); drafts (not usable): 3" in lines[0]
    unknown = openpcf(command, str(ctx.model), "--rule-version", "9", env=ctx.env)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == (
        f"error: product rule clinker has no version '9'; published: 2 (from {yesterday}); "
        "drafts (not usable): 3"
    )


def test_latest_without_a_published_version_is_refused(ctx: Ctx, tmp_path: Path) -> None:
    cement = tmp_path / "cement.yaml"
    cement.write_text(Path("examples/cement.yaml").read_text("utf-8"), "utf-8")
    done = openpcf("calc", str(cement), "--rule-version", "latest", env=ctx.env)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: product rule cement has no published version in force on {date.today()}; "
        "published: none"
    )


def test_get_rules_lists_the_published_versions(ctx: Ctx) -> None:
    r = ctx.client.get("/rules", headers=ctx.world.auth("acme/member"))
    assert r.status_code == 200, r.text
    clinker = [x for x in r.json() if x["id"] == "clinker"]
    assert [(x["version"], x["status"]) for x in clinker] == [
        (BUNDLED, "bundled"),
        ("2", "published"),  # the draft (3) is not listed
    ]
    published = clinker[1]
    assert published["valid_from"] == (date.today() - timedelta(days=1)).isoformat()
    assert published["withdrawn_on"] is None
    assert published["published_by"] and published["benchmark_classes"] == GRADES
    assert clinker[0]["valid_from"] is None and clinker[0]["published_by"] is None
