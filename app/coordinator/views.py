"""The coordinator's dashboard: completion matrix, lists, drill-downs and exports."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, render_template
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app import downloads, params
from app.coordinator import bp
from app.extensions import db
from app.models import (
    DeliveryMode,
    ModuleVersion,
    PersonnelCategory,
    Role,
    Unit,
    User,
)
from app.services import organisation, reporting, training, translations
from app.services.content.published import ModuleContent
from app.services.reporting import Filters, Place, State

PER_PAGE = 50
EXPORT_PAGE = 5000


def scope() -> tuple[list[Unit], list[int] | None]:
    """Return the units the user oversees, and their ids (None: every unit, for admins)."""
    units = organisation.units_in_scope(current_user)
    return units, None if current_user.role == Role.ADMIN else [unit.id for unit in units]


def read_filters(
    units: list[Unit], unit_ids: list[int] | None, by_delivery: bool = False
) -> tuple[Filters, Unit | None]:
    """Read the report filters from the query string, keeping them within scope.

    An empty value (as the filter form sends) means no filter; any other value that is
    not one of the choices answers 404, as an unknown unit does. How completions were
    earned narrows lists of people only (`by_delivery`): the counts are not kept by it.
    """
    unit = None
    unit_id = params.query_id("unit")
    if unit_id is not None:
        unit, unit_ids = organisation.unit_in_scope(units, unit_id) or abort(404)
    category = params.query_choice("category", {c.value for c in PersonnelCategory})
    module_id = params.query_id("module")
    status = params.query_choice("status", {state.value for state in State})
    delivery = params.query_choice("delivery", {mode.value for mode in DeliveryMode})
    filters = Filters(unit_ids, category, module_id, State(status) if status else None)
    if by_delivery and delivery:
        filters = replace(filters, delivery_mode=DeliveryMode(delivery))
    return filters, unit


def filter_args(filters: Filters, unit: Unit | None) -> dict[str, str]:
    """Return the query keys of the filters in force, for links that keep them."""
    values = {
        "unit": unit.id if unit else None,
        "category": filters.category,
        "module": filters.module_id,
        "status": filters.state.value if filters.state else None,
        "delivery": filters.delivery_mode.value if filters.delivery_mode else None,
    }
    return {name: str(value) for name, value in values.items() if value is not None}


def filter_context(units: list[Unit], filters: Filters, unit: Unit | None) -> dict[str, object]:
    """Give a report page its filter form: the choices, the filters in force and their keys.

    With it, the modules' titles in the reader's language where translated in full.
    """
    modules = reporting.current_modules()
    titles = translations.titles_by_module(modules)
    return {
        "units": units,
        "categories": list(PersonnelCategory),
        "modules": translations.in_title_order(modules, titles),
        "module_titles": titles,
        "states": reporting.STATE_ORDER,
        "delivery_modes": list(DeliveryMode),
        "filters": filters,
        "filter_args": filter_args(filters, unit),
    }


def read_place(name: str) -> Place | None:
    """Read the place in a list a page link carries (404 when malformed)."""
    found = params.query_place(name, {state.value for state in State})
    return None if found is None else Place(State(found[0]), found[1], found[2])


def read_page() -> tuple[int, Place | None, Place | None]:
    """Read which page of a list to show: its number and the place it follows or precedes.

    Page links carry the place; a page number alone can only be the first page, and a
    place that is not one of the list's answers 404, as any other bad value does.
    """
    number = params.query_page(PER_PAGE)
    after, before = read_place("after"), read_place("before")
    if (after and before) or (number > 1 and not (after or before)):
        abort(404)
    return number, after, before


def listed(
    filters: Filters, number: int, after: Place | None, before: Place | None
) -> tuple[dict[tuple[int, int], reporting.Cell], reporting.Page]:
    """Return the counts and one page of the people matching the filters, or answer 404."""
    try:
        return reporting.report(filters, reporting.Cutoffs.at(), number, PER_PAGE, after, before)
    except reporting.UnknownPlace:
        abort(404)


@bp.route("/")
def index() -> str:
    units, unit_ids = scope()
    filters, unit = read_filters(units, unit_ids)
    cutoffs = reporting.Cutoffs.at()
    shown = [u for u in units if filters.unit_ids is None or u.id in filters.unit_ids]
    matrix = reporting.matrix(shown, filters, cutoffs)
    return render_template(
        "coordinator/index.html",
        matrix=matrix,
        unit=unit,
        trend=reporting.completions_by_month(filters.unit_ids),
        # Translated once rather than in each of the thousands of cells of a large matrix.
        cell_note=gettext("%(o)s overdue · %(e)s expiring"),
        **filter_context(units, filters, unit),
    )


@bp.route("/units/<int:unit_id>")
def unit(unit_id: int) -> str:
    units, _ = scope()
    unit, ids = organisation.unit_in_scope(units, unit_id) or abort(404)
    filters, _ = read_filters(units, ids)
    filters = Filters(ids, filters.category, filters.module_id, filters.state)
    cells, page = listed(filters, *read_page())
    return render_template(
        "coordinator/unit.html",
        unit=unit,
        by_module=reporting.by_module(cells),
        page=page,
        # The unit is in the address; its page has no unit filter.
        **filter_context(units, filters, None),
    )


@bp.route("/people")
def people() -> str:
    units, unit_ids = scope()
    filters, unit = read_filters(units, unit_ids, by_delivery=True)
    _cells, page = listed(filters, *read_page())
    return render_template(
        "coordinator/people.html", page=page, unit=unit, **filter_context(units, filters, unit)
    )


@bp.route("/people/<int:user_id>")
def person(user_id: int) -> str:
    person = db.session.get(User, user_id)
    if person is None or not organisation.person_in_scope(current_user, person):
        abort(404)
    history = training.history(person)
    statuses = training.module_statuses(person)
    versions: list[ModuleVersion | ModuleContent] = [
        *(status.version for status in statuses),
        *(completion.module_version for completion in history.completions),
        *(attempt.module_version for attempt in history.attempts),
        *(attestation.module_version for attestation in history.attestations),
    ]
    return render_template(
        "coordinator/person.html",
        person=person,
        due_on=reporting.due_date(person),
        statuses=statuses,
        attempts=history.attempts,
        completions=history.completions,
        attestations=history.attestations,
        # Each version's title in the reader's language, by version id.
        version_titles=translations.titles({version.id: version for version in versions}.values()),
    )


@bp.route("/export/<report>.<fmt>")
def export(report: str, fmt: str) -> Response:
    if report not in {"matrix", "people"} or fmt not in {"csv", "xlsx"}:
        abort(404)
    units, unit_ids = scope()
    filters, _ = read_filters(units, unit_ids, by_delivery=report == "people")
    cutoffs = reporting.Cutoffs.at()
    if report == "matrix":
        headers, rows = matrix_table(units, filters, cutoffs)
    else:
        headers, rows = people_table(filters, cutoffs)
    return downloads.table(fmt, headers, rows, f"{report}-{cutoffs.now.date().isoformat()}")


def matrix_table(
    units: list[Unit], filters: Filters, cutoffs: reporting.Cutoffs
) -> tuple[list[str], list[list[object]]]:
    """Flatten the matrix into one row per unit and module."""
    shown = [u for u in units if filters.unit_ids is None or u.id in filters.unit_ids]
    matrix = reporting.matrix(shown, filters, cutoffs)
    headers = [
        "unit", "country", "module", "version", "people", "complete", "expiring",
        "in_progress", "overdue", "percent_complete",
    ]  # fmt: skip
    rows: list[list[object]] = []
    for unit in matrix.units:
        for module in matrix.modules:
            cell = matrix.cell(unit.id, module.module_id)
            rows.append(
                [unit.name, unit.country, module.title, module.label, cell.total,
                 cell.count(State.COMPLETE), cell.count(State.EXPIRING),
                 cell.count(State.IN_PROGRESS), cell.count(State.OVERDUE), cell.percent()]
            )  # fmt: skip
    return headers, rows


def people_table(
    filters: Filters, cutoffs: reporting.Cutoffs
) -> tuple[list[str], list[list[object]]]:
    """List every matching person and module, page by page, for an export."""
    headers = [
        "full_name", "service_number", "category", "unit", "module", "status", "due_on",
        "expires_on", "delivery_mode", "session", "session_place", "session_date",
    ]  # fmt: skip
    rows: list[list[object]] = []
    after = None
    while True:
        page = reporting.people(filters, cutoffs, per_page=EXPORT_PAGE, after=after)
        rows.extend(
            [row.full_name, row.service_number, row.category, row.unit_name, row.module_title,
             row.state.value, row.due_on, row.expires_at.date() if row.expires_at else None,
             *earned_columns(row.earned)]
            for row in page.rows
        )  # fmt: skip
        if page.next_after is None:
            return headers, rows
        after = page.next_after


def earned_columns(earned: reporting.Earned | None) -> list[object]:
    """Return an export's delivery mode, session code, place and day (empty if not valid)."""
    if earned is None:
        return [None, None, None, None]
    return [earned.mode.value, earned.session_code, earned.place, earned.held_on]
