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
