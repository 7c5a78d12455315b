"""Results entered from the answer sheets: the grid, its preview and its confirmation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.classroom import bp
from app.classroom.views import session_or_404
from app.extensions import db
from app.services import classroom
from app.services.classroom import results as entering


def grid(
    entry: entering.Entry,
    preview: bool = False,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the grid: blank, as posted with its scores and errors, or as recorded."""
    page = render_template(
        "classroom/results.html",
        entry=entry,
        session=entry.session,
        field_name=entering.field_name,
        closed=entering.refusal(entry.session),
        preview=preview,
        message=message,
        sheet_code=request.args.get("sheet", ""),
    )
    return page, status


@bp.route("/<int:session_id>/results")
def results(session_id: int) -> Response | tuple[str, int]:
    """Show the grid to enter a session's results, or the results recorded."""
    session = session_or_404(session_id)
    typed = request.args.get("sheet")
    if typed is not None:
        # The "Go to sheet" form: a code typed, or the address a scanner reads off the QR code.
        sheet = classroom.find_sheet(current_user, entering.sheet_code(typed))
        if sheet is not None:
            return redirect(
                url_for(".results", session_id=sheet.session_id, _anchor=f"sheet-{sheet.code}")
            )
        message = _("No answer sheet has the code %(code)s. Check the code printed under the "
                    "QR code.", code=typed.strip())  # fmt: skip
        return grid(entering.blank(session), message=message, status=404)
    return grid(entering.blank(session))


@bp.route("/<int:session_id>/results/preview", methods=["POST"])
def preview(session_id: int) -> tuple[str, int]:
    """Grade the grid as posted and show each row's score, recording nothing."""
    session = session_or_404(session_id)
    reason = entering.refusal(session)
    if reason is not None:
        return grid(entering.blank(session), message=reason, status=409)
    entry = entering.read(session, request.form)
    return grid(entry, preview=True, status=422 if entry.errors else 200)


@bp.route("/<int:session_id>/results", methods=["POST"])
def confirm(session_id: int) -> Response | tuple[str, int]:
    """Record the session's results, all of them or, at the first error, none."""
    session = session_or_404(session_id)
    reason = entering.refusal(session)
    if reason is not None:
        return grid(entering.blank(session), message=reason, status=409)
    entry = entering.read(session, request.form)
    if entry.errors:
        return grid(entry, preview=True, status=422)
    try:
        recorded = entering.record(entry, current_user)
    except classroom.SessionRefused as refused:
        db.session.rollback()
        session = session_or_404(session_id)
        return grid(entering.read(session, request.form), True, refused.message, 409)
    db.session.commit()
    flash(
        _(
            "The results are recorded: %(present)s present, %(absent)s absent, "
            "%(passed)s of %(graded)s sheets passed.",
            present=recorded.present,
            absent=recorded.absent,
            passed=recorded.passed,
            graded=recorded.graded,
        ),
        "info",
    )
    return redirect(url_for(".results", session_id=session_id))


@bp.route("/sheets/<code>")
def sheet(code: str) -> Response:
    """Open the grid at a sheet's row: the address its QR code holds."""
    found = classroom.find_sheet(current_user, entering.sheet_code(code)) or abort(404)
    return redirect(url_for(".results", session_id=found.session_id, _anchor=f"sheet-{found.code}"))
