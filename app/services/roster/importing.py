"""Import a checked roster in bulk, in the caller's transaction, and audit what it changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditAction, Role, User
from app.models.organisation import new_session_token
from app.models.types import utcnow
from app.services import accounts, audit, pending
from app.services.roster.model import (
    Action,
    LinkedAccount,
    Person,
    Preview,
    RosterError,
    RosterRow,
)

# What a training record prints of a person (the position decides the modules it lists).
PRINTED = frozenset(
    {"full_name", "service_number", "category", "unit", "position", "deployment_date"}
)


@dataclass(frozen=True)
class ImportResult:
    """What an import changed, with the links people need to sign in for the first time."""

    created: list[LinkedAccount]
    updated: int
    unchanged: int
    # People already on the platform, named in the file, who still have no password.
    awaiting_password: list[LinkedAccount]


def apply(checked: Preview) -> ImportResult:
    """Create and update the people of a checked roster in bulk; refuse one with problems."""
    if not checked.is_valid:
        raise RosterError(checked.problems)
    now = utcnow()
    creates = [(row, row.person) for row in checked.rows if row.action == Action.CREATE]
    new_people = [_new_user_values(person, now) for _row, person in creates if person]
    ids: dict[str, int] = {}
    if new_people:
        inserted = db.session.execute(
            sa.insert(User).returning(User.id, User.service_number), new_people
        )
        ids = {service_number: user_id for user_id, service_number in inserted}
    tokens = {values["service_number"]: values["session_token"] for values in new_people}

    updates = [
        {"id": row.user_id, **row.person.fields(checked.columns)}
        for row in checked.rows
        if row.action == Action.UPDATE and row.person
    ]
    if updates:
        db.session.execute(sa.update(User), updates)
    # Their training records show the new name, unit, category or deployment date.
    pending.render_later(
        user_ids=[
            row.user_id
            for row in checked.rows
            if row.action == Action.UPDATE and row.user_id and PRINTED.intersection(row.changes)
        ]
    )
    db.session.flush()

    created = [
        _linked(row, person, ids[person.service_number], tokens[person.service_number])
        for row, person in creates
        if person
    ]
    awaiting = [
        _linked(row, row.person, row.user_id, row.pending_session_token)
        for row in checked.rows
        if row.person and row.user_id is not None and row.pending_session_token is not None
    ]
    result = ImportResult(
        created=created,
        updated=len(updates),
        unchanged=checked.count(Action.UNCHANGED),
        awaiting_password=awaiting,
    )
    _audit(checked, result)
    return result


def _audit(checked: Preview, result: ImportResult) -> None:
    """Record what the import changed, and who was handed a link into an existing account."""
    audit.record(
        AuditAction.ROSTER_IMPORTED,
        f"{len(checked.rows)} rows",
        {
            "created": [person.service_number for person in result.created],
            "updated": {
                row.service_number: _changed_fields(row, checked.columns)
                for row in checked.rows
                if row.action == Action.UPDATE
            },
            "unchanged": result.unchanged,
        },
    )
    if result.awaiting_password:
        # Each new link opens the account: who was handed one, and by whom, is evidence.
        audit.record(
            AuditAction.SET_PASSWORD_LINKS_REISSUED,
            f"{len(result.awaiting_password)} people",
            {"people": [person.service_number for person in result.awaiting_password]},
        )


def _changed_fields(row: RosterRow, columns: frozenset[str]) -> dict[str, list[Any]]:
    """Return {field: [before, after]} for each field an update changes."""
    assert row.person is not None  # an update has checked values
    after = row.person.fields(columns)
    return {
        column: [before, after[column]]
        for column, before in zip(row.changes, row.before, strict=True)
    }


def _new_user_values(person: Person, now: datetime) -> dict[str, Any]:
    # Bulk inserts skip the model's Python defaults, so every column is given here.
    return {
        "username": person.service_number.lower(),
        "service_number": person.service_number,
        "full_name": person.full_name,
        "email": person.email,
        "password_hash": None,
        "role": Role.PEACEKEEPER.value,
        "category": person.category.value,
        "position": person.position.value,
        "unit_id": person.unit_id,
        "deployment_date": person.deployment_date,
        "is_active": True,
        "session_token": new_session_token(),
        "created_at": now,
    }


def _linked(row: RosterRow, person: Person, user_id: int, session_token: str) -> LinkedAccount:
    return LinkedAccount(
        row=row.number,
        user_id=user_id,
        service_number=person.service_number,
        full_name=person.full_name,
        email=person.email,
        link=accounts.set_password_url(accounts.set_password_token(user_id, session_token)),
    )
