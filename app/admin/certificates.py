"""Certificate look-up and revocation by administrators."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app import params
from app.admin import bp
from app.extensions import db
from app.models import Certificate
from app.services import certificates


def certificate_page(
    code: str,
    certificate: Certificate | None,
    error: str | None = None,
    reason: str = "",
    found: list[Certificate] | None = None,
) -> str:
    """Render the look-up page: the certificate found, or the matches, and any problem."""
    return render_template(
        "admin/certificates.html",
        code=code,
        certificate=certificate,
        status=certificates.status(certificate) if certificate else None,
        found=[(c, certificates.status(c)) for c in found or []],
        error=error,
        reason=reason,
        reason_min=certificates.REASON_MIN_LENGTH,
        reason_max=certificates.REASON_MAX_LENGTH,
    )


@bp.route("/certificates")
def certificates_lookup() -> tuple[str, int]:
    """Look a certificate up by its code, or list those of a holder's name or service number."""
    code = params.query_text("code")
    if not code:
        return certificate_page("", None), 200
    certificate = certificates.find(code)
    if certificate is not None:
        return certificate_page(code, certificate), 200
    found = certificates.search(code)
    if len(found) == 1:
        return certificate_page(code, found[0]), 200
    return certificate_page(code, None, found=found), 200 if found else 404


@bp.route("/certificates/<code>/revoke", methods=["POST"])
def revoke_certificate(code: str) -> Response | tuple[str, int]:
    """Revoke any certificate for the reason given, once the administrator has confirmed."""
    certificate = certificates.find(code)
    if certificate is None:
        return certificate_page(code, None), 404
    reason = request.form.get("reason", "").strip()
    problem = certificates.revocation_problem(certificate, reason)
    if problem:
        return certificate_page(certificate.code, certificate, problem, reason), 422
    if request.form.get("confirm") != "yes":
        return render_template(
            "revoke_confirm.html",
            certificate=certificate,
            reason=reason,
            action=url_for("admin.revoke_certificate", code=certificate.code),
            cancel=url_for("admin.certificates_lookup", code=certificate.code),
        ), 200
    try:
        certificates.revoke(certificate, current_user, reason)
    except certificates.RevocationError as error:
        db.session.rollback()
        return certificate_page(certificate.code, certificate, str(error), reason), 422
    db.session.commit()
    flash(_("Certificate %(code)s is revoked. Its verify page now says so.",
            code=certificate.code), "info")  # fmt: skip
    return redirect(url_for("admin.certificates_lookup", code=certificate.code))
