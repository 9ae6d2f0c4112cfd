"""Certificate claims: once per tenant, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from openpcf.domain.errors import ModelError
from openpcf.services.calculation.project import load_project
from openpcf.services.certification.green_certificates import claims_in, list_claims, record_claims
from openpcf.store.models import Base

from .cli_runner import openpcf_exe

Write = Callable[[str, str], Path]


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker]:
    """The claims' tables in an empty SQLite database or PostgreSQL schema (`database_url`)."""
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


def model(write: Write, name: str, product_id: str, certs: str) -> Path:
    return write(
        f"{name}.yaml",
        f"""
        openpcf: 1
        product: {{id: "{product_id}", name: {name}, declared_unit: {{amount: 1, unit: kg}},
                  region: CN-JS, year: 2023}}
        inputs:
          - name: Power
            stage: production
            amount: 10
            unit: kWh
            electricity:
              certificates:
                consumption: {{amount: 100, unit: MWh}}
                claims: [{certs}]
        """,
    )


def test_a_certificate_is_claimed_once_per_tenant(write: Write, sessions: sessionmaker) -> None:
    a = load_project(model(write, "A", "urn:openpcf:product:t1:a",
                           "{id: GEC-1, amount: 10, unit: MWh, generation: wind}"))  # fmt: skip
    b = load_project(model(write, "B", "urn:openpcf:product:t1:b",
                           "{id: GEC-2, amount: 5, unit: MWh, generation: solar-pv}, "
                           "{id: GEC-1, amount: 10, unit: MWh, generation: wind}"))  # fmt: skip
    assert [c.certificate_id for c in record_claims(sessions, "t1", a)] == ["GEC-1"]
    assert record_claims(sessions, "t1", a)  # the same product again: no error, no new row
    with pytest.raises(ModelError, match=r"GEC-1 .* already claimed by urn:openpcf:product:t1:a"):
        record_claims(sessions, "t1", b)
    with sessions() as s:
        rows = list_claims(s, "t1")
    # all or nothing: B's GEC-2 was not recorded either
    assert [(r.certificate_id, r.product, r.kwh) for r in rows] == [
        ("GEC-1", "urn:openpcf:product:t1:a", 10_000.0)
    ]
    # another tenant may hold a certificate of the same id
    assert record_claims(sessions, "t2", b)
    with sessions() as s:
        assert {r.certificate_id for r in list_claims(s, "t2")} == {"GEC-1", "GEC-2"}


def test_changed_volume_for_a_claimed_certificate_is_an_error(
    write: Write, sessions: sessionmaker
) -> None:
    first = load_project(
        model(write, "A", "urn:x:a", "{id: GEC-9, amount: 10, unit: MWh, generation: wind}")
    )
    record_claims(sessions, "t", first)
    again = load_project(
        model(write, "A", "urn:x:a", "{id: GEC-9, amount: 12, unit: MWh, generation: wind}")
    )
    with pytest.raises(
        ModelError, match="was claimed with 10000 kWh; the model now states 12000 kWh"
    ):
        record_claims(sessions, "t", again)


def test_duplicate_certificate_in_one_model(write: Write) -> None:
    path = model(write, "A", "urn:x:a", "{id: GEC-1, amount: 1, unit: MWh, generation: wind}, "
                 "{id: GEC-1, amount: 1, unit: MWh, generation: wind}")  # fmt: skip
    with pytest.raises(ModelError, match="GEC-1 listed more than once"):
        claims_in(load_project(path))


def test_cli_calc_records_claims_and_refuses_a_second_product(write: Write) -> None:
    import subprocess

    exe = openpcf_exe()
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OPENPCF_TENANT": tenant}
    cert = "{id: GEC-77, amount: 10, unit: MWh, generation: wind}"
    a = model(write, "A", "urn:x:a", cert)
    b = model(write, "B", "urn:x:b", cert)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, *args], capture_output=True, text=True, env=env, check=False)

    first = run("calc", str(a), "-f", "json")
    assert first.returncode == 0, first.stderr
    second = run("calc", str(b))
    assert second.returncode == 1 and "GEC-77" in second.stderr and "urn:x:a" in second.stderr
    # under a profile that does not accept certificates nothing is claimed, so B computes
    assert run("calc", str(b), "--profile", "eu-cbam").returncode == 0
    listed = run("certificates", "list", "-f", "json")
    assert [c["product"] for c in json.loads(listed.stdout)] == ["urn:x:a"]
