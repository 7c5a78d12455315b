"""The session pack: handout, answer sheets and attendance sheet, as one PDF."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from app import downloads
from app.classroom import bp
from app.extensions import db
from app.models import AnswerSheet, ClassroomSession
from app.services import classroom


def session_or_404(session_id: int) -> ClassroomSession:
    """Return a session the person may see, else answer 404."""
    session = classroom.find_session(current_user, session_id)
    if session is None:
        abort(404)
    return session


def refused(session: ClassroomSession, message: str) -> tuple[str, int]:
    """Answer that a session's pack cannot be printed, and why."""
    return render_template("classroom/pack_refused.html", session=session, message=message), 409


@bp.route("/<int:session_id>/pack.pdf")
@downloads.pdf_limit
def pack(session_id: int) -> Response | tuple[str, int]:
    """Print a session's pack: handouts, every answer sheet and the attendance sheet."""
    session = session_or_404(session_id)
    try:
        printed = classroom.print_pack(session, current_user)
    except classroom.SessionRefused as refusal:
        return refused(session, refusal.message)
    db.session.commit()
    return downloads.attachment(printed.pdf, "application/pdf", f"session-{session.code}-pack.pdf")


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
