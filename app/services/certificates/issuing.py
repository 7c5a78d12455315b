"""Certificates: issue, find, search and revoke them, and judge what a record lacks."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from app import i18n
from app.extensions import db
from app.models import (
    AuditAction,
    Certificate,
    Completion,
    DeliveryMode,
    Document,
    ModuleVersion,
    User,
)
from app.models.types import utcnow
from app.services import attestation, audit, curriculum, pending, records, signing
from app.services.certificates.credentials import timestamp
from app.services.content import published
from app.services.content.published import ModuleContent
from app.services.links import public_url

# How long a revocation reason may be.
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 500

# Read at each draw, not bound as a default, so that tests can replace the draw.
_random: random.Random = random.SystemRandom()


class VerifyStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RevocationError(ValueError):
    """A revocation that cannot be made; the message says why, for the person revoking."""


def new_code() -> str:
    """Return an unguessable code (80 random bits) that people can read out and type."""
    raw = base64.b32encode(_random.randbytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(completion: Completion) -> Certificate:
    """Issue the certificate of a completion, recording what it states."""
    user, version = completion.user, published.version(completion.module_version_id)
    undertaking = attestation.find(user, version)
    certificate = Certificate(
        # By id: through the relationship, the completion's (absent) certificate is read first.
        completion_id=completion.id,
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
        **how_earned(completion),
    )
    db.session.add(certificate)
    db.session.flush()
    pending.render_later(certificate_ids=[certificate.id], user_ids=[user.id])
    return certificate


def how_earned(completion: Completion) -> dict[str, Any]:
    """Return what a certificate states of how its completion was earned.

    Online, nothing more; in a facilitated session, its place and day, and the
    facilitator who recorded it.
    """
    if completion.delivery_mode != DeliveryMode.CLASSROOM:
        return {"delivery_mode": DeliveryMode.ONLINE}
    session, facilitator = completion.session, completion.facilitator
    return {
        "delivery_mode": DeliveryMode.CLASSROOM,
        "session_place": session.place if session else None,
        "session_held_on": session.held_on if session else None,
        "facilitator_name": facilitator.full_name if facilitator else None,
    }


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
                date=i18n.format_day(certificate.revoked_at),
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
    # Its stored PDFs are kept, and never handed out again.
    db.session.execute(
        sa.update(Document)
        .where(Document.certificate_id == certificate.id, Document.withdrawn_at.is_(None))
        .values(withdrawn_at=certificate.revoked_at)
    )
    db.session.flush()
    # Reports, readiness and reminders read the training record: it must stop counting
    # this completion at once.
    completion = certificate.completion
    records.recompute(completion.user_id, completion.module_id)
    # The person's training record now shows the revocation.
    pending.render_later(user_ids=[completion.user_id])
    audit.record(
        AuditAction.CERTIFICATE_REVOKED,
        certificate.code,
        {"holder": certificate.holder_name, "module": certificate.module_title, "reason": reason},
        by,
    )
    return certificate


def revocation_list(now: datetime | None = None, base_url: str | None = None) -> dict[str, Any]:
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
        "issuer": public_url("/", base_url),
        "generated_at": timestamp(now or utcnow()),
        "revoked": [{"code": code, "revoked_at": timestamp(at)} for code, at in rows if at],
    }
    return signing.sign_document(document, signing.signing_key())


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


def current_certificates(
    user: User, versions: Sequence[ModuleVersion | ModuleContent] | None = None
) -> list[Certificate]:
    """Return, per mandatory module, the person's latest certificate (valid or not).

    `versions`, if given, are the person's mandatory modules, already looked up.
    """
    if versions is None:
        versions = published.required_versions(user)
    rows = db.session.execute(
        sa.select(Certificate, Completion.module_id)
        .join(Completion)
        .where(
            Completion.user_id == user.id,
            Completion.module_id.in_([version.module_id for version in versions]),
        )
        .order_by(Certificate.expires_at)
    )
    return latest_per_module(rows)


def latest_per_module(rows: Iterable[tuple[Certificate, int]]) -> list[Certificate]:
    """Keep the latest certificate of each module from (certificate, module) rows by expiry."""
    latest: dict[int, Certificate] = {}
    for certificate, module_id in rows:
        kept = latest.get(module_id)
        # A revoked certificate gives way to any the person still holds for the module.
        if kept is None or certificate.revoked_at is None or kept.revoked_at is not None:
            latest[module_id] = certificate
    return sorted(latest.values(), key=lambda c: c.module_title)


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
    for version in curriculum.required_versions(holders.pop()):
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
