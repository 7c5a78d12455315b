"""The rules each signed-in request passes: idle and absolute limits, remember-me, second factor."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_loaded_from_cookie
from werkzeug.wrappers import Response

from app.auth import bp, parse_session_id, session_id, throttle
from app.auth.signin import absolute_seconds, sign_out_here
from app.models import Role, User

MFA_ROLES = {Role.ADMIN, Role.COORDINATOR}

# The time a session was last seen is written at most this often, so that most pages
# send no new cookie. A session therefore ends up to this much before its idle limit,
# never after it.
SEEN_EVERY_SECONDS = 60


MFA_ENROLMENT_ENDPOINTS = {
    "auth.enrol_second_factor",
    "auth.remove_second_factor",
    "auth.logout",
    "auth.account",
    "public.choose_language",
}


def mfa_required(user: User) -> bool:
    """Return whether the person must use a second factor."""
    return bool(current_app.config["REQUIRE_MFA"]) and user.role in MFA_ROLES


def note_remembered(_sender: Any, **_extra: Any) -> None:
    """Note that this request's session was opened by a remember-me cookie."""
    g.remembered = True


user_loaded_from_cookie.connect(note_remembered)


@bp.before_app_request
def enforce_session_rules() -> Response | None:
    """End idle or too-old sessions, and send people who must enrol a second factor to do so."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now, config = time.time(), current_app.config
    parsed = parse_session_id(str(session.get("_user_id", "")))
    if parsed is None:
        return session_expired()
    nonce: str | None = parsed.nonce
    if g.pop("remembered", False):
        # A remember-me cookie opens one session, once; this browser gets a new one.
        if not throttle.spend_once("remember:" + parsed.nonce, absolute_seconds()):
            return session_expired()
        session["signed_in_at"], session["seen_at"] = parsed.signed_in_at, parsed.seen_at
        session["remember"] = True
        nonce = None
    signed_in = session.setdefault("signed_in_at", parsed.signed_in_at)
    seen = session.get("seen_at", now)
    if (
        now - seen > config["SESSION_IDLE_MINUTES"] * 60
        or now - signed_in > config["SESSION_ABSOLUTE_HOURS"] * 3600
    ):
        return session_expired()
    if nonce is None or now - seen >= SEEN_EVERY_SECONDS:
        session["seen_at"] = now
        # The id, and so the remember-me cookie, carries the time it was last seen.
        session["_user_id"] = session_id(current_user, signed_in, now, nonce)
        if session.get("remember"):
            session["_remember"] = "set"
    if (
        mfa_required(current_user)
        and not current_user.totp_secret
        and request.endpoint not in MFA_ENROLMENT_ENDPOINTS
    ):
        flash(_("Your role requires a second factor. Set it up to continue."), "info")
        return redirect(url_for("auth.enrol_second_factor"))
    return None


def session_expired() -> Response:
    """Sign out here and send the person to sign in again."""
    sign_out_here()
    flash(_("Your session has expired. Please sign in again."), "info")
    return redirect(url_for("auth.login", next=request.path))
