"""The pieces a print batch is made of: chunks of people, their stored records, one PDF or a ZIP."""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Unit, User
from app.models.types import utcnow
from app.services import documents
from app.services.documents import StoredRecord
from app.services.printing import merging
from app.services.printing.jobs import PrintError, PrintOutput

# People per chunk of records to render: a worker renders a chunk (one record at a time),
# stores it, then progress is saved.
CHUNK_SIZE = 25


def plan(ids: list[int], workers: int) -> tuple[list[list[int]], int]:
    """Split people into chunks and choose how many worker processes render them.

    A batch of one chunk renders here; a larger one in separate processes, which run in
    parallel and give their memory back when the batch ends.
    """
    if len(ids) <= CHUNK_SIZE:
        return [ids], 0
    workers = max(1, workers)
    size = min(CHUNK_SIZE, -(-len(ids) // workers))
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    return chunks, min(workers, len(chunks))


def batch_filename(unit: Unit | None, kind: PrintOutput) -> str:
    """Return the download name of a batch: the unit's code and today's date."""
    code = safe_name(unit.code) if unit is not None else "selection"
    return f"training-records-{code}-{utcnow().date().isoformat()}.{kind.value}"


@contextmanager
def chunk_people(user_ids: list[int]) -> Iterator[list[User]]:
    """Load a chunk's people, in order, in a context of its own.

    Its database session ends with the chunk, so a long batch holds no one in memory.
    """
    with documents.own_session():
        people = db.session.scalars(
            sa.select(User).where(User.id.in_(user_ids)).options(selectinload(User.unit))
        ).all()
        by_id = {person.id: person for person in people}
        yield [by_id[user_id] for user_id in user_ids]


def store_records(people: list[User], base_url: str) -> list[tuple[int, StoredRecord]]:
    """Return people's training records as stored: (person, file), rendering those that changed.

    Each is the same archival, signed PDF as the person downloads themselves; its links
    point to `base_url`.
    """
    stored = documents.record_documents(people, base_url)
    return [
        (person.id, StoredRecord(document.digest, document.pages))
        for person, document in zip(people, stored, strict=True)
    ]


def merge_records(records: Iterable[StoredRecord], target: BinaryIO, title: str) -> int:
    """Write stored records, in order, into one archival PDF on `target`; return its pages.

    One record at a time is read from the store and written out, whatever their number.
    """
    store = documents.document_store()
    pdfs = (documents.read(store, record.digest) for record in records)
    pages = merging.merge_to(target, pdfs, title)
    if pages == 0:
        raise PrintError.of("nobody")
    return pages


def zip_records(records: Iterable[tuple[str, StoredRecord]], target: BinaryIO) -> int:
    """Write one stored record per person into a ZIP on `target`, named by service number.

    Returns the number of pages, all records together.
    """
    store = documents.document_store()
    names: set[str] = set()
    pages = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for service_number, record in records:
            name = unique_name(safe_name(service_number), names) + ".pdf"
            archive.writestr(name, documents.read(store, record.digest))
            pages += record.pages
    return pages


UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(value: str) -> str:
    """Return a file name safe on every system: letters, digits, dot, dash, underscore."""
    return UNSAFE.sub("_", value).strip("._") or "person"


def unique_name(name: str, taken: set[str]) -> str:
    """Return the name, numbered if cleaning made it equal to one already used."""
    candidate = name
    for number in itertools.count(2):
        if candidate.lower() not in taken:
            break
        candidate = f"{name}-{number}"
    taken.add(candidate.lower())
    return candidate
