"""A bounded schemathesis run over the whole OpenAPI document: every operation, ~40 generated
cases each (over 2,000 in all), sent as each kind of caller in turn (anonymous, every role of
an enterprise, a verifier body, a regulator, another tenant). No answer may be a server error,
break its documented schema, or use a status code or media type the document does not declare.

The run is deterministic (derandomized) so CI repeats it exactly; it runs in process through
the ASGI app over SQLite, within about a minute or two on the CI machine."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openpcf.api.app import create_app
from openpcf.domain.platform import CalculationRequest, ProductCreate, Role, TenantKind, Visibility
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import products
from openpcf.services.platform import accounts
from openpcf.store.db import dispose_engine, sessions
from tests.platform_world import demo_model

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
COUNTS: dict[str, int] = {"cases": 0}


def _world(url: str) -> list[dict[str, str]]:
    """Tenants of each kind with a user of each role and a calculated product; the headers of
    each kind of caller (first: anonymous)."""
    factory = sessions(url)
    op = accounts.operator("schemathesis")
    callers: list[dict[str, str]] = [{}]
    for slug, kind in (("acme", TenantKind.enterprise), ("other", TenantKind.enterprise),
                       ("cnverify", TenantKind.verifier), ("gov", TenantKind.regulator)):  # fmt: skip
        accounts.create_tenant(factory(), op, slug, slug.title(), kind)
        for role in Role:
            user = accounts.create_user(factory(), op, slug, f"{role.value}@{slug}.example", role)
            callers.append({"Authorization": f"Bearer {user.token.token}"})
    from openpcf.services.platform.sign_in import principal_for_user

    who = principal_for_user(factory(), "member@acme.example")
    assert who is not None
    for slug, name in (("lfp-cathode", "lfp-cathode.yaml"), ("lfp-cell", "lfp-cell.yaml")):
        products.create_product(
            factory(), who[0], ProductCreate(slug=slug, name=slug, visibility=Visibility.public)
        )
        urn = f"urn:openpcf:product:acme:{slug}"
        text = demo_model(name, "acme").replace("urn:openpcf:product:acme:lfp-cell-280ah", urn)
        products.add_model_version(factory(), who[0], urn, text, "application/yaml")
        calculations.run_calculation(factory(), who[0], urn, CalculationRequest())
    return callers


#: Left out: an endless server-sent event stream (its events are the snapshot of
#: GET /monitoring/sites/{site}/live, which is in the run).
SKIPPED = {"GET /monitoring/sites/{site}/stream"}


def _operations() -> list[str]:
    schema = create_app("sqlite://").openapi()
    methods = ("get", "post", "put", "patch", "delete")
    found = [f"{m.upper()} {path}" for path, item in schema["paths"].items()
             for m in item if m in methods]  # fmt: skip
    return [op for op in found if op not in SKIPPED]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Iterator[dict]]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder / 'api.db'}"
    callers = _world(url)
    app = create_app(url)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), itertools.cycle(callers)
    dispose_engine(url)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_answers_within_its_documented_schema(
    api: tuple[Any, Iterator[dict[str, str]]], label: str
) -> None:
    schema, callers = api
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    failures: list[str] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**headers, **next(callers)}
        COUNTS["cases"] += 1
        response = case.call(timeout=60)  # a cold first render (e.g. /maps/grid.svg) is slow
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # every failure of the operation is listed, not the first
            failures.append(f"{response.status_code} {case.as_curl_command()}\n{exc}")

    run()
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:5])


def test_the_run_was_at_least_2000_cases() -> None:
    """Runs after the parametrized test in this module (pytest keeps file order)."""
    if COUNTS["cases"] == 0:
        pytest.skip("run together with test_api_answers_within_its_documented_schema")
    assert COUNTS["cases"] >= 2000, COUNTS
