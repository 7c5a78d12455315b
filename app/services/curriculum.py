"""The curriculum: who must take which module.

One rule, in one place: a line of `curriculum_requirement` applies to people of its
category, and to all positions or only its own. Reports join people to it in SQL;
a person's own list of mandatory modules is read through the same condition.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import CurriculumRequirement, ModuleVersion, TrainingModule, User


def applies(category: Any, position: Any) -> sa.ColumnElement[bool]:
    """Return the condition that a curriculum line applies to this category and position.

    Both may be columns (to join people to what they must take) or plain values.
    """
    return sa.and_(
        CurriculumRequirement.category == category,
        sa.or_(
            CurriculumRequirement.position.is_(None),
            CurriculumRequirement.position == position,
        ),
    )


def applies_to_people() -> sa.ColumnElement[bool]:
    """Return the join condition between people and the curriculum lines they must meet."""
    return applies(User.category, User.position)


def required_modules(category: str, position: str) -> sa.Select[int]:
    """Select the ids of the modules mandatory for people of this category and position."""
    return sa.select(CurriculumRequirement.module_id).where(applies(category, position))


def required_versions(user: User) -> list[ModuleVersion]:
    """Return the current version of every module mandatory for the person, by title.

    Stored rows, for those who write; pages read them from `content.published`.
    """
    required = required_modules(user.category, user.position)
    return list(
        db.session.scalars(
            sa.select(ModuleVersion)
            .join(TrainingModule)
            .options(contains_eager(ModuleVersion.module))
            .where(
                ModuleVersion.is_current,
                TrainingModule.retired_at.is_(None),
                ModuleVersion.module_id.in_(required),
            )
            .order_by(ModuleVersion.title)
        )
    )


def rebuild() -> None:
    """Derive who must take which module from the current versions' front matter.

    The report counts are counted again: who counts on which module has changed.
    """
    # Reporting joins people to the curriculum through this module.
    from app.services.reporting import summary

    db.session.execute(sa.delete(CurriculumRequirement))
    versions = db.session.scalars(sa.select(ModuleVersion).where(ModuleVersion.is_current))
    db.session.add_all(
        CurriculumRequirement(module_id=version.module_id, category=category, position=position)
        for version in versions
        for category in version.categories
        for position in (version.positions or [None])  # type: ignore[list-item]
    )
    db.session.flush()
    summary.rebuild()
