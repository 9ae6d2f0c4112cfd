"""Charts of real results (the cement and LFP cell examples) as SVG: parse, accessible, and the
numbers they draw are the result's, checked against hand calculations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from openpcf.domain.result import Result
from openpcf.io import charts
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SVG = "{http://www.w3.org/2000/svg}"


@cache
def example(name: str) -> Result:
    return calculate(load_project(EXAMPLES / name))


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))


def texts(root: etree._Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def test_cement_waterfall_starts_with_raw_materials_by_hand_and_ends_at_the_total() -> None:
    result = example("cement.yaml")
    steps = charts.waterfall_steps(result)
    # Raw materials of cement.yaml, by hand: gypsum 0.05 t × 4.0 + slag 0.15 t × 2.0
    # + freight 15 t·km × 0.078 = 0.2 + 0.3 + 1.17 = 1.67 kg CO2e.
    assert [s.key for s in steps] == ["raw-materials", "production", "total"]
    assert steps[0].start == 0 and steps[0].value == pytest.approx(1.67)
    # Each stage starts where the one before ended; the stages add up to the total bar.
    assert steps[1].start == pytest.approx(1.67)
    assert sum(s.value for s in steps[:-1]) == pytest.approx(result.pcf.value, rel=1e-12)
    assert steps[-1].end == result.pcf.value


def test_waterfall_bars_in_the_svg_sum_to_the_total() -> None:
    result = example("lfp-cell.yaml")
    root = parse(charts.waterfall(result))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "step"]
    values = {r.get("data-key"): float(r.get("data-value")) for r in bars}
    assert set(values) == {"raw-materials", "production", "total"}
    assert values["raw-materials"] + values["production"] == pytest.approx(values["total"])
    assert values["total"] == pytest.approx(result.pcf.value)


def test_stages_that_do_not_add_up_get_an_adjustment_step_not_a_silent_gap() -> None:
    result = example("cement.yaml")
    # A total 10 kg above the sum of the stages (a part the result holds outside any stage).
    odd = result.model_copy(update={"pcf": result.pcf.model_copy(update={"value": 726.007256692})})
    steps = charts.waterfall_steps(odd)
    assert steps[-2].key == "adjustment" and steps[-2].value == pytest.approx(10.0)
    assert sum(s.value for s in steps[:-1]) == pytest.approx(odd.pcf.value)


def test_a_credit_stage_goes_below_the_running_sum() -> None:
    result = example("cement.yaml")
    stages = {**result.stages, "end-of-life": -16.007256692}
    credited = result.model_copy(
        update={"stages": stages, "pcf": result.pcf.model_copy(update={"value": 700.0})}
    )
    steps = charts.waterfall_steps(credited)
    assert steps[2].key == "end-of-life" and steps[2].end < steps[2].start
    assert steps[2].end == pytest.approx(700.0)
    root = parse(charts.stage_bars(credited))  # a zero line is drawn for negative bars
    assert any(line.get("stroke") == charts.INK for line in root.iter(f"{SVG}line"))


def test_every_chart_parses_and_has_a_title_and_description() -> None:
    for name in ("cement.yaml", "lfp-cell.yaml"):
        for lang in ("en", "zh"):
            for kind, svg in charts.all_charts(example(name), lang).items():
                root = parse(svg)
                assert root.get("role") == "img", kind
                title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
                assert title is not None and title.text, kind
                assert desc is not None and desc.text, kind
                assert "<script" not in svg


def test_hotspots_show_the_top_inputs_and_the_rest_as_other() -> None:
    result = example("lfp-cell.yaml")
    assert len(result.contributions) == 10
    head, rest, count = charts.top_inputs(result, 8)
    assert head[0][0] == "LFP cathode active material"
    # The two smallest lines of lfp-cell.yaml are its direct methane: 0.05 kg CO2e of biogenic
    # CH4 and 0.0134375 of fossil CH4 (0.00048 kg CH4 × 28); together 0.0634375.
    assert count == 2 and rest == pytest.approx(0.0634375)
    words = texts(parse(charts.input_bars(result)))
    assert "Other (2 other inputs)" in words
    assert "42.9%" in words  # 25.2911 / 58.9023 = 0.42937


def test_stage_bars_print_values_and_shares_in_the_chosen_language() -> None:
    result = example("cement.yaml")
    words = texts(parse(charts.stage_bars(result, charts.LABELS_ZH)))
    assert "原材料获取" in words and "生产" in words
    assert "1.67" in words and "714.3" in words  # 716.007 − 1.67 = 714.337, four figures
    assert "0.2%" in words and "99.8%" in words  # 1.67 / 716.007 = 0.23 %


def test_gas_split_shares_add_to_the_gases() -> None:
    result = example("cement.yaml")
    root = parse(charts.gas_split(result))
    desc = root.find(f"{SVG}desc").text
    # CO2 663.875 of 716.007 kg CO2e = 92.7 %.
    assert "CO2: 663.9 kg CO2e (92.7%)" in desc


def test_data_quality_chart_marks_each_indicator_and_says_what_the_chart_is_missing(
    tmp_path: Path,
) -> None:
    lfp = parse(charts.data_quality(example("lfp-cell.yaml")))
    assert "1.88" in texts(lfp)  # the overall rating of the LFP example
    assert len(list(lfp.iter(f"{SVG}circle"))) == 6
    # the examples all carry ratings now (docs/examples.md); the clinker without its dq lines
    # is a model with no ratings
    text = (EXAMPLES / "clinker.yaml").read_text("utf-8")
    unrated = tmp_path / "clinker.yaml"
    unrated.write_text("\n".join(ln for ln in text.splitlines() if "dq:" not in ln), "utf-8")
    cement = parse(charts.data_quality(calculate(load_project(unrated))))
    assert "No data" in texts(cement)


def test_sankey_flows_balance_at_the_total() -> None:
    result = example("lfp-cell.yaml")
    root = parse(charts.sankey(result))
    desc = root.find(f"{SVG}desc").text
    assert "LFP cathode active material (Raw materials): 25.29 kg CO2e" in desc
    assert f"{charts.fmt(result.pcf.value)} kg CO2e" in texts(root)


def test_number_format_is_plain_and_grouped() -> None:
    assert charts.fmt(716.007256692) == "716"
    assert charts.fmt(714.3372566920001) == "714.3"
    assert charts.fmt(0.0134375) == "0.01344"
    assert charts.fmt(123456.7) == "123,500"  # four significant figures, grouped
    assert charts.pct(0.2, 716.0) == "<0.1%"
