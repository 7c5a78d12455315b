"""Certificates and training records as stored PDFs: rendered once, then served as stored.

A certificate is rendered when it is issued (in the background, see `app.worker`) and
served as stored from then on. A training record is rendered when what it shows changes,
and stored under its fingerprint; a download renders only when no stored record has the
fingerprint of today's. Whichever comes first, the background or a download, renders;
the other finds it stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Certificate, Completion, Document, DocumentKind, ModuleVersion, User
from app.models.types import utcnow
from app.services import certificates, curriculum, signing
from app.services.documents import fingerprints
from app.services.documents.keeping import (
    StoredFile,
    keep,
    published_keys,
    servable,
    servable_file,
)

# People whose fingerprints are worked out together for a print batch.
SLICE = 500


@dataclass(frozen=True)
class StoredRecord:
    """A person's training record as stored: its file and how many pages it has."""

    digest: str
    pages: int


def design_root() -> Path:
    """Return the folder of the certificate designs."""
    return Path(current_app.config["CERTIFICATES_DIR"])


def certificate_document(certificate: Certificate, base_url: str | None = None) -> Document:
    """Return a certificate's stored PDF, rendering and storing it if it is not stored yet."""
    base_url = base_url or certificates.site_url()
    fingerprint = fingerprints.certificate(certificate, base_url)
    found = servable(fingerprint)
    if found is not None:
        return found
    # Two requests at once: the second waits here (PostgreSQL) and finds it stored.
    db.session.execute(
        sa.select(Certificate.id)
        .where(Certificate.id == certificate.id)
        .with_for_update(key_share=True)
    )
    found = servable(fingerprint)
    if found is not None:
        return found
    data = certificates.document_data(certificate, base_url)
    pdf, pages = certificates.render_counted(design_root(), data)
    return keep(
        DocumentKind.CERTIFICATE,
        pdf,
        pages,
        fingerprint,
        signing.signing_key().kid,
        user_id=certificate.completion.user_id,
        certificate_id=certificate.id,
    )


def certificate_file(certificate: Certificate) -> StoredFile:
    """Return a certificate's stored file for a download, rendering it if not stored yet.

    Stored (the usual case): one query, which brings the bytes along.
    """
    found = servable_file(fingerprints.certificate(certificate, certificates.site_url()))
    return found or StoredFile.of(certificate_document(certificate))


def record_file(user: User, now: datetime | None = None) -> StoredFile:
    """Return a person's training record for a download, rendering it if it changed.

    Unchanged (the usual case): the queries of its fingerprint, and one for the file.
    """
    now = now or utcnow()
    content = certificates.record_content(user)
    found = servable_file(fingerprints.record(content, now, certificates.site_url()))
    return found or StoredFile.of(record_document(user, now=now, content=content))


def record_document(
    user: User,
    base_url: str | None = None,
    now: datetime | None = None,
    content: certificates.RecordContent | None = None,
) -> Document:
    """Return a person's training record as stored, rendering it if what it shows changed.

    `content`, if given, is what it lists, already looked up.
    """
    base_url = base_url or certificates.site_url()
    now = now or utcnow()
    content = content or certificates.record_content(user)
    fingerprint = fingerprints.record(content, now, base_url)
    found = servable(fingerprint)
    if found is not None:
        return found
    # FOR NO KEY UPDATE: two renders of one record wait for each other, while a row that
    # names the person (an audit entry of their sign-in, which also updates them) does
    # not queue behind this lock. FOR UPDATE made the two wait on each other: a deadlock.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    found = servable(fingerprint)
    if found is not None:
        return found
    return render_record(content, fingerprint, now, base_url).keep()


def record_documents(
    people: Sequence[User], base_url: str, now: datetime | None = None
) -> list[Document]:
    """Return people's training records as stored, rendering those that changed.

    Those rendered are stored together once all are rendered: on SQLite the write lock
    is then held only while they are stored, not while the others render.
    """
    now = now or utcnow()
    found: dict[int, Document] = {}
    rendered = []
    for person in people:
        content = certificates.record_content(person)
        fingerprint = fingerprints.record(content, now, base_url)
        document = servable(fingerprint)
        if document is not None:
            found[person.id] = document
        else:
            rendered.append(render_record(content, fingerprint, now, base_url))
    for record in rendered:
        found[record.user_id] = record.keep()
    return [found[person.id] for person in people]


@dataclass(frozen=True)
class RenderedRecord:
    """A training record rendered, not stored yet."""

    user_id: int
    pdf: bytes
    pages: int
    fingerprint: str
    key_id: str

    def keep(self) -> Document:
        """Store it (once, whoever else rendered it at the same time)."""
        return keep(
            DocumentKind.RECORD,
            self.pdf,
            self.pages,
            self.fingerprint,
            self.key_id,
            user_id=self.user_id,
        )


def render_record(
    content: certificates.RecordContent, fingerprint: str, now: datetime, base_url: str
) -> RenderedRecord:
    """Render a training record as it stands (`content`, looked up at `now`)."""
    user = content.user
    data = certificates.consolidated_data(user, now, base_url, content)
    pdf, pages = certificates.render_counted(design_root(), data, certificates.CONSOLIDATED)
    return RenderedRecord(user.id, pdf, pages, fingerprint, signing.signing_key().kid)


def stored_records(
    user_ids: Sequence[int], base_url: str, now: datetime | None = None
) -> dict[int, StoredRecord]:
    """Return the people whose training record is stored as it stands today, with its file.

    Worked out SLICE people at a time, each slice in a session of its own, so that a
    battalion's worth of people is never held in memory at once. The others' records
    have changed (or were never rendered).
    """
    now = now or utcnow()
    stored: dict[int, StoredRecord] = {}
    for start in range(0, len(user_ids), SLICE):
        with own_session():
            stored.update(_stored_slice(user_ids[start : start + SLICE], base_url, now))
    return stored


def _stored_slice(user_ids: Sequence[int], base_url: str, now: datetime) -> dict[int, StoredRecord]:
    people = db.session.scalars(
        sa.select(User).where(User.id.in_(user_ids)).options(selectinload(User.unit))
    ).all()
    rows = db.session.execute(
        sa.select(Certificate, Completion.module_id, Completion.user_id)
        .join(Completion)
        .where(Completion.user_id.in_(user_ids))
        .order_by(Certificate.expires_at)
    )
    certificates_of: dict[int, list[tuple[Certificate, int]]] = {}
    for certificate, module_id, user_id in rows:
        certificates_of.setdefault(user_id, []).append((certificate, module_id))
    # People of one category and position share their mandatory modules.
    versions: dict[tuple[str, str], list[ModuleVersion]] = {}
    by_fingerprint: dict[str, int] = {}
    for person in people:
        kind = (person.category, person.position)
        if kind not in versions:
            versions[kind] = curriculum.required_versions(person)
        required = versions[kind]
        module_ids = {version.module_id for version in required}
        held = certificates.latest_per_module(
            row for row in certificates_of.get(person.id, []) if row[1] in module_ids
        )
        content = certificates.record_content_of(person, required, held)
        by_fingerprint[fingerprints.record(content, now, base_url)] = person.id
    keys = published_keys()
    found = db.session.execute(
        sa.select(Document.fingerprint, Document.key_id, Document.digest, Document.pages).where(
            Document.fingerprint.in_(by_fingerprint),
            Document.key_id.in_(keys),
            Document.withdrawn_at.is_(None),
        )
    )
    best: dict[int, tuple[int, StoredRecord]] = {}
    for fingerprint, key_id, digest, pages in found:
        user_id, rank = by_fingerprint[fingerprint], keys.index(key_id)
        if user_id not in best or rank < best[user_id][0]:
            best[user_id] = (rank, StoredRecord(digest, pages))
    return {user_id: record for user_id, (_rank, record) in best.items()}


@contextmanager
def own_session() -> Iterator[None]:
    """Run a step in an application context, and so a database session, of its own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        yield
