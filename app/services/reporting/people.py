"""People listed by module and state, problems first, one page at a time by their place.

The list runs state by state (STATE_ORDER), and within a state by deployment date
(people without one last), name, person and module. A page starts after (or ends
before) the place of a row, which page links carry: each page reads its rows by
following the index on people in that order (`ix_user_report_order`), however deep
it is, instead of counting past every row before it. Counts come from the report
counts, so "page N of M" costs nothing more.

Each valid row says how its completion was earned (online, or in which session), read
for the rows of the page only. Narrowed to one delivery mode, a list holds valid rows
only, and is counted by one query of its own: the report counts are not kept by mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ClassroomSession,
    Completion,
    CurriculumRequirement,
    DeliveryMode,
    TrainingRecord,
    Unit,
    User,
)
from app.services import curriculum
from app.services.reporting.cells import Cell, current_modules
from app.services.reporting.matrix import cells
from app.services.reporting.states import (
    STATE_ORDER,
    Cutoffs,
    Filters,
    State,
    _in_filters,
    aware,
    due_date,
    in_state,
    record_of_requirement,
    required_records,
)


@dataclass(frozen=True)
class Place:
    """Where a row stands in the list: its state, person and module."""

    state: State
    user_id: int
    module_id: int

    def __str__(self) -> str:
        return f"{self.state.value}.{self.user_id}.{self.module_id}"


@dataclass(frozen=True)
class Earned:
    """How a valid completion was earned: online, or in a facilitated session."""

    mode: DeliveryMode
    session_code: str | None = None
    place: str | None = None
    held_on: date | None = None


@dataclass(frozen=True)
class PersonRow:
    """One person and one mandatory module, as listed for a coordinator."""

    user_id: int
    full_name: str
    service_number: str
    category: str
    unit_name: str
    module_id: int
    module_title: str
    state: State
    due_on: date
    expires_at: datetime | None
    # None where the module is not valid: no completion counts.
    earned: Earned | None = None

    @property
    def place(self) -> Place:
        return Place(self.state, self.user_id, self.module_id)


@dataclass(frozen=True)
class Page:
    rows: list[PersonRow]
    total: int
    page: int
    per_page: int
    # The places the next and previous pages start after and end before, when there are.
    next_after: Place | None = None
    previous_before: Place | None = None

    @property
    def pages(self) -> int:
        # The counts and the list are read a moment apart: never fewer than the links show.
        following = 1 if self.next_after else 0
        return max(1, math.ceil(self.total / self.per_page), self.page + following)


class UnknownPlace(LookupError):
    """A page link names a place that is not in this list (no such person, or state)."""


def people(
    filters: Filters,
    cutoffs: Cutoffs,
    page: int = 1,
    per_page: int = 50,
    after: Place | None = None,
    before: Place | None = None,
) -> Page:
    """List people and modules matching the filters, problems first, one page at a time."""
    return report(filters, cutoffs, page, per_page, after, before)[1]


def report(
    filters: Filters,
    cutoffs: Cutoffs,
    page: int = 1,
    per_page: int = 50,
    after: Place | None = None,
    before: Place | None = None,
) -> tuple[dict[tuple[int, int], Cell], Page]:
    """Return counts per unit, module and state, and one page of people.

    The page follows `after` (the next page), ends at `before` (the previous page), or
    starts the list. Raise UnknownPlace when the place named is not one of this list.
    """
    counted = cells(filters, cutoffs)
    segments = _segments(filters)
    if filters.delivery_mode is None:
        total = sum(
            cell.counts.get(filters.state.value, 0) if filters.state else cell.total
            for cell in counted.values()
        )
    else:
        # The counts are not kept by delivery mode: these rows are counted as they are.
        total = _count_earned(filters, cutoffs, segments)
    if before is not None:
        found = _walk(filters, cutoffs, segments, before, per_page + 1, backwards=True)
        if len(found) > per_page:
            return counted, _page(found[-per_page:], total, page, per_page, True, True)
        after = None  # back at the start of the list: the first page, in full
    found = _walk(filters, cutoffs, segments, after, per_page + 1, backwards=False)
    more = len(found) > per_page
    return counted, _page(found[:per_page], total, page, per_page, more, after is not None)


def _page(
    picked: list[tuple[Any, ...]],
    total: int,
    number: int,
    per_page: int,
    has_next: bool,
    has_previous: bool,
) -> Page:
    rows = _page_rows(picked)
    # A number past the last page (from an edited link) is the last page's; the first
    # page is the one without a previous page.
    number = min(number, max(1, math.ceil(total / per_page)))
    number = max(number, 2) if has_previous else 1
    return Page(
        rows,
        total,
        number,
        per_page,
        next_after=rows[-1].place if has_next and rows else None,
        previous_before=rows[0].place if has_previous and rows else None,
    )


# A segment: one state, and people with a deployment date (True) or without (False).
Segment = tuple[State, bool]


# The states of a valid module: only there does a completion count, earned one way or another.
VALID_STATES = (State.COMPLETE, State.EXPIRING)


def _segments(filters: Filters) -> list[Segment]:
    states = [filters.state] if filters.state is not None else STATE_ORDER
    if filters.delivery_mode is not None:
        states = [state for state in states if state in VALID_STATES]
    return [(state, dated) for state in states for dated in (True, False)]


def earned_by(mode: DeliveryMode) -> sa.ColumnElement[bool]:
    """Return whether a training record's completion (its latest expiry) was earned this way."""
    return sa.exists().where(
        Completion.user_id == TrainingRecord.user_id,
        Completion.module_id == TrainingRecord.module_id,
        Completion.expires_at == TrainingRecord.valid_until,
        Completion.delivery_mode == mode,
    )


def counting_completion() -> sa.ScalarSelect[int]:
    """Select the completion a training record rests on: the one with its expiry."""
    return (
        sa.select(Completion.id)
        .where(
            Completion.user_id == TrainingRecord.user_id,
            Completion.module_id == TrainingRecord.module_id,
            Completion.expires_at == TrainingRecord.valid_until,
        )
        .order_by(Completion.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _count_earned(filters: Filters, cutoffs: Cutoffs, segments: list[Segment]) -> int:
    """Count the rows of a list narrowed to a delivery mode, in one query."""
    states = sorted({state for state, _ in segments}, key=STATE_ORDER.index)
    if not states or filters.delivery_mode is None:
        return 0
    valid_until = TrainingRecord.valid_until
    query = required_records(sa.select(sa.func.count())).where(
        sa.or_(*(in_state(state, valid_until, cutoffs) for state in states)),
        earned_by(filters.delivery_mode),
    )
    query = _in_filters(query, replace(filters, state=None))
    return int(db.session.scalar(query) or 0)


def _walk(
    filters: Filters,
    cutoffs: Cutoffs,
    segments: list[Segment],
    place: Place | None,
    wanted: int,
    backwards: bool,
) -> list[tuple[Any, ...]]:
    """Read up to `wanted` rows after (or before) a place, segment by segment, in list order."""
    start: tuple[Any, ...] | None = None
    if place is not None:
        person = db.session.execute(
            sa.select(User.deployment_date, User.full_name).where(User.id == place.user_id)
        ).first()
        dated = person is not None and person.deployment_date is not None
        if person is None or (place.state, dated) not in segments:
            raise UnknownPlace(str(place))
        index = segments.index((place.state, dated))
        start = (person.full_name, place.user_id, place.module_id)
        if dated:
            start = (person.deployment_date, *start)
        segments = segments[index::-1] if backwards else segments[index:]
    elif backwards:
        segments = segments[::-1]
    found: list[tuple[Any, ...]] = []
    for state, dated in segments:
        found += _segment(filters, cutoffs, state, dated, start, wanted - len(found), backwards)
        if len(found) >= wanted:
            break
        start = None
    return found[::-1] if backwards else found


def _segment(
    filters: Filters,
    cutoffs: Cutoffs,
    state: State,
    dated: bool,
    start: tuple[Any, ...] | None,
    limit: int,
    backwards: bool,
) -> list[tuple[Any, ...]]:
    """Read the rows of one segment after (or before) a start, in list order, up to a limit."""
    valid_until = TrainingRecord.valid_until
    order: list[Any] = [User.full_name, User.id, CurriculumRequirement.module_id]
    query = (
        sa.select(
            User.id,
            CurriculumRequirement.module_id,
            sa.literal_column(f"'{state.value}'", sa.String),
            # Only a valid record says until when; an expired one is no longer valid.
            sa.case((valid_until > cutoffs.now, valid_until)),
            # Read for the rows of the page alone, from the index on completions.
            counting_completion() if state in VALID_STATES else sa.null(),
        )
        .select_from(User)
        .join(CurriculumRequirement, curriculum.applies_to_people())
        .outerjoin(TrainingRecord, record_of_requirement())
        .where(in_state(state, valid_until, cutoffs))
    )
    if filters.delivery_mode is not None:
        query = query.where(earned_by(filters.delivery_mode))
    if dated:
        order.insert(0, User.deployment_date)
        query = query.where(User.deployment_date.is_not(None))
        # Implied by the state, and lets the index stop where no more can be due (or not).
        if state == State.OVERDUE:
            query = query.where(User.deployment_date < cutoffs.deployment_before)
        elif state == State.IN_PROGRESS:
            query = query.where(User.deployment_date >= cutoffs.deployment_before)
    else:
        query = query.where(User.deployment_date.is_(None))
    if start is not None:
        position = sa.tuple_(*order)
        query = query.where(position < start if backwards else position > start)
    query = _in_filters(query, replace(filters, state=None))
    query = query.order_by(*(column.desc() if backwards else column for column in order))
    return [tuple(row) for row in db.session.execute(query.limit(limit))]


def by_module(counted: dict[tuple[int, int], Cell]) -> dict[int, Cell]:
    """Add up counts over units, per module."""
    totals: dict[int, Cell] = {}
    for (_, module_id), cell in counted.items():
        totals.setdefault(module_id, Cell()).add(cell)
    return totals


def _page_rows(picked: list[tuple[Any, ...]]) -> list[PersonRow]:
    """Describe the picked person-module pairs, fetching their people in one query."""
    if not picked:
        return []
    people = {
        user.id: (user, unit_name)
        for user, unit_name in db.session.execute(
            sa.select(User, Unit.name)
            .join(Unit, Unit.id == User.unit_id)
            .where(User.id.in_({user_id for user_id, *_ in picked}))
        )
    }
    titles = {version.module_id: version.title for version in current_modules()}
    earned = _earned([completion_id for *_, completion_id in picked if completion_id])
    rows = []
    for user_id, module_id, state, expires_at, completion_id in picked:
        user, unit_name = people[user_id]
        rows.append(
            PersonRow(
                user_id=user.id,
                full_name=user.full_name,
                service_number=user.service_number,
                category=user.category,
                unit_name=unit_name,
                module_id=module_id,
                module_title=titles.get(module_id, ""),
                state=State(state),
                due_on=due_date(user),
                expires_at=aware(expires_at),
                earned=earned.get(completion_id) if expires_at is not None else None,
            )
        )
    return rows


def _earned(completion_ids: list[int]) -> dict[int, Earned]:
    """Say how each of these completions was earned, with its session, in one query."""
    if not completion_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Completion.id,
            Completion.delivery_mode,
            ClassroomSession.code,
            ClassroomSession.place,
            ClassroomSession.held_on,
        )
        .outerjoin(ClassroomSession, ClassroomSession.id == Completion.session_id)
        .where(Completion.id.in_(completion_ids))
    )
    return {
        completion_id: Earned(DeliveryMode(mode), code, place, held_on)
        for completion_id, mode, code, place, held_on in rows
    }
