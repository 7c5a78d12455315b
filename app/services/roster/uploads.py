"""Uploaded rosters awaiting their uploader's confirmation after the preview."""

from __future__ import annotations

import base64
import random
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import RosterUpload, User
from app.models.types import utcnow

# A preview not confirmed within this time is discarded with the personal data it holds.
UPLOAD_LIFETIME = timedelta(days=1)

# Read at each draw, not bound as a default, so that tests can replace the draw.
_random: random.Random = random.SystemRandom()


def store_upload(user: User, filename: str, content: bytes) -> RosterUpload:
    """Keep an uploaded roster until its uploader confirms it; discard stale ones."""
    db.session.execute(
        sa.delete(RosterUpload).where(RosterUpload.created_at < utcnow() - UPLOAD_LIFETIME)
    )
    upload = RosterUpload(
        token=base64.urlsafe_b64encode(_random.randbytes(32)).rstrip(b"=").decode(),
        uploaded_by_id=user.id,
        filename=(filename.strip() or "roster.csv")[:255],
        content=content,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def claim_upload(upload: RosterUpload) -> bool:
    """Take a pending upload for import; False if a concurrent confirmation took it first.

    The conditional DELETE is the guard: the database lets exactly one request remove
    the row, and rolling back the import puts it back.
    """
    taken = db.session.execute(
        sa.delete(RosterUpload)
        .where(RosterUpload.id == upload.id)
        .execution_options(synchronize_session=False)
    )
    return getattr(taken, "rowcount", 0) == 1


def find_upload(token: str, user: User) -> RosterUpload | None:
    """Return a person's own pending upload; None if it is someone else's or gone."""
    return db.session.scalar(
        sa.select(RosterUpload).where(
            RosterUpload.token == token,
            RosterUpload.uploaded_by_id == user.id,
            RosterUpload.created_at >= utcnow() - UPLOAD_LIFETIME,
        )
    )
