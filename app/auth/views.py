"""Sign-in, sign-out and the start page."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import db
from app.models import Role, User

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
