"""Public addresses of certificates, built from one base URL with or without a request.

The base URL is decided once per document (`site_url`, from `app.services.links`) and
passed to every helper, so a print worker, which has no request, builds the same links
a page would.
"""

from __future__ import annotations

from app.models import Certificate
from app.services import signing
from app.services.certificates.claims import certificate_claim
from app.services.links import public_url, site_path


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
