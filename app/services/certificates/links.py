"""Public addresses of certificates, built from one base URL with or without a request.

The base URL is decided once per document (`site_url`) and passed to every helper, so a
print worker, which has no request, builds the same links a page would.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for

from app.models import Certificate
from app.services import signing
from app.services.certificates.claims import certificate_claim


def site_url() -> str:
    """Return the public site's address: PUBLIC_BASE_URL, else this request's host."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if not base:
        base = str(request.host_url).rstrip("/") if has_request_context() else "http://localhost"
    return base


def site_path(endpoint: str, **values: Any) -> str:
    """Return the path of one of the site's pages, outside a request too (a print worker)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind(
        "localhost", script_name=current_app.config["APPLICATION_ROOT"]
    )
    return adapter.build(endpoint, values)


def public_url(path: str, base_url: str | None = None) -> str:
    """Return an absolute address on the public site (at `base_url`, else `site_url()`)."""
    return (base_url or site_url()).rstrip("/") + path


def verify_url(code: str, base_url: str | None = None) -> str:
    """Return the public address that verifies one certificate."""
    return public_url(site_path("public.verify", code=code), base_url)


def verify_set_url(
    codes: list[str], payload: str | None = None, base_url: str | None = None
) -> str:
    """Return the public address that verifies several certificates at once (signed if given)."""
    return public_url(site_path("public.verify_set", codes=",".join(codes), s=payload), base_url)


def signed_verify_url(
    certificate: Certificate, payload: str | None = None, base_url: str | None = None
) -> str:
    """Return the verify address of a certificate with its signature, as its QR code holds."""
    payload = payload or signing.sign(certificate_claim(certificate), signing.signing_key())
    return public_url(site_path("public.verify", code=certificate.code, s=payload), base_url)


def revoked_url(base_url: str | None = None) -> str:
    """Return the public address of the signed list of revoked certificates."""
    return public_url(site_path("public.revoked"), base_url)


def keys_url(base_url: str | None = None) -> str:
    """Return the public address of the certificate keys (JWKS)."""
    return public_url(site_path("public.keys"), base_url)
