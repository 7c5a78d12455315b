"""The pieces a print batch is made of: chunks of people, their PDFs, one merged PDF or a ZIP."""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from pypdf import PdfReader, PdfWriter
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Unit, User
from app.models.types import utcnow
from app.services import certificates
from app.services.printing.jobs import PrintError, PrintOutput

# People per chunk: a worker renders a chunk, then progress is saved. A chunk's pages stay
# in memory until the chunk is written (about 1 MB each), so this bounds a worker's memory.
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
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        people = db.session.scalars(
            sa.select(User).where(User.id.in_(user_ids)).options(selectinload(User.unit))
        ).all()
        by_id = {person.id: person for person in people}
        yield [by_id[user_id] for user_id in user_ids]


def pdf_chunk(user_ids: list[int], base_url: str, title: str) -> tuple[bytes, int]:
    """Render a chunk of people's records as one archival PDF, in order: (PDF, people).

    The same rendering as one person's record, written once for the whole chunk so that
    its pages share their fonts; its links point to `base_url`.
    """
    with chunk_people(user_ids) as people:
        records = [certificates.consolidated_data(person, base_url=base_url) for person in people]
        pdf = certificates.render_documents(
            current_app.config["CERTIFICATES_DIR"], records, certificates.CONSOLIDATED, title=title
        )
    return pdf, len(user_ids)


def zip_chunk(user_ids: list[int], base_url: str) -> list[tuple[str, bytes, int]]:
    """Render a chunk of people as one record each: (service number, PDF, pages)."""
    with chunk_people(user_ids) as people:
        pdfs = [(person.service_number, person_pdf(person, base_url)) for person in people]
    return [(number, pdf, len(PdfReader(BytesIO(pdf)).pages)) for number, pdf in pdfs]


def person_pdf(user: User, base_url: str) -> bytes:
    """Render one person's training record on its own: a signed, archival PDF."""
    return certificates.render_pdf(
        current_app.config["CERTIFICATES_DIR"],
        certificates.consolidated_data(user, base_url=base_url),
        certificates.CONSOLIDATED,
    )


def merge_pdf(
    chunks: Iterator[tuple[bytes, int]], progress: Callable[[int], None]
) -> tuple[bytes, int]:
    """Append each chunk's pages to one PDF as the chunk arrives; return it and its pages.

    The first chunk is copied whole, catalogue and metadata included, so the file stays
    archival (PDF/A) like every chunk.
    """
    writer: PdfWriter | None = None
    people = 0
    for chunk, count in chunks:
        if writer is None:
            writer = PdfWriter(clone_from=BytesIO(chunk))
        else:
            for page in PdfReader(BytesIO(chunk)).pages:
                writer.add_page(page)
        people += count
        progress(people)
    if writer is None:
        raise PrintError(gettext("Select at least one person to print."))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), len(writer.pages)


def zip_people(
    chunks: Iterator[list[tuple[str, bytes, int]]], progress: Callable[[int], None]
) -> tuple[bytes, int]:
    """Write one PDF per person into a ZIP, named by service number; return it and its pages."""
    buffer = BytesIO()
    names: set[str] = set()
    people = pages = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for chunk in chunks:
            for service_number, pdf, page_count in chunk:
                archive.writestr(unique_name(safe_name(service_number), names) + ".pdf", pdf)
                pages += page_count
                people += 1
            progress(people)
    return buffer.getvalue(), pages


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
