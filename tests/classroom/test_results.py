"""Results entered from the answer sheets: graded as online, recorded all at once or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.extensions import db
from app.models import (
    AnswerSheet,
    Attestation,
    AuditAction,
    AuditEntry,
    Certificate,
    ClassroomSession,
    Completion,
    DeliveryMode,
    QuizAttempt,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import classroom, quiz, training
from app.services.classroom import results
from tests.classroom.sheets import LETTERS, key_letters
from tests.fixtures.web import post


def sheets_of(session: ClassroomSession) -> list[AnswerSheet]:
    """Return the session's sheets in the grid's order: by module, then by name."""
    order = {taught.module_version_id: taught.position for taught in session.modules}
    return sorted(
        session.sheets, key=lambda s: (order[s.module_version_id], s.user.full_name, s.user_id)
    )


def grid_form(
    session: ClassroomSession,
    absent: tuple[str, ...] = (),
    unsigned: tuple[str, ...] = (),
    typed: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Fill in the grid: everyone present with every answer right, signed; override by name."""
    form: dict[str, Any] = {}
    for sheet in session.sheets:
        name = sheet.user.full_name
        if name not in absent:
            form[results.field_name(sheet, "present")] = "yes"
            if name not in unsigned:
                form[results.field_name(sheet, "signed")] = "yes"
            letters = (typed or {}).get(f"{name}/{sheet.module_version.slug}")
            for number, text in enumerate(letters or key_letters(sheet), start=1):
                form[results.field_name(sheet, number)] = text
    return form


@pytest.fixture
def today_session(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User]
) -> ClassroomSession:
    """A session held today for Ama Owusu and Yaw Boateng: basics, and the pledge."""
    people = [make_user(full_name=name) for name in ("Ama Owusu", "Yaw Boateng")]
    return make_session(people, slugs=("basics", "pledge"), held_on=utcnow().date())


@pytest.fixture
def as_facilitator(login: Callable[[User], FlaskClient], facilitator: User) -> FlaskClient:
    return login(facilitator)


def nothing_recorded(session: ClassroomSession) -> None:
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attestation)) == 0
    assert all(sheet.attempt.submitted_at is None for sheet in session.sheets)
    assert all(p.attended is None for p in session.participants)
    assert session.recorded_at is None


def test_a_session_goes_from_the_sheets_to_certificates(
    today_session: ClassroomSession, as_facilitator: FlaskClient, facilitator: User
) -> None:
    session = today_session
    page = as_facilitator.get(f"/sessions/{session.id}/results").get_data(as_text=True)
    assert 'aria-label="Question 3, Ama Owusu' in page
    assert "Undertaking signed" in page
    form = grid_form(session)
    preview = post(as_facilitator, f"/sessions/{session.id}/results/preview", form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert text.count("100%: passed") == 4
    assert "Confirm and record the results" in text
    # A preview records nothing.
    nothing_recorded(session)

    response = post(as_facilitator, f"/sessions/{session.id}/results", form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session.id}/results")
    db.session.expire_all()
    completions = db.session.scalars(sa.select(Completion)).all()
    assert len(completions) == 4
    for completion in completions:
        assert completion.delivery_mode == DeliveryMode.CLASSROOM
        assert completion.session_id == session.id
        assert completion.facilitator_id == facilitator.id
        assert completion.certificate is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 4
    attestations = db.session.scalars(sa.select(Attestation)).all()
    pledge = training.current_version("pledge")
    assert pledge is not None
    assert len(attestations) == 2
    for attestation in attestations:
        assert attestation.session_id == session.id
        assert attestation.attested_by_id == facilitator.id
        assert attestation.module_version_id == pledge.id
        assert attestation.statement == pledge.attestation
        assert attestation.language == "en"
    assert all(p.attended for p in session.participants)
    assert session.recorded_at is not None and session.recorded_by_id == facilitator.id
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_RESULTS_ENTERED)
    )
    assert entry is not None and entry.target == f"session {session.code}"
    assert entry.details == {"present": 2, "absent": 0, "sheets_graded": 4, "passed": 4}
    recorded = as_facilitator.get(response.headers["Location"]).get_data(as_text=True)
    assert "The results are recorded: 2 present, 0 absent, 4 of 4 sheets passed." in recorded
    assert "Recorded on" in recorded
    # Recorded once: the same grid sent again changes nothing.
    again = post(as_facilitator, f"/sessions/{session.id}/results", form)
    assert again.status_code == 409
    assert "already recorded" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 4


def test_a_wrong_last_row_records_nothing_and_names_row_and_question(
    today_session: ClassroomSession, as_facilitator: FlaskClient
) -> None:
    session = today_session
    last = sheets_of(session)[-1]
    typed = key_letters(last)
    typed[0] = "F"
    form = grid_form(session, typed={f"{last.user.full_name}/pledge": typed})
    response = post(as_facilitator, f"/sessions/{session.id}/results", form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Row 4 (Yaw Boateng), question 1: “F” is not an option of this question." in text
    assert 'aria-invalid="true"' in text
    assert "Confirm and record the results" not in text
    nothing_recorded(session)


def test_a_sheet_submitted_meanwhile_rolls_back_the_rows_already_recorded(
    today_session: ClassroomSession, facilitator: User
) -> None:
    """Rows are written one by one: a failure at the last undoes those before it."""
    session = today_session
    entry = results.read(session, grid_form(session))
    assert entry.errors == []
    last = sheets_of(session)[-1]
    # Submitted online between the preview and the confirmation, in another transaction.
    db.session.execute(
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == last.attempt_id)
        .values(submitted_at=utcnow(), answers={}, score=0, passed=False)
    )
    with pytest.raises(classroom.SessionRefused, match=r"Row 4 \(Yaw Boateng\)"):
        results.record(entry, facilitator)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attestation)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert all(sheet.attempt.submitted_at is None for sheet in session.sheets)
    assert session.recorded_at is None


def test_someone_absent_keeps_their_attempt_open(
    today_session: ClassroomSession, as_facilitator: FlaskClient
) -> None:
    session = today_session
    form = grid_form(session, absent=("Yaw Boateng",))
    preview = post(as_facilitator, f"/sessions/{session.id}/results/preview", form)
    assert preview.get_data(as_text=True).count("absent") >= 2
    assert post(as_facilitator, f"/sessions/{session.id}/results", form).status_code == 302
    db.session.expire_all()
    for sheet in session.sheets:
        if sheet.user.full_name == "Yaw Boateng":
            assert sheet.attempt.submitted_at is None
            version = training.current_version(sheet.module_version.slug)
            assert version is not None
            assert quiz.open_attempt(sheet.user, version) == sheet.attempt
        else:
            assert sheet.attempt.passed
    attended = {p.user.full_name: p.attended for p in session.participants}
    assert attended == {"Ama Owusu": True, "Yaw Boateng": False}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 2


def test_letters_are_read_as_typed_and_wrong_ones_explained(
    in_pool_order: None, today_session: ClassroomSession
) -> None:
    session = today_session
    [basics, *_] = sheets_of(session)
    # Lower case, spaces and commas are read as the letters they separate.
    typed = [letter.lower() for letter in key_letters(basics)]
    multiple = next(i for i, q in enumerate(quiz.attempt_questions(basics.attempt)) if q.multiple)
    typed[multiple] = ", ".join(typed[multiple])
    entry = results.read(
        session,
        grid_form(session, typed={"Ama Owusu/basics": typed}),
    )
    assert entry.errors == []
    assert entry.rows[0].score == 100
    single = next(i for i, q in enumerate(quiz.attempt_questions(basics.attempt)) if not q.multiple)
    for text, error in (
        ("AB", "this question takes one answer, and “AB” gives 2"),
        ("", "no answer is entered"),
        ("Q", "“Q” is not an option of this question"),
    ):
        wrong = list(typed)
        wrong[single] = text
        entry = results.read(session, grid_form(session, typed={"Ama Owusu/basics": wrong}))
        [(row, number, message)] = entry.errors
        assert (row.number, number) == (1, single + 1)
        assert message.startswith(f"Row 1 (Ama Owusu), question {single + 1}: {error}")
    # Full-width letters of an input method, Cyrillic look-alikes of another keyboard.
    assert results.normalise("\uff21 \u0441, b") == "ACB"
    # Nothing ticked on the sheet: typed as "-", graded wrong.
    wrong = list(typed)
    wrong[single] = "-"
    entry = results.read(session, grid_form(session, typed={"Ama Owusu/basics": wrong}))
    assert entry.errors == [] and entry.rows[0].score == 75


def test_an_unsigned_undertaking_leaves_the_sheet_ungraded(
    today_session: ClassroomSession, facilitator: User
) -> None:
    session = today_session
    entry = results.read(session, grid_form(session, unsigned=("Ama Owusu",)))
    [(row, number, message)] = entry.errors
    assert (row.number, number) == (3, 0)
    assert "the undertaking is not ticked as signed" in message
    # Cleared, the sheet is not graded: the person attended, their attempt stays open.
    form = grid_form(session, unsigned=("Ama Owusu",), typed={"Ama Owusu/pledge": [""]})
    entry = results.read(session, form)
    assert entry.errors == []
    results.record(entry, facilitator)
    db.session.commit()
    pledge = next(
        s
        for s in session.sheets
        if s.module_version.slug == "pledge" and s.user.full_name == "Ama Owusu"
    )
    assert pledge.attempt.submitted_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attestation)) == 1
    assert all(p.attended for p in session.participants)


def test_a_sheet_graded_from_letters_equals_the_same_answers_online(
    today_session: ClassroomSession, facilitator: User, make_user: Callable[..., User]
) -> None:
    session = today_session
    [ama_basics, *_] = sheets_of(session)
    # Three of four right: 75%, the pass mark.
    typed = key_letters(ama_basics, right=3)
    entry = results.read(session, grid_form(session, typed={"Ama Owusu/basics": typed}))
    row = entry.rows[0]
    assert row.sheet == ama_basics and row.answers is not None
    twin = QuizAttempt(
        user=make_user(full_name="Kofi Twin"),
        module_version_id=ama_basics.module_version_id,
        questions=ama_basics.attempt.questions,
        language=ama_basics.attempt.language,
    )
    db.session.add(twin)
    db.session.flush()
    now = utcnow()
    assert quiz.submit_attempt(twin, row.answers, now)
    results.record(entry, facilitator, now)
    db.session.commit()
    db.session.expire_all()
    paper = ama_basics.attempt
    assert (paper.score, paper.passed) == (twin.score, twin.passed) == (75, True)
    assert paper.answers == twin.answers
    online = db.session.scalar(sa.select(Completion).where(Completion.attempt_id == twin.id))
    classroom_completion = db.session.scalar(
        sa.select(Completion).where(Completion.attempt_id == paper.id)
    )
    assert online is not None and classroom_completion is not None
    assert online.delivery_mode == DeliveryMode.ONLINE and online.session_id is None
    assert classroom_completion.expires_at == online.expires_at
    assert classroom_completion.completed_at == online.completed_at


def test_a_sheet_submitted_online_is_said_so(
    today_session: ClassroomSession, as_facilitator: FlaskClient
) -> None:
    session = today_session
    sheet = sheets_of(session)[0]
    letters = key_letters(sheet)
    answers = {
        drawn["id"]: [drawn["options"][LETTERS.index(x)] for x in text]
        for drawn, text in zip(sheet.attempt.questions, letters, strict=True)
    }
    assert quiz.submit_attempt(sheet.attempt, answers)
    db.session.commit()
    page = as_facilitator.get(f"/sessions/{session.id}/results").get_data(as_text=True)
    assert "Submitted online on" in page
    response = post(as_facilitator, f"/sessions/{session.id}/results", grid_form(session))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Row 1 (Ama Owusu): this sheet&#39;s quiz was submitted online on" in text
    # Without letters for it, the rest is recorded.
    form = grid_form(session)
    for number in range(1, len(letters) + 1):
        form.pop(results.field_name(sheet, number))
    assert post(as_facilitator, f"/sessions/{session.id}/results", form).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 4
    assert len([c for c in db.session.scalars(sa.select(Completion)) if c.session_id]) == 3


@pytest.mark.parametrize("state", ["late", "cancelled", "recorded", "early"])
def test_entry_is_refused_outside_its_time(
    today_session: ClassroomSession, as_facilitator: FlaskClient, facilitator: User, state: str
) -> None:
    session = today_session
    form = grid_form(session)
    if state == "late":
        # The grace is 30 days after the session's date.
        session.held_on = utcnow().date() - timedelta(days=31)
        message = "could be entered until"
    elif state == "early":
        session.held_on = utcnow().date() + timedelta(days=2)
        message = "its results can be entered from that day"
    elif state == "cancelled":
        classroom.cancel(session, facilitator)
        message = "This session was cancelled"
    else:
        session.recorded_at, session.recorded_by_id = utcnow(), facilitator.id
        message = "already recorded"
    db.session.commit()
    page = as_facilitator.get(f"/sessions/{session.id}/results").get_data(as_text=True)
    assert ("Recorded on" if state == "recorded" else message) in page
    assert "Preview the scores" not in page
    for url in (f"/sessions/{session.id}/results/preview", f"/sessions/{session.id}/results"):
        response = post(as_facilitator, url, form)
        assert response.status_code == 409
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0


def test_entry_is_open_on_the_last_day_of_the_grace(
    today_session: ClassroomSession, as_facilitator: FlaskClient
) -> None:
    today_session.held_on = utcnow().date() - timedelta(days=30)
    db.session.commit()
    page = as_facilitator.get(f"/sessions/{today_session.id}/results").get_data(as_text=True)
    assert "Preview the scores" in page


def test_a_sheet_code_opens_the_grid_at_its_row(
    today_session: ClassroomSession, as_facilitator: FlaskClient
) -> None:
    sheet = sheets_of(today_session)[2]
    grid = f"/sessions/{today_session.id}/results#sheet-{sheet.code}"
    response = as_facilitator.get(f"/sessions/sheets/{sheet.code}")
    assert response.status_code == 302 and response.headers["Location"].endswith(grid)
    # Typed in the "Go to sheet" field, in lower case with a dash, or scanned as the address.
    for typed in (
        f"{sheet.code[:4].lower()}-{sheet.code[4:]}",
        f"http://x/sessions/sheets/{sheet.code}",
    ):
        response = as_facilitator.get(
            f"/sessions/{today_session.id}/results", query_string={"sheet": typed}
        )
        assert response.status_code == 302 and response.headers["Location"].endswith(grid)
    unknown = as_facilitator.get(f"/sessions/{today_session.id}/results?sheet=XXXX")
    assert unknown.status_code == 404
    assert "No answer sheet has the code XXXX." in unknown.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other coordinator", "other facilitator"])
def test_results_of_a_session_out_of_scope_answer_404(
    today_session: ClassroomSession,
    login: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    other_unit: Unit,
    unit: Unit,
    who: str,
) -> None:
    if who == "other coordinator":
        person = make_user(Role.COORDINATOR, assigned_units=[other_unit], unit=other_unit)
    else:
        # Of the same unit, but not facilitating this session.
        person = make_user(Role.FACILITATOR, assigned_units=[unit])
    client = login(person)
    session = today_session
    sheet = session.sheets[0]
    assert client.get(f"/sessions/{session.id}/results").status_code == 404
    assert client.get(f"/sessions/sheets/{sheet.code}").status_code == 404
    assert client.get(f"/sessions/{session.id}/results?sheet={sheet.code}").status_code == 404
    form = grid_form(session)
    assert post(client, f"/sessions/{session.id}/results/preview", form).status_code == 404
    assert post(client, f"/sessions/{session.id}/results", form).status_code == 404
    nothing_recorded(session)


def test_someone_absent_can_be_scheduled_again_on_the_same_questions(
    today_session: ClassroomSession,
    as_facilitator: FlaskClient,
    make_session: Callable[..., ClassroomSession],
) -> None:
    session = today_session
    form = grid_form(session, absent=("Yaw Boateng",))
    assert post(as_facilitator, f"/sessions/{session.id}/results", form).status_code == 302
    db.session.expire_all()
    absent = next(p.user for p in session.participants if p.user.full_name == "Yaw Boateng")
    unused = {s.module_version_id: s.attempt_id for s in session.sheets if s.user == absent}
    # The next session takes the unused sheets' attempts over: the same questions.
    again = make_session([absent], slugs=("basics", "pledge"))
    assert {s.module_version_id: s.attempt_id for s in again.sheets} == unused
    db.session.expire_all()
    assert [s.user.full_name for s in session.sheets] == ["Ama Owusu"] * 2
    assert {p.user.full_name: p.attended for p in session.participants} == {
        "Ama Owusu": True,
        "Yaw Boateng": False,
    }
