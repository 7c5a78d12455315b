"""With JavaScript turned off, every page renders, is valid HTML, and every form does its job."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import (
    PASSWORD,
    HtmlChecker,
    LiveServer,
    Person,
    answers,
    assert_valid_html,
    attempt_id,
    sign_in,
)
from tests.browser.pages import ROSTER_HEADER, VISITS, Site, Visit, schedule_people, upload

pytestmark = pytest.mark.browser


@pytest.fixture
def no_script(new_context: Callable[..., BrowserContext]) -> Page:
    """A tab in a browser with JavaScript turned off."""
    return new_context(java_script_enabled=False).new_page()


def test_the_browser_runs_no_script(no_script: Page) -> None:
    no_script.set_content(
        "<p id='probe'>off</p><script>document.getElementById('probe').textContent = 'on'</script>"
    )
    expect(no_script.locator("#probe")).to_have_text("off")


@pytest.mark.parametrize("visit", VISITS, ids=str)
def test_page_works_without_javascript(
    visit: Visit, open_page: Callable[..., Page], site: Site, html_checker: HtmlChecker
) -> None:
    page = open_page(visit.who, java_script_enabled=False)
    visit.go(page, site)
    expect(page.get_by_role("heading", level=1).first).to_have_text(visit.heading)
    expect(page.get_by_role("contentinfo")).to_contain_text("Blue Beret")
    # Without scripts, the document is the page as served: the W3C's checker finds no
    # error and no warning in it.
    assert_valid_html(html_checker, page)


def test_the_html_checker_reports_what_it_finds(html_checker: HtmlChecker) -> None:
    page = '<!doctype html><html lang="en"><title>t</title><p id="a">x<p id="a">y</p>'
    assert html_checker.errors(page.replace('<p id="a">y', "<p>y")) == []
    problems = html_checker.errors(page)
    assert problems and "Duplicate ID “a”" in problems[0]


def test_sign_in_and_out_without_javascript(
    no_script: Page, make_person: Callable[..., Person]
) -> None:
    person = make_person(full_name="Tenzin Sherpa")
    no_script.goto("/login")
    no_script.get_by_label("Username or service number").fill(person.service_number)
    no_script.get_by_label("Password", exact=True).fill("not the password")
    no_script.get_by_role("button", name="Sign in").click()
    expect(no_script.get_by_role("alert")).to_contain_text("The username or password is not right")

    sign_in(no_script, person.service_number, PASSWORD)
    expect(no_script.get_by_role("heading", level=1)).to_have_text("My training")
    expect(no_script.get_by_role("banner")).to_contain_text("Tenzin Sherpa")

    no_script.get_by_role("button", name="Sign out").click()
    expect(no_script.get_by_role("status")).to_have_text("You have signed out.")
    no_script.goto("/training/")
    expect(no_script).to_have_url(re.compile(r"/login\?next="))


def test_quiz_without_javascript(
    no_script: Page, make_person: Callable[..., Person], live_server: LiveServer
) -> None:
    person = make_person()
    sign_in(no_script, person.username, PASSWORD)
    no_script.get_by_role(
        "link", name="Standards of conduct and the peacekeeper's duty of care"
    ).click()
    no_script.get_by_label("I confirm this undertaking.").check()
    no_script.get_by_role("button", name="Confirm", exact=True).click()
    expect(no_script.get_by_role("status")).to_contain_text("Your undertaking is recorded")
    no_script.get_by_role("button", name="Start the quiz").click()

    chosen = answers(live_server, attempt_id(no_script))
    questions = list(chosen)
    for question in questions[:-1]:
        for option in chosen[question]:
            no_script.locator(f"#q{question}-{option}").check()
    no_script.get_by_role("button", name="Submit my answers").click()

    # The unanswered question is named, and the answers given are still ticked.
    expect(no_script.get_by_role("alert")).to_contain_text("Choose an answer to question 10.")
    last = no_script.get_by_role("group").nth(9)
    expect(last).to_have_attribute("aria-describedby", f"error-{questions[-1]}")
    for question in questions[:-1]:
        for option in chosen[question]:
            expect(no_script.locator(f"#q{question}-{option}")).to_be_checked()

    for option in chosen[questions[-1]]:
        no_script.locator(f"#q{questions[-1]}-{option}").check()
    no_script.get_by_role("button", name="Submit my answers").click()
    expect(no_script.get_by_role("status")).to_have_text("You passed with 100%.")
    with no_script.expect_download() as download_info:
        no_script.get_by_role("link", name="Download your certificate (PDF)").click()
    assert download_info.value.suggested_filename.endswith(".pdf")


def test_roster_import_without_javascript(open_page: Callable[..., Page], site: Site) -> None:
    page = open_page("coordinator", java_script_enabled=False)
    path = site.files / "roster.csv"
    path.write_text(
        ROSTER_HEADER
        + "BR-70001,Keza Uwase,formed_police,DEMO-FPU-2,,,2026-07-01\n"
        + "BR-70002,Jean-Paul Habimana,formed_police,demo-fpu-2,manager,,\n",
        encoding="utf-8",
    )
    upload(page, path, site)

    expect(page.get_by_role("heading", level=1)).to_have_text("Roster preview")
    rows = page.get_by_role("table", name="People in the file").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Keza Uwase")
    expect(rows.nth(1)).to_contain_text("Jean-Paul Habimana")
    page.get_by_role("button", name="Confirm import").click()

    expect(page.get_by_role("status")).to_have_text("2 new people, 0 updated, 0 unchanged.")
    links = page.get_by_role("table", name="New people and their set-password links")
    expect(links).to_contain_text("Keza Uwase")
    expect(links).to_contain_text("Jean-Paul Habimana")


def test_account_recovery_without_javascript(
    new_context: Callable[..., BrowserContext],
    open_page: Callable[..., Page],
    make_person: Callable[..., Person],
) -> None:
    person = make_person(full_name="Amina Diallo")
    phone = new_context(java_script_enabled=False).new_page()
    sign_in(phone, person.username, PASSWORD)
    other = new_context(java_script_enabled=False).new_page()
    other.goto("/login")
    other.get_by_role("link", name="Forgot your password?").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    expect(other.get_by_role("main")).to_contain_text("Ask your training coordinator")

    coordinator = open_page("coordinator", java_script_enabled=False)
    coordinator.goto(f"/coordinator/people/{person.id}")
    coordinator.get_by_text("Forgotten password: issue a new set-password link").click()
    coordinator.get_by_role("button", name="Issue a new set-password link for Amina Diallo").click()
    expect(coordinator.get_by_role("status")).to_contain_text(
        "Amina Diallo is signed out on every device."
    )
    link = coordinator.locator("code.link").inner_text()
    assert "/set-password#" in link

    # The old password's session has ended.
    phone.goto("/training/")
    expect(phone).to_have_url(re.compile(r"/login\?next="))

    # Without script, the code after the # is pasted into the page's field.
    other.goto(link)
    code = other.get_by_label("Code from your link")
    expect(code).to_have_value("")
    code.fill(link.split("#", 1)[1])
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_text(person.service_number)).to_be_visible()
    other.get_by_label("New password", exact=True).fill("a new password for the field")
    other.get_by_label("New password again").fill("a new password for the field")
    other.get_by_role("button", name="Set my password").click()
    expect(other.get_by_role("status")).to_contain_text("Your password is set.")
    sign_in(other, person.service_number, "a new password for the field")
    expect(other.get_by_role("heading", level=1)).to_have_text("My training")


def test_schedule_a_session_without_javascript(
    open_page: Callable[..., Page], site: Site, make_person: Callable[..., Person]
) -> None:
    """Step 1, then filters, "everyone not yet complete" and a search, all kept in the form."""
    newcomers = [make_person(full_name=f"Zorba Quintero {n}") for n in (1, 2)]
    page = open_page("coordinator", java_script_enabled=False)
    schedule_people(page, site)
    page.get_by_label("Name or service number").fill("Zorba Quintero")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("checkbox", name=re.compile("Zorba Quintero"))).to_have_count(2)
    page.get_by_role("button", name="Tick everyone not yet complete on these modules").click()
    for person in newcomers:
        expect(page.get_by_role("checkbox", name=re.compile(person.full_name))).to_be_checked()
    # The whole battalion is ticked, the searched-for and the others alike.
    ticked = page.locator("#ticked-count")
    expect(ticked).not_to_have_text("0 people ticked.")
    page.get_by_role("checkbox", name=re.compile(newcomers[1].full_name)).uncheck()
    page.get_by_label("Date").fill("2030-07-01")
    page.get_by_label("Place").fill("Nepal Army Peace Operations Training Centre")
    page.get_by_role("button", name="Schedule the session").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Nepal Army Peace Operations Training Centre"
    )
    expect(page.get_by_role("status").first).to_contain_text("scheduled for")
    expect(page.get_by_role("cell", name=newcomers[0].service_number)).to_be_visible()
    expect(page.get_by_role("cell", name=newcomers[1].service_number)).to_have_count(0)
    # Cancelling asks first, then says so.
    page.get_by_role("link", name="Cancel the session").click()
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status").first).to_contain_text("is cancelled")
