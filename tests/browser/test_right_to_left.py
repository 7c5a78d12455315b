"""Arabic pages read right to left on a phone, and anyone can change language by keyboard.

Screenshots of the main pages in Arabic at 360 CSS pixels are written to SCREENSHOTS_DIR
when it is set (to look at them), otherwise to the test's own temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sticking_out
from tests.browser.pages import VISITS, Site, Visit

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
MAIN_PAGES = {
    "sign-in", "verify valid", "verify several", "my training", "module", "quiz",
    "result passed", "result failed", "coordinator dashboard", "people", "person",
    "roster preview with problems", "commander unit", "print", "print status", "admin audit trail",
}  # fmt: skip


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def edges(page: Page, selector: str) -> dict[str, float]:
    """Return where an element's content starts and ends on screen."""
    return page.eval_on_selector(
        selector,
        """(e) => {
            const range = document.createRange();
            range.selectNodeContents(e);
            const box = range.getBoundingClientRect();
            return {left: box.left, right: box.right, width: document.documentElement.clientWidth};
        }""",
    )


@pytest.mark.parametrize("visit", [v for v in VISITS if v.name in MAIN_PAGES], ids=str)
def test_main_pages_read_right_to_left_on_a_phone(
    visit: Visit, open_in_arabic: Callable[[str | None], Page], site: Site, screenshots: Path
) -> None:
    page = open_in_arabic(visit.who)
    page.set_viewport_size(PHONE)
    visit.go(page, replace(site, language="ar"))
    page.wait_for_load_state("load")
    page.screenshot(path=screenshots / f"ar-{visit.name.replace(' ', '-')}.png", full_page=True)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # The name of the site starts at the right edge; the language switcher ends at the left.
    brand = edges(page, "header.site .brand")
    assert brand["width"] - brand["right"] < 24, brand
    languages = edges(page, "header.site .languages ul")
    assert languages["left"] < 24, languages
    # The main heading starts at the right, as Arabic text does.
    heading = edges(page, "main h1")
    assert heading["width"] - heading["right"] < 24, heading
    assert sticking_out(page) == []


def test_charts_grow_from_the_right(open_in_arabic: Callable[[str | None], Page]) -> None:
    page = open_in_arabic("coordinator")
    page.goto("/coordinator/")
    bars = page.locator("#by-unit-title ~ rect")
    back, bar = bars.nth(0).bounding_box(), bars.nth(1).bounding_box()
    assert back and bar and bar["width"] > 0
    # Each bar grows from the right end of its track.
    assert abs((bar["x"] + bar["width"]) - (back["x"] + back["width"])) < 1
    assert bar["x"] >= back["x"] - 1
    label = page.locator("#by-unit-title ~ text").first.bounding_box()
    assert label and label["x"] > back["x"] + back["width"]


def test_the_language_switcher_works_by_keyboard_and_returns_to_the_page(page: Page) -> None:
    page.goto("/verify?code=")
    # Skip link first, then the languages, each announced in its own language.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    arabic = page.get_by_role("button", name="العربية")
    expect(arabic).to_be_focused()
    expect(arabic).to_have_attribute("lang", "ar")
    for _ in range(3):  # 中文, English, Français
        page.keyboard.press("Tab")
    french = page.get_by_role("button", name="Français")
    expect(french).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.url.split('/verify')[0]}/verify?code=")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-current", "true")
    # Remembered on this browser.
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page).to_have_url(f"{page.url.split('/login')[0]}/login")
