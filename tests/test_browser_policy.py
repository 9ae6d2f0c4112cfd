"""The policy tracker's map in a real browser (headless Chromium, as the other journeys): every
province is drawn, labelled in Chinese and in English, and clicking one opens its page."""

from __future__ import annotations

from playwright.sync_api import Browser

from openpcf.domain.regions import PROVINCES
from tests.test_browser_journeys import browser, server, shot  # noqa: F401 - fixtures


def test_the_map_draws_and_labels_every_province_and_opens_a_province(
    server: tuple[str, dict[str, str]],  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    base, _ = server
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=lang)
        page = context.new_page()
        page.goto(f"{base}/lang/{lang}?next=/tracker")
        page.wait_for_selector("#china-map svg")
        drawn = page.eval_on_selector_all(
            "#china-map path[data-region]", "els => els.map(e => e.dataset.region)"
        )
        assert sorted(set(drawn)) == sorted(p.code for p in PROVINCES)
        labels = page.eval_on_selector_all(
            "#china-map text[data-label]", "els => els.map(e => e.textContent)"
        )
        assert sorted(labels) == sorted(p.name(lang) for p in PROVINCES)
        # Every province has a visible area on screen (Macao, the smallest, included).
        sizes = page.eval_on_selector_all(
            "#china-map path[data-region]",
            "els => els.map(e => [e.dataset.region, e.getBBox().width * e.getBBox().height])",
        )
        assert all(area > 0 for _, area in sizes)
        shot(page, f"tracker-map-{lang}")
        page.click('#china-map a[href="/tracker/regions/CN-QH"] path')
        page.wait_for_selector("#region-name")
        assert page.inner_text("#region-name") == ("青海" if lang == "zh" else "Qinghai")
        assert "100 % renewable" in page.inner_text("#region-data-centres")
        shot(page, f"tracker-province-{lang}")
        context.close()
