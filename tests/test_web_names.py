"""Names instead of codes on the web pages, and the engine's notes in Chinese: the filters of
web/names.py and web/notes.py against the real data files and a real calculation."""

from __future__ import annotations

from jinja2 import Environment

from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.project import load_project
from openpcf.web import names
from openpcf.web.notes import translate_note
from tests.conftest import REPO


def render(source: str, lang: str, **values: object) -> str:
    env = Environment()
    env.filters.update(
        region=names.region, profile_name=names.profile_name, rule_name=names.rule_name
    )
    return env.from_string(source).render(lang=lang, **values)


def test_regions_profiles_and_rules_are_named_in_the_pages_language() -> None:
    assert render("{{ 'CN-JS' | region }}", "zh") == "江苏"
    assert render("{{ 'CN-JS' | region }}", "en") == "Jiangsu"
    assert render("{{ none | region }}", "zh") == "–"
    # rules/products/lithium-battery-cell.yaml: name and name_zh
    assert render("{{ 'lithium-battery-cell' | rule_name }}", "zh") == "锂离子电池单体"
    assert render("{{ 'lithium-battery-cell' | rule_name }}", "en") == "Lithium-ion battery cell"
    from openpcf.web import i18n

    zh = render("{{ 'gb-t-24067' | profile_name }}", "zh", _=lambda s: i18n.translate("zh", s))
    assert zh == "GB/T 24067-2024 温室气体 产品碳足迹 量化要求和指南"


def test_the_search_reads_province_names_and_chinese_terms() -> None:
    assert names.search_words("江苏电力 2023") == "CN-JS electricity 2023"
    assert names.search_words("jiangsu 钢") == "CN-JS steel"


def test_every_note_of_a_real_calculation_reads_in_chinese() -> None:
    # examples/lfp-cell.yaml: Jiangsu electricity falls back to the national footprint value
    # (no provincial one is published), a factor flagged UNVERIFIED, AR5 values given as CO2e
    result = calculate(load_project(REPO / "examples" / "lfp-cell.yaml"))
    assert result.warnings
    for note in result.warnings:
        zh = translate_note(note.message, "zh")
        assert zh != note.message, note.message
        assert "CN-" not in zh
    national = next(n for n in result.warnings if n.code == "NATIONAL_ELECTRICITY_FOOTPRINT")
    assert translate_note(national.message, "zh").startswith("江苏尚未发布省级电力碳足迹因子")
    assert translate_note(national.message, "en") == national.message
    # the web's English does not send a reader to the command line
    flagged = next(n for n in result.warnings if n.code == "FLAGGED_FACTOR")
    assert "`openpcf" in flagged.message
    assert "`openpcf" not in translate_note(flagged.message, "en")
    assert "the factor's note says why" in translate_note(flagged.message, "en")
