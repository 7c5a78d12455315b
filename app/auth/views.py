"""Sign-in, sign-out, setting a first password, and the start page."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
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
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from app.auth import bp, load_user
from app.auth.forms import ChangePasswordForm, CodeForm, LoginForm, SetPasswordForm
from app.extensions import db, limiter
from app.models import AuditAction, Role, User
from app.services import accounts, audit, mfa

DUMMY_HASH = generate_password_hash("no account has this password")
MFA_ROLES = {Role.ADMIN, Role.COORDINATOR}
MFA_WINDOW_SECONDS = 300
MFA_ENROLMENT_ENDPOINTS = {"auth.enrol_second_factor", "auth.logout", "auth.account"}

HOME_BY_ROLE = {
    Role.PEACEKEEPER: "learner.index",
    Role.COORDINATOR: "coordinator.index",
    Role.COMMANDER: "commander.index",
    Role.ADMIN: "admin.index",
}


def home_url(user: User) -> str:
    """Return the page a user starts from."""
    return url_for(HOME_BY_ROLE[Role(user.role)])


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


def login_limit_key() -> str:
    """Count sign-in attempts per account, whatever address they come from."""
    return "account:" + request.form.get("username", "").strip().lower()


def throttled(limit: RequestLimit) -> None:
    """Log a sign-in refused for too many attempts (the error handler records it once)."""
    current_app.logger.warning(
        "Sign-in throttled for %s from %s (%s)", login_limit_key(), request.remote_addr, limit.limit
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], on_breach=throttled
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=login_limit_key,
    methods=["POST"],
    on_breach=throttled,
)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.username.data.strip().lower()
        user = db.session.scalar(
            sa.select(User).where(
                sa.or_(
                    sa.func.lower(User.username) == name, sa.func.lower(User.service_number) == name
                )
            )
        )
        if user is None:
            # Hash anyway, so the answer takes as long whether or not the account exists.
            check_password_hash(DUMMY_HASH, form.password.data)
        if user is None or not user.is_active or not user.check_password(form.password.data):
            audit.record(AuditAction.SIGN_IN_FAILED, name, {"reason": "bad credentials"})
            db.session.commit()
            flash(_("The username or password is not right. Check them and try again."), "error")
            return render_template("auth/login.html", form=form), 401
        target = request.args.get("next")
        target = target if target and is_local_path(target) else None
        if user.totp_secret:
            session.clear()
            session["mfa"] = {"user": user.get_id(), "next": target, "at": time.time()}
            return redirect(url_for("auth.second_factor"))
        return complete_sign_in(user, form.remember.data, target)
    return render_template("auth/login.html", form=form)


def complete_sign_in(user: User, remember: bool, target: str | None) -> Response:
    """Start a fresh session for the person and record the sign-in."""
    # A fresh session at sign-in: nothing set before it carries over.
    session.clear()
    login_user(user, remember=remember)
    session["signed_in_at"] = session["seen_at"] = time.time()
    audit.record(AuditAction.SIGN_IN, user.username, actor=user)
    db.session.commit()
    return redirect(target or home_url(user))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def second_factor() -> Response | str | tuple[str, int]:
    pending: dict[str, Any] = session.get("mfa") or {}
    user = load_user(pending["user"]) if pending else None
    if user is None or time.time() - pending["at"] > MFA_WINDOW_SECONDS:
        session.pop("mfa", None)
        flash(_("Sign in again, then enter your code."), "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if mfa.accept(user, form.code.data):
            return complete_sign_in(user, False, pending.get("next"))
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
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not user.check_password(form.current.data):
            form.current.errors = [_("Your current password is not right.")]
        else:
            accounts.set_password(user, form.password.data)
            audit.record(AuditAction.PASSWORD_CHANGED, user.username)
            db.session.commit()
            # Every other session ended with the old token; this one continues on the new.
            login_user(user)
            session["signed_in_at"] = session["seen_at"] = time.time()
            flash(_("Your password is changed. You were signed out everywhere else."), "info")
            return redirect(url_for("auth.account"))
    page = render_template("auth/account.html", form=form, mfa_required=mfa_required(current_user))
    return (page, 422) if form.errors else page


@bp.route("/account/second-factor", methods=["GET", "POST"])
def enrol_second_factor() -> Response | str | tuple[str, int]:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    secret = session.get("mfa_secret") or mfa.new_secret()
    session["mfa_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        if mfa.accept(current_user, form.code.data, secret):
            current_user.totp_secret = secret
            session.pop("mfa_secret", None)
            audit.record(AuditAction.MFA_ENABLED, current_user.username)
            db.session.commit()
            flash(
                _("Your second factor is on. You will be asked for a code at each sign-in."), "info"
            )
            return redirect(url_for("auth.account"))
        form.code.errors = [
            _("This code is not right. Check the time on your phone and try again.")
        ]
    uri = mfa.provisioning_uri(current_user, secret)
    page = render_template(
        "auth/second_factor.html", form=form, secret=secret, qr=mfa.qr_data_uri(uri)
    )
    return (page, 422) if form.errors else page


def mfa_required(user: User) -> bool:
    """Return whether the person must use a second factor."""
    return bool(current_app.config["REQUIRE_MFA"]) and user.role in MFA_ROLES


@bp.before_app_request
def enforce_session_rules() -> Response | None:
    """End idle or too-old sessions, and send people who must enrol a second factor to do so."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now, config = time.time(), current_app.config
    signed_in = session.setdefault("signed_in_at", now)
    seen = session.get("seen_at", now)
    if (
        now - seen > config["SESSION_IDLE_MINUTES"] * 60
        or now - signed_in > config["SESSION_ABSOLUTE_HOURS"] * 3600
    ):
        logout_user()
        session.clear()
        flash(_("Your session has expired. Please sign in again."), "info")
        return redirect(url_for("auth.login", next=request.path))
    session["seen_at"] = now
    if (
        mfa_required(current_user)
        and not current_user.totp_secret
        and request.endpoint not in MFA_ENROLMENT_ENDPOINTS
    ):
        flash(_("Your role requires a second factor. Set it up to continue."), "info")
        return redirect(url_for("auth.enrol_second_factor"))
    return None


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    user = accounts.user_for_token(token)
    if user is None:
        page = render_template("auth/set_password.html", form=None, user=None)
        return private(make_response(page, 400))
    form = SetPasswordForm()
    form.person = user
    if form.validate_on_submit():
        accounts.set_password(user, form.password.data)
        audit.record(AuditAction.PASSWORD_SET, user.username, actor=user)
        db.session.commit()
        # Whoever was signed in on this browser is not the person who now owns the account.
        logout_user()
        session.clear()
        flash(
            _("Your password is set. Sign in with your service number and your new password."),
            "info",
        )
        return redirect(url_for("auth.login"))
    page = render_template(
        "auth/set_password.html", form=form, user=user, days=accounts.link_days()
    )
    return private(make_response(page, 422 if form.errors else 200))


def private(response: Response) -> Response:
    """Keep a page whose address is a secret out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response
