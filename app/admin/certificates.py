"""Certificate revocation by administrators."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import bp
from app.extensions import db
from app.models import Certificate
from app.services import certificates


def certificate_page(
    code: str, certificate: Certificate | None, error: str | None = None, reason: str = ""
) -> str:
    """Render the look-up page for a code, with the certificate found and any problem."""
    return render_template(
        "admin/certificates.html",
        code=code,
        certificate=certificate,
        status=certificates.status(certificate) if certificate else None,
        error=error,
        reason=reason,
        reason_min=certificates.REASON_MIN_LENGTH,
        reason_max=certificates.REASON_MAX_LENGTH,
    )


@bp.route("/certificates")
def certificates_lookup() -> tuple[str, int]:
    """Look a certificate up by its code."""
    code = request.args.get("code", "").strip()
    certificate = certificates.find(code) if code else None
    return certificate_page(code, certificate), 404 if code and certificate is None else 200


@bp.route("/certificates/<code>/revoke", methods=["POST"])
def revoke_certificate(code: str) -> Response | tuple[str, int]:
    """Revoke any certificate, for the reason given."""
    certificate = certificates.find(code)
    if certificate is None:
        return certificate_page(code, None), 404
    reason = request.form.get("reason", "")
    try:
        certificates.revoke(certificate, current_user, reason)
    except certificates.RevocationError as error:
        db.session.rollback()
        return certificate_page(certificate.code, certificate, str(error), reason), 422
    db.session.commit()
    flash(_("Certificate %(code)s is revoked. Its verify page now says so.",
            code=certificate.code), "info")  # fmt: skip
    return redirect(url_for("admin.certificates_lookup", code=certificate.code))
