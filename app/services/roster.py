"""Roster files: read a CSV, XLSX or ODS file of personnel, preview what it would change,
apply it in bulk.

Rows are numbered as a spreadsheet shows them: row 1 is the header, so the first
person is row 2. Every problem reads `row N, column X: message`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
import smtplib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import AuditAction, PersonnelCategory, Position, Role, RosterUpload, Unit, User
from app.models.organisation import CATEGORY_LABELS, new_session_token
from app.models.types import utcnow
from app.services import accounts, audit, exports, mail, tables

COLUMNS = (
    "service_number",
    "full_name",
    "category",
    "unit",
    "position",
    "email",
    "deployment_date",
)
REQUIRED_COLUMNS = COLUMNS[:4]
MAX_LENGTHS = {"service_number": 32, "full_name": 200, "email": 254}

# Keeps each IN list well under the bound-parameter limits of SQLite and PostgreSQL.
CHUNK_SIZE = 500
# A preview not confirmed within this time is discarded with the personal data it holds.
UPLOAD_LIFETIME = timedelta(days=1)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Control characters never appear in a text file; they mean a binary file of some kind.
BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Excel may write this first line to name the delimiter, and does not show it as a row.
SEP_LINE_RE = re.compile(r"^sep=([,;\t])\r?\n", re.IGNORECASE)
DELIMITERS = (",", ";", "\t")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
HEADER_SPACING_RE = re.compile(r"[\s_\-]+")
ROLE_NAMES: dict[str, Any] = {
    Role.COORDINATOR: _l("coordinator"),
    Role.COMMANDER: _l("commander"),
    Role.ADMIN: _l("administrator"),
}

T = TypeVar("T")


class Action(StrEnum):
    """What importing a row does."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Problem:
    """Something in a roster file to fix before it can be imported."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column is None:
            return str(_("row %(row)s: %(message)s", row=self.row, message=self.message))
        return str(
            _(
                "row %(row)s, column %(column)s: %(message)s",
                row=self.row,
                column=self.column,
                message=self.message,
            )
        )


class RosterError(Exception):
    """A roster that cannot be imported; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Person:
    """The checked values of one roster row."""

    service_number: str
    full_name: str
    category: PersonnelCategory
    unit_id: int
    unit_code: str
    position: Position
    email: str | None
    deployment_date: date | None

    def fields(self, columns: frozenset[str]) -> dict[str, Any]:
        """Return what the row sets on a person; a column absent from the file sets nothing."""
        values = {
            "full_name": self.full_name,
            "category": self.category.value,
            "position": self.position.value,
            "email": self.email,
            "deployment_date": self.deployment_date,
        }
        return {column: value for column, value in values.items() if column in columns}


@dataclass(frozen=True)
class RosterRow:
    """One person as the file wrote them, and what importing does to them."""

    number: int
    service_number: str
    full_name: str
    unit_code: str
    person: Person | None = None
    # None while the row has a problem.
    action: Action | None = None
    changes: tuple[str, ...] = ()
    # What each changed field held before the import, for the audit trail.
    before: tuple[Any, ...] = ()
    user_id: int | None = None
    # Set for an existing peacekeeper who has not chosen a password yet.
    pending_session_token: str | None = None
    # A row with a problem still counts as what it would do once fixed; None if it
    # cannot be told (no service number, someone else's, a unit out of reach).
    has_problem: bool = False


@dataclass(frozen=True)
class Preview:
    """What a roster file would change, or why it cannot be imported."""

    rows: list[RosterRow]
    problems: list[Problem]
    columns: frozenset[str] = frozenset()

    @property
    def is_valid(self) -> bool:
        """Return whether the file can be imported as it is."""
        return not self.problems

    def count(self, action: Action | None) -> int:
        """Return how many rows the import would handle this way (None: cannot import)."""
        return sum(1 for row in self.rows if row.action == action)

    @property
    def rows_with_problems(self) -> int:
        """Return how many rows have something to fix."""
        return sum(1 for row in self.rows if row.has_problem)


@dataclass(frozen=True)
class LinkedAccount:
    """A person who needs their set-password link."""

    row: int
    user_id: int
    service_number: str
    full_name: str
    email: str | None
    link: str


@dataclass(frozen=True)
class ImportResult:
    """What an import changed, with the links people need to sign in for the first time."""

    created: list[LinkedAccount]
    updated: int
    unchanged: int
    # People already on the platform, named in the file, who still have no password.
    awaiting_password: list[LinkedAccount]


@dataclass(frozen=True)
class Delivery:
    """Which set-password links went out by e-mail."""

    configured: bool
    sent: frozenset[int] = frozenset()
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Header:
    columns: dict[int, str]  # position in the row -> column
    names: list[str]  # as written in row 1, for messages

    def label(self, column: str) -> str:
        for index, name in self.columns.items():
            if name == column:
                return self.names[index]
        return column


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


@dataclass
class _Draft:
    number: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # The columns whose value has a problem.
    bad: set[str] = field(default_factory=set)
    # Whether the row can do nothing as written: whose row it is cannot be told.
    refused: bool = False


@dataclass(frozen=True)
class _Source:
    rows: Iterator[list[str]]
    # None for a spreadsheet, whose cells need no separator.
    delimiter: str | None


def file_problem(content: bytes) -> Problem | None:
    """Return why the content cannot be read as a roster (XLSX, ODS or CSV), or None."""
    return _open(content)[1]


def preview(content: bytes, scope: Iterable[Unit]) -> Preview:
    """Check a roster file against the database; people may only go into units in scope."""
    source, problem = _open(content)
    if source is None:
        return Preview([], [problem] if problem else [])
    header, records, unreadable, problems = _read_table(source)
    if header is None:
        return Preview([], problems)
    if not records and not problems:
        problems.append(Problem(_("The file has a header row but no people below it.")))
    columns = frozenset(header.columns.values())
    categories = category_names()
    drafts = [_check_values(number, raw, header, categories) for number, raw in records]
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
    audit.record(
        AuditAction.ROSTER_IMPORTED,
        f"{len(checked.rows)} rows",
        {
            "created": [person.service_number for _row, person in creates if person],
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
    return result


def _changed_fields(row: RosterRow, columns: frozenset[str]) -> dict[str, list[Any]]:
    """Return {field: [before, after]} for each field an update changes."""
    assert row.person is not None  # an update has checked values
    after = row.person.fields(columns)
    return {
        column: [before, after[column]]
        for column, before in zip(row.changes, row.before, strict=True)
    }


def email_links(people: Sequence[LinkedAccount]) -> Delivery:
    """E-mail their set-password link to the people who have an address; report failures."""
    if not mail.is_configured():
        return Delivery(configured=False)
    sent: set[int] = set()
    failed: list[str] = []
    reachable = True
    for person in people:
        if not person.email:
            continue
        if not reachable:
            failed.append(person.email)
            continue
        try:
            accounts.send_set_password_link(
                person.full_name, person.service_number, person.email, person.link
            )
        except mail.MailError as error:
            current_app.logger.warning("Set-password link not sent: %s", error)
            failed.append(person.email)
            # A refused address concerns one person; any other failure means the server
            # cannot take mail now, and waiting on it for everyone else would hang the page.
            reachable = isinstance(error.__cause__, smtplib.SMTPRecipientsRefused)
        else:
            sent.add(person.user_id)
    return Delivery(configured=True, sent=frozenset(sent), failed=tuple(failed))


def store_upload(user: User, filename: str, content: bytes) -> RosterUpload:
    """Keep an uploaded roster until its uploader confirms it; discard stale ones."""
    db.session.execute(
        sa.delete(RosterUpload).where(RosterUpload.created_at < utcnow() - UPLOAD_LIFETIME)
    )
    upload = RosterUpload(
        token=secrets.token_urlsafe(32),
        uploaded_by_id=user.id,
        filename=(filename.strip() or "roster.csv")[:255],
        content=content,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def claim_upload(upload: RosterUpload) -> bool:
    """Take a pending upload for import; False if a concurrent confirmation took it first.

    The conditional DELETE is the guard: the database lets exactly one request remove
    the row, and rolling back the import puts it back.
    """
    taken = db.session.execute(
        sa.delete(RosterUpload)
        .where(RosterUpload.id == upload.id)
        .execution_options(synchronize_session=False)
    )
    return getattr(taken, "rowcount", 0) == 1


def find_upload(token: str, user: User) -> RosterUpload | None:
    """Return a person's own pending upload; None if it is someone else's or gone."""
    return db.session.scalar(
        sa.select(RosterUpload).where(
            RosterUpload.token == token,
            RosterUpload.uploaded_by_id == user.id,
            RosterUpload.created_at >= utcnow() - UPLOAD_LIFETIME,
        )
    )


def category_names() -> dict[str, PersonnelCategory]:
    """Return every accepted spelling of a category, its value or its label, normalised."""
    names: dict[str, PersonnelCategory] = {}
    for category in PersonnelCategory:
        names[_normalise_word(category.value)] = category
        names[_normalise_word(str(CATEGORY_LABELS[category]))] = category
    return names


def _open(content: bytes) -> tuple[_Source | None, Problem | None]:
    """Return the rows of a roster file, whatever it is, or why it cannot be read."""
    if not content.strip():
        return None, Problem(
            _(
                "The file is empty. Upload a spreadsheet or CSV file with a header row "
                "and one row per person."
            )
        )
    kind = tables.kind(content)
    if kind in {tables.Kind.XLSX, tables.Kind.ODS}:
        try:
            rows = tables.read_rows(content, kind)
        except tables.TableError as error:
            return None, Problem(str(error))
        if not rows:
            return None, Problem(
                _(
                    "The first sheet of the spreadsheet is empty. Put the header row and "
                    "the people on the first sheet."
                )
            )
        return _Source(iter(rows), None), None
    if kind == tables.Kind.XLS:
        return None, Problem(
            _(
                "This is an Excel 97-2003 workbook (.xls), which cannot be read. In Excel, "
                "choose File, Save As, pick “Excel Workbook (*.xlsx)”, and upload that file."
            )
        )
    if kind == tables.Kind.ARCHIVE:
        return None, Problem(_not_a_roster())
    text, problem = _decode(content)
    if problem is not None:
        return None, problem
    sep = SEP_LINE_RE.match(text)
    if sep:
        delimiter, text = sep.group(1), text[sep.end() :]
    else:
        first_line = text.split("\n", 1)[0]
        # The most frequent wins; a tie, as in a one-column file, means a comma.
        delimiter = max(DELIMITERS, key=first_line.count)
    return _Source(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), delimiter), None


def _decode(content: bytes) -> tuple[str, Problem | None]:
    """Return the text of a CSV file in UTF-8 (with or without BOM) or UTF-16."""
    if content.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif content.startswith(UTF16_BOMS):
        encoding = "utf-16"
    else:
        encoding = _utf16_without_bom(content) or "utf-8"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            return "", Problem(_not_a_roster())
        return "", Problem(
            _(
                "The file is saved in an 8-bit encoding (such as Windows-1252 or Latin-1, "
                "which Excel and LibreOffice use by default for CSV), so names in other "
                "scripts would be lost. Save it as UTF-8 and upload it again. In Excel: "
                "choose File, Save As, and in “Save as type” pick “CSV UTF-8 (Comma "
                "delimited) (*.csv)”. In LibreOffice Calc: choose File, Save As, pick the "
                "file type “Text CSV (.csv)”, tick “Edit filter settings”, choose Save "
                "and “Use Text CSV Format”, then set “Character set” to “Unicode "
                "(UTF-8)” and choose OK. Or upload the spreadsheet itself, as .xlsx or .ods."
            )
        )
    if BINARY_RE.search(text):
        return "", Problem(_not_a_roster())
    return text.removeprefix("\ufeff"), None


def _utf16_without_bom(content: bytes) -> str | None:
    """Return the UTF-16 byte order of text whose every other byte is NUL, if it is such."""
    sample = content[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # Roster text is mostly ASCII: in UTF-16 one byte of each such character is NUL.
    if odd > half * 0.6 and even == 0:
        return "utf-16-le"
    if even > half * 0.6 and odd == 0:
        return "utf-16-be"
    return None


def _not_a_roster() -> str:
    return str(
        _(
            "The file is not a roster that can be read. Upload the spreadsheet saved as "
            ".xlsx (Excel) or .ods (LibreOffice), or a CSV file saved as UTF-8."
        )
    )


def _read_table(
    source: _Source,
) -> tuple[_Header | None, list[tuple[int, dict[str, str]]], list[int], list[Problem]]:
    """Return the header, the numbered rows of values by column, the numbers of rows that
    cannot be read, and the problems met.

    The header is None when a required column is missing: no row can be read without it.
    """
    reader = source.rows
    header: _Header | None = None
    problems: list[Problem] = []
    records: list[tuple[int, dict[str, str]]] = []
    unreadable: list[int] = []
    number = 1
    try:
        header, problems = _check_header([_clean(name) for name in next(reader, [])])
        if header is None:
            return None, [], [], problems
        for number, values in enumerate(reader, start=2):
            if any(value.strip() for value in values):
                record = _record(number, values, header, source.delimiter, problems)
                if record is None:
                    unreadable.append(number)
                else:
                    records.append((number, record))
    except csv.Error as error:
        problems.append(
            Problem(
                _(
                    "the file cannot be read as CSV from here on (%(error)s). Check the "
                    "quotes around the values of this row.",
                    error=str(error),
                ),
                row=number + 1 if header else 1,
            )
        )
    return header, records, unreadable, problems


def _check_header(names: list[str]) -> tuple[_Header | None, list[Problem]]:
    known = {HEADER_SPACING_RE.sub("", column): column for column in COLUMNS}
    columns: dict[int, str] = {}
    problems: list[Problem] = []
    for index, name in enumerate(names):
        if not name:
            continue
        column = known.get(HEADER_SPACING_RE.sub("", name.casefold()))
        if column is None:
            problems.append(
                Problem(
                    _(
                        "unknown column. Rename it to one of %(columns)s, or remove it.",
                        columns=", ".join(COLUMNS),
                    ),
                    row=1,
                    column=name,
                )
            )
        elif column in columns.values():
            problems.append(Problem(_("this column appears twice."), row=1, column=name))
        else:
            columns[index] = column
    missing = [column for column in REQUIRED_COLUMNS if column not in columns.values()]
    for column in missing:
        problems.append(
            Problem(
                _(
                    "the required column %(column)s is missing. The first row must name "
                    "the columns %(required)s.",
                    column=column,
                    required=", ".join(REQUIRED_COLUMNS),
                ),
                row=1,
            )
        )
    return (None if missing else _Header(columns, names)), problems


def _record(
    number: int,
    values: list[str],
    header: _Header,
    delimiter: str | None,
    problems: list[Problem],
) -> dict[str, str] | None:
    """Return a row's values by column, or None after noting why they cannot be read."""
    width = len(header.names)
    # In CSV, more values than columns mostly means a separator inside an unquoted value;
    # a spreadsheet has no such thing, only a column without a name.
    if delimiter is not None and any(value.strip() for value in values[width:]):
        problems.append(
            Problem(
                _(
                    "this row has %(found)s values but row 1 names %(expected)s columns. "
                    "Put quotes around any value that contains a %(delimiter)s.",
                    found=len(values),
                    expected=width,
                    delimiter=_("semicolon") if delimiter == ";" else _("comma"),
                ),
                row=number,
            )
        )
        return None
    for index, value in enumerate(values):
        if (index >= width or not header.names[index]) and value.strip():
            problems.append(
                Problem(
                    _(
                        "column %(position)s has a value but no name in row 1. "
                        "Name the column or empty it.",
                        position=index + 1,
                    ),
                    row=number,
                )
            )
            return None
    return {
        column: _clean(values[index]) if index < len(values) else ""
        for index, column in header.columns.items()
    }


def _check_values(
    number: int, raw: dict[str, str], header: _Header, categories: dict[str, PersonnelCategory]
) -> _Draft:
    """Check each value of a row on its own; units and service numbers are checked later."""
    draft = _Draft(number, raw)

    def problem(column: str, message: str) -> None:
        draft.bad.add(column)
        draft.problems.append(Problem(message, row=number, column=header.label(column)))

    for column in REQUIRED_COLUMNS:
        if not raw[column]:
            problem(column, _("the value is missing; this column is required."))
    for column, limit in MAX_LENGTHS.items():
        if len(raw.get(column, "")) > limit:
            problem(column, _("the value is longer than %(limit)s characters.", limit=limit))

    if raw["category"]:
        draft.values["category"] = categories.get(_normalise_word(raw["category"]))
        if draft.values["category"] is None:
            problem(
                "category",
                _(
                    "“%(value)s” is not a personnel category. Use one of %(choices)s.",
                    value=raw["category"],
                    choices=", ".join(category.value for category in PersonnelCategory),
                ),
            )

    position = raw.get("position", "")
    try:
        draft.values["position"] = Position(position.casefold() or Position.MEMBER)
    except ValueError:
        problem(
            "position",
            _(
                "“%(value)s” is not a position. Use member, manager or commander, "
                "or leave it empty for member.",
                value=position,
            ),
        )

    email = raw.get("email", "")
    if email and not EMAIL_RE.match(email):
        problem("email", _("“%(value)s” is not an e-mail address.", value=email))
    draft.values["email"] = email or None

    deployment = raw.get("deployment_date", "")
    draft.values["deployment_date"] = _parse_date(deployment)
    if deployment and draft.values["deployment_date"] is None:
        problem(
            "deployment_date",
            _(
                "“%(value)s” is not a date. Write it as YYYY-MM-DD, for example 2026-03-31.",
                value=deployment,
            ),
        )
    return draft


def _check_units(drafts: list[_Draft], header: _Header, scope: Iterable[Unit]) -> None:
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


def _check_duplicates(drafts: list[_Draft], header: _Header) -> None:
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
    drafts: list[_Draft], header: _Header, columns: frozenset[str]
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


def _row(draft: _Draft, existing: _Existing | None, columns: frozenset[str]) -> RosterRow:
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
    draft: _Draft, existing: _Existing | None, columns: frozenset[str]
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
    for chunk in _chunks(keys, CHUNK_SIZE):
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


def _parse_date(value: str) -> date | None:
    if not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _clean(value: str) -> str:
    """Strip a value and turn each run of spaces or line breaks inside it into one space."""
    # Bidirectional controls would make a stored name display as something else.
    return " ".join(exports.plain_text(value).split())


def _normalise_word(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").casefold().split())


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
