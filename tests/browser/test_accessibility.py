"""Every kind of page meets WCAG 2.2 AA as far as axe-core and a browser can tell, in English
and, right to left, in Arabic."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, axe_violations, duplicate_ids, sticking_out
from tests.browser.pages import VISITS, Site, Visit

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("visit", VISITS, ids=str)
def test_page_has_no_wcag_violations(
    visit: Visit, open_page: Callable[..., Page], site: Site
) -> None:
    page = open_page(visit.who)
    visit.go(page, site)
    # The lesson of a module starts with its own first-level heading.
    expect(page.get_by_role("heading", level=1).first).to_have_text(visit.heading)
    assert_accessible(page)
    # Reflow (WCAG 1.4.10): at 320 CSS pixels, as at 400% zoom, nothing but a data
    # table makes the page scroll sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    assert sticking_out(page) == []


@pytest.mark.parametrize("visit", VISITS, ids=str)
def test_page_has_no_wcag_violations_in_arabic(
    visit: Visit, open_in_arabic: Callable[[str | None], Page], site: Site
) -> None:
    page = open_in_arabic(visit.who)
    visit.go(page, replace(site, language="ar"))
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert sticking_out(page) == []


def test_axe_reports_what_it_finds(page: Page) -> None:
    """The check above can fail: a field without its label, pale text, are reported."""
    page.goto("/login")
    assert axe_violations(page) == []
    page.evaluate(
        """() => {
            document.querySelector('label[for=username]').remove();
            document.querySelector('h1').style.color = '#c8c8c8';
        }"""
    )
    violations = {v["id"]: v for v in axe_violations(page)}
    assert sorted(violations) == ["color-contrast", "label"]
    assert violations["label"]["nodes"][0]["target"] == ["#username"]
    assert violations["color-contrast"]["nodes"][0]["target"] == ["h1"]


def test_an_id_given_twice_is_reported(page: Page) -> None:
    page.goto("/login")
    assert duplicate_ids(page) == []
    page.evaluate("() => document.querySelector('h1').id = 'username'")
    assert duplicate_ids(page) == ["username"]
    with pytest.raises(AssertionError, match="ids given twice"):
        assert_accessible(page)


def test_skip_link_is_first_and_leads_to_the_content(page: Page) -> None:
    page.goto("/verify")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content$"))
    page.keyboard.press("Tab")
    # The next stop after the skip link is inside the main content, not the header.
    expect(page.get_by_label("Certificate code")).to_be_focused()


def test_focus_is_visible_on_every_control_of_the_sign_in_form(page: Page) -> None:
    page.goto("/login")
    for name in ("Username or service number", "Password", "Keep me signed in on this device"):
        control = page.get_by_label(name, exact=True)
        control.focus()
        outline = control.evaluate("(element) => getComputedStyle(element).outlineStyle")
        assert outline != "none", f"{name} shows no focus outline"
    button = page.get_by_role("button", name="Sign in")
    button.focus()
    assert button.evaluate("(element) => getComputedStyle(element).outlineStyle") != "none"
