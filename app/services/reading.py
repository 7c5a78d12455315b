"""Where each person is in reading a module: the furthest section reached, the last opened."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ReadingProgress, User
from app.models.types import utcnow
from app.services.content.published import ModuleContent


class Reading(NamedTuple):
    """How far a person has read a version: section numbers, from 1."""

    furthest: int
    last: int


PROGRESS = sa.select(
    ReadingProgress.module_version_id, ReadingProgress.furthest, ReadingProgress.last
).where(
    ReadingProgress.user_id == sa.bindparam("user_id"),
    ReadingProgress.module_version_id.in_(sa.bindparam("version_ids", expanding=True)),
)


def progress_for(user: User, versions: Iterable[ModuleContent]) -> dict[int, Reading]:
    """Return the person's reading of each version they started, by version id, in one query."""
    ids = [version.id for version in versions]
    if not ids:
        return {}
    rows = db.session.execute(PROGRESS, {"user_id": user.id, "version_ids": ids})
    return {version_id: Reading(furthest, last) for version_id, furthest, last in rows}


def record(user: User, version: ModuleContent, section: int) -> None:
    """Record that the person opened a section: their last, and the furthest if beyond it.

    One conditional UPDATE, else an INSERT; two requests inserting at once both count.
    """
    mine = sa.and_(
        ReadingProgress.user_id == user.id, ReadingProgress.module_version_id == version.id
    )
    update = (
        sa.update(ReadingProgress)
        .where(mine)
        .values(
            furthest=sa.case(
                (ReadingProgress.furthest < section, section), else_=ReadingProgress.furthest
            ),
            last=section,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(db.session.execute(update), "rowcount", 0):
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                ReadingProgress(
                    user_id=user.id, module_version_id=version.id, furthest=section, last=section
                )
            )
    except IntegrityError:
        db.session.execute(update)
