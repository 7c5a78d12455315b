"""Documents kept in the store: found by fingerprint, stored once, withdrawn, discarded."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from io import BytesIO
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Document, DocumentKind
from app.services import pending, signing
from app.services.documents.store import digest_of, document_store, is_external


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
        kind=kind, fingerprint=digest, key_id="", digest=digest, size=size, pages=pages
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
