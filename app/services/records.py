"""Training records: the latest expiry per person and module, kept with each completion."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
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
    if rows:
        db.session.execute(_upsert(db.engine.dialect.name), rows)


@functools.cache
def _upsert(dialect_name: str) -> sa.Insert:
    """Build, once per database kind, the upsert that keeps the latest expiry."""
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    # The table, not the model: a plain INSERT, without the ORM's bulk machinery.
    table = TrainingRecord.__table__
    statement = dialect.insert(table)
    latest = sa.case(
        (statement.excluded.valid_until > table.c.valid_until, statement.excluded.valid_until),
        else_=table.c.valid_until,
    )
    upsert: sa.Insert = statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.module_id], set_={"valid_until": latest}
    )
    return upsert


@dataclass
class Latest:
    """A person's latest completions per module, by expiry."""

    # The latest expiry whose certificate is not revoked: the completion that counts.
    counting: dict[int, Completion] = field(default_factory=dict)
    # The latest expiry whose certificate was revoked, and when it was.
    revoked: dict[int, tuple[Completion, datetime]] = field(default_factory=dict)


# Built once: the module page reads it on every view.
LATEST = (
    sa.select(Completion, Certificate.revoked_at)
    .outerjoin(Certificate, Certificate.completion_id == Completion.id)
    .where(
        Completion.user_id == sa.bindparam("user_id"),
        Completion.module_id.in_(sa.bindparam("module_ids", expanding=True)),
    )
    .order_by(Completion.expires_at)
)


def latest_completions(user_id: int, module_ids: Collection[int]) -> Latest:
    """Return the person's latest completion of each module that counts, and latest revoked."""
    rows = db.session.execute(LATEST, {"user_id": user_id, "module_ids": list(module_ids)})
    return latest_of(rows)


def latest_of(rows: Iterable[tuple[Completion, datetime | None]]) -> Latest:
    """Pick the latest completions from (completion, revoked at) pairs in order of expiry."""
    latest = Latest()
    for completion, revoked_at in rows:
        if revoked_at is None:
            latest.counting[completion.module_id] = completion  # the latest expiry wins
        else:
            latest.revoked[completion.module_id] = (completion, revoked_at)
    return latest


def recompute(user_id: int, module_id: int) -> None:
    """Rebuild one person's record of a module from their completions that still count.

    A completion whose certificate was revoked no longer counts: the record takes the
    latest expiry of the others, and disappears when none is left.
    """
    counting = latest_completions(user_id, [module_id]).counting.get(module_id)
    db.session.execute(
        sa.delete(TrainingRecord).where(
            TrainingRecord.user_id == user_id, TrainingRecord.module_id == module_id
        )
    )
    if counting is not None:
        extend([(user_id, module_id, counting.expires_at)])
