"""The state of each person on each mandatory module: cutoffs, due dates, filters.

The curriculum table joins people to the modules they must take and their
training records decide where each pair stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.models import CurriculumRequirement, DeliveryMode, TrainingRecord, User
from app.models.types import utcnow
from app.services import curriculum

AnySelect = TypeVar("AnySelect", bound="sa.Select[*tuple[Any, ...]]")


class State(StrEnum):
    """Where a person stands on one mandatory module."""

    COMPLETE = "complete"
    EXPIRING = "expiring"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"


# Problems first wherever people are listed.
STATE_ORDER = [State.OVERDUE, State.EXPIRING, State.IN_PROGRESS, State.COMPLETE]

STATE_LABELS = {
    State.COMPLETE: _l("Complete"),
    State.EXPIRING: _l("Expiring soon"),
    State.IN_PROGRESS: _l("In progress"),
    State.OVERDUE: _l("Overdue"),
}


def state_label(state: str) -> str:
    """Return the name of a state for people."""
    return str(STATE_LABELS[State(state)])


class Moments(Protocol):
    """The moments that separate the states: fixed values, or columns holding them."""

    @property
    def now(self) -> Any: ...
    @property
    def expiring_before(self) -> Any: ...
    @property
    def deployment_before(self) -> Any: ...
    @property
    def created_before(self) -> Any: ...


@dataclass(frozen=True)
class Cutoffs:
    """The moments that separate the states, fixed once per report."""

    now: datetime
    expiring_before: datetime
    deployment_before: date
    created_before: datetime

    @classmethod
    def at(cls, now: datetime | None = None, expiring_days: int | None = None) -> Cutoffs:
        """Derive the cutoffs from the configured lead times."""
        now = now or utcnow()
        config = current_app.config
        days = config["EXPIRING_WITHIN_DAYS"] if expiring_days is None else expiring_days
        return cls(
            now=now,
            expiring_before=now + timedelta(days=days),
            # Due = deployment - lead time; overdue when that date has passed.
            deployment_before=now.date() + timedelta(days=config["DUE_DAYS_BEFORE_DEPLOYMENT"]),
            created_before=now - timedelta(days=config["DUE_DAYS_WITHOUT_DEPLOYMENT"]),
        )


def due_date(user: User) -> date:
    """Return the date by which a person must hold every mandatory module."""
    config = current_app.config
    if user.deployment_date is not None:
        return user.deployment_date - timedelta(days=config["DUE_DAYS_BEFORE_DEPLOYMENT"])
    return (user.created_at + timedelta(days=config["DUE_DAYS_WITHOUT_DEPLOYMENT"])).date()


@dataclass(frozen=True)
class Filters:
    """What a coordinator narrows a report to; None means everything in scope."""

    unit_ids: Sequence[int] | None = None
    category: str | None = None
    module_id: int | None = None
    state: State | None = None
    user_id: int | None = None
    # How the valid completion was earned: lists of people only (the counts are not split).
    delivery_mode: DeliveryMode | None = None


def person_module_states(filters: Filters, cutoffs: Cutoffs) -> sa.Subquery:
    """Return a subquery with one row per person and mandatory module, with its state."""
    return _states(filters, cutoffs).subquery("person_module_state")


def _due_passed(cutoffs: Moments) -> sa.ColumnElement[bool]:
    """Return whether a person's due date has passed (deployment minus lead time, or age)."""
    return sa.or_(
        sa.and_(
            User.deployment_date.is_not(None), User.deployment_date < cutoffs.deployment_before
        ),
        sa.and_(User.deployment_date.is_(None), User.created_at < cutoffs.created_before),
    )


def record_of_requirement() -> sa.ColumnElement[bool]:
    """Return the join of a person's training record of a module they must take."""
    return sa.and_(
        TrainingRecord.user_id == User.id,
        TrainingRecord.module_id == CurriculumRequirement.module_id,
    )


def required_records(query: AnySelect) -> AnySelect:
    """Select from training records, joined to their people and the line that requires them."""
    return (
        query.select_from(TrainingRecord)
        .join(User, User.id == TrainingRecord.user_id)
        .join(
            CurriculumRequirement,
            sa.and_(
                curriculum.applies_to_people(),
                CurriculumRequirement.module_id == TrainingRecord.module_id,
            ),
        )
    )


def _in_filters(query: AnySelect, filters: Filters) -> AnySelect:
    query = query.where(User.is_active, User.unit_id.is_not(None))
    if filters.unit_ids is not None:
        query = query.where(User.unit_id.in_(filters.unit_ids))
    if filters.category:
        query = query.where(User.category == filters.category)
    if filters.module_id:
        query = query.where(CurriculumRequirement.module_id == filters.module_id)
    if filters.user_id:
        query = query.where(User.id == filters.user_id)
    return query


def in_state(state: State, valid_until: Any, cutoffs: Moments) -> sa.ColumnElement[bool]:
    """Return whether a person is in a state on a module, given their record's expiry (or NULL).

    The one rule of every report (the triggers of app/models/reports.py write it in
    SQL), on the columns themselves, so that the database can estimate how many rows
    match and follow an index rather than guess.
    """
    not_valid = sa.or_(valid_until.is_(None), valid_until <= cutoffs.now)
    conditions: dict[State, sa.ColumnElement[bool]] = {
        State.COMPLETE: valid_until > cutoffs.expiring_before,
        State.EXPIRING: sa.and_(valid_until > cutoffs.now, valid_until <= cutoffs.expiring_before),
        State.OVERDUE: sa.and_(not_valid, _due_passed(cutoffs)),
        State.IN_PROGRESS: sa.and_(not_valid, sa.not_(_due_passed(cutoffs))),
    }
    return conditions[state]


def state_of(valid_until: Any, cutoffs: Moments) -> sa.ColumnElement[str]:
    """Return the state of a person on a module, given their record's expiry (or NULL)."""
    return sa.case(
        *(
            (in_state(state, valid_until, cutoffs), state.value)
            for state in (State.COMPLETE, State.EXPIRING, State.OVERDUE)
        ),
        else_=State.IN_PROGRESS.value,
    )


def _states(filters: Filters, cutoffs: Cutoffs) -> sa.Select[Any]:
    valid_until = TrainingRecord.valid_until
    state = state_of(valid_until, cutoffs)
    query = (
        sa.select(
            User.id.label("user_id"),
            User.unit_id.label("unit_id"),
            CurriculumRequirement.module_id.label("module_id"),
            # Only a valid record says until when; an expired one is no longer valid.
            sa.case((valid_until > cutoffs.now, valid_until)).label("expires_at"),
            state.label("state"),
            # For listing people in a stable order without another join.
            User.deployment_date.label("deployment_date"),
            User.full_name.label("full_name"),
        )
        .join(CurriculumRequirement, curriculum.applies_to_people())
        .outerjoin(TrainingRecord, record_of_requirement())
    )
    return _in_filters(query, filters)


def aware(moment: Any) -> datetime | None:
    """Return an aggregate's timestamp timezone-aware (SQLite returns text or naive)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment  # type: ignore[no-any-return]
