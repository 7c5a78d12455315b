"""Completion reports in aggregate SQL: who has completed what, who is overdue or expiring.

Every report is a fixed number of queries whatever the number of people: the
curriculum table joins people to the modules they must take, and one grouped
query turns their completions into a state per person and module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import (
    Completion,
    CurriculumRequirement,
    ModuleVersion,
    TrainingModule,
    TrainingRecord,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import curriculum, pagination

AnySelect = TypeVar("AnySelect", bound="sa.Select[*tuple[Any, ...]]")


class State(StrEnum):
    """Where a person stands on one mandatory module."""

    COMPLETE = "complete"
    EXPIRING = "expiring"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"


# Problems first wherever people are listed.
STATE_ORDER = [State.OVERDUE, State.EXPIRING, State.IN_PROGRESS, State.COMPLETE]


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


def person_module_states(filters: Filters, cutoffs: Cutoffs) -> sa.Subquery:
    """Return a subquery with one row per person and mandatory module, with its state."""
    return _states(filters, cutoffs).subquery("person_module_state")


def _due_passed(cutoffs: Cutoffs) -> sa.ColumnElement[bool]:
    """Return whether a person's due date has passed (deployment minus lead time, or age)."""
    return sa.or_(
        sa.and_(
            User.deployment_date.is_not(None), User.deployment_date < cutoffs.deployment_before
        ),
        sa.and_(User.deployment_date.is_(None), User.created_at < cutoffs.created_before),
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


def _states(filters: Filters, cutoffs: Cutoffs) -> sa.Select[Any]:
    valid_until = TrainingRecord.valid_until
    state = sa.case(
        (valid_until > cutoffs.expiring_before, State.COMPLETE.value),
        (valid_until > cutoffs.now, State.EXPIRING.value),
        (_due_passed(cutoffs), State.OVERDUE.value),
        else_=State.IN_PROGRESS.value,
    )
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
        .outerjoin(
            TrainingRecord,
            sa.and_(
                TrainingRecord.user_id == User.id,
                TrainingRecord.module_id == CurriculumRequirement.module_id,
            ),
        )
    )
    return _in_filters(query, filters)


@dataclass
class Cell:
    """Counts of people per state for one unit (or all units) and one module."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: State) -> int:
        """Return the number of people in a state."""
        return self.counts.get(state.value, 0)

    @property
    def done(self) -> int:
        """Return the number holding a valid completion (expiring or not)."""
        return self.count(State.COMPLETE) + self.count(State.EXPIRING)

    def percent(self, state: State | None = None) -> int:
        """Return a share of the total, rounded down (done when no state is given)."""
        part = self.done if state is None else self.count(state)
        return math.floor(100 * part / self.total) if self.total else 0

    def add(self, other: Cell) -> None:
        """Add another cell's counts to this one."""
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


@dataclass
class Matrix:
    """Completion counts by unit and module, with totals."""

    units: list[Unit]
    modules: list[ModuleVersion]
    cells: dict[tuple[int, int], Cell]

    def cell(self, unit_id: int, module_id: int) -> Cell:
        """Return the counts for one unit and module."""
        return self.cells.get((unit_id, module_id), Cell())

    def unit_total(self, unit_id: int) -> Cell:
        """Return the counts for one unit over all modules."""
        total = Cell()
        for module in self.modules:
            total.add(self.cell(unit_id, module.module_id))
        return total

    @property
    def total(self) -> Cell:
        """Return the counts over every unit and module."""
        total = Cell()
        for cell in self.cells.values():
            total.add(cell)
        return total


def current_modules() -> list[ModuleVersion]:
    """Return the current version of every published module, by title."""
    return list(
        db.session.scalars(
            sa.select(ModuleVersion)
            .join(TrainingModule)
            .where(ModuleVersion.is_current, TrainingModule.retired_at.is_(None))
            .order_by(ModuleVersion.title)
        )
    )


def matrix(units: list[Unit], filters: Filters, cutoffs: Cutoffs) -> Matrix:
    """Count people per unit, module and state, in two grouped queries.

    Nobody is grouped one by one: the first query counts the people who must take
    each module (grouping people by unit, category, position and whether they are
    due, before joining the curriculum); the second counts valid training records.
    Overdue and in-progress are what remains on each side of the due date.
    """
    due = _due_passed(cutoffs).label("due")
    groups = _in_filters(
        sa.select(
            User.unit_id, User.category, User.position, due, sa.func.count().label("people")
        ).group_by(User.unit_id, User.category, User.position, due),
        replace(filters, module_id=None),
    ).subquery("groups")
    required = (
        sa.select(
            groups.c.unit_id,
            CurriculumRequirement.module_id,
            groups.c.due,
            sa.func.sum(groups.c.people),
        )
        .join(CurriculumRequirement, curriculum.applies(groups.c.category, groups.c.position))
        .group_by(groups.c.unit_id, CurriculumRequirement.module_id, groups.c.due)
    )
    if filters.module_id:
        required = required.where(CurriculumRequirement.module_id == filters.module_id)
    lasting = (TrainingRecord.valid_until > cutoffs.expiring_before).label("lasting")
    valid = _in_filters(
        sa.select(User.unit_id, CurriculumRequirement.module_id, due, lasting, sa.func.count())
        .select_from(TrainingRecord)
        .join(User, User.id == TrainingRecord.user_id)
        .join(
            CurriculumRequirement,
            sa.and_(
                curriculum.applies_to_people(),
                CurriculumRequirement.module_id == TrainingRecord.module_id,
            ),
        )
        .where(TrainingRecord.valid_until > cutoffs.now)
        .group_by(User.unit_id, CurriculumRequirement.module_id, due, lasting),
        filters,
    )
    remaining: dict[tuple[int | None, int, bool], int] = {}
    for unit_id, module_id, is_due, people in db.session.execute(required):
        remaining[(unit_id, module_id, bool(is_due))] = int(people)
    cells: dict[tuple[int, int], Cell] = {}
    for unit_id, module_id, is_due, is_lasting, people in db.session.execute(valid):
        state = State.COMPLETE if is_lasting else State.EXPIRING
        counts = cells.setdefault((unit_id or 0, module_id), Cell()).counts
        counts[state.value] = counts.get(state.value, 0) + people
        remaining[(unit_id, module_id, bool(is_due))] -= people
    for (unit_id, module_id, is_due), people in remaining.items():
        state = State.OVERDUE if is_due else State.IN_PROGRESS
        if people:
            cells.setdefault((unit_id or 0, module_id), Cell()).counts[state.value] = people
    if filters.state is not None:
        for cell in cells.values():
            cell.counts = {k: v for k, v in cell.counts.items() if k == filters.state.value}
    modules = current_modules()
    if filters.module_id:
        modules = [m for m in modules if m.module_id == filters.module_id]
    return Matrix(units, modules, cells)


@dataclass(frozen=True)
class PersonRow:
    """One person and one mandatory module, as listed for a coordinator."""

    user_id: int
    full_name: str
    service_number: str
    category: str
    unit_name: str
    module_title: str
    state: State
    due_on: date
    expires_at: datetime | None


@dataclass(frozen=True)
class Page:
    rows: list[PersonRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def people(filters: Filters, cutoffs: Cutoffs, page: int = 1, per_page: int = 50) -> Page:
    """List people and modules matching the filters, problems first, one page at a time."""
    return report(filters, cutoffs, page, per_page)[1]


def report(
    filters: Filters, cutoffs: Cutoffs, page: int = 1, per_page: int = 50
) -> tuple[dict[tuple[int, int], Cell], Page]:
    """Return counts per unit, module and state, and one page of people, from one query.

    The states are computed once (a materialised CTE) and read twice: grouped for
    the counts, sorted and cut for the page. A second query fetches the page's people.
    """
    page = max(page, 1)
    states = _states(replace(filters, state=None), cutoffs).cte("pm").prefix_with("MATERIALIZED")
    order = sa.case(
        {state.value: index for index, state in enumerate(STATE_ORDER)}, value=states.c.state
    )
    wanted = sa.true() if filters.state is None else states.c.state == filters.state.value
    listed = (
        sa.select(
            sa.literal("row").label("kind"),
            states.c.unit_id,
            states.c.module_id,
            states.c.state,
            sa.literal(0).label("number"),
            states.c.user_id,
            states.c.expires_at,
        )
        .where(wanted)
        .order_by(order, states.c.deployment_date, states.c.full_name, states.c.module_id)
        .limit(per_page)
        .offset(pagination.first_row(page, per_page))
        .subquery("listed")
    )
    counted = sa.select(
        sa.literal("count").label("kind"),
        states.c.unit_id,
        states.c.module_id,
        states.c.state,
        sa.func.count().label("number"),
        sa.cast(sa.null(), sa.Integer).label("user_id"),
        sa.cast(sa.null(), states.c.expires_at.type).label("expires_at"),
    ).group_by(states.c.unit_id, states.c.module_id, states.c.state)
    cells: dict[tuple[int, int], Cell] = {}
    picked: list[tuple[int, int, str, Any]] = []
    for kind, unit_id, module_id, state, number, user_id, expires_at in db.session.execute(
        sa.union_all(sa.select(listed), counted)
    ):
        if kind == "count":
            cells.setdefault((unit_id, module_id), Cell()).counts[state] = number
        else:
            picked.append((user_id, module_id, state, expires_at))
    total = sum(
        cell.counts.get(filters.state.value, 0) if filters.state else cell.total
        for cell in cells.values()
    )
    return cells, Page(_page_rows(picked), total, page, per_page)


def by_module(cells: dict[tuple[int, int], Cell]) -> dict[int, Cell]:
    """Add up counts over units, per module."""
    totals: dict[int, Cell] = {}
    for (_, module_id), cell in cells.items():
        totals.setdefault(module_id, Cell()).add(cell)
    return totals


def _page_rows(picked: list[tuple[int, int, str, Any]]) -> list[PersonRow]:
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
    rows = []
    for user_id, module_id, state, expires_at in picked:
        user, unit_name = people[user_id]
        rows.append(
            PersonRow(
                user_id=user.id,
                full_name=user.full_name,
                service_number=user.service_number,
                category=user.category,
                unit_name=unit_name,
                module_title=titles.get(module_id, ""),
                state=State(state),
                due_on=due_date(user),
                expires_at=aware(expires_at),
            )
        )
    return rows


def aware(moment: Any) -> datetime | None:
    """Return an aggregate's timestamp timezone-aware (SQLite returns text or naive)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment  # type: ignore[no-any-return]


def completions_by_month(unit_ids: Sequence[int] | None, months: int = 12) -> list[tuple[str, int]]:
    """Count completions per month over the last months, oldest first, zeros included.

    Months are compared as ranges, newest first, rather than formatted row by row:
    the same counts for a fraction of the work on millions of completions.
    """
    now = utcnow()
    starts = []
    year, month = now.year, now.month
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    bucket = sa.case(
        *((Completion.completed_at >= start, index) for index, start in enumerate(starts)),
        else_=None,
    )
    query = (
        sa.select(bucket, sa.func.count())
        .where(Completion.completed_at >= starts[-1])
        .group_by(bucket)
    )
    if unit_ids is not None:
        query = query.join(User, User.id == Completion.user_id).where(User.unit_id.in_(unit_ids))
    counts = {row[0]: int(row[1]) for row in db.session.execute(query)}
    return [
        (start.strftime("%Y-%m"), counts.get(index, 0))
        for index, start in reversed(list(enumerate(starts)))
    ]
