"""Certificate revocation by coordinators, within their units."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.coordinator import bp
from app.extensions import db
from app.services import certificates, organisation


@bp.route("/certificates/<code>/revoke", methods=["POST"])
def revoke_certificate(code: str) -> Response | str:
    """Revoke a certificate of someone in the coordinator's units, once they confirm."""
    certificate = certificates.find(code) or abort(404)
    person = certificate.completion.user
    # Someone else's units answer as if the certificate did not exist.
    if not organisation.person_in_scope(current_user, person):
        abort(404)
    back = url_for("coordinator.person", user_id=person.id, _anchor="certificates")
    reason = request.form.get("reason", "").strip()
    problem = certificates.revocation_problem(certificate, reason)
    if problem is None and request.form.get("confirm") != "yes":
        return render_template(
            "revoke_confirm.html",
            certificate=certificate,
            reason=reason,
            action=url_for("coordinator.revoke_certificate", code=certificate.code),
            cancel=back,
        )
    try:
        certificates.revoke(certificate, current_user, reason)
    except certificates.RevocationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Certificate %(code)s is revoked. Its verify page now says so.",
                code=certificate.code), "info")  # fmt: skip
    return redirect(back)
