"""A quiz printed on a session's answer sheet is taken there, not online meanwhile.

The sheet holds the person's open attempt until the session's results are recorded, the
session is cancelled, or its entry window (its day plus CLASSROOM_GRACE_DAYS) closes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AnswerSheet, ClassroomSession, QuizAttempt, User
from app.models.types import utcnow
from app.services import classroom
from tests.fixtures import answers_for, post, shown_day
from tests.fixtures.classroom import pass_on_paper

REFUSED = "Your quiz for this module is on paper, in session"


@pytest.fixture
def learner(make_user: Callable[..., User]) -> User:
    return make_user(full_name="Ama Owusu")


@pytest.fixture
def held(make_session: Callable[..., ClassroomSession], learner: User) -> ClassroomSession:
    """A session in a week whose sheets hold the learner's basics quiz."""
    return make_session([learner])


def sheet_attempt(session: ClassroomSession, person: User) -> QuizAttempt:
    sheet = db.session.scalar(
        sa.select(AnswerSheet).where(
            AnswerSheet.session_id == session.id, AnswerSheet.user_id == person.id
        )
    )
    assert sheet is not None
    return sheet.attempt


def page(client, url: str) -> str:
    return html.unescape(client.get(url, follow_redirects=True).get_data(as_text=True))


def basics_item(client) -> str:
    """Return the basics module's entry in the plan on My training."""
    shown = page(client, "/training/")
    start = shown.index('id="plan-basics"')
    return shown[start : shown.index("</li>", start)]


def test_my_training_shows_the_quiz_on_paper_instead_of_start(client, login, learner, held):
    login(learner)
    shown = basics_item(client)
    assert f"On paper in session {held.code} on {shown_day(held.held_on)}." in shown
    assert "Your quiz is on paper: your facilitator records it after the session." in shown
    assert "Continue the quiz" not in shown and ">Start<" not in shown


def test_the_module_page_says_when_it_can_be_taken_online(client, login, learner, held):
    login(learner)
    shown = page(client, "/training/basics")
    online_from = held.held_on + timedelta(days=31)
    assert f"{REFUSED} {held.code} on {shown_day(held.held_on)}." in shown
    assert f"or from {shown_day(online_from)} if they are not recorded by then" in shown
    assert "Start the quiz" not in shown


def test_starting_online_is_refused_while_the_sheet_is_held(client, login, learner, held):
    login(learner)
    response = post(client, "/training/basics/attempts", follow_redirects=True)
    assert REFUSED in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 1


def test_the_sheets_attempt_cannot_be_opened_saved_or_submitted_online(
    client, login, db, learner, held
):
    login(learner)
    attempt = sheet_attempt(held, learner)
    assert REFUSED in page(client, f"/training/attempts/{attempt.id}")
    form = answers_for(db, attempt.id)
    response = post(client, f"/training/attempts/{attempt.id}", form, follow_redirects=True)
    assert REFUSED in html.unescape(response.get_data(as_text=True))
    saved = post(
        client,
        f"/training/attempts/{attempt.id}/answers",
        form,
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 400 and REFUSED in saved.get_json()["message"]
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.submitted_at is None and attempt.saved_answers is None


def test_a_cancelled_session_gives_the_quiz_back_online(
    client, login, db, learner, held, coordinator
):
    classroom.cancel(held, coordinator)
    db.session.commit()
    login(learner)
    attempt = sheet_attempt(held, learner)
    assert "Continue the quiz" in basics_item(client)
    response = post(client, f"/training/attempts/{attempt.id}", answers_for(db, attempt.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).passed


def test_the_sheet_is_held_until_the_entry_window_closes(client, login, db, learner, held, app):
    grace = app.config["CLASSROOM_GRACE_DAYS"]
    login(learner)
    attempt = sheet_attempt(held, learner)
    # The last day results may be entered: still on paper.
    held.held_on = utcnow().date() - timedelta(days=grace)
    db.session.commit()
    assert REFUSED in page(client, f"/training/attempts/{attempt.id}")
    # A day later, as time passing would: the printed sheet is no longer valid.
    held.held_on = utcnow().date() - timedelta(days=grace + 1)
    db.session.commit()
    shown = page(client, f"/training/attempts/{attempt.id}")
    assert REFUSED not in shown and "Submit" in shown
    response = post(client, f"/training/attempts/{attempt.id}", answers_for(db, attempt.id))
    assert response.status_code == 302


def test_someone_absent_from_a_recorded_session_takes_the_quiz_online(
    client, login, db, make_session, make_user, learner, facilitator
):
    present = make_user(full_name="Yaw Boateng")
    session = make_session([learner, present], held_on=utcnow().date() - timedelta(days=1))
    pass_on_paper(session, present, facilitator)
    login(learner)
    shown = basics_item(client)
    assert "On paper in session" not in shown and "Continue the quiz" in shown
