"""Completions per month, for the trend under the coordinator's matrix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Completion, User
from app.models.types import utcnow


def completions_by_month(unit_ids: Sequence[int] | None, months: int = 12) -> list[tuple[str, int]]:
    """Count completions per month over the last months, oldest first, zeros included.

    Months are compared as ranges, newest first, rather than formatted row by row.
    The whole organisation's are counted along the completion-date index, a range
    per month (a million completions a year need no sorting into months); some units'
    through their people's completions, sorted into months.
    """
    now = utcnow()
    starts = []
    year, month = now.year, now.month
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    counts = _by_range(starts) if unit_ids is None else _by_bucket(starts, unit_ids)
    return [
        (start.strftime("%Y-%m"), counts.get(index, 0))
        for index, start in reversed(list(enumerate(starts)))
    ]


def _by_range(starts: list[datetime]) -> dict[int, int]:
    """Count every completion of each month (newest first), one index range each."""
    ends: list[datetime | None] = [None, *starts[:-1]]
    ranges = []
    for start, end in zip(starts, ends, strict=True):
        query = sa.select(sa.func.count()).where(Completion.completed_at >= start)
        if end is not None:
            query = query.where(Completion.completed_at < end)
        ranges.append(query.scalar_subquery())
    return dict(enumerate(int(count) for count in db.session.execute(sa.select(*ranges)).one()))


def _by_bucket(starts: list[datetime], unit_ids: Sequence[int]) -> dict[int, int]:
    """Count the completions of the units' people per month (newest first)."""
    bucket = sa.case(
        *((Completion.completed_at >= start, index) for index, start in enumerate(starts)),
        else_=None,
    )
    query = (
        sa.select(bucket, sa.func.count())
        .join(User, User.id == Completion.user_id)
        .where(Completion.completed_at >= starts[-1], User.unit_id.in_(unit_ids))
        .group_by(bucket)
    )
    return {row[0]: int(row[1]) for row in db.session.execute(query)}
