"""Measure a session's pack: printed in the request as it was, against the print job.

Run with `.venv/bin/python bench/pack.py`. In a throwaway SQLite database, two sessions of
PEOPLE participants each (a third reading English, a third French, a third Arabic) on
one module of ten questions. Measured side by side in one run, wall time and CPU time of
this process:

- before: the whole pack rendered at once, as the request did: every part rendered,
  the handouts of a module in one WeasyPrint call, merged in memory;
- the print job of the first session: the request that queues it, then the job run as
  a worker runs it, its handouts rendered and stored;
- the print job of the second session, which copies the stored handouts.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from app import create_app, worker  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    ClassroomSession,
    Document,
    DocumentKind,
    Mission,
    PrintJobFile,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow  # noqa: E402
from app.services import classroom, content, documents, training  # noqa: E402
from app.services.classroom import pack  # noqa: E402
from app.services.printing import merging  # noqa: E402
from config import Config  # noqa: E402

BASE_URL = "https://training.example.org"
SLUG = "zero-tolerance"
LANGUAGES = ("en", "fr", "ar")


def bench_config(database: Path) -> type[Config]:
    """Return the configuration of the throwaway database."""

    class Bench(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        DEMO_MODE = False
        PUBLIC_BASE_URL = BASE_URL
        PRERENDER_DOCUMENTS = False

    return Bench


def build(people: int) -> list[ClassroomSession]:
    """Create a unit, its coordinator and two sessions of `people` participants each."""
    content.sync_modules(Path(current_app.config["MODULES_DIR"]))
    unit = Unit(
        mission=Mission(code="BENCH", name="Bench Mission"),
        code="BENCH-C",
        name="Coy",
        country="Ghana",
    )
    db.session.add(unit)
    db.session.flush()
    coordinator = User(
        username="bench-coordinator",
        full_name="Amina Diallo",
        role=Role.COORDINATOR,
        category="military_contingent",
        service_number="C-1",
        assigned_units=[unit],
        is_active=True,
    )
    db.session.add(coordinator)
    version = training.current_version(SLUG)
    assert version is not None
    sessions = []
    for group in range(2):
        participants = [
            User(
                username=f"bench-{group}-{number:03d}",
                full_name=f"Person {group}-{number:03d}",
                role=Role.PEACEKEEPER,
                category="military_contingent",
                position="member",
                service_number=f"BN-{group}{number:04d}",
                unit=unit,
                language=LANGUAGES[number % len(LANGUAGES)],
                is_active=True,
            )
            for number in range(people)
        ]
        db.session.add_all(participants)
        db.session.flush()
        held_on = utcnow().date() + timedelta(days=7)
        sessions.append(
            classroom.schedule(
                coordinator,
                unit,
                held_on,
                "Training Centre",
                [version],
                [coordinator],
                participants,
            )
        )
        db.session.commit()
    return sessions


def measured(action: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run an action; return its result, its wall time and this process's CPU time (s)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def whole_pack_at_once(session: ClassroomSession) -> bytes:
    """Render a session's whole pack in memory, every part rendered, as the request did."""

    def parts() -> Iterator[bytes]:
        for version in pack.versions_of(session):
            languages = pack.handout_readers(session, version)
            yield pack.render([pack.handout_data(version, code) for code in languages])
        held = pack.sheets_by_person(session)
        for person in pack.participants_of(session):
            yield pack.render([pack.sheet_data(sheet, BASE_URL) for sheet in held[person.id]])
        yield pack.render([pack.attendance_data(session)])

    out = io.BytesIO()
    merging.merge_to(out, parts(), "pack")
    return out.getvalue()


def print_job(session: ClassroomSession, by: User) -> tuple[bytes, float, float]:
    """Queue a session's pack as the button does, then run it as a worker does.

    Returns the file, and the wall and CPU time of the request's part alone.
    """
    job, request_wall, request_cpu = measured(lambda: classroom.request_pack(session, by))
    db.session.commit()
    worker.run_job(job.id, BASE_URL)
    output = db.session.get(PrintJobFile, job.id)
    assert output is not None, job.error
    return (
        documents.read(documents.document_store(), output.document.digest),
        request_wall,
        request_cpu,
    )


def main() -> None:
    """Build the database, print the packs, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(bench_config(Path(folder) / "bench.db"))
        with app.app_context():
            db.create_all()
            first, second = build(options.people)
            by = db.session.scalar(sa.select(User).where(User.role == Role.COORDINATOR))
            assert by is not None
            # Warm: fonts, designs and the code paths loaded once, as in a running server.
            pack.render([pack.attendance_data(first)])

            # In a test request, as the request did: its page limit aside.
            with app.test_request_context(base_url=BASE_URL):
                before, wall, cpu = measured(lambda: whole_pack_at_once(first))
            rows = [("before: the whole pack in the request", wall, cpu, before)]
            for name, session in (("first pack", first), ("second pack", second)):
                (pdf, request_wall, request_cpu), wall, cpu = measured(
                    lambda session=session: print_job(session, by)
                )
                rows.append((f"after, {name}: request", request_wall, request_cpu, None))
                rows.append((f"after, {name}: the job, request included", wall, cpu, pdf))
            stored = db.session.scalar(
                sa.select(sa.func.count(Document.id)).where(Document.kind == DocumentKind.HANDOUT)
            )
    print(f"{options.people} participants, one module of ten questions, handouts in"
          f" {len(LANGUAGES)} languages; {stored} handouts stored")  # fmt: skip
    for name, wall, cpu, pdf in rows:
        size = (
            f", {len(PdfReader(io.BytesIO(pdf)).pages)} pages, {len(pdf) / 1e6:.1f} MB"
            if pdf
            else ""
        )
        print(f"{name}: {wall:.2f} s, CPU {cpu:.2f} s{size}")


if __name__ == "__main__":
    main()
