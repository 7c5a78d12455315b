"""One-time links with which people set their first password."""

from __future__ import annotations

import secrets
from typing import Any

import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.orm import selectinload

from app import i18n
from app.extensions import db
from app.models import PersonnelCategory, Position, Role, Unit, User
from app.services import links, mail, pagination

SECONDS_PER_DAY = 24 * 60 * 60


def set_password_token(user_id: int, session_token: str) -> str:
    """Return a signed token that lets one account set its password, once."""
    return _serializer().dumps({"u": user_id, "t": session_token})


def set_password_url(token: str, base_url: str | None = None) -> str:
    """Return the absolute address of the set-password page for a token.

    The token follows a #: browsers never send that part, so it stays out of access logs,
    proxies and Referer headers (the page's form carries it in the body instead).
    """
    return links.page_url("auth.set_password", base_url) + "#" + token


def issue_set_password_link(user: User) -> str:
    """Give a person a new set-password link, for one who forgot their password.

    Their sessions end, everywhere, and so does any link issued before: both carry the
    session token this rotates. The password they had still works until they set one.
    """
    user.end_sessions()
    db.session.flush()
    return set_password_url(set_password_token(user.id, user.session_token))


def link_qr_code(link: str) -> str:
    """Return a QR code of a link as a PNG data URI: a phone reads what nobody could type.

    As the certificates draw theirs: a fixed mask (choosing the best of eight triples the
    cost, and a roster's link sheet has hundreds) and one pixel per module, which the
    page enlarges without smoothing.
    """
    return str(segno.make(link, error="m", mask=0).png_data_uri(scale=1, border=4))


def link_days() -> int:
    """Return how many days a set-password link stays valid."""
    return int(current_app.config["SET_PASSWORD_LINK_DAYS"])


def user_for_token(token: str) -> User | None:
    """Return the account a set-password token opens; None if expired, used or forged."""
    try:
        data: Any = _serializer().loads(token, max_age=link_days() * SECONDS_PER_DAY)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    user_id, session_token = data.get("u"), data.get("t")
    if not isinstance(user_id, int) or not isinstance(session_token, str):
        return None
    user = db.session.get(User, user_id)
    # Setting a password rotates the session token, which is what makes the link one-time.
    if (
        user is None
        or not user.is_active
        or not secrets.compare_digest(user.session_token, session_token)
    ):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Set a person's password and end every session and link issued before it."""
    user.set_password(password)
    user.end_sessions()
    db.session.flush()


def set_language(user: User, language: str) -> None:
    """Remember the language a person reads the platform in, for pages and e-mails."""
    user.language = language
    db.session.flush()


def send_set_password_link(full_name: str, service_number: str, email: str, link: str) -> None:
    """E-mail a person their set-password link; raise MailError if the server refuses it.

    Nobody has chosen a language before their first password: the message is in the
    platform's language, not in that of the coordinator who imported them.
    """
    language = i18n.recipient_language(None)
    with force_locale(language):
        subject = _("Set your Blue Beret password")
        body = _(
            "Hello %(name)s,\n\n"
            "An account has been created for you on Blue Beret, where you complete your "
            "mandatory conduct training.\n\n"
            "You sign in with your service number, %(number)s, and a password you choose. "
            "Choose it on this page:\n\n%(link)s\n\n"
            "The link works once and expires in %(days)s days. If it has expired, ask your "
            "training coordinator for a new one.\n",
            name=full_name,
            number=service_number,
            link=link,
            days=link_days(),
        )
    mail.send(email, subject, body, name=full_name, language=language)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def update_account(
    user: User,
    *,
    role: Role,
    category: PersonnelCategory,
    position: Position,
    unit: Unit | None,
    assigned_units: list[Unit],
    is_active: bool,
) -> dict[str, list[object]]:
    """Change an account; return what changed as {field: [before, after]}.

    Disabling an account or changing its role ends its sessions at once.
    """
    before = {
        "role": user.role,
        "category": user.category,
        "position": user.position,
        "unit": user.unit.code if user.unit else None,
        "assigned_units": sorted(u.code for u in user.assigned_units),
        "is_active": user.is_active,
    }
    user.role, user.category, user.position = role, category, position
    user.unit, user.assigned_units, user.is_active = unit, assigned_units, is_active
    after = {
        "role": role.value,
        "category": category.value,
        "position": position.value,
        "unit": unit.code if unit else None,
        "assigned_units": sorted(u.code for u in assigned_units),
        "is_active": is_active,
    }
    changes: dict[str, list[object]] = {
        key: [before[key], after[key]] for key in after if str(before[key]) != str(after[key])
    }
    if "role" in changes or "is_active" in changes:
        user.end_sessions()
    db.session.flush()
    return changes


def find_by_name(name: str) -> User | None:
    """Return the account a person signs in as, named by username or service number."""
    name = name.lower()
    return db.session.scalar(
        sa.select(User).where(
            sa.or_(sa.func.lower(User.username) == name, sa.func.lower(User.service_number) == name)
        )
    )


def search(text: str, page: int, per_page: int) -> pagination.Window[User]:
    """Return one page of accounts by name whose name, username or service number has the text."""
    query = sa.select(User).order_by(User.full_name)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.full_name).like(pattern),
                sa.func.lower(User.username).like(pattern),
                sa.func.lower(User.service_number).like(pattern),
            )
        )
    return pagination.window(query.options(selectinload(User.unit)), page, per_page)
