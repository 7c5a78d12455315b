"""A facilitator enters a session's results from the paper sheets, with JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Completion, DeliveryMode, Unit, User
from app.models.types import utcnow
from app.services import classroom, training
from app.services.classroom import results
from tests.browser.helpers import LiveServer, Person, assert_accessible
from tests.classroom.sheets import key_letters

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Sheet:
    code: str
    name: str
    letters: list[str]
    multiple: list[bool]
    signed: bool  # the module asks for an undertaking


@dataclass(frozen=True)
class Scheduled:
    id: int
    sheets: list[Sheet]


@pytest.fixture
def schedule(
    live_server: LiveServer, make_person: Callable[..., Person]
) -> Callable[..., Scheduled]:
    """Schedule a session held today, facilitated by the demo facilitator, for new people."""

    def make(count: int, slugs: tuple[str, ...]) -> Scheduled:
        people = [make_person() for _ in range(count)]
        with live_server.data():
            admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
            facilitator = db.session.scalar(sa.select(User).where(User.username == "facilitator"))
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == "DEMO-INF-1"))
            assert admin and facilitator and unit
            versions = [training.current_version(slug) for slug in slugs]
            session = classroom.schedule(
                admin,
                unit,
                utcnow().date(),
                "Peacekeeping Training Centre, Accra",
                [v for v in versions if v is not None],
                [facilitator],
                [db.session.get(User, person.id) for person in people],
            )
            db.session.commit()
            entry = results.blank(session)
            return Scheduled(
                session.id,
                [
                    Sheet(
                        row.sheet.code,
                        row.name,
                        key_letters(row.sheet),
                        row.multiple,
                        row.needs_undertaking,
                    )
                    for row in entry.rows
                ],
            )

    return make


def classroom_completions(server: LiveServer, session_id: int) -> int:
    with server.data():
        return len(
            db.session.scalars(
                sa.select(Completion).where(
                    Completion.session_id == session_id,
                    Completion.delivery_mode == DeliveryMode.CLASSROOM,
                )
            ).all()
        )


def test_the_grid_with_javascript_jumps_and_moves_on_as_letters_are_typed(
    open_page: Callable[..., Page], schedule: Callable[..., Scheduled], live_server: LiveServer
) -> None:
    session = schedule(2, ("reporting", "zero-tolerance"))
    page = open_page("facilitator")
    page.goto(f"/sessions/{session.id}/results")
    assert_accessible(page)
    # The code typed (or scanned) jumps to the sheet's row, without leaving the page.
    last = session.sheets[-1]
    page.get_by_label("Sheet code").fill(last.code.lower())
    page.get_by_label("Sheet code").press("Enter")
    expect(page.get_by_label(f"Present, {last.name}").last).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/sessions/{session.id}/results$"))
    for sheet in session.sheets:
        if sheet.signed:
            page.locator(f"[name=signed-{sheet.code}]").check()
        page.locator(f"#answer-{sheet.code}-1").focus()
        for number, (letters, multiple) in enumerate(
            zip(sheet.letters, sheet.multiple, strict=True), start=1
        ):
            field = page.locator(f"#answer-{sheet.code}-{number}")
            expect(field).to_be_focused()
            page.keyboard.type(letters.lower())
            expect(field).to_have_value(letters)
            if multiple:
                # Several letters may follow: Enter moves on, and does not send the grid.
                page.keyboard.press("Enter")
        # The last letter of a sheet moves on to the next row.
        if sheet is not session.sheets[-1]:
            expect(
                page.locator(f"#present-{session.sheets[session.sheets.index(sheet) + 1].code}")
            ).to_be_focused()
    page.get_by_role("button", name="Preview the scores").click()
    expect(page.get_by_text("Every row is valid.")).to_be_visible()
    expect(page.locator("td.score")).to_have_text(["100%: passed"] * len(session.sheets))
    assert_accessible(page)
    assert classroom_completions(live_server, session.id) == 0
    page.get_by_role("button", name="Confirm and record the results").click()
    expect(page.get_by_text("The results are recorded: 2 present, 0 absent")).to_be_visible()
    assert classroom_completions(live_server, session.id) == len(session.sheets)


def test_the_grid_without_javascript_previews_and_records_the_results(
    open_page: Callable[..., Page], schedule: Callable[..., Scheduled], live_server: LiveServer
) -> None:
    session = schedule(2, ("reporting",))
    page = open_page("facilitator", java_script_enabled=False)
    page.goto(f"/sessions/{session.id}/results")
    first, second = session.sheets
    # The second participant was absent: their sheet stays blank and unused.
    page.get_by_label(f"Present, {second.name}").uncheck()
    if first.signed:
        page.locator(f"[name=signed-{first.code}]").check()
    for number, letters in enumerate(first.letters, start=1):
        # Typed as a facilitator might: lower case, letters apart.
        page.locator(f"#answer-{first.code}-{number}").fill(" ".join(letters.lower()))
    page.get_by_role("button", name="Preview the scores").click()
    expect(page.get_by_text("Every row is valid.")).to_be_visible()
    expect(page.locator("td.score").first).to_have_text("100%: passed")
    assert classroom_completions(live_server, session.id) == 0
    page.get_by_role("button", name="Confirm and record the results").click()
    expect(page.get_by_text("The results are recorded: 1 present, 1 absent")).to_be_visible()
    assert classroom_completions(live_server, session.id) == 1
