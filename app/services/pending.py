"""Work a change leaves for the background, done once the change is committed.

A service that issues a certificate, revokes one or renames someone only flushes; it
notes here which documents its change makes due. `app.worker` hands them to the
background when the session commits, and forgets them when it rolls back, so nothing
is rendered for a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.extensions import db
from app.services.links import site_url

KEY = "documents_due"


@dataclass
class DueDocuments:
    """Certificates and training records to render, with the site their links point to."""

    base_url: str
    certificate_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    # Files of the document store that nothing refers to any more, to delete.
    discarded: set[str] = field(default_factory=set)


def due(session: Session | None = None) -> DueDocuments:
    """Return what the session's changes have made due so far."""
    info = (session or db.session).info
    if KEY not in info:
        info[KEY] = DueDocuments(site_url())
    due_documents: DueDocuments = info[KEY]
    return due_documents


def render_later(certificate_ids: Iterable[int] = (), user_ids: Iterable[int] = ()) -> None:
    """Render these certificates and people's training records once the change is committed."""
    documents = due()
    documents.certificate_ids.update(certificate_ids)
    documents.user_ids.update(user_ids)


def delete_later(digests: Iterable[str]) -> None:
    """Delete these files from the document store once the change is committed."""
    due().discarded.update(digests)


def take(session: Session) -> DueDocuments | None:
    """Return what the session's committed changes made due, and forget it."""
    taken: DueDocuments | None = session.info.pop(KEY, None)
    return taken


def forget(session: Session) -> None:
    """Forget what the session's changes made due: they were rolled back."""
    session.info.pop(KEY, None)
