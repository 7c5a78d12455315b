"""Sign-in, sign-out, setting a first password, and the start page."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm, SetPasswordForm
from app.extensions import db
from app.models import Role, User
from app.services import accounts

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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
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
        if user is None or not user.is_active or not user.check_password(form.password.data):
            flash(_("The username or password is not right. Check them and try again."), "error")
            return render_template("auth/login.html", form=form), 401  # type: ignore[return-value]
        # A fresh session at sign-in: nothing set before it carries over.
        session.clear()
        login_user(user, remember=form.remember.data)
        target = request.args.get("next")
        return redirect(target if target and is_local_path(target) else home_url(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    user = accounts.user_for_token(token)
    if user is None:
        page = render_template("auth/set_password.html", form=None, user=None)
        return private(make_response(page, 400))
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(user, form.password.data)
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
