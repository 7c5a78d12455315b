"""Signing in (password, then a code when the account has a second factor) and out."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from app import i18n
from app.auth import bp, load_account, parse_session_id, session_id, throttle
from app.auth.forms import CodeForm, LoginForm
from app.auth.views import home_url, is_local_path
from app.extensions import db, limiter
from app.models import AuditAction, User
from app.services import accounts, audit, mfa, passwords

DEVICE_COOKIE = "known_device"


DEVICE_DAYS = 90


MFA_WINDOW_SECONDS = 300


def password_key(user: User) -> str:
    """Name the count of wrong passwords for an account, however the person typed its name."""
    return f"password:{user.id}"


def code_key(user: User) -> str:
    """Name the count of wrong second-factor codes for an account."""
    return f"code:{user.id}"


def throttled(limit: RequestLimit) -> None:
    """Log a sign-in refused for too many attempts (the error handler records it once)."""
    name = request.form.get("username", "")
    # %r: a name with a line break must not forge a log line.
    current_app.logger.warning(
        "Sign-in throttled for %r from %r (%s)", name, request.remote_addr, limit.limit
    )


def wait_message(seconds: int) -> str:
    """Say how long to wait before the next attempt on an account."""
    return str(
        ngettext(
            "Too many wrong attempts on this account. Wait %(num)s second, then try again.",
            "Too many wrong attempts on this account. Wait %(num)s seconds, then try again.",
            seconds,
        )
    )


def wait_page(template: str, seconds: int, **context: Any) -> Response:
    """Answer 429 with the page again and how long to wait: slowed down, not locked out."""
    flash(wait_message(seconds), "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], on_breach=throttled
)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.username.data.strip().lower()
        user = accounts.find_by_name(name)
        # One count per account, whether it was named by username or service number; a
        # name that matches no account is counted alike, so the wait reveals nothing.
        key = sign_in_key(user, name)
        wait = throttle.wait_seconds(key)
        if wait:
            current_app.logger.warning(
                "Sign-in slowed down for %r from %r", name, request.remote_addr
            )
            if throttle.first_refusal(key, wait):
                audit.record(AuditAction.SIGN_IN_THROTTLED, name, {"wait_seconds": wait})
                db.session.commit()
            return wait_page("auth/login.html", wait, form=form)
        good = passwords.verify(user.password_hash if user else None, form.password.data)
        if user is None or not user.is_active or not good:
            throttle.record_failure(key)
            audit.record(AuditAction.SIGN_IN_FAILED, name, {"reason": "bad credentials"})
            db.session.commit()
            flash(_("The username or password is not right. Check them and try again."), "error")
            return render_template("auth/login.html", form=form), 401
        throttle.forget(key)
        target = request.args.get("next")
        target = target if target and is_local_path(target) else None
        if user.totp_secret:
            session.clear()
            session["mfa"] = {
                "user": user.get_id(),
                "next": target,
                "at": time.time(),
                "remember": bool(form.remember.data),
                "id": secrets.token_urlsafe(16),
            }
            return redirect(url_for("auth.second_factor"))
        return complete_sign_in(user, form.remember.data, target)
    return render_template("auth/login.html", form=form)


def start_session(user: User, remember: bool, signed_in_at: float | None = None) -> None:
    """Sign the person in on this browser, with the times the session id carries."""
    login_user(user, remember=remember)
    now = time.time()
    signed_in_at = signed_in_at or now
    session["signed_in_at"], session["seen_at"] = signed_in_at, now
    session["remember"] = remember
    session["_user_id"] = session_id(user, signed_in_at, now)


def complete_sign_in(user: User, remember: bool, target: str | None) -> Response:
    """Start a fresh session for the person and record the sign-in."""
    # A fresh session at sign-in: nothing set before it carries over.
    session.clear()
    start_session(user, remember)
    if user.language is None and (language := i18n.visitor_language()):
        # What this browser reads: the language of the person's e-mails from now on.
        accounts.set_language(user, language)
    audit.record(AuditAction.SIGN_IN, user.username, actor=user)
    db.session.commit()
    response = redirect(target or home_url(user))
    remember_device(response, user)
    return response


def sign_in_key(user: User | None, name: str) -> str:
    """Name the count of wrong passwords this attempt adds to.

    A browser in which the person signed in before counts apart (OWASP's device cookie):
    someone guessing elsewhere slows the account down everywhere but there, so the owner
    is not kept out by another's guesses.
    """
    if user is None:
        return "password:name:" + name
    device = device_of(user)
    return password_key(user) + (":device:" + device if device else "")


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def device_of(user: User) -> str | None:
    """Return the id of this browser if the person signed in with it before."""
    try:
        data = _devices().loads(
            request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 24 * 3600
        )
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id:
        return None
    return str(data.get("d"))


def remember_device(response: Response, user: User) -> None:
    """Mark this browser as one in which the person signed in."""
    device = device_of(user) or secrets.token_urlsafe(12)
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps({"u": user.id, "d": device}),
        max_age=DEVICE_DAYS * 24 * 3600,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def second_factor() -> Response | str | tuple[str, int]:
    pending: dict[str, Any] = session.get("mfa") or {}
    user = load_account(pending["user"]) if "id" in pending else None
    if user is None or time.time() - pending["at"] > MFA_WINDOW_SECONDS:
        session.pop("mfa", None)
        flash(_("Sign in again, then enter your code."), "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        # Counted on the server: the session cookie could be replayed with a lower count.
        pending_key = "pending:" + str(pending["id"])
        if throttle.failures(pending_key) >= current_app.config["MFA_CODE_ATTEMPTS"]:
            session.pop("mfa", None)
            audit.record(AuditAction.SIGN_IN_THROTTLED, user.username, {"reason": "codes"}, user)
            db.session.commit()
            flash(_("Too many wrong codes. Sign in again with your password."), "error")
            return make_response(render_template("auth/login.html", form=LoginForm()), 429)
        wait = throttle.wait_seconds(code_key(user))
        if wait:
            if throttle.first_refusal(code_key(user), wait):
                details = {"wait_seconds": wait}
                audit.record(AuditAction.SIGN_IN_THROTTLED, user.username, details, user)
                db.session.commit()
            return wait_page("auth/code.html", wait, form=form)
        if mfa.accept(user, form.code.data):
            throttle.forget(code_key(user))
            return complete_sign_in(user, bool(pending.get("remember")), pending.get("next"))
        throttle.record_failure(pending_key)
        throttle.record_failure(code_key(user))
        audit.record(AuditAction.SIGN_IN_FAILED, user.username, {"reason": "bad code"}, user)
        db.session.commit()
        form.code.errors = [_("This code is not right or was already used. Try the next one.")]
        return render_template("auth/code.html", form=form), 401
    return render_template("auth/code.html", form=form)


# Cookies stay: the session cookie cleared here carries the "You have signed out" message.
CLEAR_SITE_DATA = '"cache", "storage"'


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    current_user.end_sessions()
    audit.record(AuditAction.SIGN_OUT, current_user.username)
    db.session.commit()
    sign_out_here()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("auth.login"))
    # What the person kept on this device for use offline (pages, answers not sent, the
    # service worker) goes with them; app/static/offline.js removes it too.
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def sign_out_here() -> None:
    """End the session on this browser, its remember-me cookie with it."""
    parsed = parse_session_id(str(session.get("_user_id", "")))
    if parsed is not None:
        # Spent, so that a copy of this browser's remember-me cookie opens nothing.
        throttle.spend_once("remember:" + parsed.nonce, absolute_seconds())
    logout_user()
    session.clear()
    session["_remember"] = "clear"


def absolute_seconds() -> int:
    """Return the longest a session may last, in seconds."""
    return int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600
