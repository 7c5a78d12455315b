"""Scheduling a session draws a real attempt per participant and module, within scope."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    AuditEntry,
    ClassroomSession,
    QuizAttempt,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import classroom, quiz, training


def test_each_participant_gets_a_sheet_per_module_drawn_as_online(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User]
) -> None:
    people = [make_user(full_name=name) for name in ("Ama Owusu", "Yaw Boateng")]
    session = make_session(people, slugs=("basics", "pledge"))
    sheets = db.session.scalars(sa.select(AnswerSheet)).all()
    assert len(sheets) == 4
    for sheet in sheets:
        version = training.current_version(sheet.module_version.slug)
        assert version is not None
        assert len(sheet.attempt.questions) == version.questions_per_attempt
        assert sheet.attempt.submitted_at is None
        assert sheet.attempt.user_id == sheet.user_id
    # The sheet's attempt is the person's open attempt: online they continue the same one.
    person = people[0]
    basics = training.current_version("basics")
    assert basics is not None
    attempt = quiz.open_attempt(person, basics)
    assert attempt is not None
    assert attempt.id in {sheet.attempt_id for sheet in sheets}
    assert len({sheet.code for sheet in sheets}) == 4
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_SCHEDULED)
    )
    assert entry is not None and entry.target == f"session {session.code}"


def test_a_person_of_another_unit_cannot_be_a_participant(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    other_unit: Unit,
) -> None:
    outsider = make_user(full_name="Rosa Quispe", unit=other_unit)
    with pytest.raises(classroom.SessionRefused, match="Rosa Quispe does not serve"):
        make_session([make_user(), outsider])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 0


def test_a_coordinator_cannot_schedule_for_a_unit_not_theirs(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    other_unit: Unit,
    facilitator: User,
) -> None:
    with pytest.raises(classroom.SessionRefused, match="cannot schedule"):
        make_session([make_user(unit=other_unit)], unit=other_unit)


def test_the_facilitator_must_be_assigned_to_the_unit(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    other_unit: Unit,
) -> None:
    elsewhere = make_user(Role.FACILITATOR, full_name="Li Wei", assigned_units=[other_unit])
    with pytest.raises(classroom.SessionRefused, match="Li Wei cannot facilitate"):
        make_session([make_user()], facilitators=[elsewhere])


def test_sessions_are_seen_by_their_units_coordinators_and_facilitators(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    other_unit: Unit,
    coordinator: User,
    facilitator: User,
) -> None:
    session = make_session([make_user()])
    assert classroom.find_session(coordinator, session.id) is session
    assert classroom.find_session(facilitator, session.id) is session
    other_coordinator = make_user(Role.COORDINATOR, assigned_units=[other_unit])
    other_facilitator = make_user(Role.FACILITATOR, assigned_units=[other_unit])
    assert classroom.find_session(other_coordinator, session.id) is None
    assert classroom.find_session(other_facilitator, session.id) is None


def test_entry_stays_open_for_the_grace_period_after_the_session(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User]
) -> None:
    held_on = utcnow().date() - timedelta(days=3)
    session = make_session([make_user()], held_on=held_on)
    assert classroom.entry_closes_on(session) == held_on + timedelta(days=30)
    assert classroom.is_open_for_entry(session, today=held_on + timedelta(days=30))
    assert not classroom.is_open_for_entry(session, today=held_on + timedelta(days=31))


def test_a_sheet_holds_the_questions_online_draws_from_the_same_randomness(
    make_user: Callable[..., User], coordinator: User, facilitator: User, unit: Unit, modules
) -> None:
    in_class, online = make_user(full_name="Ama Owusu"), make_user(full_name="Yaw Boateng")
    version = training.current_version("basics")
    assert version is not None
    session = classroom.schedule(
        coordinator,
        unit,
        utcnow().date() + timedelta(days=7),
        "Peacekeeping Training Centre, Accra",
        [version],
        [facilitator],
        [in_class],
        random.Random(7),
    )
    [sheet] = session.sheets
    drawn_online = quiz.start_attempt(online, version, random.Random(7))
    assert sheet.attempt.questions == drawn_online.questions


def test_an_open_attempt_is_put_on_the_sheet_rather_than_drawing_another(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User]
) -> None:
    person = make_user()
    version = training.current_version("basics")
    assert version is not None
    begun = quiz.start_attempt(person, version)
    db.session.commit()
    session = make_session([person, make_user()])
    assert begun.id in {sheet.attempt_id for sheet in session.sheets}
    assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 2


def test_someone_holding_a_sheet_in_another_session_is_refused_by_name(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User]
) -> None:
    held = make_user(full_name="Rosa Quispe")
    first = make_session([held])
    with pytest.raises(classroom.SessionRefused, match=f"Rosa Quispe already .* {first.code}"):
        make_session([make_user(), held])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ClassroomSession.id))) == 1


def test_someone_on_a_cancelled_session_can_be_scheduled_again_on_the_same_questions(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    coordinator: User,
) -> None:
    person = make_user(full_name="Rosa Quispe")
    first = make_session([person])
    [drawn] = [sheet.attempt_id for sheet in first.sheets]
    classroom.cancel(first, coordinator)
    db.session.commit()
    second = make_session([person])
    assert [sheet.attempt_id for sheet in second.sheets] == [drawn]
    db.session.expire_all()
    assert first.sheets == [] and [p.user_id for p in first.participants] == [person.id]


@pytest.mark.parametrize("operation", ["schedule", "add"])
def test_the_statements_to_schedule_do_not_grow_with_the_participants(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    coordinator: User,
    count_queries,
    operation: str,
) -> None:
    statements = []
    for people in (2, 9):
        ids = [make_user().id for _ in range(people)]
        # Uncounted: the session to add people to, and a first read of the modules' content.
        session = make_session([make_user()], slugs=("basics", "pledge"))
        # Read afresh, as the form's people are read before scheduling or adding them.
        participants = db.session.scalars(sa.select(User).where(User.id.in_(ids))).all()
        with count_queries() as made:
            if operation == "schedule":
                session = make_session(participants, slugs=("basics", "pledge"))
            else:
                classroom.add_participants(session, participants, coordinator)
                db.session.commit()
        sheets = sa.select(sa.func.count()).where(AnswerSheet.session_id == session.id)
        assert db.session.scalar(sheets) == 2 * len(session.participants)
        statements.append(made)
    assert len(statements[0]) == len(statements[1]), "\n".join(statements[1])


def test_an_attempt_started_while_scheduling_is_continued_on_the_sheet(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person, other = make_user(), make_user()
    version = training.current_version("basics")
    assert version is not None
    begun = quiz.start_attempt(person, version)
    db.session.commit()
    # As if it were started online just after the open attempts were read.
    monkeypatch.setattr(quiz, "open_attempt_ids", lambda user_ids, version_ids: {})
    session = make_session([person, other])
    assert {sheet.user_id: sheet.attempt_id for sheet in session.sheets}[person.id] == begun.id
    assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == 2
