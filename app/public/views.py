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


@bp.route("/verify/set")
def verify_set() -> tuple[str, int]:
    codes = [c for c in request.args.get("codes", "").split(",") if c.strip()][:50]
    found = [(code, certificates.find(code)) for code in codes]
    return render_template(
        "public/verify_set.html",
        results=[
            (code, certificate, certificates.status(certificate) if certificate else None)
            for code, certificate in found
        ],
    ), 200 if found and all(certificate for _, certificate in found) else 404


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
