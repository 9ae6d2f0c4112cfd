"""The public pages in a real browser (headless Chromium, Playwright, a real `openpcf serve`;
the fixtures of test_browser_journeys.py): each fits a 390×844 phone screen with no sideways
scrolling, in Chinese and English; the API documentation renders with every request to
another host blocked (offline, or where CDNs are unreachable). Screenshots are saved to
OPENPCF_SCREENSHOTS (default build/screenshots/)."""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.test_browser_journeys import browser, server, shot  # noqa: F401 - fixtures

with contextlib.suppress(ImportError):  # without Playwright the fixtures skip first
    from playwright.sync_api import Browser, Page, Route, expect

PHONE = {"width": 390, "height": 844}


def certificate_page(page: Page, base: str) -> str:
    page.goto(f"{base}/registry")
    href = page.locator("#results tbody a[href^='/p/']").first.get_attribute("href")
    assert href
    return href


def public_pages(page: Page, base: str) -> list[str]:
    href = certificate_page(page, base)
    cert = href.rsplit("/", 1)[-1]
    return ["/", "/sign-in", "/registry", "/registry?q=lfp", href, f"/compare?c={cert}",
            "/compare", "/tracker"]  # fmt: skip


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the phone's screen (0: no sideways
    scrolling). The screen's width, not window.innerWidth: a mobile browser widens its layout
    viewport to a page that overflows."""
    return int(page.evaluate("document.documentElement.scrollWidth")) - PHONE["width"]


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_every_public_page_fits_a_phone(
    server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture
    browser: Browser,  # noqa: F811 - the fixture
    locale: str,
) -> None:
    base, _ = server
    page = browser.new_page(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    wide = {}
    for path in public_pages(page, base):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "landing"
        shot(page, f"phone-{locale[:2]}-{name}")
        if overflow(page) > 0:
            wide[path] = overflow(page)
        if path == "/registry":  # each row a card: the footprint on screen, not off to the side
            box = page.locator("#results tbody td.num").first.bounding_box()
            assert box and box["x"] + box["width"] <= PHONE["width"]
    assert wide == {}, f"pages wider than a 390 px phone (px too wide): {wide}"
    page.close()


def test_the_api_docs_render_with_other_hosts_blocked(
    server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture
    browser: Browser,  # noqa: F811 - the fixture
) -> None:
    base, _ = server
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    elsewhere: list[str] = []

    def only_here(route: Route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto(f"{base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("openpcf")
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, "api-docs-offline")
    page.goto(f"{base}/redoc")
    expect(page.locator("h1").first).to_contain_text("openpcf")
    shot(page, "api-redoc-offline")
    assert elsewhere == []
    page.close()
