"""Check each value of a roster row on its own: required, long, category, position, e-mail, date."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from app.models import PersonnelCategory, Position
from app.models.organisation import CATEGORY_LABELS
from app.services.roster.model import MAX_LENGTHS, REQUIRED_COLUMNS, Problem
from app.services.roster.parse import Header

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Draft:
    """A row being checked: its values so far and the problems found in it."""

    number: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # The columns whose value has a problem.
    bad: set[str] = field(default_factory=set)
    # Whether the row can do nothing as written: whose row it is cannot be told.
    refused: bool = False


def category_names() -> dict[str, PersonnelCategory]:
    """Return every accepted spelling of a category, normalised.

    Its value, its English label, and its label in the language of whoever uploads: the
    same file imports alike whatever language the coordinator reads.
    """
    names: dict[str, PersonnelCategory] = {}
    for category in PersonnelCategory:
        names[_normalise_word(category.value)] = category
        names[_normalise_word(str(CATEGORY_LABELS[category]))] = category
        with force_locale("en"):
            names[_normalise_word(str(CATEGORY_LABELS[category]))] = category
    return names


def check_values(
    number: int, raw: dict[str, str], header: Header, categories: dict[str, PersonnelCategory]
) -> Draft:
    """Check each value of a row on its own; units and service numbers are checked later."""
    draft = Draft(number, raw)

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


def _parse_date(value: str) -> date | None:
    if not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _normalise_word(value: str) -> str:
    return " ".join(value.replace("_", " ").replace("-", " ").casefold().split())
