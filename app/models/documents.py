"""Rendered files kept in the document store: certificates, training records and print batches."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, str_enum, utcnow


class DocumentKind(StrEnum):
    CERTIFICATE = "certificate"
    RECORD = "record"
    BATCH = "batch"
    # A module version's lesson handout in one language, as a session's pack prints it.
    HANDOUT = "handout"


class Document(Model):
    """A rendered file in the document store, whose bytes are named by their SHA-256.

    Its fingerprint stands for everything it shows and where its links point: there is
    one document per fingerprint and signing key, so a document rendered twice at once
    is stored once.
    """

    __table_args__ = (sa.UniqueConstraint("fingerprint", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, 16))
    # Whose certificate or record it is.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # The key its signatures were made with; empty for a file that carries none.
    key_id: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    pages: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the certificate it shows is revoked: kept, and never handed out again.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentChunk(Model):
    """A stretch of a stored file's bytes, when the store is the database (DOCUMENT_STORE)."""

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
