"""The headquarters view: people per state by mission, unit or category and module."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app import downloads, params
from app.headquarters import bp
from app.models import DeliveryMode, PersonnelCategory
from app.services import organisation, reporting, translations
from app.services.reporting import State
from app.services.reporting.headquarters import Breakdown, Scope, Table, figures_row, table

BREAKDOWN_LABELS = {
    Breakdown.MISSION: _l("Mission"),
    Breakdown.UNIT: _l("Unit"),
    Breakdown.CATEGORY: _l("Personnel category"),
}


def read_scope() -> tuple[Breakdown, Scope, dict[str, str]]:
    """Read the breakdown and filters from the query string; any unknown value is 404."""
    breakdown = Breakdown(params.query_choice("by", set(Breakdown)) or Breakdown.MISSION)
    missions = organisation.all_missions()
    mission_id = params.query_id("mission")
    mission = next((m for m in missions if m.id == mission_id), None)
    if mission_id is not None and mission is None:
        abort(404)
    category = params.query_choice("category", {c.value for c in PersonnelCategory})
    module_id = params.query_id("module")
    if module_id is not None and module_id not in {
        version.module_id for version in reporting.current_modules()
    }:
        abort(404)
    scope = Scope(missions, organisation.all_units(), mission, category, module_id)
    values = {"by": breakdown.value, "mission": mission_id, "category": category,
              "module": module_id}  # fmt: skip
    return breakdown, scope, {k: str(v) for k, v in values.items() if v is not None}


@bp.route("/")
def index() -> str:
    breakdown, scope, args = read_scope()
    modules = reporting.current_modules()
    titles = translations.titles_by_module(modules)
    return render_template(
        "headquarters/index.html",
        table=table(breakdown, scope, reporting.Cutoffs.at()),
        scope=scope,
        args=args,
        breakdowns=BREAKDOWN_LABELS,
        categories=list(PersonnelCategory),
        modules=translations.in_title_order(modules, titles),
        module_titles=titles,
    )


@bp.route("/export.<fmt>")
def export(fmt: str) -> Response:
    if fmt not in {"csv", "xlsx"}:
        abort(404)
    breakdown, scope, _args = read_scope()
    cutoffs = reporting.Cutoffs.at()
    headers, rows = export_table(table(breakdown, scope, cutoffs))
    name = f"headquarters-by-{breakdown.value}-{cutoffs.now.date().isoformat()}"
    return downloads.table(fmt, headers, rows, name)


def export_table(found: Table) -> tuple[list[str], list[list[object]]]:
    """Flatten a headquarters table, its totals last, for CSV and XLSX."""
    first = {
        Breakdown.MISSION: ["mission"],
        Breakdown.UNIT: ["mission", "unit"],
        Breakdown.CATEGORY: ["category"],
    }[found.breakdown]
    headers = [*first, "module", "people", *(state.value for state in State), "percent_valid",
               *(f"valid_{mode.value}" for mode in DeliveryMode)]  # fmt: skip
    everyone = _("All")

    def names(group: str, mission: str) -> list[object]:
        return [mission, group] if found.breakdown == Breakdown.UNIT else [group]

    rows = [[*names(r.group, r.mission), r.module, *figures_row(r.figures)] for r in found.rows]
    rows += [[*names(everyone, everyone), r.module, *figures_row(r.figures)] for r in found.totals]
    return headers, rows
