"""Choosing the language of the pages: a form on every page, for anyone."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app import i18n
from app.auth.views import is_local_path
from app.extensions import db
from app.public import bp
from app.services import accounts


@bp.route("/language", methods=["POST"])
def choose_language() -> Response:
    """Switch to a language and return to the page the form was on."""
    language = i18n.known(request.form.get("language")) or abort(400)
    response = redirect(return_path(request.form.get("next")))
    if current_user.is_authenticated:
        accounts.set_language(current_user, language)
        db.session.commit()
    # For a visitor, and for the person once signed out on this browser.
    response.set_cookie(
        i18n.COOKIE,
        language,
        max_age=int(timedelta(days=i18n.COOKIE_DAYS).total_seconds()),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def return_path(target: str | None) -> str:
    """Return the page to go back to: a path on this site, without a language of its own."""
    if not target or not is_local_path(target):
        return url_for("auth.index")
    parts = urlsplit(target)
    # An address naming a language would override the one just chosen.
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(name, value) for name, value in query if name != "lang"]
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))
