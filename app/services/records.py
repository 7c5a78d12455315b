"""Training records: the latest expiry per person and module, kept with each completion."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Certificate, Completion, TrainingRecord


def extend(entries: Iterable[tuple[int, int, datetime]]) -> None:
    """Record completions (person, module, expiry), keeping the latest expiry of each pair.

    An upsert rather than read-then-write, so concurrent completions cannot lose one.
    """
    rows = [
        {"user_id": user_id, "module_id": module_id, "valid_until": valid_until}
        for user_id, module_id, valid_until in entries
    ]
    if not rows:
        return
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(TrainingRecord)
    latest = sa.case(
        (
            statement.excluded.valid_until > TrainingRecord.valid_until,
            statement.excluded.valid_until,
        ),
        else_=TrainingRecord.valid_until,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[TrainingRecord.user_id, TrainingRecord.module_id],
            set_={"valid_until": latest},
        ),
        rows,
    )


def recompute(user_id: int, module_id: int) -> None:
    """Rebuild one person's record of a module from their completions that still count.

    A completion whose certificate was revoked no longer counts: the record takes the
    latest expiry of the others, and disappears when none is left.
    """
    valid_until = db.session.scalar(
        sa.select(sa.func.max(Completion.expires_at))
        .outerjoin(Certificate, Certificate.completion_id == Completion.id)
        .where(
            Completion.user_id == user_id,
            Completion.module_id == module_id,
            Certificate.revoked_at.is_(None),
        )
    )
    db.session.execute(
        sa.delete(TrainingRecord).where(
            TrainingRecord.user_id == user_id, TrainingRecord.module_id == module_id
        )
    )
    if valid_until is not None:
        extend([(user_id, module_id, valid_until)])
