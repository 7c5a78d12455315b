"""Scheduling facilitated sessions and drawing each participant's answer sheets."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    ClassroomParticipant,
    ClassroomSession,
    ClassroomSessionModule,
    CurriculumRequirement,
    ModuleVersion,
    QuizAttempt,
    Role,
    Unit,
    User,
)
from app.models.classroom import classroom_facilitator
from app.models.types import utcnow
from app.services import audit, organisation, quiz, reporting
from app.services.content import published
from app.services.content.published import ModuleContent

# Who may facilitate a session: facilitators, and coordinators acting as one.
FACILITATING_ROLES = (Role.FACILITATOR, Role.COORDINATOR)


class SessionRefused(Exception):
    """A session that cannot be scheduled or changed as asked, with the reason to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sessions_in_scope(user: User) -> sa.Select[ClassroomSession]:
    """Return a query of the sessions a person may see, soonest first.

    An admin sees every session; a coordinator those of their units and the units below;
    a facilitator (or a coordinator) also those they facilitate.
    """
    query = sa.select(ClassroomSession).order_by(
        ClassroomSession.held_on.desc(), ClassroomSession.id.desc()
    )
    if user.role == Role.ADMIN:
        return query
    facilitated = sa.select(classroom_facilitator.c.session_id).where(
        classroom_facilitator.c.user_id == user.id
    )
    visible: sa.ColumnElement[bool] = ClassroomSession.id.in_(facilitated)
    if user.role == Role.COORDINATOR:
        unit_ids = [unit.id for unit in organisation.units_in_scope(user)]
        visible = sa.or_(visible, ClassroomSession.unit_id.in_(unit_ids))
    return query.where(visible)


def find_session(user: User, session_id: int) -> ClassroomSession | None:
    """Return a session the person may see, or None (another unit's included)."""
    return db.session.scalar(sessions_in_scope(user).where(ClassroomSession.id == session_id))


def find_sheet(user: User, code: str) -> AnswerSheet | None:
    """Return the answer sheet printed with this code, in a session the person may see."""
    sheet = db.session.scalar(
        sa.select(AnswerSheet).where(AnswerSheet.code == code.strip().upper().replace("-", ""))
    )
    if sheet is None or find_session(user, sheet.session_id) is None:
        return None
    return sheet


def facilitator_choices(unit: Unit) -> list[User]:
    """Return who may facilitate a session of the unit: those assigned to it or above it."""
    ancestors = []
    current: Unit | None = unit
    while current is not None:
        ancestors.append(current.id)
        current = current.parent
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role.in_(FACILITATING_ROLES),
                User.is_active.is_(True),
                User.assigned_units.any(Unit.id.in_(ancestors)),
            )
            .order_by(User.full_name)
        )
    )


def entry_closes_on(session: ClassroomSession) -> date:
    """Return the last day results may be entered: the session's date plus the grace."""
    return session.held_on + timedelta(days=int(current_app.config["CLASSROOM_GRACE_DAYS"]))


def is_open_for_entry(session: ClassroomSession, today: date | None = None) -> bool:
    """Return whether results may still be entered: not cancelled, recorded or too late."""
    today = today or utcnow().date()
    return (
        session.cancelled_at is None
        and session.recorded_at is None
        and today <= entry_closes_on(session)
    )


def schedule(
    by: User,
    unit: Unit,
    held_on: date,
    place: str,
    versions: Sequence[ModuleContent],
    facilitators: Sequence[User],
    participants: Sequence[User],
    rng: random.Random | None = None,
) -> ClassroomSession:
    """Schedule a session and draw every participant's answer sheet for every module.

    Each sheet is a real quiz attempt drawn as online (quiz.start_attempts), in the
    participant's language where the module is translated: the person's open attempt at
    the version, if they have one, so that one person never holds two. Raise
    SessionRefused, changing nothing, when the session cannot be held as asked.
    """
    units = organisation.units_in_scope(by)
    if by.role != Role.ADMIN and organisation.unit_in_scope(units, unit.id) is None:
        raise SessionRefused(_("You cannot schedule a session for this unit."))
    if not place.strip():
        raise SessionRefused(_("Say where the session is held."))
    if not versions:
        raise SessionRefused(_("Choose at least one module."))
    if not facilitators:
        raise SessionRefused(_("Choose at least one facilitator."))
    if not participants:
        raise SessionRefused(_("Choose at least one participant."))
    if len({person.id for person in participants}) != len(participants):
        raise SessionRefused(_("A participant is listed twice."))
    if held_on < utcnow().date() - timedelta(days=int(current_app.config["CLASSROOM_GRACE_DAYS"])):
        raise SessionRefused(_("A session cannot be scheduled that far in the past."))
    allowed = {person.id for person in facilitator_choices(unit)}
    for person in facilitators:
        if person.id not in allowed:
            raise SessionRefused(
                _("%(name)s cannot facilitate sessions of this unit.", name=person.full_name)
            )
    _check_serving(unit, participants)
    session = ClassroomSession(
        unit=unit,
        held_on=held_on,
        place=place.strip(),
        created_by_id=by.id,
        facilitators=list(facilitators),
        modules=[
            ClassroomSessionModule(module_version_id=version.id, position=position)
            for position, version in enumerate(versions)
        ],
        participants=[ClassroomParticipant(user_id=person.id) for person in participants],
    )
    db.session.add(session)
    db.session.flush()
    draw_sheets(session, participants, versions, rng)
    audit.record(
        AuditAction.CLASSROOM_SCHEDULED,
        f"session {session.code}",
        {
            "unit": unit.code,
            "held_on": held_on.isoformat(),
            "modules": [version.slug for version in versions],
            "participants": len(participants),
        },
        by,
    )
    return session


def draw_sheets(
    session: ClassroomSession,
    people: Sequence[User],
    versions: Sequence[ModuleContent],
    rng: random.Random | None = None,
) -> None:
    """Give each person an answer sheet per module: a quiz attempt held for paper.

    The attempts are drawn as online (quiz.start_attempts), in each person's language,
    and the sheets inserted at once: a few statements for a whole battalion.
    """
    theirs = (
        AnswerSheet.user_id.in_([person.id for person in people]),
        AnswerSheet.module_version_id.in_([version.id for version in versions]),
    )
    closed = sa.or_(
        ClassroomSession.cancelled_at.is_not(None), ClassroomSession.recorded_at.is_not(None)
    )
    # A sheet of one of these modules whose attempt is still open, in a session still to
    # be recorded, holds the person's one open attempt at it: it cannot go on a second.
    held = db.session.execute(
        sa.select(AnswerSheet.user_id, ClassroomSession.code)
        .join(ClassroomSession, ClassroomSession.id == AnswerSheet.session_id)
        .join(QuizAttempt, QuizAttempt.id == AnswerSheet.attempt_id)
        .where(*theirs, QuizAttempt.submitted_at.is_(None), sa.not_(closed))
        .order_by(AnswerSheet.id)
        .limit(1)
    ).first()
    if held is not None:
        name = next(person.full_name for person in people if person.id == held.user_id)
        raise SessionRefused(
            _(
                "%(name)s already has an answer sheet for this module in session"
                " %(code)s: record or cancel that session first.",
                name=name,
                code=held.code,
            )
        )
    # Someone absent from a recorded session, or on a cancelled one, kept its attempt open
    # but unused: the new sheet takes it over, with its questions, from the unused one.
    db.session.execute(
        sa.delete(AnswerSheet)
        .where(
            *theirs,
            AnswerSheet.session_id.in_(sa.select(ClassroomSession.id).where(closed)),
            AnswerSheet.attempt_id.in_(
                sa.select(QuizAttempt.id).where(QuizAttempt.submitted_at.is_(None))
            ),
        )
        .execution_options(synchronize_session=False)
    )
    attempts = quiz.start_attempts(
        people, versions, rng, language_of=lambda person: person.language or "en"
    )
    db.session.execute(
        sa.insert(AnswerSheet),
        [
            {
                "session_id": session.id,
                "user_id": person.id,
                "module_version_id": version.id,
                "attempt_id": attempts[person.id, version.id],
            }
            for person in people
            for version in versions
        ],
    )
    db.session.expire(session, ["sheets"])


def cancel(session: ClassroomSession, by: User) -> None:
    """Cancel a session not yet recorded; its unused attempts stay open for online use."""
    if session.recorded_at is not None:
        raise SessionRefused(_("This session's results are recorded: it cannot be cancelled."))
    if session.cancelled_at is not None:
        return
    session.cancelled_at = utcnow()
    session.cancelled_by_id = by.id
    audit.record(AuditAction.CLASSROOM_CANCELLED, f"session {session.code}", {}, by)


def _check_serving(unit: Unit, people: Sequence[User]) -> None:
    """Refuse, naming them, anyone who is not an active member of the unit or below it."""
    unit_ids = set(organisation.subtree_ids(organisation.all_units(), unit.id))
    for person in people:
        if person.unit_id not in unit_ids or not person.is_active:
            raise SessionRefused(_("%(name)s does not serve in this unit.", name=person.full_name))


class SessionState(StrEnum):
    """Where a session stands, as lists show it."""

    SCHEDULED = "scheduled"
    RECORDED = "recorded"
    CANCELLED = "cancelled"


def state_of(session: ClassroomSession) -> SessionState:
    """Return whether a session is scheduled, has its results recorded, or was cancelled."""
    if session.cancelled_at is not None:
        return SessionState.CANCELLED
    if session.recorded_at is not None:
        return SessionState.RECORDED
    return SessionState.SCHEDULED


def may_manage(user: User, session: ClassroomSession) -> bool:
    """Return whether a person may change a session: its unit's coordinators and admins."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COORDINATOR and any(
        unit.id == session.unit_id for unit in organisation.units_in_scope(user)
    )


def is_open_for_changes(session: ClassroomSession) -> bool:
    """Return whether participants may still be added or removed: neither recorded nor cancelled."""
    return state_of(session) == SessionState.SCHEDULED


def schedulable_modules() -> list[ModuleContent]:
    """Return the current version of every module some category must take, by title."""
    required = set(db.session.scalars(sa.select(CurriculumRequirement.module_id)))
    current = published.snapshot().current.values()
    return sorted(
        (version for version in current if version.module_id in required),
        key=lambda version: version.title,
    )


@dataclass(frozen=True)
class RosterFilter:
    """Which people of a unit's roster the picker lists: a sub-unit, a category, a search."""

    unit_ids: Sequence[int]
    category: str | None = None
    search: str = ""


def _roster_query(filters: RosterFilter) -> sa.Select[User]:
    query = sa.select(User).where(User.is_active, User.unit_id.in_(filters.unit_ids))
    if filters.category:
        query = query.where(User.category == filters.category)
    return query


def roster(filters: RosterFilter) -> list[User]:
    """Return the active people the filters select, by unit then name, with their units."""
    query = _roster_query(filters).join(Unit, Unit.id == User.unit_id)
    text = filters.search.lower()
    if text:
        query = query.where(
            sa.or_(
                sa.func.lower(User.full_name).contains(text, autoescape=True),
                sa.func.lower(User.service_number).contains(text, autoescape=True),
            )
        )
    query = query.options(contains_eager(User.unit))
    return list(db.session.scalars(query.order_by(Unit.name, User.full_name, User.id)))


def people_in_roster(unit: Unit, ids: Collection[int]) -> list[User]:
    """Return the people with these ids who are active members of the unit or below it."""
    if not ids:
        return []
    unit_ids = organisation.subtree_ids(organisation.all_units(), unit.id)
    query = _roster_query(RosterFilter(unit_ids)).where(User.id.in_(ids))
    return list(db.session.scalars(query.order_by(User.full_name, User.id)))


def not_yet_complete(filters: RosterFilter, module_ids: Collection[int]) -> set[int]:
    """Return who, among the people filtered, must take one of the modules and holds no valid
    completion of it (in progress or overdue, as the coordinator's reports count them),
    unless already booked for it in a session not yet recorded."""
    if not module_ids:
        return set()
    states = reporting.person_module_states(
        reporting.Filters(filters.unit_ids, filters.category), reporting.Cutoffs.at()
    )
    due = (reporting.State.IN_PROGRESS.value, reporting.State.OVERDUE.value)
    # Those already holding a sheet of the module in a session still to record are
    # booked: they could not hold a second one.
    booked = (
        sa.select(AnswerSheet.user_id)
        .join(ClassroomSession, ClassroomSession.id == AnswerSheet.session_id)
        .join(ModuleVersion, ModuleVersion.id == AnswerSheet.module_version_id)
        .where(
            ModuleVersion.module_id.in_(module_ids),
            ClassroomSession.cancelled_at.is_(None),
            ClassroomSession.recorded_at.is_(None),
        )
    )
    return set(
        db.session.scalars(
            sa.select(states.c.user_id)
            .where(
                states.c.module_id.in_(module_ids),
                states.c.state.in_(due),
                states.c.user_id.not_in(booked),
            )
            .distinct()
        )
    )


def add_participants(
    session: ClassroomSession,
    people: Sequence[User],
    by: User,
    rng: random.Random | None = None,
) -> list[User]:
    """Add people to a session not yet recorded, each with a sheet per module; return them.

    Those already taking part are left as they are. The audit trail records who added
    whom. Raise SessionRefused, changing nothing, when the session is closed or someone
    does not serve in its unit.
    """
    if not is_open_for_changes(session):
        raise SessionRefused(_("This session is closed: participants can no longer change."))
    taking_part = {participant.user_id for participant in session.participants}
    added = [person for person in people if person.id not in taking_part]
    if not added:
        raise SessionRefused(_("Choose at least one participant."))
    _check_serving(session.unit, added)
    session.participants.extend(ClassroomParticipant(user_id=person.id) for person in added)
    db.session.flush()
    versions = [published.version(module.module_version_id) for module in session.modules]
    draw_sheets(session, added, versions, rng)
    audit.record(
        AuditAction.CLASSROOM_PARTICIPANTS_ADDED,
        f"session {session.code}",
        {"participants": len(added), "people": [person.service_number for person in added]},
        by,
    )
    return added


def remove_participant(session: ClassroomSession, person: User, by: User) -> None:
    """Take a person off a session not yet recorded, with their answer sheets.

    The attempts drawn for the sheets stay the person's open attempts, to use online.
    The audit trail records who removed whom.
    """
    if not is_open_for_changes(session):
        raise SessionRefused(_("This session is closed: participants can no longer change."))
    session.participants = [p for p in session.participants if p.user_id != person.id]
    session.sheets = [sheet for sheet in session.sheets if sheet.user_id != person.id]
    db.session.flush()
    audit.record(
        AuditAction.CLASSROOM_PARTICIPANT_REMOVED,
        f"session {session.code}",
        {"service_number": person.service_number},
        by,
    )
