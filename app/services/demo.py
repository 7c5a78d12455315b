"""Demonstration data for the embedded run: one mission, two units, one account per role."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Mission, PersonnelCategory, Position, Role, Unit, User
from app.models.types import utcnow

MISSION = {"code": "DEMO", "name": "United Nations Demonstration Mission"}
UNITS = [
    {"code": "DEMO-INF-1", "name": "Infantry Battalion 1", "country": "Nepal"},
    {"code": "DEMO-FPU-2", "name": "Formed Police Unit 2", "country": "Senegal"},
]
ACCOUNTS = [
    # username, full name, role, category, position, unit code, assigned unit codes
    ("peacekeeper", "Amina Haddad", Role.PEACEKEEPER, PersonnelCategory.MILITARY_CONTINGENT,
     Position.MEMBER, "DEMO-INF-1", []),
    ("coordinator", "Lucas Moreau", Role.COORDINATOR, PersonnelCategory.CIVILIAN,
     Position.MEMBER, None, ["DEMO-INF-1", "DEMO-FPU-2"]),
    ("commander", "Rajan Thapa", Role.COMMANDER, PersonnelCategory.MILITARY_CONTINGENT,
     Position.COMMANDER, "DEMO-INF-1", ["DEMO-INF-1"]),
    ("admin", "Olga Petrova", Role.ADMIN, PersonnelCategory.CIVILIAN,
     Position.MANAGER, None, []),
]  # fmt: skip


def random_password() -> str:
    """Return a random password to print for this run's demo accounts."""
    return secrets.token_urlsafe(12)


def seed(password: str) -> list[str]:
    """Create or refresh the demo data without duplicating it; return the usernames."""
    mission = db.session.scalar(sa.select(Mission).where(Mission.code == MISSION["code"]))
    if mission is None:
        mission = Mission(**MISSION)
        db.session.add(mission)
    units = {}
    for values in UNITS:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == values["code"]))
        if unit is None:
            unit = Unit(mission=mission, **values)
            db.session.add(unit)
        units[values["code"]] = unit
    db.session.flush()

    deployment = (utcnow() + timedelta(days=45)).date()
    for number, (username, name, role, category, position, unit_code, assigned) in enumerate(
        ACCOUNTS, start=1
    ):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = User(username=username, service_number=f"DEMO-{number:04d}")
            db.session.add(user)
        user.full_name, user.role, user.category, user.position = name, role, category, position
        user.unit = units[unit_code] if unit_code else None
        user.assigned_units = [units[code] for code in assigned]
        user.deployment_date = deployment if unit_code else None
        user.is_active = True
        user.set_password(password)
        user.end_sessions()
    db.session.flush()
    return [account[0] for account in ACCOUNTS]
