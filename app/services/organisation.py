"""Missions, units and who may see which of them."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from app.extensions import db
from app.models import Mission, Role, Unit, User


def all_missions() -> list[Mission]:
    """Return every mission, by name."""
    return list(db.session.scalars(sa.select(Mission).order_by(Mission.name)))


def all_units() -> list[Unit]:
    """Return every unit, by name."""
    return list(db.session.scalars(sa.select(Unit).order_by(Unit.name)))


def units_in_scope(user: User) -> list[Unit]:
    """Return the units a person may oversee: all for an admin, else assigned ones and below."""
    units = all_units()
    if user.role == Role.ADMIN:
        return units
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


def unit_in_scope(units: Sequence[Unit], unit_id: int) -> tuple[Unit, list[int]] | None:
    """Return the unit among those in scope and the ids of it and its sub-units, or None."""
    unit = next((unit for unit in units if unit.id == unit_id), None)
    return None if unit is None else (unit, subtree_ids(units, unit.id))


def person_in_scope(user: User, person: User) -> bool:
    """Return whether the person serves in a unit the user may oversee."""
    return person.unit_id is not None and any(
        unit.id == person.unit_id for unit in units_in_scope(user)
    )


def subtree_ids(units: Sequence[Unit], root_id: int) -> list[int]:
    """Return a unit's id and those of the units below it, among the units given."""
    ids, pending = [], [root_id]
    while pending:
        unit_id = pending.pop()
        ids.append(unit_id)
        pending.extend(unit.id for unit in units if unit.parent_id == unit_id)
    return ids
