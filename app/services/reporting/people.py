"""People listed by module and state, problems first, with the counts from the same query."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Unit, User
from app.services import pagination
from app.services.reporting.cells import Cell, current_modules
from app.services.reporting.states import (
    STATE_ORDER,
    Cutoffs,
    Filters,
    State,
    _states,
    aware,
    due_date,
)


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
