"""Measure scheduling a facilitated session for a battalion: in bulk, and one at a time.

Run with `make bench` (or `python bench/classroom.py`, with `--database
postgresql+psycopg://...` for PostgreSQL: an empty database of your own, whose tables are
dropped and created again). One unit of PEOPLE people is scheduled for every module some
category must take, through `classroom.schedule` as the form calls it, round after round:

- in bulk, as the application schedules: every participant's attempts drawn by the code
  that draws online attempts, then inserted in a few statements for the whole session;
- one at a time, as it scheduled before: `quiz.start_attempt` and its flushes, then the
  sheet and its flush, for each participant and module in turn.

Each round is rolled back, so every round draws the same fresh attempts. The two ways
alternate, so the ratio holds on a busy machine; absolute times do not.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from unittest import mock

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from battalion import UNIT_CODE, add_battalion  # noqa: E402
from flask import Flask, current_app  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AnswerSheet, ClassroomSession, Role, Unit, User  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import classroom, content, quiz  # noqa: E402
from app.services.classroom import sessions  # noqa: E402
from app.services.content.published import ModuleContent  # noqa: E402
from config import Config  # noqa: E402


def bench_app(database: str) -> Flask:
    """Return the application on the throwaway database."""

    class Bench(Config):
        SQLALCHEMY_DATABASE_URI = database
        DEMO_MODE = False

    return create_app(Bench)


def build(people: int) -> None:
    """Create one unit of people, a coordinator and a facilitator, and the modules."""
    db.drop_all()
    db.create_all()
    content.sync_modules(current_app.config["MODULES_DIR"])
    rng = random.Random(850)  # noqa: S311  (repeatable data, not secrets)
    unit = add_battalion(people, rng, utcnow(), languages=("en", "fr", "ar", "es"))
    for role in (Role.COORDINATOR, Role.FACILITATOR):
        person = User(
            username=f"bench-{role.value}",
            full_name=f"Bench {role.value}",
            role=role,
            category="civilian",
            service_number=f"BENCH-{role.value}",
            session_token=secrets.token_urlsafe(16),
        )
        person.assigned_units = [unit]
        db.session.add(person)
    db.session.commit()


def draw_one_at_a_time(
    session: ClassroomSession,
    people: Sequence[User],
    versions: Sequence[ModuleContent],
    rng: random.Random | None = None,
) -> None:
    """Draw the sheets as scheduling did before: each attempt and sheet with its flushes."""
    for person in people:
        for version in versions:
            attempt = quiz.start_attempt(person, version, rng, language=person.language or "en")
            db.session.flush()
            held = db.session.scalar(
                sa.select(AnswerSheet).where(AnswerSheet.attempt_id == attempt.id)
            )
            if held is not None and held.session_id != session.id:
                raise classroom.SessionRefused(f"{person.full_name} already holds a sheet")
            db.session.add(
                AnswerSheet(
                    session=session, user=person, module_version_id=version.id, attempt=attempt
                )
            )
            db.session.flush()


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """Schedule, inside the block, as before: one participant and module at a time."""
    with mock.patch.object(sessions, "draw_sheets", draw_one_at_a_time):
        yield


def schedule_round(bulk: bool) -> tuple[float, int]:
    """Schedule the battalion once, then roll back; return the seconds and sheets drawn."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == UNIT_CODE))
    assert unit is not None
    coordinator = db.session.scalar(sa.select(User).where(User.role == Role.COORDINATOR))
    facilitator = db.session.scalar(sa.select(User).where(User.role == Role.FACILITATOR))
    assert coordinator is not None and facilitator is not None
    people = db.session.scalars(sa.select(User).where(User.unit_id == unit.id)).all()
    versions = classroom.schedulable_modules()
    started = time.perf_counter()
    with nullcontext() if bulk else one_at_a_time():
        session = classroom.schedule(
            coordinator,
            unit,
            utcnow().date() + timedelta(days=7),
            "Peacekeeping Training Centre, Accra",
            versions,
            [facilitator],
            people,
        )
        db.session.flush()
    seconds = time.perf_counter() - started
    sheets = db.session.scalar(
        sa.select(sa.func.count()).where(AnswerSheet.session_id == session.id)
    )
    db.session.rollback()
    return seconds, int(sheets or 0)


def measure(rounds: int) -> dict[str, list[float]]:
    """Alternate the two ways, after one warm-up round each; return their timings."""
    timings: dict[str, list[float]] = {"bulk": [], "one at a time": []}
    sheets = {}
    for number in range(rounds + 1):
        for name, bulk in (("bulk", True), ("one at a time", False)):
            seconds, sheets[name] = schedule_round(bulk)
            if number:
                timings[name].append(seconds)
    assert sheets["bulk"] == sheets["one at a time"], sheets
    return timings


def main() -> None:
    """Generate the battalion, time scheduling it both ways, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=850, help="people in the battalion")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each way")
    parser.add_argument("--database", help="an empty database of your own (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="blue-beret-bench-") as folder:
        database = args.database or f"sqlite:///{Path(folder) / 'classroom.db'}"
        app = bench_app(database)
        with app.app_context():
            build(args.people)
            modules = len(classroom.schedulable_modules())
            timings = measure(args.rounds)
            dialect = db.engine.dialect.name
    print(
        f"Scheduling a session for {args.people} people and {modules} modules "
        f"({args.people * modules} answer sheets), {dialect}, median of {args.rounds} rounds"
    )
    medians = {name: statistics.median(values) for name, values in timings.items()}
    for name, value in medians.items():
        print(f"  {name:<16} {value:7.2f} s")
    print(f"  bulk / one at a time: {medians['bulk'] / medians['one at a time']:.3f}")


if __name__ == "__main__":
    main()
