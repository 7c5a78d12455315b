"""A quiz in Chromium on a line that drops: answers saved as they are given, and kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

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

SAVED = "Saved"
SIGNED_OUT = (
    "Not saved: you are signed out. Sign in again to go on; the answers saved before are kept."
)
# Kept on the device (IndexedDB) while the line is down, and said to be sent once back.
OFFLINE = (
    "Kept on this device: you are offline. Your answers will be sent when the connection returns."
)
SENT = "Saved: the answers kept on this device were sent."


def test_each_answer_is_saved_and_kept_offline_until_the_line_is_back(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = open_page("learner")
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    first, second, third = list(answers(live_server, attempt).items())[:3]
    status = page.get_by_role("status")
    expect(page.get_by_role("group").first).to_contain_text("Question 1 of 10")
    progress = page.get_by_role("navigation", name="Your answers")
    expect(progress.get_by_text("not answered yet", exact=True)).to_have_count(10)

    page.locator(f"#q{first[0]}-{first[1][0]}").check()
    expect(status).to_have_text(SAVED)
    expect(progress.get_by_text("answered", exact=True)).to_have_count(1)
    page.reload()
    expect(page.locator(f"#q{first[0]}-{first[1][0]}")).to_be_checked()
    expect(progress.get_by_text("answered", exact=True)).to_have_count(1)

    page.context.set_offline(True)
    page.locator(f"#q{second[0]}-{second[1][0]}").check()
    expect(status).to_have_text(OFFLINE)
    page.locator(f"#q{third[0]}-{third[1][0]}").check()
    expect(status).to_have_text(OFFLINE)
    page.context.set_offline(False)
    expect(status).to_have_text(SENT)
    page.reload()
    for question, options in (first, second, third):
        expect(page.locator(f"#q{question}-{options[0]}")).to_be_checked()
    # Starting again from the module's page continues the same attempt.
    start_quiz(page, "reporting")
    assert attempt_id(page) == attempt
    expect(page.locator(f"#q{third[0]}-{third[1][0]}")).to_be_checked()


def test_without_javascript_the_answers_are_saved_by_the_button(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = open_page("learner", java_script_enabled=False)
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    question, options = next(iter(answers(live_server, attempt).items()))
    page.locator(f"#q{question}-{options[0]}").check()
    page.get_by_role("button", name="Save and continue later").click()
    expect(page).to_have_url(re.compile(rf"/training/attempts/{attempt}$"))
    expect(page.get_by_role("status").first).to_contain_text("Saved. Your answers are kept")
    expect(page.locator(f"#q{question}-{options[0]}")).to_be_checked()
    link = page.get_by_role("navigation", name="Your answers").get_by_role("link").first
    expect(link).to_have_attribute("href", f"#question-{question}")


def test_after_a_sign_out_elsewhere_the_quiz_says_so_and_keeps_what_was_saved(
    new_context: Callable[..., BrowserContext],
    make_person: Callable[..., Person],
    live_server: LiveServer,
) -> None:
    person = make_person()
    page = new_context().new_page()
    sign_in(page, person.username, PASSWORD)
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    first, second = list(answers(live_server, attempt).items())[:2]
    page.locator(f"#q{first[0]}-{first[1][0]}").check()
    expect(page.get_by_role("status")).to_have_text(SAVED)

    other = page.context.new_page()
    other.goto("/training/")
    other.get_by_role("button", name="Sign out").click()
    page.locator(f"#q{second[0]}-{second[1][0]}").check()
    expect(page.get_by_role("status")).to_have_text(SIGNED_OUT)

    sign_in(other, person.username, PASSWORD)
    start_quiz(other, "reporting")
    assert attempt_id(other) == attempt
    expect(other.locator(f"#q{first[0]}-{first[1][0]}")).to_be_checked()
    expect(other.locator(f"#q{second[0]}-{second[1][0]}")).not_to_be_checked()


def test_a_save_that_gets_no_answer_is_sent_again(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    """A network that says it is online but reaches nowhere: the browser still retries."""
    page = open_page("learner")
    start_quiz(page, "reporting")
    question, options = next(iter(answers(live_server, attempt_id(page)).items()))
    page.route("**/answers", lambda route: route.abort("internetdisconnected"))
    page.locator(f"#q{question}-{options[0]}").check()
    expect(page.get_by_role("status")).to_have_text(OFFLINE)
    page.unroute("**/answers")
    expect(page.get_by_role("status")).to_have_text(SENT)
    page.reload()
    expect(page.locator(f"#q{question}-{options[0]}")).to_be_checked()
