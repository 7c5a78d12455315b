"""Whole journeys in Chromium: a peacekeeper, a training coordinator, a commander."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Download, Page, expect

from tests.browser.helpers import (
    DEMO_PASSWORD,
    PASSWORD,
    LiveServer,
    answer_quiz,
    sign_in,
)
from tests.browser.pages import PRINT_PAGE, ROSTER_EXAMPLE

pytestmark = pytest.mark.browser

PEACEKEEPER_MODULES = [
    "Reporting obligations",
    "Standards of conduct and the peacekeeper's duty of care",
    "Zero tolerance: preventing sexual exploitation and abuse",
]
ZERO_TOLERANCE = "Zero tolerance: preventing sexual exploitation and abuse"
READINESS = {
    "Kiran Gurung": "Ready",
    "Dawa Lama": "Ready",
    "Sita Rai": "Expiring",
    "Bishnu Tamang": "Blocked",
}


def pdf_text(data: bytes) -> str:
    """Return the text of a PDF, as pdftotext reads it."""
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


def downloaded(download: Download) -> bytes:
    path = download.path()
    assert path is not None, download.failure()
    return Path(path).read_bytes()


def test_peacekeeper_passes_a_module_and_downloads_the_certificate(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, "peacekeeper", DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/training/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My training")
    modules = page.get_by_role("list", name="Mandatory modules and your status")
    # Command responsibility is for commanders and managers only.
    expect(modules.get_by_role("heading")).to_have_text(PEACEKEEPER_MODULES)
    expect(modules.get_by_text("Not started")).to_have_count(3)
    expect(page.get_by_text("You have no certificate yet.")).to_be_visible()

    modules.get_by_role("heading").get_by_role("link", name=ZERO_TOLERANCE).click()
    expect(page.get_by_role("heading", level=1).first).to_have_text(ZERO_TOLERANCE)
    expect(page.get_by_role("navigation", name="Contents")).to_be_visible()
    expect(page.get_by_text("Confirm the undertaking above to take the quiz.")).to_be_visible()
    expect(page.get_by_role("button", name="Start the quiz")).to_have_count(0)

    page.get_by_label("I confirm this undertaking.").check()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Thank you. Your undertaking is recorded. You can now take the quiz."
    )
    expect(page.get_by_text("You confirmed this undertaking on")).to_be_visible()

    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quiz: {ZERO_TOLERANCE}")
    expect(page.get_by_role("group")).to_have_count(10)
    answer_quiz(page, live_server)
    page.get_by_role("button", name="Submit my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Result: {ZERO_TOLERANCE}")
    expect(page.get_by_role("status")).to_have_text("You passed with 100%.")
    expect(page.get_by_text("Not right")).to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your certificate (PDF)").click()
    download = download_info.value
    assert re.fullmatch(r"certificate-[A-Z0-9-]+\.pdf", download.suggested_filename)
    pdf = downloaded(download)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Amina Haddad" in text
    assert "Zero tolerance" in text

    page.get_by_role("link", name="Back to my training").click()
    card = modules.get_by_role("listitem").filter(has_text=ZERO_TOLERANCE)
    expect(card.get_by_text("Completed")).to_be_visible()
    expect(card.get_by_role("link", name="Download certificate")).to_be_visible()
    expect(page.get_by_role("link", name="download PDF")).to_have_count(1)


def roster_people() -> list[dict[str, str]]:
    with ROSTER_EXAMPLE.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def people_list(page: Page) -> set[str]:
    """Open the list of people and their modules; return every name, page after page."""
    page.goto("/coordinator/people")
    expect(page.get_by_role("heading", level=1)).to_have_text("People and their modules")
    names: set[str] = set()
    while True:
        names.update(page.get_by_role("table").locator("tbody tr td:first-child").all_inner_texts())
        following = page.get_by_role("link", name="Next")
        if not following.count():
            return names
        following.click()


def test_coordinator_imports_a_roster_and_sees_the_new_people(
    page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    sign_in(page, "coordinator", DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/coordinator/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Training dashboard")
    matrix = page.locator("table.matrix")
    for unit in ("Infantry Battalion 1", "Formed Police Unit 2"):
        expect(matrix.get_by_role("rowheader").filter(has_text=unit)).to_have_count(1)
    expect(matrix.get_by_role("columnheader")).to_contain_text(
        ["Unit", "All modules", "Command responsibility", "Reporting obligations"]
    )
    expect(matrix).to_contain_text("%")
    by_unit = page.get_by_role("img", name=re.compile(r"^Share of mandatory modules completed"))
    expect(by_unit).to_contain_text("Infantry Battalion 1")
    expect(by_unit).to_contain_text("Formed Police Unit 2")
    expect(page.get_by_role("img", name="Modules completed per month")).to_be_visible()

    before = people_list(page)
    people = roster_people()
    assert not {person["full_name"] for person in people} & before

    page.get_by_role("link", name="Units").click()
    page.get_by_role("link", name="Import a roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a roster")
    page.get_by_label("Roster file (XLSX, ODS or CSV)").set_input_files(ROSTER_EXAMPLE)
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Roster preview")
    expect(page.get_by_text("File: roster-example.csv")).to_be_visible()
    rows = page.get_by_role("table", name="People in the file").locator("tbody tr")
    expect(rows).to_have_count(len(people))
    for index, person in enumerate(people):
        expect(rows.nth(index).get_by_role("cell")).to_have_text(
            [str(index + 2), person["service_number"], person["full_name"], person["unit"], "New"]
        )
    page.get_by_role("button", name="Confirm import").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Roster imported")
    expect(page.get_by_role("status")).to_have_text("8 new people, 0 updated, 0 unchanged.")
    links = page.get_by_role("table", name="New people and their set-password links")
    expect(links.locator("tbody tr")).to_have_count(len(people))
    first = links.locator("tbody tr").first
    expect(first).to_contain_text(people[0]["full_name"])
    link = first.locator("code.link").inner_text()
    assert link.startswith(f"{live_server.url}/set-password#")

    # The printed link works: the person sets a password and signs in with their number.
    newcomer = new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_text(people[0]["service_number"])).to_be_visible()
    newcomer.get_by_label("New password", exact=True).fill(PASSWORD)
    newcomer.get_by_label("New password again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Set my password").click()
    sign_in(newcomer, people[0]["service_number"], PASSWORD)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("My training")

    page.get_by_role("link", name="Back to your units").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training dashboard")
    after = people_list(page)
    assert {person["full_name"] for person in people} <= after
    assert before <= after


def test_commander_prints_the_records_of_the_ready(page: Page) -> None:
    sign_in(page, "commander", DEMO_PASSWORD)

    expect(page).to_have_url(re.compile(r"/commander/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness of your units")
    page.get_by_role("link", name="Infantry Battalion 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness: Infantry Battalion 1")
    board = page.locator("table.readiness")
    for name, readiness in READINESS.items():
        expect(board.get_by_role("row").filter(has_text=name)).to_contain_text(readiness)

    page.get_by_role("link", name="Print certificates").click()
    expect(page).to_have_url(PRINT_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Print training records: Infantry Battalion 1"
    )
    print_page = page.url
    for name, readiness in READINESS.items():
        person = page.get_by_role("checkbox", name=re.compile(name))
        expect(person).not_to_be_checked()
        expect(page.locator("label").filter(has_text=name)).to_contain_text(readiness)

    # Everyone who is Ready, in one PDF.
    expect(page.get_by_role("radio", name=re.compile(r"^One PDF"))).to_be_checked()
    page.get_by_role("button", name="Print all Ready").click()
    pdf = downloaded(wait_and_download(page))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Kiran Gurung" in text
    assert "Dawa Lama" in text
    assert "Sita Rai" not in text
    assert "Bishnu Tamang" not in text

    # Two people chosen by hand, one PDF each in a ZIP file.
    page.goto(print_page)
    page.get_by_role("checkbox", name=re.compile("Kiran Gurung")).check()
    page.get_by_role("checkbox", name=re.compile("Sita Rai")).check()
    page.get_by_role("radio", name=re.compile(r"ZIP")).check()
    page.get_by_role("button", name="Print selected").click()
    archive = zipfile.ZipFile(io.BytesIO(downloaded(wait_and_download(page))))
    names = sorted(archive.namelist())
    assert len(names) == 2, names
    assert "DEMO-M001" in names[0]  # Kiran Gurung's service number
    assert "DEMO-M002" in names[1]  # Sita Rai's
    assert "Kiran Gurung" in pdf_text(archive.read(names[0]))
    assert "Sita Rai" in pdf_text(archive.read(names[1]))


def wait_and_download(page: Page) -> Download:
    """Wait on the status page, which reloads itself, for the file; download it."""
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Printing training records: Infantry Battalion 1"
    )
    link = page.get_by_role("link", name=re.compile(r"^Download "))
    expect(link).to_be_visible(timeout=120_000)
    expect(page.get_by_role("heading", name="Ready to download")).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    return download_info.value
