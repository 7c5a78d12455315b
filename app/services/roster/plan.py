"""Preview a roster: check its rows against the people already on the platform.

Each row creates a person, updates one, leaves one unchanged, or has problems to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Role, Unit, User
from app.services.roster.model import (
    CHUNK_SIZE,
    Action,
    Person,
    Preview,
    Problem,
    RosterRow,
    chunks,
)
from app.services.roster.parse import Header, open_file, read_table
from app.services.roster.values import Draft, category_names, check_values

ROLE_NAMES: dict[str, Any] = {
    Role.COORDINATOR: _l("coordinator"),
    Role.COMMANDER: _l("commander"),
    Role.HEADQUARTERS: _l("headquarters"),
    Role.ADMIN: _l("administrator"),
    Role.FACILITATOR: _l("facilitator"),
}


@dataclass(frozen=True)
class _Existing:
    id: int
    service_number: str
    username: str
    unit_id: int | None
    full_name: str
    category: str
    position: str
    email: str | None
    deployment_date: date | None
    role: str
    is_active: bool
    has_password: bool
    session_token: str


def preview(content: bytes, scope: Iterable[Unit]) -> Preview:
    """Check a roster file against the database; people may only go into units in scope."""
    source, problem = open_file(content)
    if source is None:
        return Preview([], [problem] if problem else [])
    header, records, unreadable, problems = read_table(source)
    if header is None:
        return Preview([], problems)
    if not records and not problems:
        problems.append(Problem(_("The file has a header row but no people below it.")))
    columns = frozenset(header.columns.values())
    categories = category_names()
    drafts = [check_values(number, raw, header, categories) for number, raw in records]
    _check_units(drafts, header, scope)
    _check_duplicates(drafts, header)
    rows = _compare_with_database(drafts, header, columns)
    rows += [RosterRow(number, "", "", "", has_problem=True) for number in unreadable]
    rows.sort(key=lambda row: row.number)
    for draft in drafts:
        problems.extend(draft.problems)
    # Left to right within a row, as the person fixing the file reads it.
    position = {name: index for index, name in enumerate(header.names)}
    problems.sort(key=lambda p: (p.row or 0, position.get(p.column or "", -1)))
    return Preview(rows, problems, columns)


def _check_units(drafts: list[Draft], header: Header, scope: Iterable[Unit]) -> None:
    units = db.session.scalars(sa.select(Unit)).all()
    exact = {unit.code: unit for unit in units}
    folded = {unit.code.casefold(): unit for unit in units}
    allowed = {unit.id for unit in scope}
    for draft in drafts:
        code = draft.raw["unit"]
        if not code:
            continue
        unit = exact.get(code) or folded.get(code.casefold())
        if unit is None:
            message = _("there is no unit with the code “%(code)s”.", code=code)
        elif unit.id not in allowed:
            message = _("unit %(code)s is not one of your units.", code=unit.code)
        else:
            draft.values["unit"] = unit
            continue
        draft.problems.append(Problem(message, row=draft.number, column=header.label("unit")))


def _check_duplicates(drafts: list[Draft], header: Header) -> None:
    first_row: dict[str, int] = {}
    for draft in drafts:
        number = draft.raw["service_number"]
        if not number:
            continue
        first = first_row.setdefault(number.lower(), draft.number)
        if first != draft.number:
            draft.refused = True
            draft.problems.append(
                Problem(
                    _(
                        "service number %(number)s appears more than once in the file: "
                        "rows %(first)s and %(row)s.",
                        number=number,
                        first=first,
                        row=draft.number,
                    ),
                    row=draft.number,
                    column=header.label("service_number"),
                )
            )


def _compare_with_database(
    drafts: list[Draft], header: Header, columns: frozenset[str]
) -> list[RosterRow]:
    """Decide each row's action against the people already on the platform."""
    keys = sorted({d.raw["service_number"].lower() for d in drafts if d.raw["service_number"]})
    by_number: dict[str, _Existing] = {}
    usernames: set[str] = set()
    for person in _existing_people(keys):
        by_number[person.service_number.lower()] = person
        usernames.add(person.username)

    rows = []
    for draft in drafts:
        number = draft.raw["service_number"]
        unit: Unit | None = draft.values.get("unit")
        existing = by_number.get(number.lower())
        if existing is not None and existing.role != Role.PEACEKEEPER:
            # Accounts that coordinate, command or administer are managed by an
            # administrator; a roster must not rename them or redirect their e-mail.
            message = _(
                "service number %(number)s belongs to a %(role)s account. A roster import "
                "creates and updates peacekeepers only: remove this row, and ask an "
                "administrator to change that account.",
                number=number,
                role=ROLE_NAMES.get(existing.role, existing.role),
            )
        elif existing is not None and unit is not None and existing.unit_id != unit.id:
            message = _(
                "service number %(number)s already belongs to a person who is not in "
                "unit %(unit)s. Ask an administrator to move them, or remove this row.",
                number=number,
                unit=unit.code,
            )
        elif existing is None and number and number.lower() in usernames:
            message = _(
                "service number %(number)s cannot become a sign-in name: another account "
                "already signs in as “%(name)s”.",
                number=number,
                name=number.lower(),
            )
        else:
            message = ""
        if message:
            draft.refused = True
            draft.problems.append(
                Problem(message, row=draft.number, column=header.label("service_number"))
            )
        rows.append(_row(draft, existing, columns))
    return rows


def _row(draft: Draft, existing: _Existing | None, columns: frozenset[str]) -> RosterRow:
    if draft.problems:
        return _row_with_problems(draft, existing, columns)
    number, name = draft.raw["service_number"], draft.raw["full_name"]
    unit: Unit = draft.values["unit"]
    person = Person(
        service_number=number,
        full_name=name,
        category=draft.values["category"],
        unit_id=unit.id,
        unit_code=unit.code,
        position=draft.values["position"],
        email=draft.values["email"],
        deployment_date=draft.values["deployment_date"],
    )
    if existing is None:
        return RosterRow(draft.number, number, name, unit.code, person, Action.CREATE)
    stored = _stored(existing)
    changes = tuple(
        column for column, value in person.fields(columns).items() if stored[column] != value
    )
    # Only peacekeepers get this far: a coordinator never holds a link into another account.
    pending = existing.session_token if existing.is_active and not existing.has_password else None
    return RosterRow(
        draft.number,
        number,
        name,
        unit.code,
        person,
        Action.UPDATE if changes else Action.UNCHANGED,
        changes,
        tuple(stored[column] for column in changes),
        existing.id,
        pending,
    )


def _stored(existing: _Existing) -> dict[str, Any]:
    """Return what is stored of a person, by the roster column that would change it."""
    return {
        "full_name": existing.full_name,
        "category": existing.category,
        "position": existing.position,
        "email": existing.email,
        "deployment_date": existing.deployment_date,
    }


def _row_with_problems(
    draft: Draft, existing: _Existing | None, columns: frozenset[str]
) -> RosterRow:
    """Return what a row would do once its problems are fixed, as far as it can be told."""
    raw = draft.raw
    number, name, code = raw["service_number"], raw["full_name"], raw["unit"]
    if draft.refused or not number or draft.values.get("unit") is None:
        return RosterRow(draft.number, number, name, code, has_problem=True)
    if existing is None:
        return RosterRow(draft.number, number, name, code, action=Action.CREATE, has_problem=True)
    written = {
        "full_name": name,
        "category": getattr(draft.values.get("category"), "value", None),
        "position": getattr(draft.values.get("position"), "value", None),
        "email": draft.values.get("email"),
        "deployment_date": draft.values.get("deployment_date"),
    }
    stored = _stored(existing)
    # A value still to fix will change what is stored; the others are compared.
    changes = tuple(
        column
        for column in written
        if column in columns and (column in draft.bad or written[column] != stored[column])
    )
    action = Action.UPDATE if changes else Action.UNCHANGED
    return RosterRow(
        draft.number, number, name, code, action=action, changes=changes, has_problem=True
    )


def _existing_people(keys: Sequence[str]) -> Iterator[_Existing]:
    """Yield the people whose service number or sign-in name is a key, one query per chunk."""
    for chunk in chunks(keys, CHUNK_SIZE):
        rows = db.session.execute(
            sa.select(
                User.id,
                User.service_number,
                User.username,
                User.unit_id,
                User.full_name,
                User.category,
                User.position,
                User.email,
                User.deployment_date,
                User.role,
                User.is_active,
                User.password_hash.is_not(None),
                User.session_token,
            ).where(sa.or_(sa.func.lower(User.service_number).in_(chunk), User.username.in_(chunk)))
        )
        for row in rows:
            yield _Existing(*tuple(row))
