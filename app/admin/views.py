"""The administrator's view of published modules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app import params
from app.admin import bp, trail
from app.admin.forms import ROLE_LABELS, AccountForm
from app.coordinator import recovery
from app.extensions import db
from app.models import (
    AuditAction,
    PersonnelCategory,
    Position,
    Role,
    User,
)
from app.services import accounts, audit, content, organisation


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html", modules=content.all_modules())


AUDIT_PER_PAGE = 100
USERS_PER_PAGE = 50


@bp.route("/audit")
def audit_trail() -> tuple[str, int]:
    action = params.query_choice("action", {action.value for action in AuditAction})
    actor = params.query_text("actor").lower()
    # What the form shows again: the filters as typed.
    shown = {"action": action or "", "actor": actor}
    errors: dict[str, str] = {}
    period: dict[str, datetime | None] = {"from": None, "to": None}
    # Both days are included: from the first moment of one to the last of the other.
    for name, bound in (("from", time.min), ("to", time.max)):
        text = shown[name] = params.query_text(name)
        if not text:
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = _("Write the date as YYYY-MM-DD, for example 2026-12-01.")
            continue
        period[name] = datetime.combine(day, bound, tzinfo=UTC)
    page = params.query_page(AUDIT_PER_PAGE)
    entries = audit.search(action, actor, period["from"], period["to"], page, AUDIT_PER_PAGE)
    chain = audit.verify() if request.args.get("verify") else None
    return render_template(
        "admin/audit.html",
        lines=[trail.describe(entry) for entry in entries.items],
        has_next=entries.has_next,
        page=page,
        actions=[(action.value, trail.action_label(action)) for action in AuditAction],
        shown=shown,
        errors=errors,
        chain=chain,
    ), 400 if errors else 200


@bp.route("/users")
def users() -> str:
    search = params.query_text("q")
    page = params.query_page(USERS_PER_PAGE)
    found = accounts.search(search, page, USERS_PER_PAGE)
    return render_template(
        "admin/users.html",
        users=found.items,
        has_next=found.has_next,
        page=page,
        search=search,
        role_labels=ROLE_LABELS,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Response | str | tuple[str, int]:
    person = db.session.get(User, user_id) or abort(404)
    units = organisation.all_units()
    form = AccountForm(obj=person if request.method == "GET" else None)
    choices = [SelectChoice(u.id, f"{u.name} ({u.code})") for u in units]
    form.unit.choices = [SelectChoice(0, str(_l("No unit"))), *choices]
    form.assigned_units.choices = choices
    if request.method == "GET":
        form.unit.data = person.unit_id or 0
        form.assigned_units.data = [u.id for u in person.assigned_units]
    if form.validate_on_submit():
        if person.id == current_user.id and (
            form.role.data != Role.ADMIN or not form.is_active.data
        ):
            flash(_("You cannot remove your own administrator access."), "error")
            return redirect(url_for("admin.user", user_id=person.id))
        changes = accounts.update_account(
            person,
            role=Role(form.role.data),
            category=PersonnelCategory(form.category.data),
            position=Position(form.position.data),
            unit=next((u for u in units if u.id == form.unit.data), None),
            assigned_units=[u for u in units if u.id in set(form.assigned_units.data)],
            is_active=form.is_active.data,
        )
        if changes:
            audit.record(AuditAction.ACCOUNT_CHANGED, person.username, changes)
            db.session.commit()
            flash(_("Saved."), "info")
        return redirect(url_for("admin.user", user_id=person.id))
    page = render_template(
        "admin/user.html", person=person, form=form, may_issue_link=person.is_active
    )
    return (page, 422) if form.errors else page


@bp.route("/users/<int:user_id>/set-password-link", methods=["POST"])
def issue_set_password_link(user_id: int) -> str:
    """Give anyone a new set-password link: those without a unit have no coordinator."""
    person = db.session.get(User, user_id) or abort(404)
    if not person.is_active:
        abort(403)
    return recovery.issued_link_page(person, url_for("admin.user", user_id=person.id))
