"""Where a peacekeeper stopped follows them: to another browser, and across a sign-out."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.helpers import (
    PASSWORD,
    LiveServer,
    Person,
    answers,
    attempt_id,
    sign_in,
    start_quiz,
)

pytestmark = pytest.mark.browser

TITLE = "Reporting obligations"


def plan_item(page: Page, title: str) -> Locator:
    """Return the entry of a module in My training."""
    page.goto("/training/")
    plan = page.get_by_role("list", name="Mandatory modules and your status")
    return plan.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def read_to_section_3(page: Page) -> None:
    """Start reading the module and go on twice with its buttons."""
    page.goto("/training/reporting")
    page.get_by_role("button", name="Start reading").click()
    page.get_by_role("button", name="Next section").click()
    page.get_by_role("button", name="Next section").click()
    expect(page.get_by_text("Section 3 of 11")).to_be_visible()


def test_another_browser_continues_reading_and_the_quiz_where_the_first_stopped(
    new_context: Callable[..., BrowserContext],
    make_person: Callable[..., Person],
    live_server: LiveServer,
) -> None:
    person = make_person()
    first = new_context().new_page()
    sign_in(first, person.username, PASSWORD)
    read_to_section_3(first)

    # Another computer, with cookies of its own: a sign-in of its own.
    second = new_context().new_page()
    sign_in(second, person.username, PASSWORD)
    item = plan_item(second, TITLE)
    expect(item).to_contain_text("In progress")
    expect(item.get_by_role("link", name="Continue reading")).to_have_attribute(
        "href", re.compile(r"/training/reporting/sections/3$")
    )
    item.get_by_role("link", name="Continue reading").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Immediate danger comes first")
    expect(second.get_by_text("Section 3 of 11")).to_be_visible()

    # Back in the first browser: one answer saved as it is ticked, one by the button.
    start_quiz(first, "reporting")
    attempt = attempt_id(first)
    (q1, right1), (q2, right2), (q3, right3) = list(answers(live_server, attempt).items())[:3]
    first.locator(f"#q{q1}-{right1[0]}").check()
    expect(first.get_by_role("status")).to_have_text("Saved")
    first.locator(f"#q{q2}-{right2[0]}").check()
    first.get_by_role("button", name="Save and continue later").click()
    expect(first.get_by_role("status").first).to_contain_text("Saved. Your answers are kept")

    item = plan_item(second, TITLE)
    expect(item).to_contain_text("Your quiz is started and not submitted yet.")
    item.get_by_role("link", name="Continue the quiz").click()
    assert attempt_id(second) == attempt
    expect(second.locator(f"#q{q1}-{right1[0]}")).to_be_checked()
    expect(second.locator(f"#q{q2}-{right2[0]}")).to_be_checked()
    expect(second.locator(f"#q{q3}-{right3[0]}")).not_to_be_checked()
    progress = second.get_by_role("navigation", name="Your answers")
    expect(progress.get_by_text("answered", exact=True)).to_have_count(2)
    # The second browser answers one more, saved in the background.
    second.locator(f"#q{q3}-{right3[0]}").check()
    expect(second.get_by_role("status")).to_have_text("Saved")

    # The first signs out and in again: the module and the quiz are where both left them.
    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_text("You have signed out.")).to_be_visible()
    sign_in(first, person.username, PASSWORD)
    first.goto("/training/reporting")
    expect(first.get_by_text("In progress").first).to_be_visible()
    expect(first.get_by_role("link", name="Continue reading")).to_have_attribute(
        "href", re.compile(r"/training/reporting/sections/3$")
    )
    plan_item(first, TITLE).get_by_role("link", name="Continue the quiz").click()
    assert attempt_id(first) == attempt
    for question, options in ((q1, right1), (q2, right2), (q3, right3)):
        expect(first.locator(f"#q{question}-{options[0]}")).to_be_checked()
