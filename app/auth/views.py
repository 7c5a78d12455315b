"""The start page, and where each role starts from."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.models import Role, User

HOME_BY_ROLE = {
    Role.PEACEKEEPER: "learner.index",
    Role.COORDINATOR: "coordinator.index",
    Role.COMMANDER: "commander.index",
    Role.HEADQUARTERS: "headquarters.index",
    Role.ADMIN: "admin.index",
    Role.FACILITATOR: "classroom.index",
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
