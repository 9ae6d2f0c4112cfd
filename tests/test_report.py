"""The footprint study report of real results (cement and LFP cell examples): the HTML page has
the eleven sections of an ISO 14067 / GB/T 24067 study report, and the PDF printed from it has
them too, with the total, page numbers and an embedded CJK font for the Chinese report."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from lxml import html as lxml_html
from pypdf import PdfReader

from openpcf.domain.result import Result
from openpcf.io.label import CertificateSummary
from openpcf.io.report_html import SECTIONS, TEXT, ReportContext, render_report_html
from openpcf.io.report_pdf import html_to_pdf
from openpcf.rules.catalogue import product_rules, profile
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@cache
def example(name: str) -> Result:
    return calculate(load_project(EXAMPLES / name))


def context(result: Result, cert: CertificateSummary | None = None) -> ReportContext:
    return ReportContext(certificate=cert, profile=profile(result.profile),
                         rule=product_rules().get(result.rule), boundary="cradle-to-gate")  # fmt: skip


def headings(lang: str) -> list[str]:
    return [f"{i}{TEXT[lang]['s_' + s]}" for i, s in enumerate(SECTIONS, 1)]


def test_html_report_has_the_eleven_study_report_sections_in_order() -> None:
    result = example("lfp-cell.yaml")
    page = render_report_html(result, "en", context(result))
    doc = lxml_html.fromstring(page)
    found = [h.text_content().strip() for h in doc.iter("h2")]
    assert found == headings("en")
    assert [s.get("id") for s in doc.iter("section")] == list(SECTIONS)
    # 58.90228 kg CO2e per kWh (six significant figures in the result box).
    assert "58.9023" in doc.find_class("result-value")[0].text_content()
    assert len(doc.findall(".//svg")) == 8  # the label on the cover and seven charts
    assert "<script" not in page


def test_html_report_lists_provenance_flags_and_data_quality() -> None:
    result = example("cement.yaml")
    text = lxml_html.fromstring(render_report_html(result, "en", context(result))).text_content()
    assert "cn-mee-efp/CN@2023" in text  # the electricity factor with its source
    assert "UNVERIFIED" in text  # the IPCC coal factor is flagged in its source data
    assert "DATA_QUALITY_MISSING" not in text  # violations come only when computed with check
    assert result.provenance.input_hash in text
    assert "not certified" in text


def test_certificate_block_shows_the_certificate() -> None:
    result = example("cement.yaml")
    cert = CertificateSummary("CFP-2026-000123", "revoked", "CQC", date(2026, 1, 2),
                              date(2027, 1, 2), "SHA256:ab12")  # fmt: skip
    doc = lxml_html.fromstring(render_report_html(result, "en", context(result, cert)))
    block = doc.get_element_by_id("certificate").text_content()
    for part in ("CFP-2026-000123", "Revoked", "CQC", "2027-01-02", "SHA256:ab12",
                 "http://127.0.0.1:8000/p/CFP-2026-000123"):  # fmt: skip
        assert part in block


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="en, zh"):
        render_report_html(example("cement.yaml"), "fr")


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(__import__("io").BytesIO(data))
    return reader, "\n".join(p.extract_text() or "" for p in reader.pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_report_from_the_cli_has_the_sections_the_total_and_page_numbers(
    tmp_path: Path,
) -> None:
    out, page = tmp_path / "cement.pdf", tmp_path / "cement.html"
    # The cement example without its data-quality ratings (the examples carry them since
    # docs/examples.md), so that the report has a profile violation to list.
    (tmp_path / "clinker.yaml").write_text((EXAMPLES / "clinker.yaml").read_text("utf-8"))
    lines = (EXAMPLES / "cement.yaml").read_text("utf-8").splitlines()
    (tmp_path / "cement.yaml").write_text("\n".join(ln for ln in lines if "dq:" not in ln))
    run = openpcf("report", str(tmp_path / "cement.yaml"), "--pdf", str(out), "--html", str(page))
    assert run.returncode == 0, run.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    reader, text = pdf_text(data)
    flat = squash(text)
    positions = [flat.find(h.replace(" ", "")) for h in headings("en")]
    assert all(p >= 0 for p in positions), dict(zip(headings("en"), positions, strict=True))
    assert positions == sorted(positions)  # in report order
    # Cement: 716.007256692 kg CO2e per t; the result box prints six significant figures.
    assert "716.007" in text
    pages = len(reader.pages)
    assert pages >= 3 and f"1 / {pages}" in text and f"{pages} / {pages}" in text
    # The model's violation of the profile (no data-quality indicators) is listed.
    assert "DATA_QUALITY_MISSING" in text
    assert "<svg" in page.read_text()


def test_chinese_pdf_report_embeds_a_cjk_font_and_reads_back_in_chinese() -> None:
    result = example("lfp-cell.yaml")
    data = html_to_pdf(render_report_html(result, "zh", context(result)))
    reader, text = pdf_text(data)
    flat = squash(text)
    for h in headings("zh"):
        assert h in flat, h
    fonts = set()
    for p in reader.pages:
        for f in (p["/Resources"].get("/Font") or {}).values():
            fonts.add(str(f.get_object()["/BaseFont"]))
    # Without a CJK font on the machine the headings would be drawn as empty boxes (tofu).
    assert any("CJK" in f or "WenQuanYi" in f or "HeiTi" in f for f in fonts), fonts


def test_report_from_a_result_json_and_bad_input(tmp_path: Path) -> None:
    calc = openpcf("calc", str(EXAMPLES / "lfp-cell.yaml"), "--format", "json")
    result_file = tmp_path / "lfp.json"
    result_file.write_text(calc.stdout)
    page = tmp_path / "lfp.html"
    run = openpcf("report", str(result_file), "--html", str(page), "--lang", "zh")
    assert run.returncode == 0, run.stderr
    assert "目的与范围" in page.read_text() and "58.9023" in page.read_text()
    broken = tmp_path / "broken.json"
    broken.write_text(calc.stdout.replace('"product_id"', '"product_idx"', 1))
    bad = openpcf("report", str(broken), "--html", str(tmp_path / "b.html"))
    # The first problem is named by its field (product_id is now missing), with the count of more.
    assert bad.returncode == 1 and "field 'product_id'" in bad.stderr
    assert "Field required (and 1 more)" in bad.stderr
    none = openpcf("report", str(result_file))
    assert none.returncode == 2 and "--pdf" in none.stderr
