"""Sign-in, sign-out, setting a first password, and the start page."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
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
from flask_login import current_user, login_user, logout_user, user_loaded_from_cookie
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from app.auth import bp, load_account, parse_session_id, session_id, throttle
from app.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    RemoveFactorForm,
    ReplaceFactorForm,
    SetPasswordForm,
)
from app.extensions import db, limiter
from app.models import AuditAction, Role, User
from app.services import accounts, audit, mfa, passwords

MFA_ROLES = {Role.ADMIN, Role.COORDINATOR}
DEVICE_COOKIE = "known_device"
DEVICE_DAYS = 90
MFA_WINDOW_SECONDS = 300
MFA_ENROLMENT_ENDPOINTS = {
    "auth.enrol_second_factor",
    "auth.remove_second_factor",
    "auth.logout",
    "auth.account",
}

HOME_BY_ROLE = {
    Role.PEACEKEEPER: "learner.index",
    Role.COORDINATOR: "coordinator.index",
    Role.COMMANDER: "commander.index",
    Role.ADMIN: "admin.index",
}


def home_url(user: User) -> str:
    """Return the page a user starts from."""
    return url_for(HOME_BY_ROLE[user.role])


def is_local_path(target: str | None) -> bool:
    """Accept only a path on this site: no scheme, no host, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


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


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    current_user.end_sessions()
    audit.record(AuditAction.SIGN_OUT, current_user.username)
    db.session.commit()
    sign_out_here()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def sign_out_here() -> None:
    """End the session on this browser, its remember-me cookie with it."""
    parsed = parse_session_id(str(session.get("_user_id", "")))
    if parsed is not None:
        # Spent, so that a copy of this browser's remember-me cookie opens nothing.
        throttle.spend_once("remember:" + parsed.nonce, absolute_seconds())
    logout_user()
    session.clear()
    session["_remember"] = "clear"


# Which field a refused confirmation names, the message, and the status to answer with.
Refused = tuple[str, str, int]


def absolute_seconds() -> int:
    """Return the longest a session may last, in seconds."""
    return int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600


def reauthenticate(user: User, password: str, code: str | None = None) -> Refused | None:
    """Check the password (and code) confirming a change; (field, message, status) if refused.

    The same counts and waits as at sign-in: an open session is no way around them.
    """
    keys = [sign_in_key(user, user.username)] + ([code_key(user)] if code is not None else [])
    wait = max(throttle.wait_seconds(key) for key in keys)
    if wait:
        return "current", wait_message(wait), 429
    if not passwords.verify(user.password_hash, password):
        throttle.record_failure(keys[0])
        audit.record(AuditAction.REAUTHENTICATION_FAILED, user.username, {"reason": "bad password"})
        db.session.commit()
        return "current", _("Your current password is not right."), 422
    if code is not None and not mfa.accept(user, code):
        throttle.record_failure(code_key(user))
        audit.record(AuditAction.REAUTHENTICATION_FAILED, user.username, {"reason": "bad code"})
        db.session.commit()
        return "current_code", _("The code from your current authenticator app is not right."), 422
    for key in keys:
        throttle.forget(key)
    return None


def refuse(form: Any, refused: Refused) -> int:
    """Show why a confirmation was refused on its field; return the status to answer with."""
    field, message, status = refused
    form[field].errors = [message]
    return status


def continue_session(user: User) -> None:
    """Keep this browser signed in after every other session was ended."""
    start_session(user, bool(session.get("remember")), session.get("signed_in_at"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        refused = reauthenticate(user, form.current.data)
        if refused:
            status = refuse(form, refused)
        else:
            accounts.set_password(user, form.password.data)
            audit.record(AuditAction.PASSWORD_CHANGED, user.username)
            db.session.commit()
            # Every other session ended with the old token; this one continues on the new.
            continue_session(user)
            flash(_("Your password is changed. You were signed out everywhere else."), "info")
            return redirect(url_for("auth.account"))
    elif form.errors:
        status = 422
    page = render_template("auth/account.html", form=form, mfa_required=mfa_required(current_user))
    return page, status


@bp.route("/account/second-factor", methods=["GET", "POST"])
def enrol_second_factor() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    user = current_user._get_current_object()
    replacing = bool(user.totp_secret)
    # Sealed: the session is a cookie the browser can read.
    secret = mfa.unseal(session.get("mfa_secret")) or mfa.new_secret()
    session["mfa_secret"] = mfa.seal(secret)
    form = ReplaceFactorForm() if replacing else CodeForm()
    status = 200
    if form.validate_on_submit():
        refused = (
            reauthenticate(user, form.current.data, form.current_code.data) if replacing else None
        )
        if refused:
            status = refuse(form, refused)
        else:
            if replacing:
                # The new secret's codes are not the old one's: its replay guard starts afresh.
                user.totp_last_step = None
            if mfa.accept(user, form.code.data, secret):
                mfa.enable(user, secret)
                session.pop("mfa_secret", None)
                if replacing:
                    user.end_sessions()
                audit.record(
                    AuditAction.MFA_REPLACED if replacing else AuditAction.MFA_ENABLED,
                    user.username,
                )
                db.session.commit()
                if replacing:
                    continue_session(user)
                    done = _("Your new second factor is on. You were signed out everywhere else.")
                else:
                    done = _(
                        "Your second factor is on. You will be asked for a code at each sign-in."
                    )
                flash(done, "info")
                return redirect(url_for("auth.account"))
            form.code.errors = [
                _("This code is not right. Check the time on your phone and try again.")
            ]
            status = 422
    elif form.errors:
        status = 422
    uri = mfa.provisioning_uri(user, secret)
    page = render_template(
        "auth/second_factor.html",
        form=form,
        secret=secret,
        qr=mfa.qr_data_uri(uri),
        replacing=replacing,
    )
    return page, status


@bp.route("/account/second-factor/remove", methods=["GET", "POST"])
def remove_second_factor() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    user = current_user._get_current_object()
    if not user.totp_secret:
        return redirect(url_for("auth.account"))
    if mfa_required(user):
        flash(_("Your role requires a second factor: you can replace it, not turn it off."), "info")
        return redirect(url_for("auth.account"))
    form = RemoveFactorForm()
    status = 200
    if form.validate_on_submit():
        refused = reauthenticate(user, form.current.data, form.current_code.data)
        if refused:
            status = refuse(form, refused)
        else:
            user.totp_secret, user.totp_last_step = None, None
            user.end_sessions()
            audit.record(AuditAction.MFA_REMOVED, user.username)
            db.session.commit()
            continue_session(user)
            flash(_("Your second factor is off. You were signed out everywhere else."), "info")
            return redirect(url_for("auth.account"))
    elif form.errors:
        status = 422
    return render_template("auth/second_factor_remove.html", form=form), status


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


@bp.route("/set-password", methods=["GET", "POST"])
def set_password() -> Response:
    """Set a first password; the token comes in a form, never in the address.

    The e-mailed link carries the token after a #, which browsers never send: it stays
    out of every access log, proxy and Referer. The page's form posts it (a small script
    fills it in and sends it; without script, the person pastes it), and the answer, for
    the person the token names, asks for the new password.
    """
    form = SetPasswordForm()
    token = (form.token.data or "").strip() if request.method == "POST" else ""
    user = accounts.user_for_token(token) if token else None
    if token and user is None:
        page = render_template("auth/set_password.html", form=None, user=None)
        return private(make_response(page, 400))
    form.person = user
    status = 200
    if user is not None and "password" not in request.form:
        form = SetPasswordForm(formdata=None, token=token)  # the link opened: nothing to check
    elif form.validate_on_submit() and user is not None:
        accounts.set_password(user, form.password.data)
        audit.record(AuditAction.PASSWORD_SET, user.username, actor=user)
        db.session.commit()
        # Whoever was signed in on this browser is not the person who now owns the account.
        sign_out_here()
        flash(
            _("Your password is set. Sign in with your service number and your new password."),
            "info",
        )
        return redirect(url_for("auth.login"))
    elif form.errors:
        status = 422
    page = render_template(
        "auth/set_password.html", form=form, user=user, days=accounts.link_days()
    )
    return private(make_response(page, status))


@bp.route("/set-password/<token>")
def set_password_old_link(token: str) -> Response:
    """Send a link of the earlier form (token in the path) to the page that keeps it out."""
    return private(redirect(url_for("auth.set_password") + "#" + token))


def private(response: Response) -> Response:
    """Keep a page whose address is a secret out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response
