"""The session pack, printed in the background as a print job, and one answer sheet."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from app import downloads, worker
from app.classroom import bp
from app.classroom.forms import ChangeForm
from app.classroom.views import session_or_404
from app.extensions import db
from app.models import AnswerSheet, AuditAction, ClassroomSession, PrintJob, PrintJobStatus
from app.services import audit, certificates, classroom, printing


def job_or_404(session: ClassroomSession, token: str) -> PrintJob:
    """Return the person's print job of a session's pack, else answer 404."""
    job = printing.find_job(token, current_user)
    if job is None or job.session_id != session.id:
        abort(404)
    return job


def refused(session: ClassroomSession, message: str) -> tuple[str, int]:
    """Answer that a session's pack cannot be printed, and why."""
    return render_template("classroom/pack_refused.html", session=session, message=message), 409


@bp.route("/<int:session_id>/pack", methods=["GET", "POST"])
def pack(session_id: int) -> ResponseReturnValue:
    """Queue the printing of a session's pack, then show its progress; GET changes nothing."""
    session = session_or_404(session_id)
    if request.method == "GET" or not ChangeForm().validate_on_submit():
        return redirect(url_for("classroom.detail", session_id=session.id))
    try:
        job = classroom.request_pack(session, current_user)
    except classroom.SessionRefused as refusal:
        return refused(session, refusal.message)
    except printing.PrintError as error:
        db.session.rollback()
        return refused(session, str(error))
    db.session.commit()
    worker.enqueue(job, certificates.site_url())
    db.session.commit()
    return redirect(url_for(".pack_status", session_id=session.id, token=job.token), code=303)


@bp.route("/<int:session_id>/pack/<token>")
def pack_status(session_id: int, token: str) -> str:
    """Show a pack's printing, reloading itself until it ends, then the file."""
    session = session_or_404(session_id)
    job = job_or_404(session, token)
    if printing.expire_stalled(job):
        db.session.commit()
    return render_template(
        "classroom/pack_status.html",
        session=session,
        job=job,
        file=printing.file_info(job),
        job_error=printing.job_error(job),
        Status=PrintJobStatus,
    )


@bp.route("/<int:session_id>/pack/<token>/file")
@downloads.pdf_limit
def pack_file(session_id: int, token: str) -> Response:
    """Hand over a printed pack, and record the export: it names every participant."""
    job = job_or_404(session_or_404(session_id), token)
    output = printing.job_file(job) or abort(404)
    audit.record(AuditAction.EXPORT, request.path, {"people": job.total, "output": job.output})
    db.session.commit()
    return downloads.stored(output.document, output.filename, output.mimetype)


@bp.route("/<int:session_id>/sheets/<code>.pdf")
@downloads.pdf_limit
def sheet_pdf(session_id: int, code: str) -> Response | tuple[str, int]:
    """Print one answer sheet again: the same questions, in the same order."""
    session = session_or_404(session_id)
    sheet: AnswerSheet | None = classroom.find_sheet(current_user, code)
    if sheet is None or sheet.session_id != session.id:
        abort(404)
    try:
        printed = classroom.print_sheet(sheet, current_user)
    except classroom.SessionRefused as refusal:
        return refused(session, refusal.message)
    db.session.commit()
    return downloads.attachment(
        printed.pdf, "application/pdf", f"session-{session.code}-sheet-{sheet.code}.pdf"
    )
