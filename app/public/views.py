"""Certificate verification, as used at a checkpoint from a QR code, and the public keys."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.public import bp
from app.services import annexes, certificates, signing, translations

# Where-to-report pages change when an annex is reviewed; an hour of caching is harmless.
REPORT_MAX_AGE = 3600
# Offline verifiers fetch these now and then; a short cache spares the database.
KEYS_MAX_AGE = 3600
REVOKED_MAX_AGE = 300
# A verdict must change the moment a certificate is revoked, and it names a person: no
# cache, shared or the browser's own (back button included), may keep one.
VERDICT_ENDPOINTS = {"public.verify", "public.verify_set"}


@bp.after_request
def never_store_verdicts(response: Response) -> Response:
    """Forbid every cache to keep a verify page."""
    if request.endpoint in VERDICT_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/verify", methods=["GET"])
def verify_form() -> Response | str:
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("public.verify", code=certificates.normalise_code(code)))
    return render_template("public/verify_form.html")


def signature_check(held: list[Any]) -> certificates.SignatureCheck | None:
    """Check the signature the QR code carried (`s`), if any, against the records found."""
    payload = request.args.get("s", "").strip()
    if not payload:
        return None
    return certificates.check_signature(payload, [c for c in held if c is not None])


@bp.route("/verify/set")
@limiter.limit(lambda: current_app.config["VERIFY_LIMIT_PER_ADDRESS"])
def verify_set() -> tuple[str, int]:
    """Show the status of several certificates at once, as a training record's QR code asks."""
    codes = [c for c in request.args.get("codes", "").split(",") if c.strip()][:50]
    found = [(code, certificates.find(code)) for code in codes]
    held = [certificate for _, certificate in found if certificate is not None]
    return render_template(
        "public/verify_set.html",
        results=[
            (code, certificate, certificates.status(certificate) if certificate else None)
            for code, certificate in found
        ],
        signature=signature_check(held),
        gaps=certificates.record_gaps(held) if held else None,
    ), 200 if found and all(certificate for _, certificate in found) else 404


@bp.route("/verify/<code>")
@limiter.limit(lambda: current_app.config["VERIFY_LIMIT_PER_ADDRESS"])
def verify(code: str) -> tuple[str, int]:
    """Show whether a certificate is valid, expired or revoked, and check its QR signature."""
    certificate = certificates.find(code)
    signature = signature_check([certificate])
    if certificate is None:
        return render_template(
            "public/verify.html", certificate=None, code=code, signature=signature
        ), 404
    return render_template(
        "public/verify.html",
        certificate=certificate,
        status=certificates.status(certificate),
        code=certificate.code,
        signature=signature,
    ), 200


def public_json(document: dict[str, Any], max_age: int) -> Response:
    """Answer with a JSON document anyone, from any site, may fetch and cache for a while."""
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json"
    )
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/blue-beret-keys.json")
def keys() -> Response:
    """Publish the public keys certificates are signed with, as JWKS."""
    return public_json(signing.jwks(signing.public_keys()), KEYS_MAX_AGE)


@bp.route("/certificates/revoked.json")
def revoked() -> Response:
    """Publish the signed list of revoked certificates."""
    return public_json(certificates.revocation_list(), REVOKED_MAX_AGE)


@bp.route("/report/<code>")
def report(code: str) -> Response:
    """Tell anyone, signed in or not, where to report in a mission; collect nothing."""
    annex = translations.annex_text(annexes.annex_for(code.upper())) or abort(404)
    response = current_app.make_response(render_template("public/report.html", annex=annex))
    response.headers["Cache-Control"] = f"public, max-age={REPORT_MAX_AGE}"
    # In the reader's language: a shared cache keeps one copy per language.
    response.vary.update(("Accept-Language", "Cookie"))
    return response
