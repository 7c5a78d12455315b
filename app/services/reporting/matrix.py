"""The completion matrix: people per unit, module and state, in two grouped queries."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import CurriculumRequirement, TrainingRecord, Unit, User
from app.services import curriculum
from app.services.reporting.cells import Cell, Matrix, current_modules
from app.services.reporting.states import Cutoffs, Filters, State, _due_passed, _in_filters


def matrix(units: list[Unit], filters: Filters, cutoffs: Cutoffs) -> Matrix:
    """Count people per unit, module and state, in two grouped queries.

    Nobody is grouped one by one: the first query counts the people who must take
    each module (grouping people by unit, category, position and whether they are
    due, before joining the curriculum); the second counts valid training records.
    Overdue and in-progress are what remains on each side of the due date.
    """
    cells = _cells(_required(filters, cutoffs), _valid(filters, cutoffs))
    if filters.state is not None:
        for cell in cells.values():
            cell.counts = {k: v for k, v in cell.counts.items() if k == filters.state.value}
    modules = current_modules()
    if filters.module_id:
        modules = [m for m in modules if m.module_id == filters.module_id]
    return Matrix(units, modules, cells)


def _required(filters: Filters, cutoffs: Cutoffs) -> sa.Select[*tuple[Any, ...]]:
    """Count the people who must take each module, per unit and whether they are due."""
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
    return required


def _valid(filters: Filters, cutoffs: Cutoffs) -> sa.Select[*tuple[Any, ...]]:
    """Count valid training records per unit, module, due or not, and lasting or expiring."""
    due = _due_passed(cutoffs).label("due")
    lasting = (TrainingRecord.valid_until > cutoffs.expiring_before).label("lasting")
    query: sa.Select[*tuple[Any, ...]] = (
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
        .group_by(User.unit_id, CurriculumRequirement.module_id, due, lasting)
    )
    return _in_filters(query, filters)


def _cells(
    required: sa.Select[*tuple[Any, ...]], valid: sa.Select[*tuple[Any, ...]]
) -> dict[tuple[int, int], Cell]:
    """Turn the two counts into cells: valid records by expiry, the rest by due date."""
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
    return cells
