"""People per unit, category, module and state, counted from people and records directly.

What the report counts must equal: `flask reports rebuild` counts with it, `flask reports
check` compares with it, and reports fall back on it while the counts cannot serve
(never built, or built with other lead times than those configured).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Completion, CurriculumRequirement, DeliveryMode, TrainingRecord, User
from app.services import curriculum
from app.services.reporting.states import (
    Cutoffs,
    Filters,
    State,
    _due_passed,
    _in_filters,
    required_records,
)

# What counts can be grouped by, each a column of the counts.
Grouping = tuple[str, ...]
EVERY_GROUP: Grouping = ("unit_id", "category", "module_id")
# The values of the grouping's columns -> people per state
Counts = dict[tuple[Any, ...], dict[str, int]]


def regroup(found: Counts, by: Grouping) -> Counts:
    """Add up counts grouped by unit, category and module into fewer groups."""
    if by == EVERY_GROUP:
        return found
    grouped: Counts = {}
    for key, states in found.items():
        values = dict(zip(EVERY_GROUP, key, strict=True))
        cell = grouped.setdefault(tuple(values[name] for name in by), {})
        for state, people in states.items():
            cell[state] = cell.get(state, 0) + people
    return grouped


def counts(filters: Filters, cutoffs: Cutoffs, by: Grouping = EVERY_GROUP) -> Counts:
    """Count people per state by unit, category and module (or some), in two grouped queries.

    Nobody is grouped one by one: the first query counts the people who must take
    each module (grouping people by unit, category, position and whether they are
    due, before joining the curriculum); the second counts valid training records.
    Overdue and in-progress are what remains on each side of the due date.
    """
    remaining: dict[tuple[int, str, int, bool], int] = {}
    for unit_id, category, module_id, is_due, people in db.session.execute(
        _required(filters, cutoffs)
    ):
        remaining[(unit_id, category, module_id, bool(is_due))] = int(people)
    found: Counts = {}
    for unit_id, category, module_id, is_due, is_lasting, people in db.session.execute(
        _valid(filters, cutoffs)
    ):
        state = State.COMPLETE if is_lasting else State.EXPIRING
        counted = found.setdefault((unit_id, str(category), module_id), {})
        counted[state.value] = counted.get(state.value, 0) + people
        remaining[(unit_id, category, module_id, bool(is_due))] -= people
    for (unit_id, category, module_id, is_due), people in remaining.items():
        state = State.OVERDUE if is_due else State.IN_PROGRESS
        if people:
            found.setdefault((unit_id, str(category), module_id), {})[state.value] = people
    return regroup(found, by)


def _required(filters: Filters, cutoffs: Cutoffs) -> sa.Select[*tuple[Any, ...]]:
    """Count the people who must take each module, per unit, category and whether due."""
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
            groups.c.category,
            CurriculumRequirement.module_id,
            groups.c.due,
            sa.func.sum(groups.c.people),
        )
        .join(CurriculumRequirement, curriculum.applies(groups.c.category, groups.c.position))
        .group_by(
            groups.c.unit_id, groups.c.category, CurriculumRequirement.module_id, groups.c.due
        )
    )
    if filters.module_id:
        required = required.where(CurriculumRequirement.module_id == filters.module_id)
    return required


def _valid(filters: Filters, cutoffs: Cutoffs) -> sa.Select[*tuple[Any, ...]]:
    """Count valid training records per unit, category, module, due or not, and expiring."""
    due = _due_passed(cutoffs).label("due")
    lasting = (TrainingRecord.valid_until > cutoffs.expiring_before).label("lasting")
    query: sa.Select[*tuple[Any, ...]] = (
        required_records(
            sa.select(
                User.unit_id,
                User.category,
                CurriculumRequirement.module_id,
                due,
                lasting,
                sa.func.count(),
            )
        )
        .where(TrainingRecord.valid_until > cutoffs.now)
        .group_by(User.unit_id, User.category, CurriculumRequirement.module_id, due, lasting)
    )
    return _in_filters(query, filters)


def earned_in_classroom(filters: Filters, cutoffs: Cutoffs, by: Grouping = EVERY_GROUP) -> Counts:
    """Count the valid training records earned in a facilitated session, by unit, category
    and module (or some), as {"classroom": people}; the other valid records were earned
    online. A record is earned the way its completion (the one with its expiry) was.

    From the completions of sessions only, along their index, not from every record.
    """
    query = (
        required_records(
            sa.select(
                User.unit_id,
                User.category,
                CurriculumRequirement.module_id,
                sa.func.count(sa.distinct(TrainingRecord.user_id)),
            )
        )
        .join(
            Completion,
            sa.and_(
                Completion.user_id == TrainingRecord.user_id,
                Completion.module_id == TrainingRecord.module_id,
                Completion.expires_at == TrainingRecord.valid_until,
            ),
        )
        .where(
            Completion.session_id.is_not(None),
            Completion.delivery_mode == DeliveryMode.CLASSROOM,
            TrainingRecord.valid_until > cutoffs.now,
        )
        .group_by(User.unit_id, User.category, CurriculumRequirement.module_id)
    )
    found: Counts = {
        (unit_id, str(category), module_id): {DeliveryMode.CLASSROOM.value: int(people)}
        for unit_id, category, module_id, people in db.session.execute(_in_filters(query, filters))
    }
    return regroup(found, by)
