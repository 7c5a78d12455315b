"""Signing in and out: session rules, sign-in, one's own account, and a first password."""

from __future__ import annotations

import secrets
import time
from typing import NamedTuple

import sqlalchemy as sa
from flask import Blueprint, current_app

from app.extensions import db
from app.models import User
from app.services import annexes
from app.services.content import published

bp = Blueprint("auth", __name__)


class SessionId(NamedTuple):
    """What a session id (and so a remember-me cookie) carries, signed by Flask."""

    account: str  # "<user id>:<session token>", the user's get_id()
    signed_in_at: int
    seen_at: int
    nonce: str


def session_id(user: User, signed_in_at: float, seen_at: float, nonce: str | None = None) -> str:
    """Return the id of a session: the account, when it began, when last seen, and a nonce."""
    nonce = nonce or secrets.token_urlsafe(16)
    return f"{user.get_id()}:{int(signed_in_at)}:{int(seen_at)}:{nonce}"


def parse_session_id(value: str) -> SessionId | None:
    """Split a session id; None for one of another shape (such as one from before times)."""
    parts = value.split(":")
    if len(parts) != 5 or not all(part.isdigit() for part in (parts[0], parts[2], parts[3])):
        return None
    return SessionId(f"{parts[0]}:{parts[1]}", int(parts[2]), int(parts[3]), parts[4])


# Built once, for every signed-in request. The content stamp comes along: each page checks
# the content it holds (services/content/published.py) without a query of its own; so
# does the person's mission, whose annex My training and the modules show.
ACCOUNT = sa.select(User, published.STAMP, annexes.MISSION_OF_PERSON).where(
    User.id == sa.bindparam("id")
)


def load_account(account: str) -> User | None:
    """Return the active user of "<id>:<session token>"; None once the token has rotated."""
    user_id, _, token = account.partition(":")
    if not user_id.isdigit() or not token:
        return None
    row = db.session.execute(ACCOUNT, {"id": int(user_id)}).first()
    if row is None:
        return None
    user: User = row[0]
    published.read_along(row[1])
    annexes.read_along(user, row[2])
    if not user.is_active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def load_user(value: str) -> User | None:
    """Load the user of a session or remember-me cookie, refusing expired or revoked ones.

    The idle and absolute limits are checked here, on the times the id carries, so that a
    copied remember-me cookie cannot start a session that the limits have ended.
    """
    parsed = parse_session_id(value)
    if parsed is None:
        return None
    now, config = time.time(), current_app.config
    if (
        now - parsed.seen_at > config["SESSION_IDLE_MINUTES"] * 60
        or now - parsed.signed_in_at > config["SESSION_ABSOLUTE_HOURS"] * 3600
    ):
        return None
    return load_account(parsed.account)


from app.auth import password, second_factor, sessions, set_password, signin, views  # noqa: E402, F401
