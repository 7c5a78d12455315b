"""The coordinator's overview of their units."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.coordinator import bp
from app.services import organisation


@bp.route("/")
def index() -> str:
    units = organisation.units_in_scope(current_user)
    return render_template("coordinator/index.html", summaries=organisation.unit_summaries(units))
