"""The model editor, version downloads, restore and diff through FastAPI's TestClient on SQLite
and PostgreSQL: a model built from an empty product cell by cell, every problem shown beside
its cell at once, rows added, moved and deleted, and round trips through YAML and Excel."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from openpcf.api.app import create_app
from openpcf.domain.platform import CalculationRequest, ProductCreate, product_urn
from openpcf.io.model_file import load_model
from openpcf.services.calculation import stored as calculations
from openpcf.services.calculation.sub_results import sub_results
from openpcf.services.catalogue import products
from openpcf.services.errors import NotFound
from openpcf.store.db import sessions
from openpcf.web import editor_form as ef
from tests.conftest import REPO
from tests.databases import KINDS, empty_database
from tests.web_world import (
    WebWorld,
    csrf_of,
    make_web_world,
    published_certificate,
    sign_in,
)

PV = REPO / "examples" / "pv-module.yaml"


def pv_grid() -> ef.Grid:
    """The PV example as the editor shows it, without its product id (the server's product
    has its own URN)."""
    data = yaml.safe_load(PV.read_text("utf-8"))
    del data["product"]["id"]
    return ef.grid_of(data)


@dataclass
class Ctx:
    app: object
    certificates: tuple[str, str]  # acme's cell, and other's cell with 10 % more cathode
    url: str = ""

    def client(self, email: str = "member@acme.example") -> TestClient:
        c = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        sign_in(c, email)
        return c


@pytest.fixture(scope="module", params=KINDS)
def ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    with empty_database(request.param, tmp_path_factory.mktemp("editor")) as url:
        world = make_web_world(url)
        factory = sessions(url)
        other = world.principal("member@other.example")
        urn = product_urn("other", "lfp-cell")
        with factory() as session:
            text = products.get_version(session, other, urn, 1).text
        assert "amount: 2.05" in text
        more = text.replace("amount: 2.05", "amount: 2.255")
        with factory() as session:
            products.add_model_version(session, other, urn, more, "application/yaml")
        with factory() as session:
            info = calculations.run_calculation(session, other, urn, CalculationRequest())
        world.calculations["other/lfp-cell"] = info.id
        certs = (published_certificate(world, "acme"), published_certificate(world, "other"))
        app = create_app(url)
        with TestClient(app):
            yield Ctx(app, certs, url)


def form_of(grid: ef.Grid, op: str, note: str = "") -> dict[str, str]:
    """The form the editor page posts for this grid."""
    data = {f"product-{k}": v for k, v in grid.product.items()}
    for section, rows in grid.rows.items():
        data[f"{section}-count"] = str(len(rows))
        for i, row in enumerate(rows):
            data.update({f"{section}-{i}-{c}": v for c, v in row.items()})
    return {**data, "op": op, "note": note}


def new_product(c: TestClient, slug: str) -> str:
    token = csrf_of(c.get("/app/products").text)
    r = c.post("/app/products", data={"slug": slug, "name": slug, "csrf_token": token})
    assert r.status_code == 303, r.text
    return token


def post(c: TestClient, slug: str, data: dict[str, str], token: str) -> object:
    return c.post(f"/app/products/{slug}/edit", data={**data, "csrf_token": token})


def test_the_pv_module_built_in_the_editor_is_the_example(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "pv-editor")
    page = c.get("/app/products/pv-editor/edit")
    assert page.status_code == 200 and 'name="inputs-0-name"' in page.text
    grid = pv_grid()
    r = post(c, "pv-editor", form_of(grid, "save", "First model, from the datasheet"), token)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/app/products/pv-editor?v=1&saved=1"
    text = c.get("/app/products/pv-editor/versions/1/model.yaml").text
    assert text.startswith("# Change: First model, from the datasheet (member@acme.example)\n")
    stored = yaml.safe_load(text)
    # the model the editor stored is the example's, field by field
    example = yaml.safe_load(PV.read_text("utf-8"))
    del example["product"]["id"]
    assert stored == example


def test_every_problem_is_shown_beside_its_cell_at_once(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "bad-model")
    grid = pv_grid()
    grid.rows["inputs"][1]["amount"] = "twenty"  # not a number
    grid.rows["inputs"][2]["unit"] = "kgg"  # not a unit
    grid.rows["inputs"][3]["ref"] = "cn-mee-grid/CN-JS"  # no such factor (the year is missing)
    grid.rows["inputs"][4]["unit"] = "kWh"  # a factor per kg
    grid.rows["inputs"][0]["stage"] = "mining"
    r = post(c, "bad-model", form_of(grid, "save"), token)
    assert r.status_code == 422
    html = r.text
    for cell in ("inputs-1-amount", "inputs-2-unit", "inputs-3-ref", "inputs-4-unit",
                 "inputs-0-stage"):  # fmt: skip
        assert re.search(rf'id="{cell}"[^>]*aria-invalid="true"', html) or (
            f'name="{cell}" aria-label="Stage" aria-invalid="true"' in html
        ), cell
    assert "expected a number, got &#39;twenty&#39;" in html
    assert "did you mean" in html and "cn-mee-grid/CN-JS@20" in html
    assert "&#39;kWh&#39; (energy) cannot be converted to &#39;kg&#39;" in html
    assert "Not saved: 5 problems" in html
    # nothing was stored
    assert "model.yaml" not in c.get("/app/products/bad-model").text


def test_rows_are_added_moved_and_deleted(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "rows")
    grid = ef.empty_grid("rows")
    grid.rows["inputs"][0].update(name="A", amount="1", unit="kg")
    r = post(c, "rows", form_of(grid, "add-inputs"), token)
    assert r.status_code == 200 and 'id="inputs-1-name"' in r.text
    assert re.search(r'id="inputs-1-name"[^>]*autofocus', r.text)
    grid.rows["inputs"].append({**ef.blank_row("inputs"), "name": "B"})
    r = post(c, "rows", form_of(grid, "up-inputs-1"), token)
    assert r.text.index('value="B"') < r.text.index('value="A"')
    r = post(c, "rows", form_of(grid, "delete-inputs-0"), token)
    assert 'value="A"' not in r.text and 'value="B"' in r.text


def test_a_unit_and_an_amount_are_checked_as_typed(ctx: Ctx) -> None:
    c = ctx.client()
    assert "cell-err" in c.get("/app/editor/check?inputs-0-unit=kgg").text
    assert c.get("/app/editor/check?inputs-0-unit=t*km").text.strip() == ""
    assert "expected a number" in c.get("/app/editor/check?inputs-0-amount=1,2x").text


def test_the_factor_picker_searches_chinese_and_english(ctx: Ctx) -> None:
    c = ctx.client()
    en = c.get("/app/editor/factors?q=electricity CN-JS 2023").text
    assert 'data-pick="cn-mee-grid/CN-JS@2023"' in en
    zh = c.get("/app/editor/factors?q=全国").text
    assert 'data-pick="cn-mee-grid/CN@2022"' in zh
    # a province's Chinese name and a Chinese term: 江苏 (CN-JS) 电力 (electricity)
    c.cookies.set("lang", "zh")
    province = c.get("/app/editor/factors?q=江苏电力 2023").text
    assert 'data-pick="cn-mee-grid/CN-JS@2023"' in province
    assert "<td>江苏</td>" in province


def test_a_changed_input_shows_in_the_diff_with_its_effect_and_restores(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "pv-diff")
    grid = pv_grid()
    assert post(c, "pv-diff", form_of(grid, "save", "v1"), token).status_code == 303
    assert grid.rows["inputs"][1]["name"] == "Front glass"
    grid.rows["inputs"][1]["amount"] = "18"  # thinner glass: 20.7 -> 18 kg
    assert post(c, "pv-diff", form_of(grid, "save", "thinner glass"), token).status_code == 303
    html = c.get("/app/products/pv-diff/diff?a=1&b=2").text
    assert "thinner glass" in c.get("/app/products/pv-diff").text
    row = re.search(r'<tr class="diff-changed">(.*?)</tr>', html, re.S)
    assert row and "Front glass" in row.group(1)
    # effect: (18 - 20.7) kg × 1.2 kg CO2e/kg (example/solar-glass) per piece, per 2.583 m2
    # = -3.24 / 2.583 = -1.2544 kg CO2e per m2
    assert "-1.254" in row.group(1)
    assert re.search(r'id="total-change">-1\.254', html)
    r = c.post("/app/products/pv-diff/versions/1/restore", data={"csrf_token": token})
    assert r.headers["location"] == "/app/products/pv-diff?v=3&saved=1"
    v3 = c.get("/app/products/pv-diff/versions/3/model.yaml").text
    assert v3.startswith("# Change: Restored from version 1 (member@acme.example)\n")
    assert yaml.safe_load(v3) == yaml.safe_load(
        c.get("/app/products/pv-diff/versions/1/model.yaml").text
    )


def test_a_renamed_sub_assembly_input_is_one_changed_line_in_the_diff(ctx: Ctx) -> None:
    factory = sessions(ctx.url)
    acme = WebWorld(ctx.url).principal("member@acme.example")
    sub, parent = product_urn("acme", "gasket"), product_urn("acme", "valve")
    products.create_product(factory(), acme, ProductCreate(slug="gasket", name="gasket"))
    products.add_model_version(factory(), acme, sub, SUB.format(v=2.0), "application/yaml")
    v1 = PARENT.replace("acme:housing", "acme:gasket")
    # the same sub-assembly (its URN) renamed, and 4 kg instead of 3
    v2 = v1.replace("Housing part", "EPDM gasket").replace("amount: 3", "amount: 4")
    products.create_product(factory(), acme, ProductCreate(slug="valve", name="valve"))
    for text in (v1, v2):
        products.add_model_version(factory(), acme, parent, text, "application/yaml")
    html = ctx.client().get("/app/products/valve/diff?a=1&b=2").text
    table = re.search(r'<table class="table" id="diff-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(r'<tr class="diff-(\w+)">(.*?)</tr>', table, re.S)
    assert [status for status, _ in rows] == ["changed"]
    assert "EPDM gasket" in rows[0][1] and "Housing part" in rows[0][1]
    # effect: (4 - 3) kg x 2.0 kg CO2e/kg = +2 kg CO2e per piece
    assert "<strong>+2</strong>" in rows[0][1]


def test_a_version_downloads_as_excel_that_reads_back_as_the_same_model(
    ctx: Ctx, tmp_path: Path
) -> None:
    c = ctx.client()
    r = c.get("/app/products/lfp-cell/versions/1/model.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    (tmp_path / "cell.xlsx").write_bytes(r.content)
    (tmp_path / "cell.yaml").write_text(
        c.get("/app/products/lfp-cell/versions/1/model.yaml").text, "utf-8"
    )
    assert load_model(tmp_path / "cell.xlsx").model == load_model(tmp_path / "cell.yaml").model
    assert c.get("/app/products/lfp-cell/versions/1/model.pdf").status_code == 404


def test_the_product_list_shows_footprint_profile_status_and_searches(ctx: Ctx) -> None:
    c = ctx.client()
    html = c.get("/app/products").text
    row = re.search(
        r'<tr>\s*<td class="card-title"><a href="/app/products/lfp-cell">.*?</tr>', html, re.S
    )
    assert row, html
    # web_world computed acme's cell under gb-t-24067 (58.9 kg CO2e per kWh, test_web.py)
    assert "58.90" in row.group(0) and "GB/T 24067-2024" in row.group(0)
    assert "valid" in row.group(0)  # published: its certificate is valid
    found = c.get(
        "/app/products?q=cathode", headers={"hx-request": "true", "hx-target": "product-rows"}
    )
    assert 'id="product-rows"' in found.text and "<html" not in found.text
    assert "lfp-cathode" in found.text and '/app/products/lfp-cell"' not in found.text


def test_a_result_without_ratings_explains_how_to_rate_inputs(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "unrated")
    data = yaml.safe_load(PV.read_text("utf-8"))
    del data["product"]["id"]
    for line in data["inputs"]:  # the example's ratings removed: no input is rated
        line.pop("dq", None)
    grid = ef.grid_of(data)
    assert post(c, "unrated", form_of(grid, "save"), token).status_code == 303
    r = c.post(
        "/app/products/unrated/calculate", data={"csrf_token": token, "profile": "gb-t-24067"}
    )
    assert r.status_code == 303, r.text
    html = c.get(r.headers["location"]).text
    assert 'id="dq-howto"' in html and "dq.* columns" in html
    # a hotspot label shortened to fit carries the full name as a tooltip
    assert "<title>Junction box with cables and connectors</title>" in html


def test_compare_marks_the_lowest_value_of_each_row_and_the_differences(ctx: Ctx) -> None:
    c = ctx.client()
    acme, other = ctx.certificates
    html = c.get(f"/compare?c={acme}&c={other}").text
    table = re.search(r'<table class="table" id="difference-table">.*?</table>', html, re.S)
    assert table
    total = re.search(r'<tr class="strong">(.*?)</tr>', table.group(0), re.S).group(1)
    cells = re.findall(r'<td class="num ([^"]*)">([\d.,]+)', total)
    # acme's cell (2.05 kg cathode) is lower than other's (2.255 kg): marked as the lowest
    assert cells[0][0] == "diff-best" and cells[1][0] == ""
    low, high = (float(v.replace(",", "")) for _, v in cells)
    assert high > low
    assert f"+{high - low:.3g}" in total.replace(",", "")
    assert html.count('class="stage-bar-row"') == 2


def test_a_result_drills_down_into_its_sub_assemblys_result(ctx: Ctx) -> None:
    c = ctx.client()
    html = c.get("/app/products/lfp-cell").text
    calc = re.search(r'href="/app/calculations/([0-9a-f-]+)"', html).group(1)
    page = c.get(f"/app/calculations/{calc}").text
    # the cell's cathode input is the sub-assembly acme/lfp-cathode, calculated by web_world
    link = re.search(r'<a href="/app/calculations/([0-9a-f-]+)" class="drill">', page)
    assert link
    sub = c.get(f"/app/calculations/{link.group(1)}").text
    assert "<h1>LFP cathode active material (LiFePO4/C)</h1>" in sub


SUB = """
openpcf: 1
product: {{name: Housing, declared_unit: {{amount: 1, unit: kg}}, region: CN-JS, year: 2023}}
inputs:
  - {{name: Resin, stage: raw-materials, amount: 1, unit: kg,
     pcf: {{value: {v}, unit: kg CO2e/kg, source: supplier}}}}
"""
PARENT = """
openpcf: 1
product: {name: Meter, declared_unit: {amount: 1, unit: piece}, region: CN-JS, year: 2023}
inputs:
  - {name: Housing part, stage: raw-materials, amount: 3, unit: kg,
     product: "urn:openpcf:product:acme:housing"}
"""


def test_a_result_links_the_sub_assembly_result_it_was_computed_from(ctx: Ctx) -> None:
    factory = sessions(ctx.url)
    acme = WebWorld(ctx.url).principal("member@acme.example")
    sub, parent = product_urn("acme", "housing"), product_urn("acme", "meter")
    ids = {}
    for urn, text in ((sub, SUB.format(v=2.0)), (parent, PARENT)):
        slug = urn.rsplit(":", 1)[-1]
        products.create_product(factory(), acme, ProductCreate(slug=slug, name=slug))
        products.add_model_version(factory(), acme, urn, text, "application/yaml")
        ids[slug] = calculations.run_calculation(factory(), acme, urn, CalculationRequest()).id
    s1, meter = ids["housing"], ids["meter"]
    # the housing gets 2.5 kg CO2e/kg resin (v2) and is calculated again (S2) after the meter
    products.add_model_version(factory(), acme, sub, SUB.format(v=2.5), "application/yaml")
    s2 = calculations.run_calculation(factory(), acme, sub, CalculationRequest())
    c = ctx.client()
    page = c.get(f"/app/calculations/{meter}").text
    # 3 kg x 2.0 kg CO2e/kg = 6 kg CO2e: the meter was computed from S1 (v1), not S2 (7.5)
    links = re.findall(r'<a href="/app/calculations/([0-9a-f-]+)" class="drill">', page)
    assert links == [s1] and s2.id != s1
    assert s2.pcf.value == pytest.approx(2.5)
    notice = re.search(r'<small class="drill-newer">(.*?)</small>', page, re.S)
    assert notice and "recalculate the parent to use it" in notice.group(1)
    assert "newest, not necessarily" not in page
    c.cookies.set("lang", "zh")
    assert "重新核算本产品即可采用" in c.get(f"/app/calculations/{meter}").text
    c.cookies.delete("lang")
    # the meter calculated again uses v2: it links S2 and has no notice
    again = calculations.run_calculation(factory(), acme, parent, CalculationRequest())
    assert again.pcf.value == pytest.approx(7.5)  # 3 kg x 2.5
    page = c.get(f"/app/calculations/{again.id}").text
    assert re.findall(r'<a href="/app/calculations/([0-9a-f-]+)" class="drill">', page) == [s2.id]
    assert 'class="drill-newer"' not in page
    # another tenant sees neither the meter's result nor its sub-assemblies
    other = ctx.client("member@other.example")
    assert other.get(f"/app/calculations/{meter}").status_code == 404
    assert other.get(f"/app/calculations/{s1}").status_code == 404
    with pytest.raises(NotFound):
        sub_results(factory(), WebWorld(ctx.url).principal("member@other.example"), meter)
    assert set(sub_results(factory(), acme, meter)) == {sub}


def test_a_result_without_a_matching_sub_calculation_links_the_newest_labelled(ctx: Ctx) -> None:
    factory = sessions(ctx.url)
    acme = WebWorld(ctx.url).principal("member@acme.example")
    sub, parent = product_urn("acme", "lid"), product_urn("acme", "box")
    products.create_product(factory(), acme, ProductCreate(slug="lid", name="lid"))
    products.add_model_version(factory(), acme, sub, SUB.format(v=1.0), "application/yaml")
    products.create_product(factory(), acme, ProductCreate(slug="box", name="box"))
    products.add_model_version(
        factory(), acme, parent, PARENT.replace("acme:housing", "acme:lid"), "application/yaml"
    )
    box = calculations.run_calculation(factory(), acme, parent, CalculationRequest())
    page = ctx.client().get(f"/app/calculations/{box.id}").text
    assert 'href="/app/products/lid#calculate" class="drill"' in page  # never calculated alone
    # the lid is calculated only at a later version: the box's link is that, labelled
    products.add_model_version(factory(), acme, sub, SUB.format(v=1.5), "application/yaml")
    lid = calculations.run_calculation(factory(), acme, sub, CalculationRequest())
    page = ctx.client().get(f"/app/calculations/{box.id}").text
    assert f'<a href="/app/calculations/{lid.id}" class="drill">' in page
    assert "newest, not necessarily the one used" in page


def test_the_monte_carlo_button_gives_the_interval_and_variance_contributions(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "pv-mc")
    grid = pv_grid()
    # the front glass between 18 and 23.4 kg, uniformly (a field the grid keeps in its row)
    grid.rows["inputs"][1]["x"] = json.dumps(
        {"uncertainty": {"distribution": "uniform", "min": 18, "max": 23.4}}
    )
    assert post(c, "pv-mc", form_of(grid, "save"), token).status_code == 303
    r = c.post("/app/products/pv-mc/calculate", data={"csrf_token": token})
    calc = r.headers["location"].rsplit("/", 1)[-1]
    assert 'id="run-monte-carlo"' in c.get(f"/app/calculations/{calc}").text
    first = c.get(f"/app/calculations/{calc}/uncertainty?n=4000&seed=7").text
    again = c.get(f"/app/calculations/{calc}/uncertainty?n=4000&seed=7").text
    assert first == again  # the same seed draws the same footprints
    lo, hi = (
        float(v.replace(",", ""))
        for v in re.search(r'id="mc-interval">([\d.,]+) – ([\d.,]+)<', first).groups()
    )
    # 107.68 kg CO2e/m2 with the stated values (openpcf calc examples/pv-module.yaml); the
    # glass adds (amount - 20.7) x 1.2 / 2.583 kg CO2e/m2, uniform over +-1.254; its 2.5 and
    # 97.5 percentiles are +-0.95 x 1.254 = +-1.191: 106.49 and 108.88
    assert lo == pytest.approx(106.49, abs=0.05) and hi == pytest.approx(108.88, abs=0.05)
    share = re.search(r'id="mc-contributions">.*?<td>Front glass</td>.*?([\d.]+) %', first, re.S)
    assert share and float(share.group(1)) > 99  # the only uncertain line
    assert "must be from 2 to" in c.get(f"/app/calculations/{calc}/uncertainty?n=1").text


def test_the_history_reads_in_words_and_the_verifier_sees_the_certificate_and_report(
    ctx: Ctx,
) -> None:
    member = ctx.client()
    sub = re.search(r'href="/app/submissions/([0-9a-f-]+)"', member.get("/app/submissions").text)
    page = member.get(f"/app/submissions/{sub.group(1)}").text
    history = re.search(r'<ul class="timeline">.*?</ul>', page, re.S).group(0)
    for words in ("Created as a draft", "Submitted for verification", "Review started",
                  "Certified and signed", "Published to the registry"):  # fmt: skip
        assert words in history, words
    assert "start_review" not in history and "under_review" not in history
    verifier = ctx.client("verifier@cnverify.example")
    evidence = verifier.get(f"/verify/submissions/{sub.group(1)}").text
    cert = re.search(r'id="certificate-id">(pcf-[0-9a-f]+)<', evidence)
    assert cert and cert.group(1) in ctx.certificates
    assert f'href="/p/{cert.group(1)}/label.svg"' in evidence
    report = verifier.get(f"/verify/submissions/{sub.group(1)}/report.pdf")
    assert report.status_code == 200 and report.content[:5] == b"%PDF-"
    assert member.get(f"/verify/submissions/{sub.group(1)}/report.pdf").status_code == 403


def test_the_regulator_drills_into_a_province_sees_the_trend_and_exports_csv(ctx: Ctx) -> None:
    c = ctx.client("admin@gov.example")
    c.cookies.set("lang", "zh")
    page = c.get("/regulate/coverage").text
    # web_world's cells are in Jiangsu (CN-JS), the cathodes in Sichuan (CN-SC)
    assert '<a href="/regulate/coverage/CN-JS">江苏</a>' in page
    # two certificates, issued and published this month (the fixture made them now)
    month = re.search(r'id="coverage-trend">.*?<td>(\d{4}-\d\d)</td><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)</td>', page, re.S)  # fmt: skip
    assert month and month.group(2) == "2" and month.group(3) == "2"
    province = c.get("/regulate/coverage/CN-JS").text
    for cert in ctx.certificates:
        assert f'href="/p/{cert}"' in province
    assert "Other Ltd." in province and "Acme Ltd." in province
    csv_text = c.get("/regulate/coverage.csv").content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0] == "by,key,name,products,calculated,certified,published"
    row = next(line.split(",") for line in lines if line.startswith("province,CN-JS,"))
    # other tests of this module add uncertified PV modules in Jiangsu
    assert row[2] == "江苏" and int(row[3]) >= 2 and row[5:] == ["2", "2"]
    assert ctx.client().get("/regulate/coverage.csv").status_code == 403


def test_an_excel_error_names_the_uploaded_file_not_the_servers_copy(
    ctx: Ctx, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    c = ctx.client()
    token = csrf_of(c.get("/app/products/lfp-cell").text)
    (tmp_path / "x.xlsx").write_bytes(c.get("/app/products/lfp-cell/versions/1/model.xlsx").content)
    wb = load_workbook(tmp_path / "x.xlsx")
    ws = wb["Inputs"]
    amount = [cell.value for cell in ws[1]].index("amount") + 1
    ws.cell(row=2, column=amount, value="lots")
    wb.save(tmp_path / "x.xlsx")
    r = c.post(
        "/app/products/lfp-cell/versions/upload",
        data={"csrf_token": token},
        files={"document": ("my-bom.xlsx", (tmp_path / "x.xlsx").read_bytes())},
    )
    assert r.status_code == 422
    assert "my-bom.xlsx" in r.text and "sheet &#39;Inputs&#39;" in r.text
    assert "/tmp" not in r.text and tempfile.gettempdir() not in r.text


def test_a_yaml_upload_error_names_the_uploaded_file(ctx: Ctx) -> None:
    c = ctx.client()
    token = csrf_of(c.get("/app/products/lfp-cell").text)
    text = c.get("/app/products/lfp-cell/versions/1/model.yaml").text
    bad = text.replace("stage: production", "stage: assembly", 1)
    r = c.post(
        "/app/products/lfp-cell/versions/upload",
        data={"csrf_token": token},
        files={"document": ("cell-draft.yaml", bad.encode())},
    )
    assert r.status_code == 422
    assert "cell-draft.yaml:" in r.text and "acme/lfp-cell@" not in r.text


def test_the_picker_finds_processes_of_imported_databases(
    ctx: Ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpcf.services.lci.databases import find_process, import_database, open_database
    from tests import lci_data

    monkeypatch.setenv("OPENPCF_HOME", str(tmp_path / "home"))
    import_database(lci_data.write_jsonld(tmp_path / "tiny.zip"), "tiny")
    html = ctx.client().get("/app/editor/factors?q=steel production").text
    # tests/lci_data.py: 'steel production', 1 kg of steel
    hit = re.search(r'data-pick="(tiny/[0-9a-f-]+)" data-unit="kg" data-kind="process">'
                    r"steel production<", html)  # fmt: skip
    assert hit, html
    # the reference is what an input's `process` names: it finds that process
    name, key = hit.group(1).split("/", 1)
    assert find_process(open_database(name), key).name == "steel production"


def test_a_member_withdraws_a_submission(ctx: Ctx) -> None:
    c = ctx.client()
    page = c.get("/app/products/lfp-cathode").text
    calc = re.search(r'href="/app/calculations/([0-9a-f-]+)"', page).group(1)
    token = csrf_of(page)
    r = c.post(
        f"/app/calculations/{calc}/submit",
        data={"csrf_token": token, "verifier": "cnverify", "comment": "first try"},
    )
    assert r.status_code == 303
    here = r.headers["location"]
    assert 'id="action-withdraw"' in c.get(here).text
    verifier = ctx.client("verifier@cnverify.example")
    vtoken = csrf_of(verifier.get("/verify/queue").text)
    sub_id = here.rsplit("/", 1)[-1]
    refused = verifier.post(
        f"/verify/submissions/{sub_id}/action", data={"csrf_token": vtoken, "action": "withdraw"}
    )
    assert refused.status_code == 403  # withdrawing is the enterprise's
    r = c.post(f"{here}/action", data={"csrf_token": token, "action": "withdraw"})
    assert r.status_code == 303
    after = c.get(here).text
    assert '<span class="badge " style="font-size:.9rem">draft</span>' in after
    assert "Withdrawn by the enterprise" in after


def test_the_regulator_searches_the_factors_in_force(ctx: Ctx) -> None:
    c = ctx.client("admin@gov.example")
    assert 'id="factor-browser"' in c.get("/regulate/factor-sets").text
    html = c.get("/regulate/factors?q=江苏 电力 2023").text
    assert '<span class="mono">cn-mee-grid/CN-JS@2023</span>' in html
    assert "data-pick" not in html  # browsing, not picking
    assert ctx.client().get("/regulate/factors?q=x").status_code == 403


def test_the_verifier_comments_on_single_inputs(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "pv-review")
    assert post(c, "pv-review", form_of(pv_grid(), "save"), token).status_code == 303
    calc = c.post("/app/products/pv-review/calculate", data={"csrf_token": token})
    calc_id = calc.headers["location"].rsplit("/", 1)[-1]
    r = c.post(
        f"/app/calculations/{calc_id}/submit", data={"csrf_token": token, "verifier": "cnverify"}
    )
    sub_id = r.headers["location"].rsplit("/", 1)[-1]
    verifier = ctx.client("verifier@cnverify.example")
    page = verifier.get(f"/verify/submissions/{sub_id}").text
    assert 'name="note::Front glass"' in page
    r = verifier.post(
        f"/verify/submissions/{sub_id}/action",
        data={
            "csrf_token": csrf_of(page),
            "action": "start_review",
            "comment": "Starting with the bill of materials.",
            "note::Front glass": "thickness checked on the datasheet",
            "note::Backsheet": "",
        },
    )
    assert r.status_code == 303, r.text
    history = c.get(f"/app/submissions/{sub_id}").text
    assert (
        "Starting with the bill of materials.\nFront glass: thickness checked on the datasheet"
        in history
    )
    assert "Backsheet:" not in history


def test_an_uploaded_model_lists_every_unresolved_reference_at_once(ctx: Ctx) -> None:
    c = ctx.client()
    token = new_product(c, "pv-upload")
    text = PV.read_text("utf-8").replace("urn:openpcf:product:example:pv-module-550w", "")
    text = text.replace("  id: \n", "")
    text = text.replace("factor: example/solar-glass", "factor: example/solar-glas")
    text = text.replace("factor: example/backsheet", "factor: cn-mee-grid/CN-JS")
    r = c.post(
        "/app/products/pv-upload/versions/upload",
        data={"csrf_token": token},
        files={"document": ("pv.yaml", text.encode())},
    )
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    box = re.search(r'<div class="flash flash-warn" role="status" id="unresolved">.*?</div>\n</div>',
                    page, re.S)  # fmt: skip
    assert box and "(2):" in box.group(0)
    assert "unknown factor &#39;example/solar-glas&#39;; did you mean example/solar-glass" in page
    assert "unknown factor &#39;cn-mee-grid/CN-JS&#39;; did you mean" in page
