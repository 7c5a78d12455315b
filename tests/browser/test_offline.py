"""A module kept on the device in Chromium: read and answered with the network cut, the
quiz submitted once when it returns; signing out leaves nothing behind."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, Request, Route, expect

from app.extensions import db
from app.models import Completion, QuizAttempt
from tests.browser.helpers import (
    LiveServer,
    answers,
    assert_accessible,
    attempt_id,
    start_quiz,
)
from tests.browser.pages import Site

pytestmark = pytest.mark.browser

KEPT = (
    "Kept on this device: you are offline. Your answers will be sent when the connection returns."
)
KEPT_SUBMIT = (
    "Kept on this device: you are offline. "
    "Your answers will be submitted when the connection returns."
)
SUBMITTED = "Your answers were submitted. See the result"
STORED = """async () => ({
    caches: (await Promise.all((await caches.keys()).map(
        async (name) => (await (await caches.open(name)).keys()).length)))
        .reduce((a, b) => a + b, 0),
    databases: (await indexedDB.databases()).map((d) => d.name),
    workers: (await navigator.serviceWorker.getRegistrations()).length,
})"""


def unordered(given: dict[str, list[str]] | None) -> dict[str, set[str]]:
    """Return the options chosen per question, whatever the order they were shown in."""
    return {question: set(options) for question, options in (given or {}).items()}


def cut_network(page: Page, cut: bool) -> None:
    """Switch the network off (or on again) for the page and its service worker.

    Chromium's offline switch does not reach the requests a service worker lets through
    to the network: those are refused as a dead line refuses them.
    """
    if cut:
        page.context.set_offline(True)
        page.context.route("**/*", disconnected)
    else:
        page.context.unroute("**/*", disconnected)
        page.context.set_offline(False)


def disconnected(route: Route) -> None:
    route.abort("internetdisconnected")


def keep_module(page: Page, slug: str, t: Callable[[str], str] = str) -> None:
    """Press "Keep this module on this device" and wait until the worker serves the page.

    `t` gives the words of the page's language (Site.t); English by default.
    """
    page.goto(f"/training/{slug}")
    device = page.get_by_role("region", name=t("On this device"))
    device.get_by_role("button", name=t("Keep this module on this device")).click()
    expect(device.locator(".offline-state")).not_to_be_empty()
    expect(device.get_by_role("button", name=t("Remove from this device"))).to_be_visible()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def test_without_a_connection_the_kept_quiz_is_answered_and_submitted_once_it_returns(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = open_page("learner")
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    keep_module(page, "reporting")
    device = page.get_by_role("region", name="On this device")
    expect(device).to_contain_text("Kept on this device since")
    expect(device).to_contain_text("the whole module on one page and your quiz")
    expect(device.get_by_role("button", name="Remove from this device")).to_be_visible()
    assert_accessible(page)

    submissions: list[Request] = []
    page.on(
        "request",
        lambda r: (
            submissions.append(r)
            if r.method == "POST" and r.url.endswith(f"/attempts/{attempt}")
            else None
        ),
    )
    page.goto(f"/training/attempts/{attempt}")
    status = page.get_by_role("status")
    chosen = list(answers(live_server, attempt).items())
    first = chosen[0]
    for option in first[1]:
        page.locator(f"#q{first[0]}-{option}").check()
    expect(status).to_have_text("Saved")

    cut_network(page, True)
    for question, options in chosen[1:5]:
        for option in options:
            page.locator(f"#q{question}-{option}").check()
    expect(status).to_have_text(KEPT)
    assert_accessible(page)
    # The page itself, and the module's sections, come from the device.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz: Reporting obligations")
    for question, options in chosen[:5]:
        expect(page.locator(f"#q{question}-{options[0]}")).to_be_checked()
    expect(status).to_have_text(KEPT)
    page.goto("/training/reporting/sections/1")
    # Next section records the reading by a POST when online; offline it opens the page kept.
    page.get_by_role("button", name="Next section").click()
    expect(page).to_have_url(re.compile(r"/training/reporting/sections/2$"))
    expect(page.get_by_text("Section 2 of")).to_be_visible()
    page.goto("/training/reporting/all")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reporting obligations")
    page.goto(f"/training/attempts/{attempt}")
    for question, options in chosen[5:]:
        for option in options:
            page.locator(f"#q{question}-{option}").check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(status).to_have_text(KEPT_SUBMIT)
    expect(page).to_have_url(re.compile(rf"/training/attempts/{attempt}$"))
    with live_server.data():
        row = db.session.get(QuizAttempt, attempt)
        assert row is not None and row.submitted_at is None
        assert unordered(row.saved_answers) == unordered({first[0]: first[1]})

    cut_network(page, False)
    expect(status).to_have_text(SUBMITTED)
    with live_server.data():
        row = db.session.get(QuizAttempt, attempt)
        assert row is not None and row.submitted_at is not None
        assert unordered(row.answers) == unordered(dict(chosen))
        assert row.passed and row.score == 100
        assert row.answered_at is not None and row.arrived_at == row.submitted_at
        assert row.started_at <= row.answered_at <= row.arrived_at
        completions = db.session.scalars(
            sa.select(Completion).where(Completion.attempt_id == attempt)
        ).all()
        assert len(completions) == 1
    page.get_by_role("link", name="See the result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Result: Reporting obligations")
    expect(page.get_by_text("You passed")).to_be_visible()
    # The quiz's copy went when it became a result: no result is ever kept.
    page.wait_for_function(
        """(url) => caches.open('blue-beret-kept')
            .then((cache) => cache.match(url, {ignoreVary: true}))
            .then((copy) => copy === undefined)""",
        arg=f"{live_server.url}/training/attempts/{attempt}",
    )
    # Nothing is sent again: not on coming back to the page, not on the next connection.
    page.reload()
    cut_network(page, True)
    cut_network(page, False)
    page.goto(f"/training/attempts/{attempt}")
    expect(page.get_by_text("You passed")).to_be_visible()
    assert len(submissions) == 1


def test_a_module_removed_from_the_device_is_no_longer_served_offline(
    open_page: Callable[..., Page],
) -> None:
    page = open_page("learner")
    keep_module(page, "reporting")
    device = page.get_by_role("region", name="On this device")
    device.get_by_role("button", name="Remove from this device").click()
    expect(device).to_contain_text("Removed from this device.")
    expect(device.get_by_role("button", name="Remove from this device")).to_be_hidden()
    assert page.evaluate(STORED)["caches"] == 0
    cut_network(page, True)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto("/training/reporting/all")


@pytest.mark.parametrize("by", ["button", "header alone"])
def test_signing_out_removes_what_was_kept_on_the_device(
    open_page: Callable[..., Page], live_server: LiveServer, by: str
) -> None:
    page = open_page("learner")
    start_quiz(page, "reporting")
    question, options = next(iter(answers(live_server, attempt_id(page)).items()))
    page.locator(f"#q{question}-{options[0]}").check()
    expect(page.get_by_role("status")).to_have_text("Saved")
    keep_module(page, "reporting")
    kept = page.evaluate(STORED)
    assert kept["caches"] > 5 and "blue-beret" in kept["databases"] and kept["workers"] == 1

    if by == "button":
        page.get_by_role("button", name="Sign out").click()
    else:
        # The form sent without its script: the Clear-Site-Data header does it all.
        page.evaluate("() => document.querySelector('form.signout').submit()")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.wait_for_function(
        """async () => (await caches.keys()).length === 0
            && (await indexedDB.databases()).length === 0
            && (await navigator.serviceWorker.getRegistrations()).length === 0"""
    )
    cut_network(page, True)
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.goto("/training/reporting/all")


def test_a_kept_page_whose_token_is_stale_sends_with_the_current_one(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    """A page kept for hours may hold the token of a session renewed since: fetched again."""
    page = open_page("learner")
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    question, options = next(iter(answers(live_server, attempt).items()))
    cut_network(page, True)
    for option in options:
        page.locator(f"#q{question}-{option}").check()
    expect(page.get_by_role("status")).to_have_text(KEPT)
    page.evaluate(
        "() => { document.querySelector('form.quiz [name=csrf_token]').value = 'stale'; }"
    )
    cut_network(page, False)
    expect(page.get_by_role("status")).to_have_text(
        "Saved: the answers kept on this device were sent."
    )
    with live_server.data():
        row = db.session.get(QuizAttempt, attempt)
        assert row is not None
        assert unordered(row.saved_answers) == unordered({question: options})


def test_submitting_offline_with_a_question_left_says_which_and_keeps_no_submission(
    open_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = open_page("learner")
    start_quiz(page, "reporting")
    attempt = attempt_id(page)
    cut_network(page, True)
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("status")).to_have_text(
        "Answer every question before submitting: question 1 is not answered yet."
    )
    expect(page.locator("form.quiz fieldset input").first).to_be_focused()
    cut_network(page, False)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz: Reporting obligations")
    with live_server.data():
        row = db.session.get(QuizAttempt, attempt)
        assert row is not None and row.submitted_at is None


def test_the_kept_module_and_the_quiz_offline_read_well_in_arabic(
    open_in_arabic: Callable[[str | None], Page], site: Site, live_server: LiveServer
) -> None:
    page = open_in_arabic("learner")
    t = replace(site, language="ar").t
    start_quiz(page, "reporting", t)
    attempt = attempt_id(page)
    keep_module(page, "reporting", t)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert_accessible(page)
    page.goto(f"/training/attempts/{attempt}")
    question, options = next(iter(answers(live_server, attempt).items()))
    cut_network(page, True)
    page.locator(f"#q{question}-{options[0]}").check()
    expect(page.get_by_role("status")).to_have_text(
        t(
            "Kept on this device: you are offline. "
            "Your answers will be sent when the connection returns."
        )
    )
    assert_accessible(page)
    cut_network(page, False)
