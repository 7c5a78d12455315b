"""What a certificate's signature states, and whether a signed payload matches the records."""

from __future__ import annotations

from enum import StrEnum

from app.models import Certificate
from app.services import signing


class SignatureCheck(StrEnum):
    MATCHES = "matches"
    DIFFERS = "differs"
    INVALID = "invalid"


def claim_entry(certificate: Certificate) -> signing.Entry:
    """Return what a signature states about one certificate."""
    return signing.Entry(
        code=certificate.code,
        title=certificate.module_title,
        version=certificate.module_version,
        completed=certificate.completed_at.date(),
        expires=certificate.expires_at.date(),
    )


def certificate_claim(certificate: Certificate) -> signing.Claim:
    """Return the claim a certificate's signature covers: code, name, module and dates."""
    return signing.Claim(certificate.holder_name, (claim_entry(certificate),), single=True)


def record_claim(name: str, held: list[Certificate]) -> signing.Claim:
    """Return the claim a training record's signature covers: the person and every module."""
    return signing.Claim(name, tuple(claim_entry(c) for c in held), single=False)


def check_signature(payload: str, held: list[Certificate]) -> SignatureCheck:
    """Say whether a signed payload is genuine and states exactly what these records say."""
    verification = signing.verify(payload, signing.public_keys())
    if verification.claim is None:
        return SignatureCheck.INVALID
    claim = verification.claim
    signed = {entry.code: entry for entry in claim.entries}
    matches = (
        bool(held)
        and len(signed) == len(claim.entries) == len(held)
        and all(signed.get(c.code) == claim_entry(c) and c.holder_name == claim.name for c in held)
    )
    return SignatureCheck.MATCHES if matches else SignatureCheck.DIFFERS
