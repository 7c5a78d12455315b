"""Certificates: issue, verify, sign and revoke them, and render them to PDF with WeasyPrint."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import segno
import sqlalchemy as sa
import weasyprint
from flask import current_app, has_request_context, request, url_for
from flask_babel import format_date, gettext, ngettext
from flask_babel import lazy_gettext as _l
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.extensions import db
from app.models import AuditAction, Certificate, Completion, PersonnelCategory, User
from app.models.types import utcnow
from app.services import attestation, audit, records, signing, training

# A design folder holds one HTML template and one stylesheet per kind of document.
MODULE_CERTIFICATE = "certificate"
CONSOLIDATED = "consolidated"


# The credential embedded in every PDF, and how long a revocation reason may be.
CREDENTIAL_FILENAME = "credential.json"
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 500


class VerifyStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RevocationError(ValueError):
    """A revocation that cannot be made; the message says why, for the person revoking."""


def new_code() -> str:
    """Return an unguessable code (80 random bits) that people can read out and type."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(completion: Completion) -> Certificate:
    """Issue the certificate of a completion, recording what it states."""
    user, version = completion.user, completion.module_version
    undertaking = attestation.find(user, version)
    certificate = Certificate(
        completion=completion,
        code=new_code(),
        holder_name=user.full_name,
        service_number=user.service_number,
        category=user.category,
        unit_name=user.unit.name if user.unit else "",
        module_title=version.title,
        module_version=version.label,
        completed_at=completion.completed_at,
        expires_at=completion.expires_at,
        attestation=undertaking.statement if undertaking else None,
        attested_at=undertaking.attested_at if undertaking else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def normalise_code(code: str) -> str:
    """Accept a code typed in lower case or without its dashes."""
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def find(code: str) -> Certificate | None:
    """Return the certificate with this code, if any."""
    return db.session.scalar(sa.select(Certificate).where(Certificate.code == normalise_code(code)))


def status(certificate: Certificate, now: datetime | None = None) -> VerifyStatus:
    """Return whether the certificate is valid, expired or revoked (revoked wins)."""
    if certificate.revoked_at is not None:
        return VerifyStatus.REVOKED
    return (
        VerifyStatus.VALID if certificate.expires_at > (now or utcnow()) else VerifyStatus.EXPIRED
    )


def revocation_problem(certificate: Certificate, reason: str) -> str | None:
    """Say why the certificate cannot be revoked for this reason, or None when it can."""
    reason = reason.strip()
    if certificate.revoked_at is not None:
        return str(
            gettext(
                "Certificate %(code)s was already revoked on %(date)s. Nothing was changed.",
                code=certificate.code,
                date=certificate.revoked_at.date().isoformat(),
            )
        )
    if not REASON_MIN_LENGTH <= len(reason) <= REASON_MAX_LENGTH:
        return str(
            gettext(
                "Give the reason for revoking in %(min)s to %(max)s characters "
                "(you wrote %(count)s).",
                min=REASON_MIN_LENGTH,
                max=REASON_MAX_LENGTH,
                count=len(reason),
            )
        )
    return None


def search(text: str, limit: int = 50) -> list[Certificate]:
    """Find certificates by their holder's name (any part) or exact service number."""
    text = text.strip().lower()
    if not text:
        return []
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Completion)
            .join(User, User.id == Completion.user_id)
            .where(
                sa.or_(
                    sa.func.lower(User.service_number) == text,
                    sa.func.lower(User.full_name).contains(text, autoescape=True),
                    # As printed on the certificate, should the person have been renamed since.
                    sa.func.lower(Certificate.holder_name).contains(text, autoescape=True),
                )
            )
            .order_by(Certificate.holder_name, Certificate.completed_at.desc(), Certificate.id)
            .limit(limit)
        )
    )


def revoke(
    certificate: Certificate, by: User, reason: str, now: datetime | None = None
) -> Certificate:
    """Revoke a certificate for a stated reason, keeping it and recording who did it."""
    reason = reason.strip()
    problem = revocation_problem(certificate, reason)
    if problem:
        raise RevocationError(problem)
    certificate.revoked_at = now or utcnow()
    certificate.revoked_by_id = by.id
    certificate.revocation_reason = reason
    db.session.flush()
    # Reports, readiness and reminders read the training record: it must stop counting
    # this completion at once.
    completion = certificate.completion
    records.recompute(completion.user_id, completion.module_id)
    audit.record(
        AuditAction.CERTIFICATE_REVOKED,
        certificate.code,
        {"holder": certificate.holder_name, "module": certificate.module_title, "reason": reason},
        by,
    )
    return certificate


def revocation_list(now: datetime | None = None) -> dict[str, Any]:
    """Return the public list of revoked certificates, signed with the certificate key.

    It names only each code and when it was revoked: no name, no reason.
    """
    rows = db.session.execute(
        sa.select(Certificate.code, Certificate.revoked_at)
        .where(Certificate.revoked_at.is_not(None))
        .order_by(Certificate.revoked_at, Certificate.code)
    )
    document = {
        "type": "BlueBeretRevocationList",
        "issuer": public_url("/"),
        "generated_at": timestamp(now or utcnow()),
        "revoked": [{"code": code, "revoked_at": timestamp(at)} for code, at in rows if at],
    }
    return signing.sign_document(document, signing.signing_key())


def timestamp(value: datetime) -> str:
    """Return a timestamp as ISO 8601 in UTC, to the second (2026-03-01T09:30:00Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_certificates(user_id: int) -> list[Certificate]:
    """Return a person's certificates, newest first."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Completion)
            .where(Completion.user_id == user_id)
            .order_by(Certificate.issued_at.desc())
        )
    )


def current_certificates(user: User) -> list[Certificate]:
    """Return, per mandatory module, the person's latest certificate (valid or not)."""
    module_ids = [version.module_id for version in training.required_versions(user)]
    latest: dict[int, Certificate] = {}
    rows = db.session.execute(
        sa.select(Certificate, Completion.module_id)
        .join(Completion)
        .where(Completion.user_id == user.id, Completion.module_id.in_(module_ids))
        .order_by(Certificate.expires_at)
    )
    for certificate, module_id in rows:
        kept = latest.get(module_id)
        # A revoked certificate gives way to any the person still holds for the module.
        if kept is None or certificate.revoked_at is None or kept.revoked_at is not None:
            latest[module_id] = certificate
    return sorted(latest.values(), key=lambda c: c.module_title)


def consolidated_data(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Return the plain values of a person's consolidated certificate.

    Its QR code verifies every certificate it lists at once; its signature covers the
    person's name and every module listed.
    """
    now = now or utcnow()
    held = current_certificates(user)
    codes = [c.code for c in held]
    claim = record_claim(user.full_name, held)
    payload = signing.sign(claim, signing.signing_key())
    link = verify_set_url(codes)
    signed_link = verify_set_url(codes, payload)
    return {
        "holder_name": user.full_name,
        "service_number": user.service_number,
        "category": PersonnelCategory(user.category).label,
        "unit_name": user.unit.name if user.unit else "",
        "deployment_on": format_date(user.deployment_date, "long")
        if user.deployment_date
        else None,
        "issued_on": format_date(now, "long"),
        "modules": [
            {
                "title": c.module_title,
                "version": c.module_version,
                "completed_on": format_date(c.completed_at, "long"),
                "expires_on": format_date(c.expires_at, "long"),
                "valid": status(c, now) == VerifyStatus.VALID,
                "status": status(c, now).value,
                "revoked_on": format_date(c.revoked_at, "long") if c.revoked_at else None,
                "code": c.code,
                "attestation": c.attestation,
                "attested_on": format_date(c.attested_at, "long") if c.attested_at else None,
            }
            for c in held
        ],
        "missing": sorted(
            {v.title for v in training.required_versions(user)} - {c.module_title for c in held}
        ),
        "verify_url": link,
        "signed_verify_url": signed_link,
        "qr": qr_data_uri(signed_link),
        "credential": record_credential(user, held, payload, signed_link, now),
    }


@dataclass(frozen=True)
class RecordGap:
    """A mandatory module a training record does not show as valid, and since when."""

    title: str
    status: str  # "missing", "expired" or "revoked"
    since: datetime | None = None


def record_gaps(held: list[Certificate], now: datetime | None = None) -> list[RecordGap] | None:
    """Return the holder's mandatory modules these certificates leave missing or lapsed.

    None when the certificates are not all one person's: there is no record to judge.
    """
    holders = {certificate.completion.user for certificate in held}
    if len(holders) != 1:
        return None
    by_module = {certificate.completion.module_id: certificate for certificate in held}
    gaps = []
    for version in training.required_versions(holders.pop()):
        certificate = by_module.get(version.module_id)
        if certificate is None:
            gaps.append(RecordGap(version.title, "missing"))
        elif (state := status(certificate, now)) != VerifyStatus.VALID:
            since = certificate.revoked_at if certificate.revoked_at else certificate.expires_at
            gaps.append(RecordGap(version.title, state.value, since))
    return gaps


def find_for_user(code: str, user_id: int) -> Certificate | None:
    """Return the certificate with this code only if it belongs to the person."""
    return db.session.scalar(
        sa.select(Certificate)
        .join(Completion)
        .where(Certificate.code == normalise_code(code), Completion.user_id == user_id)
    )


def public_url(path: str) -> str:
    """Return an absolute address on the public site (PUBLIC_BASE_URL, else this request's)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if not base:
        base = str(request.host_url).rstrip("/") if has_request_context() else "http://localhost"
    return base + path


def verify_url(code: str) -> str:
    """Return the public address that verifies one certificate."""
    return public_url(url_for("public.verify", code=code))


def verify_set_url(codes: list[str], payload: str | None = None) -> str:
    """Return the public address that verifies several certificates at once (signed if given)."""
    return public_url(url_for("public.verify_set", codes=",".join(codes), s=payload))


def signed_verify_url(certificate: Certificate, payload: str | None = None) -> str:
    """Return the verify address of a certificate with its signature, as its QR code holds."""
    payload = payload or signing.sign(certificate_claim(certificate), signing.signing_key())
    return public_url(url_for("public.verify", code=certificate.code, s=payload))


# Signatures --------------------------------------------------------------------------


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


# Credentials -------------------------------------------------------------------------

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
ISSUER_NAME = _l("Blue Beret: United Nations peacekeeping conduct training")


def issuer_profile() -> dict[str, Any]:
    """Return the issuer of every credential, as an Open Badges profile."""
    return {"id": public_url("/"), "type": ["Profile"], "name": str(ISSUER_NAME)}


def achievement(title: str, version: str) -> dict[str, Any]:
    """Return a module version as an Open Badges achievement."""
    # The same URI for a module version in every credential this site issues.
    seed = json.dumps([public_url("/"), title, version], ensure_ascii=False)
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


def signature_block(payload: str, signed_link: str) -> dict[str, Any]:
    """Return the compact signature of a credential and where its public key is published."""
    return {
        "type": "BlueBeretCompactSignature",
        "verificationMethod": public_url(url_for("public.keys")) + f"#{signing.signing_key().kid}",
        "payload": payload,
        "verifyUrl": signed_link,
    }


def module_credential(
    certificate: Certificate, payload: str | None = None, signed_link: str | None = None
) -> dict[str, Any]:
    """Return a certificate as an Open Badges 3.0 credential (a plain, JSON-ready dict)."""
    payload = payload or signing.sign(certificate_claim(certificate), signing.signing_key())
    signed_link = signed_link or signed_verify_url(certificate, payload)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": gettext("Certificate of completion") + ": " + certificate.module_title,
        "issuer": issuer_profile(),
        "validFrom": timestamp(certificate.completed_at),
        "validUntil": timestamp(certificate.expires_at),
        "awardedDate": timestamp(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": recipient(certificate.holder_name, certificate.service_number),
            "achievement": achievement(certificate.module_title, certificate.module_version),
            "activityEndDate": timestamp(certificate.completed_at),
        },
        "credentialStatus": {
            "id": public_url(url_for("public.revoked")),
            "type": "BlueBeretRevocationList",
            "code": certificate.code,
        },
        "blueBeretSignature": signature_block(payload, signed_link),
    }


def record_credential(
    user: User, held: list[Certificate], payload: str, signed_link: str, now: datetime
) -> dict[str, Any]:
    """Return a person's training record as a credential listing every achievement."""
    return {
        "@context": [VC_CONTEXT, CLR_CONTEXT, OB_CONTEXT],
        "id": verify_set_url([c.code for c in held]),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": gettext("Conduct training record") + ": " + user.full_name,
        "issuer": issuer_profile(),
        "validFrom": timestamp(now),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": recipient(user.full_name, user.service_number),
            "achievement": [achievement(c.module_title, c.module_version) for c in held],
            "verifiableCredential": [module_credential(c) for c in held],
        },
        "credentialStatus": {
            "id": public_url(url_for("public.revoked")),
            "type": "BlueBeretRevocationList",
            "codes": [c.code for c in held],
        },
        "blueBeretSignature": signature_block(payload, signed_link),
    }


# Rendering ---------------------------------------------------------------------------


class AssetFetcher(URLFetcher):
    """Serve only files inside the certificate design folder and inline data: images."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(), status=200)
        raise ValueError(f"certificates may only use their own assets, not {url}")


@dataclass(frozen=True)
class Design:
    """A certificate design loaded once: template, parsed CSS and fonts."""

    root: Path
    template: jinja2.Template
    stylesheet: weasyprint.CSS
    fonts: FontConfiguration
    fetcher: AssetFetcher


@lru_cache(maxsize=8)
def load_design(root: Path, kind: str = MODULE_CERTIFICATE) -> Design:
    """Parse a design's template and stylesheet once per process."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    fonts = FontConfiguration()
    fetcher = AssetFetcher(root)
    stylesheet = weasyprint.CSS(
        filename=str(root / f"{kind}.css"), font_config=fonts, url_fetcher=fetcher
    )
    return Design(root, environment.get_template(f"{kind}.html"), stylesheet, fonts, fetcher)


def qr_data_uri(url: str) -> str:
    """Return the QR code of a URL as a PNG data URI (faster to lay out than SVG)."""
    # A fixed mask: choosing the best of eight costs more than rendering the page.
    return str(segno.make(url, error="m", mask=0).png_data_uri(scale=4, border=2))


def document_data(certificate: Certificate) -> dict[str, Any]:
    """Return the plain values a certificate design shows, with its signed credential."""
    link = verify_url(certificate.code)
    payload = signing.sign(certificate_claim(certificate), signing.signing_key())
    signed_link = signed_verify_url(certificate, payload)
    return {
        "holder_name": certificate.holder_name,
        "service_number": certificate.service_number,
        "category": PersonnelCategory(certificate.category).label,
        "unit_name": certificate.unit_name,
        "module_title": certificate.module_title,
        "module_version": certificate.module_version,
        "completed_on": format_date(certificate.completed_at, "long"),
        "expires_on": format_date(certificate.expires_at, "long"),
        "code": certificate.code,
        "attestation": certificate.attestation,
        "attested_on": format_date(certificate.attested_at, "long")
        if certificate.attested_at
        else None,
        "revoked_on": format_date(certificate.revoked_at, "long")
        if certificate.revoked_at
        else None,
        "verify_url": link,
        "signed_verify_url": signed_link,
        "qr": qr_data_uri(signed_link),
        "credential": module_credential(certificate, payload, signed_link),
    }


def render_pdf(
    design_root: Path,
    data: dict[str, Any],
    kind: str = MODULE_CERTIFICATE,
    *,
    credential: dict[str, Any] | None = None,
) -> bytes:
    """Render one document to archival PDF/A-3b with the design's cached CSS and fonts.

    The credential (by default `data["credential"]`, as document_data and
    consolidated_data give it) is embedded as a JSON attachment.
    """
    design = load_design(design_root.resolve(), kind)
    html = weasyprint.HTML(
        string=design.template.render(**data),
        base_url=design.root.as_uri() + "/",
        url_fetcher=design.fetcher,
    )
    credential = credential if credential is not None else data.get("credential")
    attachments = []
    if credential is not None:
        now = utcnow()
        attachments.append(
            weasyprint.Attachment(
                string=json.dumps(credential, ensure_ascii=False, indent=2).encode(),
                url_fetcher=design.fetcher,
                name=CREDENTIAL_FILENAME,
                description=gettext("The achievement as an Open Badges credential (JSON)"),
                created=now,
                modified=now,
                relationship="Data",
            )
        )
    pdf = html.write_pdf(
        stylesheets=[design.stylesheet],
        font_config=design.fonts,
        pdf_variant="pdf/a-3b",
        attachments=attachments,
    )
    assert pdf is not None
    return bytes(pdf)
