"""A published rule version never changes, whoever writes (migration 0012), against SQLite and
PostgreSQL: raw SQL cannot change or delete one, its withdrawal (once) and drafts stay allowed,
publishing goes on; downgrading drops the triggers; should any code path reach a trigger, the
API answers 409 and the CLI prints one `error:` line."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import yaml
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openpcf.api.app import create_app
from openpcf.cli import app as cli_app
from openpcf.domain.platform import Role, TenantKind
from openpcf.rules.catalogue import bundled_rules
from openpcf.services.catalogue import rule_versions
from openpcf.services.platform import accounts
from openpcf.store.db import MIGRATIONS, new_engine, sessions, upgrade
from openpcf.store.models_national import RuleVersion
from openpcf.store.refusal import refused_change
from tests.platform_world import add_tenant, make_world

UPDATE_REFUSED = (
    "a published rule version never changes (only its withdrawal date may be set, once); "
    "upload a new version"
)
DELETE_REFUSED = "a published rule version is never deleted; withdraw it"
CLINKER = yaml.safe_dump(bundled_rules()["clinker"].model_dump(mode="json"), allow_unicode=True)
OP = accounts.operator("tests")
# a copy of version 1 (id 1): its (kind, rule_id, version) is taken
DUPLICATE = (
    "INSERT INTO rule_versions (kind, rule_id, version, document, sha256, valid_from, created_by) "
    "SELECT kind, rule_id, version, document, sha256, valid_from, created_by FROM rule_versions "
    "WHERE id = 1"
)


def _where(url: str, row_id: int) -> str:
    """How the trigger names the row: PostgreSQL gives its id; SQLite (RAISE takes a literal
    before 3.48) the table only."""
    return f"rule_versions row id {row_id}" if url.startswith("postgresql") else "rule_versions"


def _upload(factory: sessionmaker, version: str, publish: bool) -> int:
    rule_versions.upload(factory(), OP, "clinker", version, date(2020, 1, 1), CLINKER)
    if publish:
        rule_versions.publish(factory(), OP, "clinker", version)
    with factory() as s:
        row_id = s.scalar(select(RuleVersion.id).where(RuleVersion.version == version))
    assert row_id is not None
    return row_id


def _row(factory: sessionmaker, row_id: int) -> dict[str, Any]:
    with factory() as s:
        row = s.execute(text(f"SELECT * FROM rule_versions WHERE id = {row_id}")).mappings().one()
        return dict(row)


def _refused(factory: sessionmaker, statement: str) -> str | None:
    """Run `statement` raw; the trigger's reason, checked to be in the database's message."""
    with factory() as s, pytest.raises(IntegrityError) as caught:
        s.execute(text(statement))
        s.commit()
    reason = refused_change(caught.value)
    assert reason is not None and f"openpcf: {reason}" in str(caught.value.orig)
    return reason


def test_raw_sql_cannot_change_or_delete_a_published_rule_version(database_url: str) -> None:
    factory = sessions(database_url)
    v1 = _upload(factory, "1", publish=True)
    before = _row(factory, v1)
    where = _where(database_url, v1)
    for statement in (
        f"UPDATE rule_versions SET document = '{{}}' WHERE id = {v1}",
        f"UPDATE rule_versions SET sha256 = 'forged' WHERE id = {v1}",
        f"UPDATE rule_versions SET valid_from = '2019-01-01' WHERE id = {v1}",
        f"UPDATE rule_versions SET version = '1b' WHERE id = {v1}",
        f"UPDATE rule_versions SET published_at = NULL WHERE id = {v1}",  # no un-publishing
        "UPDATE rule_versions SET published_by = 'someone else'",
    ):
        assert _refused(factory, statement) == f"{where}: {UPDATE_REFUSED}", statement
    assert _refused(factory, f"DELETE FROM rule_versions WHERE id = {v1}") == (
        f"{where}: {DELETE_REFUSED}"
    )
    assert _row(factory, v1) == before  # nothing changed
    # what the application does still works: a new draft, edited, published; a withdrawal
    v2 = _upload(factory, "2", publish=False)
    with factory() as s:  # a draft is not guarded
        s.execute(text(f"UPDATE rule_versions SET valid_from = '2021-06-01' WHERE id = {v2}"))
        s.commit()
    published = rule_versions.publish(factory(), OP, "clinker", "2")
    assert published.status == "published" and published.valid_from == date(2021, 6, 1)
    withdrawn = rule_versions.withdraw(factory(), OP, "clinker", "1", date(2026, 1, 1))
    assert withdrawn.status == "withdrawn"
    after = _row(factory, v1)
    assert {k for k in before if before[k] != after[k]} == {"withdrawn_on"}
    # the withdrawal is final, as the service says
    for statement in (
        f"UPDATE rule_versions SET withdrawn_on = '2027-01-01' WHERE id = {v1}",
        f"UPDATE rule_versions SET withdrawn_on = NULL WHERE id = {v1}",
    ):
        assert _refused(factory, statement) == f"{where}: {UPDATE_REFUSED}", statement
    assert _row(factory, v1) == after
    # a draft may be deleted (no calculation can cite it)
    v3 = _upload(factory, "3", publish=False)
    with factory() as s:
        s.execute(text(f"DELETE FROM rule_versions WHERE id = {v3}"))
        s.commit()
    assert [v.version for v in rule_versions.versions(factory(), "clinker")] == ["1", "2"]


def test_another_database_error_is_not_taken_for_a_refusal(database_url: str) -> None:
    factory = sessions(database_url)
    v1 = _upload(factory, "1", publish=True)
    assert v1 == 1
    with factory() as s, pytest.raises(DBAPIError) as caught:
        s.execute(text(DUPLICATE))
        s.commit()
    assert refused_change(caught.value) is None
    assert refused_change(ValueError("openpcf: not from the database")) is None


def test_the_update_trigger_guards_every_column_but_the_withdrawal(database_url: str) -> None:
    """A column added later must be added to the trigger (a new migration) or this fails."""
    factory = sessions(database_url)
    with factory() as s:
        if database_url.startswith("postgresql"):
            sql = s.scalar(text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = "
                "'rule_versions_published_update' AND tgrelid = 'rule_versions'::regclass"))  # fmt: skip
        else:
            sql = s.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND "
                                "name = 'rule_versions_published_update'"))  # fmt: skip
    assert sql is not None
    columns = {c.name for c in RuleVersion.__table__.columns}
    guarded = {c for c in columns if re.search(rf"\bnew\.{c}\b", sql.lower())}
    assert columns - guarded == set()  # withdrawn_on is in it too, guarded once set
    assert "old.published_at is not null" in sql.lower()


def _triggers(session: Session, postgres: bool) -> set[str]:
    if postgres:
        query = ("SELECT tgname FROM pg_trigger WHERE tgrelid = 'rule_versions'::regclass "
                 "AND NOT tgisinternal")  # fmt: skip
    else:
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'rule_versions'"
        )
    return set(session.scalars(text(query)))


def test_downgrading_drops_the_triggers(database_url: str) -> None:
    postgres = database_url.startswith("postgresql")
    names = {"rule_versions_published_update", "rule_versions_published_delete"}
    engine = new_engine(database_url)
    upgrade(engine)
    with Session(engine) as s:
        assert _triggers(s, postgres) == names
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    with Session(engine) as s:
        assert _triggers(s, postgres) == set()
        if postgres:
            assert s.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = "
                                 "'openpcf_refuse_row_change'")) == 0  # fmt: skip
    assert upgrade(engine) == ["0012"]
    with Session(engine) as s:
        assert _triggers(s, postgres) == names
    engine.dispose()


def _forge(session: Session, *_: object, **__: object) -> None:
    """A code path that writes to a published version behind the services' back."""
    with session.begin():
        session.execute(text("UPDATE rule_versions SET sha256 = 'forged'"))


def test_the_api_answers_409_if_a_trigger_refuses(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(database_url)
    add_tenant(world, "gov", TenantKind.regulator, (Role.admin,))
    reg = world.auth("gov/admin")
    with TestClient(create_app(database_url)) as client:
        r = client.post("/rules/clinker/versions?version=1&valid_from=2020-01-01", content=CLINKER,
                        headers=reg | {"content-type": "application/yaml"})  # fmt: skip
        assert r.status_code == 201, r.text
        assert client.post("/rules/clinker/versions/1/publish", headers=reg).status_code == 200
        monkeypatch.setattr(rule_versions, "withdraw", _forge)
        r = client.post("/rules/clinker/versions/1/withdraw?on=2026-01-01", headers=reg)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "immutable"
        assert r.json()["message"].startswith("the database refuses the change: rule_versions")
        assert UPDATE_REFUSED in r.json()["message"]
        version = client.get("/rules/clinker/versions").json()[0]
    assert version["status"] == "published" and version["sha256"] != "forged"
    # any other database error stays the unexpected error it was (500), not a 409
    monkeypatch.setattr(rule_versions, "withdraw", _duplicate)
    with TestClient(create_app(database_url), raise_server_exceptions=False) as client:
        r = client.post("/rules/clinker/versions/1/withdraw?on=2026-01-01", headers=reg)
    assert r.status_code == 500 and r.json()["code"] == "internal_error", r.text


def _duplicate(session: Session, *_: object, **__: object) -> None:
    """A unique violation: (kind, rule_id, version) taken."""
    with session.begin():
        session.execute(text(DUPLICATE))


def test_the_cli_prints_one_error_line_if_a_trigger_refuses(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENPCF_DATABASE_URL", database_url)
    _upload(sessions(database_url), "1", publish=True)
    monkeypatch.setattr(accounts, "create_tenant", _forge)
    r = CliRunner().invoke(cli_app, ["tenants", "create", "acme"])
    assert r.exit_code == 1, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    where = "rule_versions row id 1" if database_url.startswith("postgresql") else "rule_versions"
    assert lines[0] == f"error: the database refuses the change: {where}: {UPDATE_REFUSED}"
