"""What templates get besides Flask's own: cheaper translation, and content rendered once.

Flask-Babel's own template functions look the catalogue up again for every string, which
on a page of sixty strings costs more than rendering the rest of it: here the catalogue is
found once per rendering. The strings, the language chosen and Jinja's escaping of the
values put into them are the same.

`rendered_content` renders a template that shows only published content (the sources a
module cites, say) once per language and content stamp, for every page that shows it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, render_template
from flask_babel import get_locale, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
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
    """Give the templates gettext functions that find the page's catalogue once per page."""
    app.jinja_env.globals.update(
        _=template_gettext,
        gettext=template_gettext,
        ngettext=template_ngettext,
        pgettext=template_pgettext,
        npgettext=template_npgettext,
    )


# What follows is Jinja's newstyle gettext (jinja2.ext), but for where the catalogue comes
# from: found once per rendering and kept on its evaluation context, as extensions may.


def _catalogue(eval_ctx: EvalContext) -> NullTranslations:
    """Return the catalogue of the language being rendered in, found once per request.

    Never kept on the evaluation context: an imported macro's module, and its context, is
    cached by Jinja across requests, whatever language each of them reads.
    """
    return page_translations()


def _formatted(eval_ctx: EvalContext, translated: str, variables: dict[str, Any]) -> str:
    # Always a format string, as in Jinja, and its values escaped in an HTML template.
    text = Markup(translated) if eval_ctx.autoescape else translated  # noqa: S704  (catalogue)
    return text % variables


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """Translate a template's string."""
    return _formatted(eval_ctx, _catalogue(eval_ctx).ugettext(string), variables)


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    """Translate a template's string that depends on a number."""
    variables.setdefault("num", num)
    translated = _catalogue(eval_ctx).ungettext(singular, plural, num)
    return _formatted(eval_ctx, translated, variables)


@pass_eval_context
def template_pgettext(eval_ctx: EvalContext, context: str, string: str, **variables: Any) -> str:
    """Translate a template's string in a context."""
    variables.setdefault("context", context)
    return _formatted(eval_ctx, _catalogue(eval_ctx).upgettext(context, string), variables)


@pass_eval_context
def template_npgettext(
    eval_ctx: EvalContext, context: str, singular: str, plural: str, num: int, **variables: Any
) -> str:
    """Translate a template's string in a context that depends on a number."""
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    translated = _catalogue(eval_ctx).unpgettext(context, singular, plural, num)
    return _formatted(eval_ctx, translated, variables)
