"""A new set-password link for a person who forgot their password.

Many peacekeepers have no e-mail address: whoever forgot asks their training coordinator,
who sees them, and issues the link from the person's page.
"""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_login import current_user

from app.coordinator import bp
from app.extensions import db
from app.models import AuditAction, Role, User
from app.services import accounts, audit, organisation

# Whom a coordinator may give a new link: an account with more rights than theirs (an
# administrator's, another coordinator's) is an administrator's to recover.
RECOVERED_BY_COORDINATORS = {Role.PEACEKEEPER, Role.COMMANDER}


def may_issue_link(user: User, person: User) -> bool:
    """Return whether the user may give the person a new set-password link."""
    return person.is_active and (
        user.role == Role.ADMIN or person.role in RECOVERED_BY_COORDINATORS
    )


@bp.context_processor
def recovery_helpers() -> dict[str, object]:
    """Let the person page offer the link only to whom may issue it."""
    return {"may_issue_link": may_issue_link}


@bp.route("/people/<int:user_id>/set-password-link", methods=["POST"])
def issue_set_password_link(user_id: int) -> str:
    person = db.session.get(User, user_id)
    if person is None or not organisation.person_in_scope(current_user, person):
        abort(404)
    if not may_issue_link(current_user, person):
        abort(403)
    return issued_link_page(person, url_for("coordinator.person", user_id=person.id))


def issued_link_page(person: User, back_url: str) -> str:
    """Issue the person a new link, record who did, and show it, this once."""
    link = accounts.issue_set_password_link(person)
    audit.record(
        AuditAction.SET_PASSWORD_LINK_ISSUED,
        person.username,
        {"service_number": person.service_number, "sessions_ended": True},
    )
    db.session.commit()
    return render_template(
        "coordinator/set_password_link.html",
        person=person,
        back_url=back_url,
        link=link,
        qr_code=accounts.link_qr_code(link),
        days=accounts.link_days(),
    )
