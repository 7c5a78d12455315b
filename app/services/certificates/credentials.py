"""Certificates as Open Badges 3.0 and CLR 2.0 credentials (plain, JSON-ready dicts)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import i18n
from app.models import Certificate, DeliveryMode, User
from app.services import signing
from app.services.certificates.claims import certificate_claim
from app.services.certificates.links import (
    keys_url,
    revoked_url,
    signed_verify_url,
    verify_set_url,
    verify_url,
)
from app.services.links import public_url, site_url

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
ISSUER_NAME = _l("Blue Beret: United Nations peacekeeping conduct training")


def timestamp(value: datetime) -> str:
    """Return a timestamp as ISO 8601 in UTC, to the second (2026-03-01T09:30:00Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_profile(base_url: str) -> dict[str, Any]:
    """Return the issuer of every credential, as an Open Badges profile."""
    return {"id": public_url("/", base_url), "type": ["Profile"], "name": str(ISSUER_NAME)}


def achievement(title: str, version: str, base_url: str) -> dict[str, Any]:
    """Return a module version as an Open Badges achievement."""
    # The same URI for a module version in every credential this site issues.
    seed = json.dumps([public_url("/", base_url), title, version], ensure_ascii=False)
    return {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}",
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": title,
        "version": version,
        "description": gettext(
            "A mandatory conduct training module for United Nations peacekeeping personnel."
        ),
        "criteria": {
            "narrative": gettext("Read the module and pass its quiz, graded on the server.")
        },
    }


def recipient(name: str, service_number: str) -> list[dict[str, Any]]:
    """Return the identifiers of the person a credential is about."""
    return [
        {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": name},
        {"type": "IdentityObject", "identityType": "identifier", "hashed": False,
         "identityHash": service_number},
    ]  # fmt: skip


def signature_block(payload: str, signed_link: str, base_url: str) -> dict[str, Any]:
    """Return the compact signature of a credential and where its public key is published."""
    return {
        "type": "BlueBeretCompactSignature",
        "verificationMethod": keys_url(base_url) + f"#{signing.signing_key().kid}",
        "payload": payload,
        "verifyUrl": signed_link,
    }


def module_credential(
    certificate: Certificate,
    payload: str | None = None,
    signed_link: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Return a certificate as an Open Badges 3.0 credential (a plain, JSON-ready dict)."""
    base_url = base_url or site_url()
    payload = payload or signing.sign(certificate_claim(certificate), signing.signing_key())
    signed_link = signed_link or signed_verify_url(certificate, payload, base_url)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(certificate.code, base_url),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": gettext("Certificate of completion: %(module)s", module=certificate.module_title),
        "issuer": issuer_profile(base_url),
        "validFrom": timestamp(certificate.completed_at),
        "validUntil": timestamp(certificate.expires_at),
        "awardedDate": timestamp(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": recipient(certificate.holder_name, certificate.service_number),
            "achievement": achievement(
                certificate.module_title, certificate.module_version, base_url
            ),
            "activityEndDate": timestamp(certificate.completed_at),
        },
        "credentialStatus": {
            "id": revoked_url(base_url),
            "type": "BlueBeretRevocationList",
            "code": certificate.code,
        },
        "blueBeretSignature": signature_block(payload, signed_link, base_url),
    } | session_evidence(certificate)


def session_evidence(certificate: Certificate) -> dict[str, Any]:
    """Return the evidence of a certificate earned in a facilitated session (none online).

    Outside the signed claim: the QR code's signature covers who holds which module
    until when, which is what a checkpoint checks, and keeps the format verifiers read.
    """
    if certificate.delivery_mode != DeliveryMode.CLASSROOM:
        return {}
    evidence: dict[str, Any] = {"type": ["Evidence"], "name": gettext("Facilitated session")}
    if certificate.session_place and certificate.session_held_on:
        evidence["narrative"] = gettext(
            "Completed in a facilitated session at %(place)s on %(date)s",
            place=certificate.session_place,
            date=i18n.format_day(certificate.session_held_on),
        )
    if certificate.facilitator_name:
        evidence["description"] = gettext(
            "Facilitator: %(name)s", name=certificate.facilitator_name
        )
    return {"evidence": [evidence]}


def record_credential(
    user: User,
    held: list[Certificate],
    payload: str,
    signed_link: str,
    now: datetime,
    base_url: str,
) -> dict[str, Any]:
    """Return a person's training record as a credential listing every achievement."""
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": verify_set_url([c.code for c in held], base_url=base_url),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": gettext("Conduct training record: %(name)s", name=user.full_name),
        "issuer": issuer_profile(base_url),
        "validFrom": timestamp(now),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": recipient(user.full_name, user.service_number),
            "achievement": [achievement(c.module_title, c.module_version, base_url) for c in held],
            "verifiableCredential": [module_credential(c, base_url=base_url) for c in held],
        },
        "credentialStatus": {
            "id": revoked_url(base_url),
            "type": "BlueBeretRevocationList",
            "codes": [c.code for c in held],
        },
        "blueBeretSignature": signature_block(payload, signed_link, base_url),
    }
