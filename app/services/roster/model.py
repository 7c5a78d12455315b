"""What a roster is made of: its columns, the problems found in it, the rows it holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from flask_babel import gettext as _

from app.models import PersonnelCategory, Position

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


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield the items in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
