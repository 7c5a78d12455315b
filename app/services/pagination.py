"""Pages of a long list: which rows one page holds, and whether another follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from app.extensions import db

Row = TypeVar("Row")


def first_row(page: int, per_page: int) -> int:
    """Return the offset of a page's first row (pages count from 1)."""
    return (max(page, 1) - 1) * per_page


@dataclass(frozen=True)
class Window(Generic[Row]):
    """One page of rows, for lists that link only to the next page rather than count them."""

    items: list[Row]
    page: int
    has_next: bool


def window(query: sa.Select[Any], page: int, per_page: int) -> Window[Any]:
    """Return one page of a query's objects, reading one more to know whether another follows."""
    found = db.session.scalars(query.limit(per_page + 1).offset(first_row(page, per_page))).all()
    return Window(list(found[:per_page]), page, len(found) > per_page)
