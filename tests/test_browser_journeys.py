"""The three journeys of the web UI in a real browser: headless Chromium (Debian's `chromium`,
driven by Playwright for Python with that executable) against a real `openpcf serve` process.

1. An enterprise member signs in, uploads a model version, calculates, reads the result and
   compares profiles, and submits the footprint to a verification body.
2. A verifier signs in, opens the queue, reviews the evidence and certifies with a comment;
   the enterprise's administrator publishes the certificate.
3. A buyer, not signed in and reading Chinese, opens the label's URL `/p/{id}`, sees the
   certificate's status and label, and compares products of the same declared unit.

Every page visited is saved as a full-page screenshot in OPENPCF_SCREENSHOTS (default
build/screenshots/). Without Chromium or Playwright the tests skip; under
OPENPCF_REQUIRE_SERVICES=1 (CI) a skip is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.web_world import PASSWORD, make_web_world, published_certificate

CHROMIUM = os.environ.get("OPENPCF_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("OPENPCF_SCREENSHOTS") or REPO / "build" / "screenshots")

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`openpcf serve` on a free port over a database made through the services; yields the
    base URL and the calculation ids."""
    if sync_playwright is None:
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'openpcf.db'}"
    world = make_web_world(url)
    # a competitor's cell, certified and published, for the buyer to compare with
    published_certificate(world, "other", "lfp-cell")
    port = _free_port()
    env = dict(os.environ, OPENPCF_DATABASE_URL=url, OPENPCF_PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = open(folder / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "openpcf"),
            "serve",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"openpcf serve exited: {(folder / 'server.log').read_text()}")
                time.sleep(0.2)
        else:
            pytest.fail("openpcf serve did not answer /health within 30 s")
        yield base, world.calculations
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(server: tuple[str, dict[str, str]]) -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_journey_1_enterprise_computes_and_submits(
    server: tuple[str, dict[str, str]], browser: Browser, tmp_path: Path
) -> None:
    base, _ = server
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="en-GB")
    page.goto(f"{base}/")
    shot(page, "01-landing")
    page.goto(f"{base}/app/products")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/app/products"))
    shot(page, "02-sign-in")
    sign_in(page, base, "member@acme.example")
    expect(page.locator("h1")).to_have_text("Products")
    shot(page, "03-products")
    page.click("text=acme lfp-cell")
    expect(page.locator("h1")).to_have_text("acme lfp-cell")
    # upload a new model version: the cell with 10 % more cathode material
    model = page.locator("textarea[name=text]").input_value()
    assert "amount: 2.05" in model
    upload = tmp_path / "lfp-cell-v2.yaml"
    upload.write_text(model.replace("amount: 2.05", "amount: 2.255"), encoding="utf-8")
    page.set_input_files("#document", str(upload))
    page.click("text=Upload as a new version")
    expect(page.locator(".flash-ok")).to_contain_text("Model version 2 saved")
    shot(page, "04-product")
    page.select_option("#profile", "gb-t-24067")
    page.click("#calculate-button")  # htmx: the server answers with HX-Redirect
    page.wait_for_url(re.compile(r"/app/calculations/[0-9a-f-]+$"))
    total = float(page.locator("#pcf-total").inner_text().replace(",", ""))
    assert total > 0
    expect(page.locator(".chart svg").first).to_be_visible()
    page.click("#compare-profiles")
    expect(page.locator("#profile-comparison table")).to_be_visible()
    expect(page.locator("#profile-comparison")).to_contain_text("iso-14067")
    shot(page, "05-result")
    page.select_option("#verifier", "cnverify")
    page.fill("#sub-comment", "Second version: measured cathode consumption.")
    page.click("#submit-certification")
    expect(page.locator(".pagehead .badge")).to_have_text("submitted")
    expect(page.locator(".timeline")).to_contain_text("Second version: measured cathode")
    shot(page, "06-submission")
    page.goto(f"{base}/app/submissions")
    shot(page, "07-submissions")
    page.close()


def test_journey_2_verifier_certifies(server: tuple[str, dict[str, str]], browser: Browser) -> None:
    base, _ = server
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="en-GB")
    sign_in(page, base, "verifier@cnverify.example")
    expect(page).to_have_url(re.compile(r"/verify/queue"))
    row = page.locator("tr", has_text="acme lfp-cell")
    expect(row).to_have_count(1)
    shot(page, "08-queue")
    row.locator("a.btn").click()
    expect(page.locator("h1")).to_have_text("acme lfp-cell")
    # the evidence: the submitted model version (and its sub-assembly's)
    expect(page.locator("pre.doc", has_text="amount: 2.255")).to_have_count(1)
    shot(page, "09-evidence")
    page.click("#action-start_review")
    expect(page.locator(".pagehead .badge")).to_have_text("under_review")
    page.fill("#action-comment", "Bill of materials checked against purchase records.")
    page.click("#action-certify")
    expect(page.locator(".pagehead .badge")).to_have_text("certified")
    expect(page.locator(".timeline")).to_contain_text("checked against purchase records")
    shot(page, "10-certified")
    page.close()
    # the enterprise's administrator publishes the certificate to the registry
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="en-GB")
    sign_in(page, base, "admin@acme.example")
    page.goto(f"{base}/app/submissions")
    page.locator("tr", has_text="certified").locator("text=Details").click()
    page.click("#action-publish")
    expect(page.locator(".pagehead .badge")).to_have_text("published")
    shot(page, "11-published")
    page.close()


def test_journey_3_buyer_scans_the_label_and_compares(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = server
    # the label's QR code holds the product page's URL; the registry lists it too
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/registry")
    shot(page, "12-registry-zh")
    page.fill("#q", "acme")
    expect(page.locator("#results tbody tr")).to_have_count(1)  # htmx search as you type
    href = page.locator("#results tbody tr a").first.get_attribute("href")
    assert href and re.fullmatch(r"/p/pcf-[0-9a-f]+", href)
    mobile = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    mobile.goto(f"{base}{href}")  # a phone scanning the label
    expect(mobile.locator("#certificate-status")).to_contain_text("有效")
    shot(mobile, "13-product-page-phone-zh")
    mobile.close()
    page.goto(f"{base}{href}")
    expect(page.locator("img.label-img")).to_be_visible()
    assert page.evaluate("document.querySelector('img.label-img').naturalWidth") > 0
    shot(page, "14-product-page-zh")
    page.click("#compare-button")
    page.locator("a.add-to-compare").first.click()
    expect(page.locator(".compare-pcf")).to_have_count(2)
    shot(page, "15-compare-zh")
    page.close()
