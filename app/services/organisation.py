"""Missions, units and who may see which of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Completion, Mission, Role, Unit, User
from app.models.types import utcnow


def units_in_scope(user: User) -> list[Unit]:
    """Return the units a person may oversee: all for an admin, else assigned ones and below."""
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name)).all()
    if user.role == Role.ADMIN:
        return list(units)
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    seen: dict[int, Unit] = {}
    pending = [unit for unit in user.assigned_units]
    while pending:
        unit = pending.pop()
        if unit.id not in seen:
            seen[unit.id] = unit
            pending.extend(children.get(unit.id, []))
    return sorted(seen.values(), key=lambda unit: unit.name)


def subtree_ids(units: Sequence[Unit], root_id: int) -> list[int]:
    """Return a unit's id and those of the units below it, among the units given."""
    ids, pending = [], [root_id]
    while pending:
        unit_id = pending.pop()
        ids.append(unit_id)
        pending.extend(unit.id for unit in units if unit.parent_id == unit_id)
    return ids


@dataclass(frozen=True)
class UnitSummary:
    unit: Unit
    mission: Mission
    people: int
    people_with_valid_completion: int


def unit_summaries(units: list[Unit]) -> list[UnitSummary]:
    """Count people and people holding a valid completion per unit, in two queries."""
    ids = [unit.id for unit in units]
    people = dict(
        db.session.execute(
            sa.select(User.unit_id, sa.func.count(User.id))
            .where(User.unit_id.in_(ids), User.is_active)
            .group_by(User.unit_id)
        ).all()
    )
    trained = dict(
        db.session.execute(
            sa.select(User.unit_id, sa.func.count(sa.distinct(User.id)))
            .join(Completion, Completion.user_id == User.id)
            .where(User.unit_id.in_(ids), User.is_active, Completion.expires_at > utcnow())
            .group_by(User.unit_id)
        ).all()
    )
    missions = {m.id: m for m in db.session.scalars(sa.select(Mission))}
    return [
        UnitSummary(
            unit, missions[unit.mission_id], people.get(unit.id, 0), trained.get(unit.id, 0)
        )
        for unit in units
    ]
