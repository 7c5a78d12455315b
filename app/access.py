"""Access control applied once per blueprint, so no view can forget it."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import login_manager
from app.models import Role


def guard(blueprint: Blueprint, *roles: Role) -> None:
    """Require a signed-in user holding one of the roles for every view of a blueprint."""

    @blueprint.before_request
    def _check_role() -> Response | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()  # type: ignore[no-any-return]
        if roles and current_user.role not in roles:
            abort(403)
        return None
