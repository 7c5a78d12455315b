"""How templates translate: with the catalogue of the page's language, found once per page.

Flask-Babel's own template functions look the catalogue up again for every string, which
on a page of sixty strings costs more than rendering the rest of it. The strings, the
language chosen and Jinja's escaping of the values put into them are the same.
"""

from __future__ import annotations

from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import get_locale, get_translations


def page_translations() -> NullTranslations:
    """Return the catalogue of the current language, looked up again only if it changes."""
    locale = get_locale()
    held = g.get("page_translations")
    # `force_locale` and `refresh` give the context another locale object.
    if held is None or held[0] is not locale:
        held = g.page_translations = (locale, get_translations())
    translations: NullTranslations = held[1]
    return translations


def install_translations(app: Flask) -> None:
    """Give the templates' gettext functions the page's catalogue (after Flask-Babel's own)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda string: page_translations().ugettext(string),
        ngettext=lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: page_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: page_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    # `_` straight to gettext: Jinja's alias looks gettext up in the context at every call.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]
