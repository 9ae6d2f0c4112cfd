"""The API documentation pages load nothing from another host: every script and stylesheet of
/docs and /redoc is served by openpcf itself, with the licences of the shipped files."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from openpcf.api.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'openpcf.db'}"
    with TestClient(create_app(url)) as c:
        yield c


@pytest.mark.parametrize(
    ("page", "needed"),
    [
        ("/docs", {"/static/apidocs/swagger-ui-bundle.js", "/static/apidocs/swagger-init.js",
                   "/static/apidocs/swagger-ui.css"}),
        ("/redoc", {"/static/apidocs/redoc.standalone.js"}),
    ],
)  # fmt: skip
def test_the_docs_pages_use_only_files_the_server_serves(
    client: TestClient, page: str, needed: set[str]
) -> None:
    html = client.get(page).text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    refs = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert needed <= refs
    for ref in refs:
        assert ref.startswith("/"), ref
        r = client.get(ref)
        assert r.status_code == 200 and len(r.content) > 100, ref
    assert "<script>" not in html  # no inline script (Content-Security-Policy)
    assert client.get("/openapi.json").json()["info"]["title"] == "openpcf"


def test_the_shipped_scripts_carry_their_licences() -> None:
    folder = files("openpcf.web").joinpath("static", "apidocs")
    assert "Apache License" in folder.joinpath("swagger-ui.LICENSE.txt").read_text("utf-8")
    assert "MIT License" in folder.joinpath("redoc.LICENSE.txt").read_text("utf-8")
    readme = folder.joinpath("README.txt").read_text("utf-8")
    assert "swagger-ui-dist 5.35.0" in readme and "redoc 2.5.4" in readme
