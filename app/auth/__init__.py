"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint

from app.extensions import db
from app.models import User

bp = Blueprint("auth", __name__)


def load_user(session_id: str) -> User | None:
    """Load the user of a session, refusing ids issued before the last sign-out."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


from app.auth import views  # noqa: E402, F401
