"""Report counts read from the summary the database keeps, brought to the present moment.

`report_count` holds people per unit, category, module and state as of the anchor
(app/models/reports.py). Reading it, one statement adds up its rows and moves the
few people whose state changed since the anchor: records that expired or started
expiring in between, people who became due. Rebuild and refresh run from the command
line (`flask reports`); curriculum changes rebuild, since they change who counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import CurriculumRequirement, ReportAnchor, ReportCount, TrainingRecord, User
from app.models.reports import ANCHOR_ID
from app.services import curriculum
from app.services.reporting import source
from app.services.reporting.source import EVERY_GROUP, Counts, Grouping
from app.services.reporting.states import (
    Cutoffs,
    Filters,
    State,
    _in_filters,
    record_of_requirement,
    required_records,
    state_of,
)


@dataclass(frozen=True)
class Anchor:
    """The moment the counts are counted at, with its cutoffs (`now` is that moment)."""

    now: datetime
    expiring_before: datetime
    deployment_before: date
    created_before: datetime

    def serves(self, cutoffs: Cutoffs) -> bool:
        """Return whether counts as of this moment can be brought to the cutoffs' moment.

        They can when both were derived with the same lead times; the states of the
        people and records in between are then all that differs.
        """
        return (
            self.expiring_before - self.now == cutoffs.expiring_before - cutoffs.now
            and self.deployment_before - self.now.date()
            == cutoffs.deployment_before - cutoffs.now.date()
            and self.now - self.created_before == cutoffs.now - cutoffs.created_before
        )


def anchor(lock: bool = False) -> Anchor | None:
    """Return the moment the counts are counted at, or None before they are first built.

    With `lock`, hold it until the transaction ends, for a refresh or a rebuild: a
    write to its row makes writers wait on PostgreSQL (their triggers share-lock it)
    and, on SQLite, holds the database's one write lock from here on.
    """
    if lock:
        db.session.execute(
            sa.update(ReportAnchor).where(ReportAnchor.id == ANCHOR_ID).values(id=ANCHOR_ID)
        )
    query = sa.select(
        ReportAnchor.as_of,
        ReportAnchor.expiring_before,
        ReportAnchor.deployment_before,
        ReportAnchor.created_before,
    ).where(ReportAnchor.id == ANCHOR_ID)
    row = db.session.execute(query).first()
    if row is None or row.as_of is None:
        return None
    return Anchor(row.as_of, row.expiring_before, row.deployment_before, row.created_before)


def counts(filters: Filters, cutoffs: Cutoffs, by: Grouping = EVERY_GROUP) -> Counts:
    """Count people per state by unit, category and module (or some), as of the cutoffs.

    From the summary when it can serve these cutoffs, else from the source.
    """
    if filters.user_id is None:
        for _attempt in range(2):
            counted = anchor()
            if counted is None or not counted.serves(cutoffs):
                break
            found = _from_summary(filters, cutoffs, counted, by)
            if found is not None:
                return found
            # A refresh moved the anchor between the two statements: read it again.
    return source.counts(filters, cutoffs, by)


def _from_summary(
    filters: Filters, cutoffs: Cutoffs, counted: Anchor, by: Grouping
) -> Counts | None:
    """Add up the summary and move what changed since the anchor, in one statement.

    Return None when the anchor is no longer the one the summary is counted at.
    """
    summed = sa.select(
        ReportCount.unit_id,
        ReportCount.category,
        ReportCount.module_id,
        *(getattr(ReportCount, state.value) for state in State),
    )
    if filters.unit_ids is not None:
        summed = summed.where(ReportCount.unit_id.in_(filters.unit_ids))
    if filters.category:
        summed = summed.where(ReportCount.category == filters.category)
    if filters.module_id:
        summed = summed.where(ReportCount.module_id == filters.module_id)
    changes = sa.union_all(summed, *_moved(filters, cutoffs, counted)).subquery("changes")
    groups = [changes.c[name] for name in by]
    totals = sa.select(
        _kind("count"), *groups, *(sa.func.sum(changes.c[state.value]) for state in State)
    ).group_by(*groups)
    # Read in the same statement: the anchor the summary is counted at, still this one?
    still = sa.select(
        _kind("anchor"),
        *(sa.null() for _ in by),
        sa.func.count(),
        *(sa.null() for _ in range(len(State) - 1)),
    ).where(ReportAnchor.id == ANCHOR_ID, ReportAnchor.as_of == counted.now)
    found: Counts = {}
    current = False
    width, states = len(by), [state.value for state in State]
    rows: sa.Result[Any] = db.session.execute(sa.union_all(totals, still))
    for row in rows:
        kind, values = row[0], list[Any](row[1:])
        if kind == "anchor":
            current = bool(values[width])
        elif people := {s: int(n) for s, n in zip(states, values[width:], strict=True) if n}:
            found[tuple(values[:width])] = people
    return found if current else None


def _moved(
    filters: Filters, cutoffs: Cutoffs, counted: Anchor
) -> list[sa.Select[*tuple[Any, ...]]]:
    """Return what changed between the anchor and now, as changes to the counts.

    Only two kinds of people can have changed state: those whose record's expiry or
    expiring window was crossed in between, and those whose due date passed in
    between (and whose record did not cross anything).
    """
    valid_until = TrainingRecord.valid_until
    crossed = sa.or_(
        _between(valid_until, counted.now, cutoffs.now),
        _between(valid_until, counted.expiring_before, cutoffs.expiring_before),
    )
    records = required_records(_pairs(cutoffs, counted)).where(crossed)
    deployment = sorted([counted.deployment_before, cutoffs.deployment_before])
    created = sorted([counted.created_before, cutoffs.created_before])
    became_due = sa.or_(
        sa.and_(User.deployment_date >= deployment[0], User.deployment_date < deployment[1]),
        sa.and_(
            User.deployment_date.is_(None),
            User.created_at >= created[0],
            User.created_at < created[1],
        ),
    )
    people = (
        _pairs(cutoffs, counted)
        .select_from(User)
        .join(CurriculumRequirement, curriculum.applies_to_people())
        .outerjoin(TrainingRecord, record_of_requirement())
        .where(became_due, sa.or_(valid_until.is_(None), sa.not_(crossed)))
    )
    return [_as_changes(_in_filters(query, filters)) for query in (records, people)]


def _pairs(cutoffs: Cutoffs, counted: Anchor) -> sa.Select[*tuple[Any, ...]]:
    """Select people and modules with their state as of the anchor and now."""
    valid_until = TrainingRecord.valid_until
    return sa.select(
        User.unit_id,
        User.category,
        CurriculumRequirement.module_id,
        state_of(valid_until, counted).label("then_state"),
        state_of(valid_until, cutoffs).label("now_state"),
    )


def _as_changes(pairs: sa.Select[*tuple[Any, ...]]) -> sa.Select[*tuple[Any, ...]]:
    """Turn people and modules with two states into changes: one out of one, one into the other."""
    moved = pairs.subquery("moved")
    return sa.select(
        moved.c.unit_id,
        moved.c.category,
        moved.c.module_id,
        *(
            sa.case((moved.c.now_state == state.value, 1), else_=0)
            - sa.case((moved.c.then_state == state.value, 1), else_=0)
            for state in State
        ),
    )


def _kind(name: str) -> sa.ColumnElement[str]:
    """Return a constant naming what a row of the summary statement is."""
    return sa.literal_column(f"'{name}'", sa.String)


def _between(column: Any, one: Any, other: Any) -> sa.ColumnElement[bool]:
    """Return whether a value lies after the earlier moment and up to the later one."""
    low, high = sorted([one, other])
    return sa.and_(column > low, column <= high)


def rebuild(now: datetime | None = None) -> int:
    """Count everyone again from the source, as of now; return the number of rows kept."""
    cutoffs = Cutoffs.at(now)
    anchor(lock=True)
    return _replace(source.counts(Filters(), cutoffs), cutoffs)


def refresh(now: datetime | None = None) -> int:
    """Bring the counts to now and fold their changes into one row each; return the rows.

    Rebuilds instead when the counts were never built or the lead times changed.
    """
    cutoffs = Cutoffs.at(now)
    counted = anchor(lock=True)
    if counted is None or not counted.serves(cutoffs):
        return rebuild(now)
    found = _from_summary(Filters(), cutoffs, counted, EVERY_GROUP)
    assert found is not None, "the anchor is locked"
    return _replace(found, cutoffs)


def _replace(found: Counts, cutoffs: Cutoffs) -> int:
    """Replace the summary with these counts, counted as of the cutoffs' moment."""
    db.session.execute(sa.delete(ReportCount))
    moments = {
        "as_of": cutoffs.now,
        "expiring_before": cutoffs.expiring_before,
        "deployment_before": cutoffs.deployment_before,
        "created_before": cutoffs.created_before,
    }
    moved = db.session.execute(
        sa.update(ReportAnchor).where(ReportAnchor.id == ANCHOR_ID).values(moments)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        db.session.execute(sa.insert(ReportAnchor).values(id=ANCHOR_ID, **moments))
    rows = [
        {"unit_id": unit_id, "category": str(category), "module_id": module_id,
         **{state.value: states.get(state.value, 0) for state in State}}
        for (unit_id, category, module_id), states in found.items()
    ]  # fmt: skip
    if rows:
        db.session.execute(sa.insert(ReportCount), rows)
    return len(rows)


@dataclass(frozen=True)
class Difference:
    """A count the summary has wrong: where, and both numbers."""

    unit_id: int
    category: str
    module_id: int
    state: str
    summary: int
    source: int


def differences(cutoffs: Cutoffs) -> list[Difference] | None:
    """Compare the summary with the source as of the cutoffs; None when it cannot serve them."""
    counted = anchor()
    if counted is None or not counted.serves(cutoffs):
        return None
    summary = _from_summary(Filters(), cutoffs, counted, EVERY_GROUP) or {}
    truth = source.counts(Filters(), cutoffs)
    found = []
    for key in sorted(set(summary) | set(truth), key=str):
        mine, theirs = summary.get(key, {}), truth.get(key, {})
        for state in sorted(set(mine) | set(theirs)):
            if mine.get(state, 0) != theirs.get(state, 0):
                unit_id, category, module_id = key
                found.append(
                    Difference(unit_id, str(category), module_id, state,
                               mine.get(state, 0), theirs.get(state, 0))
                )  # fmt: skip
    return found
