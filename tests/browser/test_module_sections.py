"""A module read one section at a time in a browser: without JavaScript, and accessible."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, sticking_out

pytestmark = pytest.mark.browser


def test_reading_section_by_section_without_javascript(open_page: Callable[..., Page]) -> None:
    page = open_page("learner", java_script_enabled=False)
    page.goto("/training/reporting")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reporting obligations")
    page.get_by_role("button", name="Start reading").click()
    expect(page).to_have_url(re.compile(r"/training/reporting/sections/1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("About this module")
    expect(page.get_by_text("Section 1 of 11")).to_be_visible()
    page.get_by_role("button", name="Next section").click()
    page.get_by_role("button", name="Next section").click()
    expect(page.get_by_text("Section 3 of 11")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Immediate danger comes first")
    page.get_by_role("button", name="Previous section").click()
    expect(page.get_by_text("Section 2 of 11")).to_be_visible()

    page.goto("/training/reporting")
    expect(page.get_by_text("In progress").first).to_be_visible()
    page.get_by_role("link", name="Continue reading").click()
    expect(page.get_by_text("Section 2 of 11")).to_be_visible()
    page.get_by_role("navigation", name="Contents").get_by_role(
        "link", name="Victims first"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Victims first")
    page.get_by_role("link", name="Whole module on one page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reporting obligations")
    expect(page.get_by_role("heading", name="Victims first")).to_be_visible()


READING_PAGES = ["", "/sections/3", "/sections/11", "/all"]


@pytest.mark.parametrize("path", READING_PAGES)
def test_the_reading_pages_have_no_wcag_violations(
    open_page: Callable[..., Page], path: str
) -> None:
    page = open_page("learner")
    page.goto(f"/training/reporting{path}")
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert sticking_out(page) == []


def test_the_whole_module_prints_without_navigation(open_page: Callable[..., Page]) -> None:
    page = open_page("learner")
    page.goto("/training/reporting/all")
    page.emulate_media(media="print")
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Contents")).to_be_hidden()
    expect(page.get_by_role("heading", name="Victims first")).to_be_visible()
    expect(page.locator("body")).to_have_css("background-color", "rgb(255, 255, 255)")
