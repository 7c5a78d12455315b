"""Every button and field is big enough to hit with a thumb, on a phone as on a desktop.

WCAG 2.2's target size (2.5.8) asks 24 by 24 CSS pixels at least; the main action of a
form, the button marked `primary`, is 44 pixels tall, as the platforms' guidelines ask
of what a person taps most. Measured on every kind of page of the accessibility test, at
a phone's width and a desktop's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.pages import VISITS, Site, Visit

pytestmark = pytest.mark.browser

CONTROLS = "button, input:not([type=hidden]), select, textarea, a.button"
PRIMARY = ".primary"
MINIMUM = 24
PRIMARY_HEIGHT = 44
WIDTHS = (1280, 360)

# Each visible control: what it is, its size, and whether it is the form's main action.
MEASURE = """(selector) => Array.from(document.querySelectorAll(selector))
    .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map((e) => {
        const box = e.getBoundingClientRect();
        const name = (e.innerText || e.value || e.name || e.id || '').trim().slice(0, 40);
        return {what: `${e.tagName.toLowerCase()}[${e.type || ''}] "${name}"`,
                width: box.width, height: box.height, primary: e.matches('.primary')};
    })"""


def too_small(page: Page) -> list[str]:
    """Return the controls of the page smaller than they must be, with their size."""
    problems = []
    controls: list[dict[str, Any]] = page.evaluate(MEASURE, CONTROLS)
    assert controls, "the page has no control to measure"
    for control in controls:
        size = f"{control['what']} {control['width']:.0f}x{control['height']:.0f}"
        if min(control["width"], control["height"]) < MINIMUM:
            problems.append(size)
        elif control["primary"] and control["height"] < PRIMARY_HEIGHT:
            problems.append(f"{size} (primary)")
    return problems


@pytest.mark.parametrize("visit", VISITS, ids=str)
def test_every_control_is_big_enough_to_hit(
    visit: Visit, open_page: Callable[..., Page], site: Site
) -> None:
    page = open_page(visit.who)
    visit.go(page, site)
    page.wait_for_load_state("load")
    found = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found[width] = too_small(page)
    assert not any(found.values()), found


def test_the_measure_finds_a_small_button(page: Page) -> None:
    """The check above can fail: a main action 40 px tall, a button 20 px tall, are reported."""
    page.goto("/login")
    assert too_small(page) == []
    shrink = """(height) => {
        const button = document.querySelector('main .primary');
        Object.assign(button.style, {padding: '0', minHeight: '0', border: '0',
                                     lineHeight: height});
    }"""
    page.evaluate(shrink, "40px")
    (reported,) = too_small(page)
    assert reported.endswith("x40 (primary)")
    page.evaluate(shrink, "20px")
    (reported,) = too_small(page)
    assert reported.endswith("x20")
