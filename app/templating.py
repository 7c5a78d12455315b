"""What templates get besides Flask's own: cheaper translation, and content rendered once.

Flask-Babel's own template functions look the catalogue up again for every string, which
on a page of sixty strings costs more than rendering the rest of it: here the catalogue is
found once per page. The strings, the language chosen and Jinja's escaping of the values
put into them are the same.

`rendered_content` renders a template that shows only published content (the sources a
module cites, say) once per language and content stamp, for every page that shows it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, render_template
from flask_babel import get_locale, get_translations
from markupsafe import Markup

from app.services.content import published


def register(app: Flask) -> None:
    """Install the translation functions and `rendered_content` for the templates."""
    install_translations(app)
    app.jinja_env.globals["rendered_content"] = rendered_content


def rendered_content(template: str, key: Hashable, **context: Any) -> Markup:
    """Render a template showing only published content, once per language and stamp.

    `key` names the content shown (a version's id, say). Such a template holds nothing of
    the person or the request: every page in the language reuses what it rendered.
    """

    def render() -> Markup:
        # Jinja escaped what it put in: the page is HTML to pass on as it is.
        return Markup(render_template(template, **context))  # noqa: S704

    return published.snapshot().fragment((template, key, str(get_locale())), render)


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
