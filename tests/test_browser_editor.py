"""The model editor in a real browser (headless Chromium driven by Playwright against a real
`openpcf serve`, the fixtures of test_browser_journeys.py).

A new member builds the PV module example (examples/pv-module.yaml) from an empty product,
cell by cell, with no file; computes it and gets the footprint `openpcf calc` gives for the
example; changes one input, sees the difference and its effect on the footprint; downloads
the version as Excel and YAML, which read back as the same model. Screens are saved to
OPENPCF_SCREENSHOTS (default build/screenshots/, ignored by git), on a desktop and a phone.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from openpcf.io.model_file import load_model
from tests.conftest import REPO
from tests.test_browser_journeys import browser, server, shot, sign_in  # noqa: F401 - fixtures

with contextlib.suppress(ImportError):  # without Playwright the fixtures skip first
    from playwright.sync_api import Browser, Page, expect

PV = REPO / "examples" / "pv-module.yaml"
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}


def cli_footprint() -> float:
    """`openpcf calc examples/pv-module.yaml --format json`: the footprint per declared unit."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "openpcf"), "calc", str(PV), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["pcf"]["value"])


def fill_row(page: Page, section: str, k: int, cells: dict[str, str]) -> None:
    for column, value in cells.items():
        target = page.locator(f"#{section}-{k}-{column}")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)


def add_row(page: Page, section: str) -> None:
    page.click(f"#add-{section}")
    page.wait_for_load_state("domcontentloaded")


@pytest.fixture(scope="module")
def pv_example() -> dict:
    data = yaml.safe_load(PV.read_text("utf-8"))
    del data["product"]["id"]  # the server's product has its own URN
    return data


def test_a_new_member_builds_the_pv_module_in_the_browser(
    server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture
    browser: Browser,  # noqa: F811 - the fixture
    pv_example: dict,
    tmp_path: Path,
) -> None:
    base, _ = server
    page = browser.new_page(viewport=DESKTOP, locale="en-GB", accept_downloads=True)
    sign_in(page, base, "member@acme.example")
    page.goto(f"{base}/app/products")
    page.fill("#name", "PV module 550 W")
    page.fill("#slug", "pv-module")
    page.click("text=Create product")
    expect(page.locator("h1")).to_have_text("PV module 550 W")
    page.click("#open-editor")
    expect(page.locator("h1")).to_have_text("Model editor")
    shot(page, "editor-01-empty")

    p = pv_example["product"]
    page.fill("#product-name", p["name"])
    page.fill("#product-du_amount", "1")
    page.fill("#product-du_unit", "m2")
    page.fill("#product-ref_amount", "1")
    page.fill("#product-ref_unit", "piece")
    page.fill("#product-conv_from", "1 piece")
    page.fill("#product-conv_to", "2.583 m2")
    page.fill("#product-region", "CN-JS")
    page.fill("#product-year", "2024")

    for k, f in enumerate(pv_example["factors"]):
        add_row(page, "factors")
        value = (
            ", ".join(f"{g}={v}" for g, v in f["gases"].items()) if "gases" in f else str(f["co2e"])
        )
        cells = {"id": f["id"], "name": f["name"], "unit": f["unit"], "value": value}
        cells.update(source=f["source"], **({"gwp": f["gwp"]} if "gwp" in f else {}))
        fill_row(page, "factors", k, cells)

    for k, i in enumerate(pv_example["inputs"]):
        if k:
            add_row(page, "inputs")
            expect(page.locator(f"#inputs-{k}-name")).to_be_focused()  # the new row
        cells = {"name": i["name"], "stage": i["stage"], "amount": str(i["amount"])}
        cells["unit"] = i["unit"]
        if "factor" in i:
            cells.update(kind="factor", ref=i["factor"])
        elif "pcf" in i:
            pcf = i["pcf"]
            cells.update(kind="pcf", ref=str(pcf["value"]), pcf_unit=pcf["unit"])
            cells.update(pcf_gwp=pcf["gwp"], pcf_source=pcf["source"])
        else:
            # the factor picker finds the grid factors of the product's province
            page.click(f"[data-picker-for=inputs-{k}-ref]")
            page.fill("#picker-q", "electricity CN-JS 2023")
            expect(page.locator("#picker-results [data-pick]").first).to_be_visible()
            expect(page.locator("#picker-results")).to_contain_text("cn-mee-grid/CN-JS@2023")
            shot(page, "editor-02-factor-picker")
            page.click("[data-picker-close]")
            cells.update(kind="electricity")
        fill_row(page, "inputs", k, cells)
    # a typo is caught as typed, beside its cell
    page.fill("#inputs-1-unit", "kgg")
    page.locator("#inputs-1-unit").blur()
    expect(page.locator("#inputs-1-unit-msg .cell-err")).to_contain_text("kgg")
    page.fill("#inputs-1-unit", "kg")
    page.fill("#note", "First model, from the datasheet")
    shot(page, "editor-03-filled")
    page.click("#save-model")
    expect(page.locator(".flash-ok")).to_contain_text("Model version 1 saved")

    page.select_option("#profile", "gb-t-24067")
    page.click("#calculate-button")
    page.wait_for_url(re.compile(r"/app/calculations/[0-9a-f-]+$"))
    shot(page, "editor-04-result")
    calculation = page.url.rsplit("/", 1)[-1]
    stored = page.request.get(f"{base}/app/calculations/{calculation}/result.json").json()
    expected = cli_footprint()
    assert stored["result"]["pcf"]["value"] == pytest.approx(expected, rel=1e-12)
    shown = float(page.locator("#pcf-total").inner_text().replace(",", ""))
    assert shown == pytest.approx(expected, rel=1e-3)

    # one input changed: thinner front glass
    page.goto(f"{base}/app/products/pv-module/edit")
    expect(page.locator("#inputs-1-name")).to_have_value("Front glass")
    page.fill("#inputs-1-amount", "18")
    page.fill("#note", "Thinner front glass")
    page.click("#save-model")
    expect(page.locator(".flash-ok")).to_contain_text("Model version 2 saved")
    expect(page.locator("#versions")).to_contain_text("Thinner front glass")
    page.click("#diff-2")
    row = page.locator("#diff-table tr.diff-changed", has_text="Front glass")
    expect(row).to_have_count(1)
    # (18 - 20.7) kg × 1.2 kg CO2e/kg per piece, 2.583 m2 a piece: -1.2544 kg CO2e per m2
    expect(row).to_contain_text("-1.254")
    expect(page.locator("#total-change")).to_have_text(re.compile(r"^-1\.254"))
    shot(page, "editor-05-diff")

    page.goto(f"{base}/app/products/pv-module?v=2")
    with page.expect_download() as got:
        page.click("#download-xlsx-2")
    got.value.save_as(tmp_path / "pv-module-v2.xlsx")
    with page.expect_download() as got:
        page.click("#download-yaml-2")
    got.value.save_as(tmp_path / "pv-module-v2.yaml")
    from_yaml = load_model(tmp_path / "pv-module-v2.yaml").model
    assert from_yaml.inputs[1].amount == 18
    from_excel = load_model(tmp_path / "pv-module-v2.xlsx").model
    assert from_excel.product == from_yaml.product
    assert from_excel.factors == from_yaml.factors
    assert from_excel.inputs[:6] == from_yaml.inputs[:6]
    # `electricity: {}` is written with the product's region spelt out, the same factor
    assert from_excel.inputs[6].electricity.region == "CN-JS"
    page.close()


def test_the_editor_and_the_diff_on_a_phone(
    server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture
    browser: Browser,  # noqa: F811 - the fixture
) -> None:
    base, _ = server
    page = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    sign_in(page, base, "member@acme.example")
    wide = {}
    for path, name in (
        ("/app/products/lfp-cell/edit", "editor-06-phone"),
        ("/app/products/lfp-cell", "editor-07-phone-product"),
        ("/app/products", "editor-08-phone-products"),
    ):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        shot(page, name)
        # the grid scrolls inside its cards; the page itself fits the screen
        extra = page.evaluate("document.documentElement.scrollWidth") - PHONE["width"]
        if extra > 0:
            wide[path] = extra
    assert wide == {}
    page.close()


# Text of a page a person reads: every text node outside identifiers shown as such (mono,
# code, pre) and outside scripts; option labels included.
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode;
    const text = node.textContent.trim();
    if (!text) continue;
    if (node.parentElement.closest('.mono, code, pre, textarea, script, style, datalist')) continue;
    out.push(text);
  }
  return out;
}"""


def untranslated(texts: list[str]) -> list[str]:
    """Codes, and English messages that have a Chinese translation, found in a page's text."""
    from openpcf.domain.model import STAGES
    from openpcf.rules.catalogue import product_rules, profiles
    from openpcf.web import i18n

    english = {m for m in i18n.catalogue("zh") if len(m) > 3}
    ids = {*profiles(), *product_rules(), *STAGES}
    # ids that are codes rather than words ('electricity' is a rule id and an English word,
    # caught as untranslated text by the catalogue check when it is one)
    codes = {i for i in ids if "-" in i} | {"general rule", "under_review"}
    found = []
    for text in texts:
        if text in english or text in codes or re.search(r"\bCN-[A-Z]{2}\b", text):
            found.append(text)
        else:
            found += [
                c for c in codes if re.search(rf"(?<![\w/@-]){re.escape(c)}(?![\w/@-])", text)
            ]
    return found


def test_no_code_or_english_name_on_the_chinese_pages(
    server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture
    browser: Browser,  # noqa: F811 - the fixture
) -> None:
    base, calculations = server
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    page.goto(f"{base}/registry")
    href = page.locator("#results tbody a[href^='/p/']").first.get_attribute("href")
    problems: dict[str, list[str]] = {}

    def scan(page: Page, paths: list[str]) -> None:
        for path in paths:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            found = untranslated(page.evaluate(VISIBLE_TEXT))
            if found:
                problems[path] = sorted(set(found))
            shot(page, "zh-" + (re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:60]))

    scan(page, ["/registry", href, f"/compare?c={href.rsplit('/', 1)[-1]}"])
    sign_in(page, base, "member@acme.example")
    scan(page, [
        "/app/products",
        "/app/products/lfp-cell",
        "/app/products/lfp-cell/edit",
        "/app/products/lfp-cell/diff",
        f"/app/calculations/{calculations['acme/lfp-cell']}",
    ])  # fmt: skip
    page.close()
    # other's cell went through certification (the fixture): its member's, the verifier's
    # and the regulator's pages
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, base, "member@other.example")
    page.goto(f"{base}/app/submissions")
    sub = page.locator("a[href^='/app/submissions/']").first.get_attribute("href")
    scan(page, ["/app/submissions", sub])
    page.close()
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, base, "verifier@cnverify.example")
    scan(page, ["/verify/queue", f"/verify/submissions/{sub.rsplit('/', 1)[-1]}"])
    page.close()
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, base, "admin@gov.example")
    scan(page, ["/regulate/coverage", "/regulate/coverage/CN-JS", "/regulate/factor-sets"])
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
    page.close()
