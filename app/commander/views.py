"""The commander's readiness board: who may deploy, who is about to lapse, who is blocked."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from app import downloads, params
from app.commander import bp
from app.extensions import db
from app.models import Unit, User
from app.models.types import utcnow
from app.services import organisation, readiness, reporting, translations
from app.services.readiness import Readiness


def own_unit(unit_id: int) -> tuple[Unit, list[int]]:
    """Return a unit the commander oversees and the ids of it and its sub-units, or 404."""
    units = organisation.units_in_scope(current_user)
    return organisation.unit_in_scope(units, unit_id) or abort(404)


@bp.route("/")
def index() -> str:
    units = organisation.units_in_scope(current_user)
    people = readiness.board([unit.id for unit in units])
    by_unit: dict[int, list[readiness.PersonReadiness]] = {}
    for person in people:
        by_unit.setdefault(person.unit_id, []).append(person)
    summaries = [(unit, readiness.counts(by_unit.get(unit.id, []))) for unit in units]
    return render_template("commander/index.html", summaries=summaries, Readiness=Readiness)


@bp.route("/units/<int:unit_id>")
def unit(unit_id: int) -> str:
    unit, ids = own_unit(unit_id)
    modules = reporting.current_modules()
    people = readiness.board(ids, modules=modules)
    texts = translations.titles_by_module(modules)
    wanted = params.query_choice("status", {state.value for state in Readiness})
    shown = [p for p in people if wanted in (None, p.status.value)]
    return render_template(
        "commander/unit.html",
        unit=unit,
        people=shown,
        counts=readiness.counts(people),
        status=wanted,
        today=utcnow().date(),
        # The modules' titles in the reader's language, by their source titles.
        module_titles={version.title: texts[version.module_id] for version in modules},
        Readiness=Readiness,
    )


@bp.route("/units/<int:unit_id>/readiness.<fmt>")
def export(unit_id: int, fmt: str) -> Response:
    if fmt not in {"csv", "xlsx"}:
        abort(404)
    unit, ids = own_unit(unit_id)
    headers = [
        "full_name", "service_number", "category", "unit", "deployment_date", "status",
        "missing_modules", "expiring_modules",
    ]  # fmt: skip
    rows = [
        [p.full_name, p.service_number, p.category, p.unit_name, p.deployment_date,
         p.status.value, "; ".join(p.missing),
         "; ".join(f"{title} ({day.isoformat()})" for title, day in p.expiring)]
        for p in readiness.board(ids)
    ]  # fmt: skip
    return downloads.table(fmt, headers, rows, f"readiness-{unit.code}")


@bp.route("/people/<int:user_id>/record.pdf")
@downloads.pdf_limit
def record(user_id: int) -> Response:
    person = db.session.get(User, user_id)
    if person is None or not organisation.person_in_scope(current_user, person):
        abort(404)
    return downloads.training_record(person)
