"""Undertakings a learner confirms before a module's quiz counts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Attestation, User
from app.models.types import utcnow
from app.services.content.published import ModuleContent


def find(user: User, version: ModuleContent) -> Attestation | None:
    """Return the person's attestation of this exact version, if they gave one."""
    if version.attestation is None:
        return None  # only a version that asks for an undertaking can have one
    return db.session.scalar(
        sa.select(Attestation).where(
            Attestation.user_id == user.id,
            Attestation.module_version_id == version.id,
            Attestation.content_hash == version.content_hash,
        )
    )


def attest(
    user: User,
    version: ModuleContent,
    statement: str | None = None,
    language: str = "en",
    *,
    session_id: int | None = None,
    attested_by_id: int | None = None,
) -> Attestation:
    """Record the person's undertaking for this version; confirming twice keeps the first.

    `statement` is the undertaking in the words the person read, in `language`; by
    default the version's own. One signed on paper names the session and the
    facilitator who attests the signature.
    """
    existing = find(user, version)
    if existing is not None:
        return existing
    assert version.attestation is not None
    attestation = Attestation(
        user_id=user.id,
        module_version_id=version.id,
        content_hash=version.content_hash,
        statement=statement or version.attestation,
        language=language,
        attested_at=utcnow(),
        session_id=session_id,
        attested_by_id=attested_by_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attestation)
    except IntegrityError:
        # A concurrent confirmation won; it says the same thing.
        concurrent = find(user, version)
        assert concurrent is not None
        return concurrent
    return attestation
