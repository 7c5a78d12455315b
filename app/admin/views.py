"""The administrator's view of published modules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app import params
from app.admin import bp, trail
from app.admin.forms import AccountForm
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    PersonnelCategory,
    Position,
    Role,
    TrainingModule,
    Unit,
    User,
)
from app.services import accounts, audit


@bp.route("/")
def index() -> str:
    modules = db.session.scalars(
        sa.select(TrainingModule)
        .options(selectinload(TrainingModule.versions))
        .order_by(TrainingModule.slug)
    ).all()
    return render_template("admin/index.html", modules=modules)


AUDIT_PER_PAGE = 100
USERS_PER_PAGE = 50


@bp.route("/audit")
def audit_trail() -> tuple[str, int]:
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    action = params.query_choice("action", {action.value for action in AuditAction})
    if action:
        query = query.where(AuditEntry.action == action)
    actor = params.query_text("actor").lower()
    if actor:
        query = query.where(AuditEntry.actor == actor)
    # What the form shows again: the filters as typed.
    shown = {"action": action or "", "actor": actor}
    errors: dict[str, str] = {}
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
        moment = datetime.combine(day, bound, tzinfo=UTC)
        query = query.where(AuditEntry.at >= moment if name == "from" else AuditEntry.at <= moment)
    page = params.query_page(AUDIT_PER_PAGE)
    entries = db.session.scalars(
        query.limit(AUDIT_PER_PAGE + 1).offset((page - 1) * AUDIT_PER_PAGE)
    ).all()
    chain = audit.verify() if request.args.get("verify") else None
    return render_template(
        "admin/audit.html",
        lines=[trail.describe(entry) for entry in entries[:AUDIT_PER_PAGE]],
        has_next=len(entries) > AUDIT_PER_PAGE,
        page=page,
        actions=[(action.value, trail.action_label(action)) for action in AuditAction],
        shown=shown,
        errors=errors,
        chain=chain,
    ), 400 if errors else 200


@bp.route("/users")
def users() -> str:
    search = params.query_text("q")
    query = sa.select(User).order_by(User.full_name)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.full_name).like(pattern),
                sa.func.lower(User.username).like(pattern),
                sa.func.lower(User.service_number).like(pattern),
            )
        )
    page = params.query_page(USERS_PER_PAGE)
    found = db.session.scalars(
        query.options(selectinload(User.unit))
        .limit(USERS_PER_PAGE + 1)
        .offset((page - 1) * USERS_PER_PAGE)
    ).all()
    return render_template(
        "admin/users.html",
        users=found[:USERS_PER_PAGE],
        has_next=len(found) > USERS_PER_PAGE,
        page=page,
        search=search,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Response | str | tuple[str, int]:
    person = db.session.get(User, user_id) or abort(404)
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name)).all()
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
    page = render_template("admin/user.html", person=person, form=form)
    return (page, 422) if form.errors else page
