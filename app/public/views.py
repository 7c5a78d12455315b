"""Certificate verification, as used at a checkpoint from a QR code."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.public import bp
from app.services import certificates


@bp.route("/verify", methods=["GET"])
def verify_form() -> Response | str:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("public.verify", code=certificates.normalise_code(code)))
    return render_template("public/verify_form.html")


@bp.route("/verify/<code>")
def verify(code: str) -> tuple[str, int]:
    certificate = certificates.find(code)
    if certificate is None:
        return render_template("public/verify.html", certificate=None, code=code), 404
    return render_template(
        "public/verify.html",
        certificate=certificate,
        status=certificates.status(certificate),
        code=certificate.code,
    ), 200
