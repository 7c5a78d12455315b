"""Access control applied once per blueprint, so no view can forget it."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from app.models import Role


def guard(blueprint: Blueprint, *roles: Role) -> None:
    """Require a signed-in user holding one of the roles for every view of a blueprint."""

    @blueprint.before_request
    @login_required
    def _check_role() -> None:
        if roles and current_user.role not in roles:
            abort(403)
