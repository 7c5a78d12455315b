"""Strict reading of addresses: ids, page numbers and text in a path never crash a page.

`str.isdigit()` accepts '²' or '٣', which `int()` then refuses or reads, and ids past
2⁶³ make PostgreSQL fail on a bigint comparison. Every id, in the path or the query
string, goes through `parse_id`: plain ASCII digits within the 64-bit signed range.
"""

from __future__ import annotations

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

# The range of PostgreSQL's bigint, and of SQLite's integer.
MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """Return the number written in ASCII digits within the 64-bit signed range, or None."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def query_id(name: str) -> int | None:
    """Read an optional id from the query string: None when absent or empty, 404 when bad."""
    text = request.args.get(name, "")
    if text == "":
        return None
    value = parse_id(text)
    if value is None:
        abort(404)
    return value


def query_page(per_page: int) -> int:
    """Read the page number (1 when absent or empty); a malformed or impossible one is 404."""
    number = query_id("page")
    if number is None:
        return 1
    # Page 0 does not exist, and the row offset must stay within the database's integers.
    if number < 1 or (number - 1) * per_page > MAX_ID:
        abort(404)
    return number


def query_place(name: str, kinds: set[str]) -> tuple[str, int, int] | None:
    """Read an optional place in a list, `<kind>.<id>.<id>`: None when absent or empty, else 404.

    The kind must be one of `kinds`, and both ids plain ids (as `parse_id` reads them).
    """
    text = request.args.get(name, "")
    if text == "":
        return None
    kind, _, ids = text.partition(".")
    first, _, second = ids.partition(".")
    first_id, second_id = parse_id(first), parse_id(second)
    if kind not in kinds or first_id is None or second_id is None:
        abort(404)
    return kind, first_id, second_id


def query_choice(name: str, allowed: set[str]) -> str | None:
    """Read an optional value that must be one of `allowed`: None when empty, 404 when not."""
    text = request.args.get(name, "")
    if text == "":
        return None
    if text not in allowed:
        abort(404)
    return text


def query_text(name: str) -> str:
    """Read free text from the query string, trimmed; 404 when it holds a NUL character.

    No field can send NUL, and PostgreSQL refuses it in any string.
    """
    text = request.args.get(name, "").strip()
    if "\x00" in text:
        abort(404)
    return text


def coerce_id(value: object) -> int:
    """Read an id from a form field (WTForms' `coerce`); a bad one is a field error."""
    if isinstance(value, int) and 0 <= value <= MAX_ID:
        return value
    parsed = parse_id(str(value))
    if parsed is None:
        raise ValueError(f"not an id: {value!r}")
    return parsed


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits within the 64-bit signed range, else 404."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


class TextConverter(UnicodeConverter):
    """`<name>` in routes: any text but a NUL character, which PostgreSQL refuses; else 404."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")
