"""Measure report pages against the SQL they replace, on SQLite and PostgreSQL.

Run with `make bench`. Every figure is the median of several runs made side by side
in this one process, so ratios hold even on a busy machine; absolute times do not.
Data is generated once per database (`flask demo scale`) and reused afterwards.

Before and after, side by side: the organisation-wide matrix as the page used to count
it (from every person and record) against the page reading the report counts; the
overdue list's first and hundred-and-first pages as the page used to read them (the
states of everyone, counted and sorted, then OFFSET) against the pages following their
index from a place.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.auth import session_id  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role, Unit, User  # noqa: E402
from app.services import demo, reporting  # noqa: E402
from app.services.reporting import Filters, State, source, summary  # noqa: E402
from config import Config  # noqa: E402

PER_PAGE = 50

# The state of each person on each module they must take, as every report decides it.
STATES = """
SELECT u.id AS user_id, u.unit_id, r.module_id, u.deployment_date, u.full_name,
  CASE WHEN t.valid_until > :soon THEN 'complete'
       WHEN t.valid_until > :now THEN 'expiring'
       WHEN (u.deployment_date IS NOT NULL AND u.deployment_date < :deploy)
         OR (u.deployment_date IS NULL AND u.created_at < :created) THEN 'overdue'
       ELSE 'in_progress' END AS state
FROM "user" u
JOIN curriculum_requirement r
  ON r.category = u.category AND (r.position IS NULL OR r.position = u.position)
LEFT JOIN training_record t ON t.user_id = u.id AND t.module_id = r.module_id
WHERE u.is_active AND u.unit_id {unit_clause}
"""

# The same counts as the report pages, written by hand as one GROUP BY.
RAW_UNIT_MATRIX = "SELECT unit_id, module_id, state, count(*) FROM ({states}) AS s GROUP BY 1, 2, 3"

# The overdue list's first page as the page read it before: the states of everyone
# computed once, counted for the totals, and sorted for the page.
OVERDUE_BEFORE = """
WITH pm AS MATERIALIZED ({states})
SELECT 'row', unit_id, module_id, state, 0, user_id FROM (
  SELECT * FROM pm WHERE state = 'overdue'
  ORDER BY deployment_date, full_name, module_id LIMIT {per_page} OFFSET {offset}) AS listed
UNION ALL
SELECT 'count', unit_id, module_id, state, count(*), NULL FROM pm GROUP BY 2, 3, 4
"""


def database_targets(users: int, name: str | None) -> list[tuple[str, str]]:
    """Return the databases to measure: SQLite always, PostgreSQL when reachable."""
    targets = [("SQLite", f"sqlite:///{ROOT / 'instance' / f'bench-{users}.db'}")]
    server = "postgresql+psycopg://postgres@127.0.0.1:5432"
    name = name or f"blue_beret_bench_{users}"
    try:
        engine = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        targets.append(("PostgreSQL", f"{server}/{name}"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL not reachable, measuring SQLite only: {error}", file=sys.stderr)
    return targets


def median_ms(action: Callable[[], Any], runs: int) -> float:
    """Run an action once to warm up, then return the median of `runs` timings in ms."""
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def count_queries(action: Callable[[], Any]) -> int:
    """Return how many SQL statements an action executes."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def prepare(users: int, units: int, modules: int) -> None:
    """Migrate, generate the organisation unless it is there, and count it once."""
    upgrade(directory=str(ROOT / "app" / "migrations"))
    people = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    if people < users:
        started = time.perf_counter()

        def progress(stage: str, done: int, total: int) -> None:
            print(f"\r  generating {stage}: {done:,}/{total:,}", end="", flush=True)

        demo.scale(users, units, modules, progress)
        db.session.commit()
        print(f"\r  generated {users:,} people in {time.perf_counter() - started:.0f} s" + " " * 9)
    # As `flask reports check`: counts never built (data from before the counts, as
    # after an upgrade) or counted otherwise are rebuilt, as `flask reports rebuild` does.
    started = time.perf_counter()
    if summary.differences(reporting.Cutoffs.at()) == []:
        print(
            f"  report counts match the records (checked in {time.perf_counter() - started:.1f} s)"
        )
        return
    started = time.perf_counter()
    rows = summary.rebuild()
    db.session.commit()
    print(f"  report counts rebuilt ({rows:,} rows) in {time.perf_counter() - started:.1f} s")


def measure(label: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    """Measure the pages, and the SQL they replace, on one database."""

    class Bench(Config):
        SQLALCHEMY_DATABASE_URI = url
        DEMO_MODE = False

    app = create_app(Bench)
    results: dict[str, float] = {}
    with app.app_context():
        prepare(args.users, args.units, args.modules)
        started = time.perf_counter()
        summary.refresh()
        db.session.commit()
        results["flask reports refresh"] = (time.perf_counter() - started) * 1000
        if db.engine.dialect.name == "postgresql":
            # As autovacuum leaves a database in use: statistics and visibility map current.
            autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
        admin = db.session.scalar(sa.select(User).where(User.username == "bench-admin"))
        if admin is None:
            admin = User(
                username="bench-admin", full_name="Bench Admin", role=Role.ADMIN,
                category="civilian", service_number="BENCH-ADMIN",
            )  # fmt: skip
            db.session.add(admin)
            db.session.commit()
        battalion = db.session.scalar(
            sa.select(Unit)
            .join(User, User.unit_id == Unit.id)
            .group_by(Unit.id)
            .order_by(sa.func.count(User.id).desc())
            .limit(1)
        )
        assert battalion is not None
        size = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.unit_id == battalion.id)
        )
        # Where the list's second and hundred-and-first pages start.
        cutoffs = reporting.Cutoffs.at()
        overdue = Filters(state=State.OVERDUE)
        second = reporting.people(overdue, cutoffs, per_page=PER_PAGE).next_after
        deep = reporting.people(overdue, cutoffs, per_page=100 * PER_PAGE).next_after
        signed_in = session_id(admin, time.time(), time.time())
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = signed_in
        session["_fresh"] = True

    def page(path: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return fetch

    pages = {
        f"unit dashboard ({size} people)": f"/coordinator/units/{battalion.id}",
        "organisation-wide matrix": "/coordinator/",
        "overdue list, first page": "/coordinator/people?status=overdue",
        "overdue list, page 2": f"/coordinator/people?status=overdue&after={second}&page=2",
        "overdue list, page 101": f"/coordinator/people?status=overdue&after={deep}&page=101",
        "headquarters, by mission": "/headquarters/",
        "headquarters, by unit": "/headquarters/?by=unit",
    }
    # A small organisation has no second (or hundred-and-first) page.
    pages = {name: path for name, path in pages.items() if "after=None" not in path}
    with app.app_context():
        cutoffs = reporting.Cutoffs.at()
        params = {
            "now": cutoffs.now,
            "soon": cutoffs.expiring_before,
            "deploy": cutoffs.deployment_before,
            "created": cutoffs.created_before,
            "unit": battalion.id,
        }

        def sql(template: str, unit_clause: str, offset: int = 0) -> Any:
            states = STATES.format(unit_clause=unit_clause)
            return sa.text(template.format(states=states, per_page=PER_PAGE, offset=offset))

        unit_sql = sql(RAW_UNIT_MATRIX, "= :unit")
        org_sql = sql(RAW_UNIT_MATRIX, "IS NOT NULL")

        def raw(statement: Any) -> Callable[[], None]:
            def run() -> None:
                with db.engine.connect() as connection:
                    connection.execute(statement, params).all()

            return run

        def counted(hours: float) -> Callable[[], None]:
            later = reporting.Cutoffs.at(cutoffs.now + timedelta(hours=hours))
            return lambda: summary.counts(Filters(), later, ("unit_id", "module_id"))

        results["raw SQL GROUP BY, unit"] = median_ms(raw(unit_sql), args.runs)
        results["raw SQL GROUP BY, organisation"] = median_ms(raw(org_sql), args.runs)
        results["before: matrix counted from the records"] = median_ms(
            lambda: source.counts(Filters(), cutoffs, ("unit_id", "module_id")), args.runs
        )
        for hours in (0, 1, 24):
            results[f"matrix counts, refreshed {hours} h ago"] = median_ms(
                counted(hours), args.runs
            )
        for number in (1, 101):
            before = raw(sql(OVERDUE_BEFORE, "IS NOT NULL", (number - 1) * PER_PAGE))
            results[f"before: overdue page {number}, one statement"] = median_ms(before, args.runs)
        for name, path in pages.items():
            results[name] = median_ms(page(path), args.runs)
            results[f"queries: {name}"] = count_queries(page(path))
    print(f"\n{label}")
    for name, value in results.items():
        shown = f"{value:8.0f}" if name.startswith("queries") else f"{value:8.1f} ms"
        print(f"  {name:<48} {shown}")
    unit_page = next(v for k, v in results.items() if k.startswith("unit dashboard"))
    ratio = unit_page / results["raw SQL GROUP BY, unit"]
    print(f"  {'unit dashboard / raw SQL (goal <= 2)':<48} {ratio:8.2f}")
    org_ratio = results["organisation-wide matrix"] / results["raw SQL GROUP BY, organisation"]
    print(f"  {'organisation matrix / raw SQL':<48} {org_ratio:8.2f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=120)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--only", choices=["SQLite", "PostgreSQL"], help="measure one database only"
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE"),
        help="the PostgreSQL database (default blue_beret_bench_USERS, or BENCH_DATABASE)",
    )
    args = parser.parse_args()
    (ROOT / "instance").mkdir(exist_ok=True)
    for label, url in database_targets(args.users, args.database):
        if args.only in (None, label):
            measure(label, url, args)


if __name__ == "__main__":
    main()
