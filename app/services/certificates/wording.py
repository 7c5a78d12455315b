"""The words of certificates and training records: the holder's language, then English.

A document is written in the language of the person it is about, whoever prints it: a
certificate in the language its quiz was taken in, a record in the person's own. Every
label shows that language first and English, the working language, alongside; an
English document shows English once. Dates are written as each language writes them.

The designs call `_` for a label in both languages, `gettext` for the holder's
language alone (the document's title in its metadata), and `day` for a date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from babel import Locale
from flask_babel import force_locale, get_locale
from flask_babel import gettext as translation
from markupsafe import Markup

from app import i18n

ENGLISH = "en"


def document_language(language: str | None) -> str:
    """Return the language a document is written in for someone who reads `language`."""
    return i18n.recipient_language(language)


@contextmanager
def written_in(language: str) -> Iterator[None]:
    """Write what is drawn inside (labels, dates, category names) in `language`."""
    with force_locale(language):
        yield


def language() -> str:
    """Return the language being written in."""
    return str(get_locale() or ENGLISH)


def direction(code: str) -> str:
    """Return how a language is written: "rtl" or "ltr"."""
    return i18n.direction(Locale.parse(code))


def both(message: str, **variables: Any) -> Markup:
    """Return a label in the document's language, then in English (once, if that is English).

    Dates among the variables are written as each language writes them.
    """
    written = _format(translation(message), variables)
    if language() == ENGLISH:
        return written
    with force_locale(ENGLISH):
        english = _format(message, variables)
    return alongside(written, english)


def alongside(written: str, english: str) -> Markup:
    """Return a value in the document's language and its English, unless they are the same."""
    if language() == ENGLISH or written == english:
        return Markup.escape(written)
    return Markup(
        '<span class="own" lang="{0}">{1}</span><span class="then"> / </span>'
        '<span class="en" lang="en" dir="ltr">{2}</span>'
    ).format(language(), written, english)


def day(value: date | datetime | None) -> Markup:
    """Return a date in the document's language, then in English."""
    if value is None:
        return Markup("")
    written = i18n.format_day(value)
    with force_locale(ENGLISH):
        english = i18n.format_day(value)
    return alongside(written, english)


def in_english(value: Any) -> str:
    """Return a translatable value (a lazy string, a label) as English says it."""
    with force_locale(ENGLISH):
        return str(value)


def _format(message: str, variables: dict[str, Any]) -> Markup:
    if not variables:
        return Markup.escape(message)
    shown = {
        name: i18n.format_day(value) if isinstance(value, date) else value
        for name, value in variables.items()
    }
    return Markup.escape(message) % shown


def design_globals() -> dict[str, Any]:
    """Return what the designs call to write their words."""
    return {"_": both, "gettext": translation, "day": day}
