"""Tables on a phone and on a desktop: every column of every row is on screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import VISITS, Site, Visit

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WITH_TABLES = [
    "coordinator dashboard", "coordinator unit", "people", "overdue people", "person",
    "commander overview", "commander unit", "admin", "admin accounts", "admin audit trail",
    "admin certificate search",
]  # fmt: skip
TABLE_VISITS = [visit for visit in VISITS if visit.name in WITH_TABLES]

# Every cell of every table in the content, with where it is and the column name it shows.
CELLS = """() => {
    const edge = document.documentElement.clientWidth + 0.5;
    const problems = [];
    if (document.documentElement.scrollWidth > edge) {
        problems.push(`the page is ${document.documentElement.scrollWidth}px wide`);
    }
    const tables = [...document.querySelectorAll('main table')];
    for (const cell of document.querySelectorAll('main table tbody td, main table tbody th')) {
        const box = cell.getBoundingClientRect();
        const what = cell.outerHTML.slice(0, 100);
        if (box.width === 0 || box.height === 0) problems.push(`hidden: ${what}`);
        if (box.left < -0.5 || box.right > edge) problems.push(`off screen: ${what}`);
        const label = cell.getAttribute('data-label');
        const shown = getComputedStyle(cell, '::before').content;
        if (label && shown !== JSON.stringify(label)) problems.push(`no column name: ${what}`);
    }
    return {tables: tables.length, problems};
}"""


@pytest.mark.parametrize("visit", TABLE_VISITS, ids=str)
def test_every_table_shows_all_its_information_on_a_phone(
    visit: Visit, open_page: Callable[..., Page], site: Site
) -> None:
    page = open_page(visit.who, viewport=PHONE)
    visit.go(page, site)
    found = page.evaluate(CELLS)
    assert found["tables"] > 0
    assert found["problems"] == []


# The matrix has a column per module: on a wide screen it may scroll within its frame.
FITS = """() => [...document.querySelectorAll('main table')]
    .filter((t) => !t.closest('.scroll'))
    .filter((t) => {
        const frame = t.parentElement.getBoundingClientRect();
        return t.getBoundingClientRect().right > frame.right + 0.5;
    })
    .map((t) => `${Math.round(t.getBoundingClientRect().width)}px: ${t.outerHTML.slice(0, 80)}`)"""


@pytest.mark.parametrize("visit", TABLE_VISITS, ids=str)
def test_tables_fit_the_page_on_a_desktop(
    visit: Visit, open_page: Callable[..., Page], site: Site
) -> None:
    page = open_page(visit.who, viewport=DESKTOP)
    visit.go(page, site)
    assert page.evaluate(FITS) == []


def test_readiness_index_shows_ready_on_a_phone(open_page: Callable[..., Page]) -> None:
    page = open_page("commander", viewport=PHONE)
    page.goto("/commander/")
    first = page.locator("main table tbody tr").first
    for column in ("Country", "Blocked", "Expiring", "Ready"):
        cell = first.locator(f'td[data-label="{column}"]')
        expect(cell).to_be_in_viewport(ratio=1)


# Each line of My training's plan, as laid out: the characters on it, for every line of a
# paragraph or heading but its last (which may be as short as it likes).
PLAN_LINES = """() => {
    const lines = [];
    for (const block of document.querySelectorAll('main .plan-item > *')) {
        const tops = new Map();
        const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
                if (!node.data[i].trim()) continue;
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                const rect = range.getBoundingClientRect();
                if (rect.width === 0) continue;
                const top = Math.round(rect.bottom);
                tops.set(top, (tops.get(top) || '') + node.data[i]);
            }
        }
        const ordered = [...tops.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
        lines.push(...ordered.slice(0, -1));
    }
    return {cards: document.querySelectorAll('main .plan-item').length, lines};
}"""


def test_my_training_reads_in_full_lines_on_a_phone(open_page: Callable[..., Page]) -> None:
    page = open_page("learner", viewport=PHONE)
    page.goto("/training/")
    found = page.evaluate(PLAN_LINES)
    assert found["cards"] > 0
    # Spaces are not counted: 20 characters or more is 3 or 4 words on every line.
    short = [line for line in found["lines"] if len(line) < 17]
    assert short == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
