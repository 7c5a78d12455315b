"""The language of each page, e-mail and command, and how dates and numbers are written.

A page is in the language its address names (`?lang=fr`, for that page only), else the
one the signed-in person chose (stored in their account), else the one a visitor chose
(a cookie), else the best match for the browser's Accept-Language, else English. A
command prints in the operator's language (`cli_language`); an e-mail is written in its
recipient's (`recipient_language`). Everything else reads `flask_babel.get_locale()`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton, get_datetime_format, get_timezone
from babel.dates import format_time as babel_format_time
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import format_decimal, format_percent, get_locale, gettext
from flask_login import current_user
from markupsafe import Markup, escape

COOKIE = "language"  # a visitor's choice, kept for a year
COOKIE_DAYS = 365
NONE = "\N{EN DASH}"  # what a table shows for no date or no number

# Each language named in itself, in the order of the United Nations' official languages.
NAMES = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}


def available() -> list[str]:
    """Return the languages the platform speaks."""
    return list(current_app.config["LANGUAGES"])


def known(language: str | None) -> str | None:
    """Return the language if the platform speaks it, else None."""
    return language if language in available() else None


def select_locale() -> str | None:
    """Return the language of this request; None means the default (English).

    Outside a request, a command has set the operator's (app.cli) and anything else,
    a job or a document drawn in a context of its own, is in the default language.
    """
    if not has_request_context():
        return None
    return known(request.args.get("lang")) or account_language() or visitor_language()


def account_language() -> str | None:
    """Return the language the signed-in person chose, if any."""
    if current_user and current_user.is_authenticated:
        return known(current_user.language)
    return None


def visitor_language() -> str | None:
    """Return the language this browser chose (the cookie), or else the best it asks for."""
    return known(request.cookies.get(COOKIE)) or request.accept_languages.best_match(available())


def recipient_language(language: str | None) -> str:
    """Return the language to write to someone in: theirs if known, else the default.

    Never the language of whoever happens to send the message (a coordinator's browser).
    """
    return known(language) or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def cli_language() -> str | None:
    """Return the operator's language from the environment (LANGUAGE, LC_ALL, LANG …)."""
    value = current_app.config.get("CLI_LANGUAGE")
    if not value:
        return None
    # "fr_FR.UTF-8", "fr_CA:fr", "C": language tags without encoding or modifier.
    wanted = [re.split(r"[.@]", part)[0] for part in value.split(":") if part]
    return negotiate_locale(wanted, available(), sep="_")


def page_locale() -> Locale:
    """Return the current language as a Babel locale."""
    return get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])


def direction(locale: Locale | None = None) -> str:
    """Return the writing direction of a language: "rtl" or "ltr"."""
    locale = locale or page_locale()
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def format_day(value: date | datetime | None, format: str = "long") -> str:
    """Write a day as the language writes it: December 1, 2026; 1 décembre 2026; 1 ديسمبر 2026."""
    if value is None:
        return NONE
    # A moment is shown as its day in UTC, the time zone of the whole platform.
    if isinstance(value, datetime):
        zone = get_timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone).date()
    return _written_day(value, format, str(page_locale()))


@lru_cache(maxsize=4096)
def _written_day(day: date, format: str, locale: str) -> str:
    """Write a day in a language: the same few days fill every page, written once each."""
    return str(babel_format_date(day, format, locale=locale))


def format_moment(value: datetime | None, time_format: str = "short") -> str:
    """Write a moment in UTC as the language writes a date and a time, to the minute.

    `time_format="medium"` writes the seconds too.
    """
    if value is None:
        return NONE
    locale = page_locale()
    zone = get_timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    # Stored moments are in UTC, with or without saying so.
    moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    day = babel_format_date(moment, "medium", locale=locale)
    time = babel_format_time(moment, time_format, tzinfo=zone, locale=locale)
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", day).replace("{0}", time)


def format_month(value: str | date, skeleton: str = "yMMM") -> str:
    """Write a month (a date, or YYYY-MM as reports key it) as the language does: Dec 2026.

    `skeleton` picks the parts in Unicode's notation: "MMM" the month alone, "y" the year.
    """
    month = value if isinstance(value, date) else date.fromisoformat(f"{value}-01")
    return str(format_skeleton(skeleton, month, locale=page_locale()))


def format_number(value: float | None) -> str:
    """Write a number with the language's separators (1,234 · 1 234 · 1.234)."""
    return NONE if value is None else str(format_decimal(value))


def format_share(percent: float | None) -> str:
    """Write a share given in percent (0 to 100) as the language writes one (50 %, 50%)."""
    return NONE if percent is None else str(format_percent(percent / 100))


def isolate(value: object) -> Markup:
    """Keep a value (a code, a service number, a name) in its own direction inside a sentence.

    In an Arabic sentence, "SN-77310" or "Diop, A." would otherwise take its neighbours'
    direction and its punctuation would land on the wrong side.
    """
    return Markup("<bdi>{}</bdi>").format(value)


def format_list(items: Iterable[object]) -> Markup:
    """Join names as the language lists them ("A, B" in English, "A、B" in Chinese)."""
    names = [escape(item) for item in items]
    if not names:
        return Markup()
    listed = names[0]
    for name in names[1:]:
        # Translators: joins one more item to a list of names (modules, people).
        listed = escape(gettext("%(list)s, %(item)s")) % {"list": listed, "item": name}
    return listed


def collation_key(text: str) -> tuple[str, str]:
    """Return a key that sorts texts alphabetically in any language: É beside E, a beside A.

    Accents and case decide only between texts otherwise the same.
    """
    letters = unicodedata.normalize("NFKD", text)
    base = "".join(c for c in letters if not unicodedata.combining(c)).casefold()
    return base, text


def template_globals() -> dict[str, Any]:
    """Expose the page language, its writing direction and the languages to choose from."""
    locale = page_locale()
    return {
        "page_language": locale.language,
        "page_direction": direction(locale),
        "language_names": NAMES,
    }


def vary_by_language(response: Response) -> Response:
    """Tell caches that a page depends on the language asked for and the one chosen."""
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def register(app: Flask) -> None:
    """Give templates the page language and the filters that write dates and numbers."""
    app.context_processor(template_globals)
    app.after_request(vary_by_language)
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_moment, "moment")
    app.add_template_filter(format_month, "month")
    # A function, not a value: imported macros do not see the page's context.
    app.add_template_global(direction)
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_share, "share")
    app.add_template_filter(isolate, "bdi")
    app.add_template_filter(format_list, "listing")
