"""Check a module's front matter: required and known fields, their types and ranges."""

from __future__ import annotations

import re
from typing import Any

import yaml

from app.models import PersonnelCategory, Position
from app.services.content.model import FieldPlace, ModuleSource
from app.services.frontmatter import Problem

REQUIRED_FIELDS = (
    "slug",
    "title",
    "version",
    "summary",
    "estimated_minutes",
    "pass_mark",
    "questions_per_attempt",
    "mandatory_for",
    "validity_months",
)
OPTIONAL_FIELDS = ("roles", "attestation", "sources", "mission_annex")
CATEGORIES = [category.value for category in PersonnelCategory]
LEADERSHIP_POSITIONS = [Position.COMMANDER.value, Position.MANAGER.value]
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def field_places(front_matter: list[str]) -> dict[str, FieldPlace]:
    """Locate each top-level field of front matter that parsed, and its list items."""
    root = yaml.compose("\n".join(front_matter), Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return {}
    # The front matter starts on the file's second line; marks count from zero.
    first = 2
    places = {}
    for key, value in root.value:
        if isinstance(value, yaml.SequenceNode):
            items = tuple(item.start_mark.line + first for item in value.value)
        else:
            items = (value.start_mark.line + first,)
        places[str(key.value)] = FieldPlace(key.start_mark.line + first, items)
    return places


class _Report:
    """Record problems at a field's line, or at the line of one of its list items."""

    def __init__(self, module: ModuleSource, problems: list[Problem]) -> None:
        self.module = module
        self.problems = problems

    def __call__(self, name: object, message: str, item: int | None = None) -> None:
        place = self.module.places.get(str(name), FieldPlace(1))
        line = place.line
        if item is not None and item < len(place.item_lines):
            line = place.item_lines[item]
        # One line per problem, whatever the values quoted in it contain.
        self.problems.append(Problem(self.module.path, line, " ".join(message.split())))


def check_meta(module: ModuleSource, lines: list[str], problems: list[Problem]) -> None:
    """Check the front matter of a module whose quiz has been read."""
    report = _Report(module, problems)
    _check_names(module.meta, report)
    _check_scalars(module.meta, report)
    _check_audience(module.meta, report)
    _check_optional(module.meta, report)
    _check_draw(module, lines, report)


def _check_names(meta: dict[str, Any], report: _Report) -> None:
    """Check that every required field is there and every field is known."""
    for name in REQUIRED_FIELDS:
        if meta.get(name) in (None, ""):
            report(name, f'front matter is missing the field "{name}"')
    for name in meta:
        if name not in REQUIRED_FIELDS and name not in OPTIONAL_FIELDS:
            report(name, f'unknown field "{name}" in the front matter')


def _check_scalars(meta: dict[str, Any], report: _Report) -> None:
    """Check the slug, the text fields and the whole numbers with their ranges."""
    slug = meta.get("slug")
    if slug not in (None, "") and not (isinstance(slug, str) and SLUG_RE.match(slug)):
        report("slug", "slug must use lower case letters, digits and - only")
    for name in ("title", "summary", "version"):
        if meta.get(name) not in (None, "") and not isinstance(meta[name], str | int | float):
            report(name, f"{name} must be text")
    for name, low, high in (
        ("estimated_minutes", 1, 600),
        ("pass_mark", 1, 100),
        ("questions_per_attempt", 1, 200),
        ("validity_months", 1, 120),
    ):
        value = meta.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            report(name, f"{name} must be a whole number from {low} to {high}")


def _check_audience(meta: dict[str, Any], report: _Report) -> None:
    """Check who must take the module: personnel categories and leadership roles."""
    categories = meta.get("mandatory_for")
    if categories not in (None, "", "all"):
        if isinstance(categories, str):
            categories = [categories]
        if not isinstance(categories, list):
            report("mandatory_for", "mandatory_for must be `all` or a list of categories")
        else:
            for index, category in enumerate(categories):
                if category not in CATEGORIES:
                    report(
                        "mandatory_for",
                        f'unknown personnel category "{category}"; use one of: '
                        + ", ".join(CATEGORIES),
                        item=index,
                    )
    roles = meta.get("roles")
    if roles is not None:
        if not isinstance(roles, list) or not roles:
            report("roles", "roles must be a list, for example [commander, manager]")
        else:
            for index, role in enumerate(roles):
                if role not in LEADERSHIP_POSITIONS:
                    report(
                        "roles",
                        f'unknown role "{role}"; use one of: ' + ", ".join(LEADERSHIP_POSITIONS),
                        item=index,
                    )


def _check_optional(meta: dict[str, Any], report: _Report) -> None:
    """Check the attestation, the mission annex flag and the cited sources."""
    for name in ("attestation",):
        if name in meta and not (isinstance(meta[name], str) and meta[name].strip()):
            report(name, f"{name} must be a non-empty text")
    if "mission_annex" in meta and not isinstance(meta["mission_annex"], bool):
        report("mission_annex", "mission_annex must be true or false")
    sources = meta.get("sources")
    if sources is not None and not (
        isinstance(sources, list) and all(isinstance(s, str) and s.strip() for s in sources)
    ):
        report("sources", "sources must be a list of document names")


def _check_draw(module: ModuleSource, lines: list[str], report: _Report) -> None:
    """Check that the module has a quiz with enough questions for one attempt."""
    draw = module.meta.get("questions_per_attempt")
    if not module.questions:
        report.problems.append(
            Problem(module.path, len(lines) or 1, "the module has no quiz: add a # Quiz heading "
                    "followed by ## questions")
        )  # fmt: skip
    elif isinstance(draw, int) and draw > len(module.questions):
        report(
            "questions_per_attempt",
            f"questions_per_attempt is {draw} but the quiz has only "
            f"{len(module.questions)} questions",
        )


def mandatory_categories(meta: dict[str, Any]) -> list[str]:
    """Return the personnel categories a module is mandatory for (none for a wrong value).

    A value that is neither `all`, a category nor a list is reported by the front
    matter check; the other checks read it as no category at all.
    """
    value = meta["mandatory_for"]
    if value == "all":
        return list(CATEGORIES)
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []
