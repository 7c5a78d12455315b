"""Roster import: upload, preview, confirm."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import SubmitField

from app.coordinator import bp
from app.extensions import db
from app.models import AuditAction, PersonnelCategory, RosterUpload
from app.models.organisation import CATEGORY_LABELS
from app.services import accounts, audit, organisation, roster
from config import ROOT

EXAMPLE_FILE = ROOT / "docs" / "roster-example.csv"
# A hint for the browser's file picker only: the content decides what the file is.
ACCEPTED_FILES = ",".join(
    [
        ".xlsx",
        ".ods",
        ".csv",
        ".txt",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
        "text/csv",
        "text/plain",
    ]
)


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (XLSX, ODS or CSV)"),
        validators=[FileRequired(_l("Choose the roster file to upload."))],
        render_kw={"accept": ACCEPTED_FILES},
    )
    submit = SubmitField(_l("Upload and preview"))


class ConfirmImportForm(FlaskForm):
    submit = SubmitField(_l("Confirm import"))


@bp.route("/roster", methods=["GET", "POST"])
def roster_upload() -> ResponseReturnValue:
    form = RosterUploadForm()
    if form.validate_on_submit():
        content = form.file.data.read()
        problem = roster.file_problem(content)
        if problem is None:
            upload = roster.store_upload(current_user, form.file.data.filename or "", content)
            audit.record(
                AuditAction.ROSTER_UPLOADED,
                (form.file.data.filename or "-")[:200],
                {"bytes": len(content), "upload_id": upload.id},
            )
            db.session.commit()
            return redirect(url_for("coordinator.roster_preview", token=upload.token))
        form.file.errors = [str(problem)]
    return render_upload(form), 422 if form.errors else 200


@bp.route("/roster/example.csv")
def roster_example() -> Response:
    return send_file(
        EXAMPLE_FILE, mimetype="text/csv", as_attachment=True, download_name=EXAMPLE_FILE.name
    )


@bp.route("/roster/<token>")
def roster_preview(token: str) -> str:
    upload = own_upload(token)
    checked = roster.preview(upload.content, organisation.units_in_scope(current_user))
    return render_template(
        "coordinator/roster_preview.html",
        upload=upload,
        preview=checked,
        form=ConfirmImportForm(),
        Action=roster.Action,
    )


@bp.route("/roster/<token>", methods=["POST"])
def roster_confirm(token: str) -> ResponseReturnValue:
    upload = own_upload(token)
    if not ConfirmImportForm().validate_on_submit():
        abort(400)
    checked = roster.preview(upload.content, organisation.units_in_scope(current_user))
    if not checked.is_valid:
        flash(_("Nothing was imported: the roster has problems to fix first."), "error")
        return redirect(url_for("coordinator.roster_preview", token=token))
    if not roster.claim_upload(upload):
        # A concurrent confirmation of the same file took it and imported it.
        flash(_("This roster has already been imported."), "info")
        return redirect(url_for("coordinator.people"))
    try:
        result = roster.apply(checked)
        db.session.commit()
    except IntegrityError:
        # Someone else added one of these people between the check and the import.
        db.session.rollback()
        flash(
            _("Nothing was imported: these people changed meanwhile. Check the preview again."),
            "error",
        )
        return redirect(url_for("coordinator.roster_preview", token=token))
    return render_template(
        "coordinator/roster_done.html",
        result=result,
        delivery=roster.email_links(result.created),
        days=accounts.link_days(),
        qr_code=accounts.link_qr_code,
    )


def own_upload(token: str) -> RosterUpload:
    """Return the signed-in person's pending upload, or answer 404."""
    return roster.find_upload(token, current_user) or abort(404)


def render_upload(form: RosterUploadForm) -> str:
    """Render the upload page with the columns and the codes the person may use."""
    return render_template(
        "coordinator/roster_upload.html",
        form=form,
        units=organisation.units_in_scope(current_user),
        categories=[(category.value, CATEGORY_LABELS[category]) for category in PersonnelCategory],
    )
