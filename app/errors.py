"""Error pages in the application's look; no stack trace ever reaches a user."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItemPerSecond
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db, limiter
from app.models import AuditAction


def register(app: Flask) -> None:
    """Render every HTTP error, and any unexpected exception, with our template."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        if isinstance(error, RateLimitExceeded):
            record_refusal(error)
        code = error.code or 500
        return render_error(code, error_name(code), error_message(error)), code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return render_error(500, error_name(500), error_message(InternalServerError())), 500


# The scope of the shared limit on PDFs rendered on request (app.downloads.pdf_limit).
PDF_SCOPE = "pdf"

# The page headings, in the words of HTTP's own names for the errors.
NAMES = {
    400: _l("Bad Request"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    413: _l("Request Entity Too Large"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
}

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("There is nothing here. Check the address, or go back to your training."),
    405: _l("This page cannot be used that way."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Your work has not been lost; try again shortly."),
}


def error_name(code: int) -> str:
    """Return the heading of an error page."""
    name = NAMES.get(code)
    return str(name) if name else str(_("Error %(code)s", code=code))


def error_message(error: HTTPException) -> str:
    """Return a plain explanation of an error for the person who met it."""
    code = error.code or 500
    if code == 400 and error.description and "CSRF" in error.description:
        return str(_("This form has expired. Go back, reload the page and submit it again."))
    if isinstance(error, RateLimitExceeded) and error.limit.scope == PDF_SCOPE:
        return str(
            _(
                "You have downloaded many PDFs in a short time (at most %(limit)s). Wait a "
                "few minutes and try again; the other pages work meanwhile.",
                limit=str(error.limit.limit),
            )
        )
    if code == 413:
        return str(_("The file is too large. The limit is %(mb)s MB.", mb=max_upload_mb()))
    return str(MESSAGES.get(code, MESSAGES[500]))


def max_upload_mb() -> int:
    from flask import current_app

    return int(current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))


def render_error(code: int, name: str, message: str) -> str:
    return render_template("errors/error.html", code=code, name=name, message=message)


def record_refusal(error: RateLimitExceeded) -> None:
    """Record a request refused by a rate limit: the first per key and window, once.

    A flood of refused requests would otherwise flood the trail too. The marker lives in
    the limiter's storage, so instances sharing it (Redis) record it once between them.
    """
    limit = error.limit
    key = limit.key_func()
    window = RateLimitItemPerSecond(1, limit.limit.get_expiry())
    scope = limit.scope if isinstance(limit.scope, str) else request.endpoint or "-"
    if not limiter.limiter.hit(window, "audit-refusal", scope, key, str(limit.limit)):
        return
    from app.services import audit

    action = AuditAction.RATE_LIMITED
    if request.endpoint in {"auth.login", "auth.second_factor"}:
        action = AuditAction.SIGN_IN_THROTTLED
    try:
        audit.record(action, key, {"limit": str(limit.limit), "path": request.path})
        db.session.commit()
    except SQLAlchemyError:
        # The refusal stands even when it cannot be recorded.
        db.session.rollback()
        current_app.logger.exception("Could not record a refused request")
