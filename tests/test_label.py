"""The carbon label: SVG and PNG of real results (cement and LFP cell examples), the printed value
checked against the rounding rule by hand, the QR code decoded by a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import os
from datetime import date
from functools import cache
from pathlib import Path

import pytest
import zxingcpp
from lxml import etree
from PIL import Image

from openpcf import config
from openpcf.domain.certification import sha256_of_result
from openpcf.domain.result import Result
from openpcf.io.label import (
    CertificateSummary,
    LabelSize,
    label_png,
    label_svg,
    label_value,
    png_pixels,
)
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

from .cli_runner import openpcf
from .signed import signed_certificate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SVG = "{http://www.w3.org/2000/svg}"
CERT = CertificateSummary("CFP-2026-000123", "valid", "CQC", date(2026, 11, 23),
                          date(2027, 11, 23), "SHA256:3b7c9e0f")  # fmt: skip


@cache
def example(name: str) -> Result:
    return calculate(load_project(EXAMPLES / name))


def words(svg: str) -> list[str]:
    root = etree.fromstring(svg.encode("utf-8"))
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def decode(png: bytes) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (716.007256692, "716"),  # cement: three significant figures
        (58.902284602499996, "58.9"),  # LFP cell
        (0.012345, "0.0123"),
        (12345.0, "12,300"),  # large values round too: the label claims no false precision
        (999.6, "1,000"),  # carries into a fourth digit
        (2.675, "2.68"),  # halves away from zero (binary float rounding would give 2.67)
        (-3.14159, "-3.14"),  # a net removal
        (0.0, "0"),
    ],
)
def test_label_value_is_rounded_to_three_significant_figures(value: float, printed: str) -> None:
    assert label_value(value) == printed


def test_cement_label_shows_the_value_per_tonne_the_standard_and_the_certificate() -> None:
    result = example("cement.yaml")
    svg = label_svg(result, certificate=CERT, public_url="https://pcf.example.cn")
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.get("width") == "50mm" and root.get("height") == "70mm"
    text = words(svg)
    # 716.007 kg CO2e per t (test_examples checks the total by hand) → 716 on the label.
    assert "716" in text and "kg CO2e" in text and "/ t" in text
    assert "碳足迹" in text and "CARBON FOOTPRINT" in text
    assert "CFP-2026-000123" in text and "有效 Valid" in text
    assert "依据 GB/T 24067-2024" in text
    assert "有效期至 Valid until 2027-11-23" in text
    assert root.find(f"{SVG}title").text.startswith("碳足迹 Carbon Footprint: Ordinary Portland")


@pytest.mark.parametrize("size", ["30x40mm", "50x70mm", "80x100mm"])
def test_qr_code_decodes_to_the_public_product_page(size: str) -> None:
    label_size = LabelSize.parse(size)
    svg = label_svg(example("lfp-cell.yaml"), certificate=CERT, size=label_size,
                    public_url="https://pcf.example.cn/")  # fmt: skip
    assert decode(label_png(svg, label_size, 300)) == ["https://pcf.example.cn/p/CFP-2026-000123"]


def test_png_has_the_pixel_size_of_the_label_at_its_dpi() -> None:
    size = LabelSize.parse("50x70mm")
    png = label_png(label_svg(example("cement.yaml"), certificate=CERT, size=size), size, 300)
    image = Image.open(io.BytesIO(png))
    # 50 mm / 25.4 mm per inch × 300 dpi = 590.55 → 591 px; 70 / 25.4 × 300 = 826.77 → 827 px.
    assert image.size == (591, 827) == png_pixels(size, 300)
    assert round(image.info["dpi"][0]) == 300
    # 30 × 40 mm at 600 dpi: 708.66 → 709 px by 944.88 → 945 px.
    assert png_pixels(LabelSize(30, 40), 600) == (709, 945)


def test_uncertified_footprint_gets_a_draft_label_without_a_qr_code() -> None:
    svg = label_svg(example("lfp-cell.yaml"))
    text = words(svg)
    assert "58.9" in text and "/ kWh" in text
    assert any("未认证 NOT CERTIFIED" in t for t in text)
    assert "crispEdges" not in svg  # no QR path
    size = LabelSize.parse("50x70")
    assert decode(label_png(svg, size, 300)) == []


def test_grade_is_printed_when_the_rule_defines_benchmark_classes() -> None:
    graded = example("lfp-cell.yaml").model_copy(update={"grade": "A"})
    assert any(t.startswith("等级 Grade") and t.endswith("A") for t in words(label_svg(graded)))
    assert not any("Grade" in t for t in words(label_svg(example("lfp-cell.yaml"))))


def test_unknown_status_says_scan_to_verify() -> None:
    svg = label_svg(example("cement.yaml"), certificate=CertificateSummary("X-1"))
    assert "扫码查验 Scan to verify" in words(svg)


@pytest.mark.parametrize("text", ["50", "10x90", "50x20mm", "abcxdef"])
def test_bad_label_sizes_are_refused_with_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="50x70mm"):
        LabelSize.parse(text)


def test_presets_and_spellings_parse() -> None:
    assert LabelSize.parse("small") == LabelSize(30, 40)
    assert LabelSize.parse("80×100 mm") == LabelSize(80, 100)


def test_public_url_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENPCF_PUBLIC_URL", raising=False)
    assert config.public_url() == "http://127.0.0.1:8000"
    monkeypatch.setenv("OPENPCF_PUBLIC_URL", "https://pcf.example.cn/")
    assert config.public_url() == "https://pcf.example.cn"


def test_cli_label_from_a_result_file(tmp_path: Path) -> None:
    calc = openpcf("calc", str(EXAMPLES / "cement.yaml"), "--format", "json")
    assert calc.returncode == 0, calc.stderr
    result_file = tmp_path / "cement.json"
    result_file.write_text(calc.stdout)
    env = {**os.environ, "OPENPCF_PUBLIC_URL": "https://pcf.example.cn"}
    png, svg = tmp_path / "label.png", tmp_path / "label.svg"
    # a certificate that signs this very result (docs/examples.md: a certified label only for
    # the result its certificate signs)
    cert = tmp_path / "CFP-9.json"
    cert.write_bytes(signed_certificate("CFP-9", sha256_of_result(calc.stdout)))
    run = openpcf("label", str(result_file), "--png", str(png), "--svg", str(svg), "--size",
                  "80x100mm", "--dpi", "200", "--certificate-id", "CFP-9", "--certificate",
                  str(cert), env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    # 80 / 25.4 × 200 = 629.9 → 630 px; 100 / 25.4 × 200 = 787.4 → 787 px.
    assert Image.open(png).size == (630, 787)
    assert decode(png.read_bytes()) == ["https://pcf.example.cn/p/CFP-9"]
    assert "716" in words(svg.read_text())


def test_cli_label_errors_name_the_file_and_what_is_expected(tmp_path: Path) -> None:
    missing = openpcf("label", str(tmp_path / "nope.json"), "--png", str(tmp_path / "x.png"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"pcf":\n  {"value": 1,,}}')
    run = openpcf("label", str(bad), "--png", str(tmp_path / "x.png"))
    assert run.returncode == 1 and f"{bad}:2: invalid JSON" in run.stderr
    size = openpcf("label", str(bad), "--png", str(tmp_path / "x.png"), "--size", "10x10")
    assert size.returncode == 2 and "--size" in size.stderr
    assert not (tmp_path / "x.png").exists()
