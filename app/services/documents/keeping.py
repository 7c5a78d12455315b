"""Documents kept in the store: found by fingerprint, stored once, withdrawn, discarded."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Document, DocumentChunk, DocumentKind
from app.services import pending, signing
from app.services.documents.store import (
    CHUNK_SIZE,
    DatabaseStore,
    digest_of,
    document_store,
    is_external,
)

# The key id of a document that carries no signature (a handout, a print batch).
UNSIGNED = ""


def published_keys() -> list[str]:
    """Return the ids of the keys whose signatures verify, the current key first."""
    return list(signing.public_keys())


def servable(fingerprint: str) -> Document | None:
    """Return the stored document with this fingerprint that may be handed out, if any.

    Its signatures must verify today: made with a key that is still published (after a
    rotation, the previous key stays published until it is removed; then the document is
    made again with the current key). A withdrawn document is never handed out.
    """
    keys = published_keys()
    found = db.session.scalars(
        sa.select(Document).where(
            Document.fingerprint == fingerprint,
            Document.key_id.in_(keys),
            Document.withdrawn_at.is_(None),
        )
    ).all()
    return min(found, key=lambda document: keys.index(document.key_id), default=None)


def unsigned(fingerprint: str) -> Document | None:
    """Return the stored document with this fingerprint that carries no signature, if any."""
    return db.session.scalar(
        sa.select(Document).where(
            Document.fingerprint == fingerprint,
            Document.key_id == UNSIGNED,
            Document.withdrawn_at.is_(None),
        )
    )


@dataclass(frozen=True)
class StoredFile:
    """A stored document as a download needs it: its digest, its size and, if read, its bytes."""

    digest: str
    size: int
    # The whole file when it was read along (a small file kept in the database).
    body: bytes | None = None

    @classmethod
    def of(cls, document: Document) -> StoredFile:
        """Return what a download needs of a document, its bytes left in the store."""
        return cls(document.digest, document.size)


def servable_file(fingerprint: str) -> StoredFile | None:
    """Return the servable document with this fingerprint (as `servable`), in one query.

    When the store is the database, the file's first piece comes along: a certificate or
    a record is one piece, so the download needs nothing more.
    """
    keys = published_keys()
    conditions = (
        Document.fingerprint == fingerprint,
        Document.key_id.in_(keys),
        Document.withdrawn_at.is_(None),
    )
    if isinstance(document_store(), DatabaseStore):
        query = sa.select(
            Document.key_id, Document.digest, Document.size, DocumentChunk.content
        ).outerjoin(
            DocumentChunk,
            sa.and_(DocumentChunk.digest == Document.digest, DocumentChunk.number == 0),
        )
    else:
        query = sa.select(Document.key_id, Document.digest, Document.size, sa.null())
    rows = db.session.execute(query.where(*conditions)).all()
    if not rows:
        return None
    _key, digest, size, content = min(rows, key=lambda row: keys.index(row[0]))
    whole = content is not None and size <= CHUNK_SIZE
    return StoredFile(digest, size, bytes(content) if whole else None)


def keep(
    kind: DocumentKind,
    pdf: bytes,
    pages: int,
    fingerprint: str,
    key_id: str,
    *,
    user_id: int | None = None,
    certificate_id: int | None = None,
) -> Document:
    """Store a rendered PDF under its fingerprint, once: return the document kept.

    When another request or worker stored the same fingerprint first (both rendered it
    at once), theirs is kept and returned, and these bytes are dropped. On PostgreSQL
    the insert waits for the other transaction, on SQLite for its write lock.
    """
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    inserted = db.session.execute(
        dialect.insert(Document)
        .values(
            kind=kind,
            user_id=user_id,
            certificate_id=certificate_id,
            fingerprint=fingerprint,
            key_id=key_id,
            digest=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            pages=pages,
        )
        .on_conflict_do_nothing(index_elements=[Document.fingerprint, Document.key_id])
        .returning(Document.digest)
    ).scalar()
    if inserted is not None:
        document_store().put(inserted, BytesIO(pdf))
    return db.session.scalars(
        sa.select(Document).where(Document.fingerprint == fingerprint, Document.key_id == key_id)
    ).one()


def keep_file(kind: DocumentKind, file: BinaryIO, pages: int) -> Document:
    """Store a file written on disk (a print batch), a piece at a time; return its document."""
    digest = digest_of(file)
    size = file.seek(0, 2)
    file.seek(0)
    document_store().put(digest, file)
    # Named by its bytes alone: it signs nothing and is never looked up by what it shows.
    document = Document(
        kind=kind, fingerprint=digest, key_id=UNSIGNED, digest=digest, size=size, pages=pages
    )
    db.session.add(document)
    db.session.flush()
    return document


def discard(documents: Collection[Document]) -> None:
    """Delete documents, and their files unless another document has the same bytes."""
    if not documents:
        return
    ids = [document.id for document in documents]
    digests = {document.digest for document in documents}
    shared = set(
        db.session.scalars(
            sa.select(Document.digest).where(Document.digest.in_(digests), Document.id.not_in(ids))
        )
    )
    db.session.execute(sa.delete(Document).where(Document.id.in_(ids)))
    store = document_store()
    if is_external(store):
        # A file outside the database goes once the deletion is committed.
        pending.delete_later(digests - shared)
    else:
        store.delete(digests - shared)
