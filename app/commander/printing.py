"""Batch printing of certificates for a unit, as background jobs."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField, SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice

from app import downloads, params, worker
from app.commander import bp
from app.extensions import db
from app.models import AuditAction, PrintJobStatus, Unit
from app.services import audit, certificates, organisation, printing, readiness
from app.services.readiness import PersonReadiness, Readiness

SHOWN = {state.value for state in Readiness}


class PrintForm(FlaskForm):
    unit = HiddenField()
    # The readiness the list was narrowed to, kept when the form comes back with an error.
    show = HiddenField()
    # The service checks that every person is in the commander's units.
    people = SelectMultipleField(_l("People"), coerce=params.coerce_id, validate_choice=False)
    output = RadioField(
        _l("File"),
        choices=[
            SelectChoice(
                printing.PrintOutput.PDF.value, _l("One PDF with everyone, one page each")
            ),
            SelectChoice(
                printing.PrintOutput.ZIP.value,
                _l("A ZIP file of one PDF per person, named by service number"),
            ),
        ],
        default=printing.PrintOutput.PDF.value,
    )
    print_selected = SubmitField(_l("Print selected"))
    print_ready = SubmitField(_l("Print all Ready"))


@bp.route("/print")
def print_records() -> str:
    """Show a unit's people to choose from, or the commander's units to choose one."""
    units = organisation.units_in_scope(current_user)
    unit_id = params.query_id("unit")
    if unit_id is None:
        return render_template("commander/print_units.html", units=units)
    unit, people = unit_people(units, unit_id)
    show = params.query_choice("show", SHOWN)
    form = PrintForm(unit=unit.id, show=show or "")
    if params.query_choice("tick", {"all"}):
        form.people.data = [p.user_id for p in people if show in (None, p.status.value)]
    return render_form(form, unit, people)


@bp.route("/print", methods=["POST"])
def print_start() -> ResponseReturnValue:
    """Queue a print job for the people chosen, then show its progress."""
    form = PrintForm()
    units = organisation.units_in_scope(current_user)
    unit_id = params.parse_id(str(form.unit.data or "")) or -1
    unit, people = unit_people(units, unit_id)
    if form.validate_on_submit():
        selected = printing.ready_ids(people) if form.print_ready.data else form.people.data
        if form.print_ready.data and not selected:
            form.people.errors = [_("No one in this unit is Ready to deploy: nothing to print.")]
        else:
            try:
                job = printing.create_job(current_user, selected or [], form.output.data, unit.id)
            except printing.PrintError as error:
                form.people.errors = [str(error)]
            else:
                db.session.commit()
                worker.enqueue(job, certificates.site_url())
                db.session.commit()
                return redirect(url_for("commander.print_status", token=job.token), code=303)
    return render_form(form, unit, people), 422


@bp.route("/print/<token>")
def print_status(token: str) -> str:
    """Show a job's progress, reloading itself until the job ends, then its file."""
    job = printing.find_job(token, current_user) or abort(404)
    if printing.expire_stalled(job):
        db.session.commit()
    return render_template(
        "commander/print_status.html",
        job=job,
        unit=printing.job_unit(job),
        file=printing.file_info(job),
        job_error=printing.job_error(job),
        Status=PrintJobStatus,
    )


@bp.route("/print/<token>/file")
@downloads.pdf_limit
def print_file(token: str) -> Response:
    """Hand over a finished job's file, and record the export."""
    job = printing.find_job(token, current_user) or abort(404)
    output = printing.job_file(job) or abort(404)
    audit.record(AuditAction.EXPORT, request.path, {"people": job.total, "output": job.output})
    db.session.commit()
    return downloads.stored(output.document, output.filename, output.mimetype)


def unit_people(units: list[Unit], unit_id: int) -> tuple[Unit, list[PersonReadiness]]:
    """Return one of the commander's units and the readiness of its people, or answer 404."""
    unit, ids = organisation.unit_in_scope(units, unit_id) or abort(404)
    return unit, readiness.board(ids)


def render_form(form: PrintForm, unit: Unit, people: list[PersonReadiness]) -> str:
    """Render the print form for a unit's people, those of one readiness if asked, ticked or not."""
    show = form.show.data if form.show.data in SHOWN else None
    ready = len(printing.ready_ids(people))
    form.print_ready.label.text = ngettext(
        "Print all Ready (%(num)s person)", "Print all Ready (%(num)s people)", ready
    )
    return render_template(
        "commander/print_form.html",
        form=form,
        unit=unit,
        people=[p for p in people if show in (None, p.status.value)],
        everyone=len(people),
        counts=readiness.counts(people),
        show=show,
        selected=set(form.people.data or []),
        Readiness=Readiness,
    )
