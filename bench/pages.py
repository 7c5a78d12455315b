"""Measure Blue Beret's pages and downloads over HTTP, as ratios to a bare Flask "hello".

Run with `make bench` (it installs wrk, a Debian package, when it is missing). Two
gunicorn servers run side by side with the same settings (GUNICORN below: 2 sync
workers): one serves bench/hello.py, the other Blue Beret on a freshly seeded database,
PostgreSQL when it is reachable, else SQLite, and, as production runs it, a `flask worker`
rendering in the background (on a Redis database of its own, emptied first) the
certificates and records each quiz pass makes due. wrk (bench/pages.lua, -t1 -c8 unless told
otherwise) then measures each request in turn, round after round, so that every figure of
a round is taken under the same conditions; each ratio is the median over the rounds of
the request's rate over hello's in the same round. Absolute rates depend on the machine
and whatever else runs on it: the ratios are the figure.

Measured, signed in as seeded peacekeepers (sessions started by the application's own
sign-in code, CSRF tokens its own, nothing of security turned off but the rate limits):

- My training (GET /training/) and a module page (GET /training/<module>);
- the quiz submit: a complete right answer set POSTed to a fresh open attempt each time.
  The attempts are drawn beforehand, each is sent once, and afterwards the database must
  hold every attempt counted as submitted;
- a certificate download and the training record download, each downloaded once
  beforehand, so that they are stored or cached wherever the application keeps them.

With `--compare DIR`, a third server runs the application as checked out in DIR (an
earlier commit: `git worktree add DIR <commit>`, or `git archive`), on the same database
and the same sessions, and each request is measured on it just before the application
as it is, in every round: a before and after under the same conditions.

Every answer is checked (status, the quiz's redirect to its result, a PDF for the
downloads). A run with a wrong answer or a socket error is not a valid figure: the table
marks it, and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, session  # noqa: E402
from flask_wtf.csrf import generate_csrf  # noqa: E402

from app import create_app, worker  # noqa: E402
from app.auth.signin import complete_sign_in  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Certificate, Completion, ModuleVersion, QuizAttempt, User  # noqa: E402
from app.services import attestation, curriculum, quiz  # noqa: E402
from config import Config  # noqa: E402
from load.run import (  # noqa: E402
    BIN,
    free_port,
    recreate_database,
    start_render_workers,
    start_server,
    stop_server,
)
from load.seed import answer_key, seed_people  # noqa: E402

POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/blue_beret_bench_pages"
# Neither the tests' (15, tests/fixtures/servers.py) nor `make load`'s (14).
REDIS = "redis://127.0.0.1:6379/13"
BASE_URL = "https://training.example.org"
WORKERS = "2"
SCRIPT = ROOT / "bench" / "pages.lua"
# Sessions are bound to the browser that started them (Flask-Login's basic protection).
AGENT = "blue-beret-bench"
# The quiz pool of a round: the warm-up's rate for this many times the round's length.
POOL_MARGIN = 1.3


@dataclass
class Target:
    """One request measured: its label, the answer it must get, and the goal as a ratio.

    `server` is the one it is sent to: "hello", "app", or "before" (--compare).
    """

    key: str
    label: str
    expect: str
    goal: float | None = None
    runs: list[Run] = field(default_factory=list)
    server: str = "app"

    @property
    def kind(self) -> str:
        """Return the request it sends, whichever server it is sent to."""
        return self.key.removeprefix("before-")

    def before(self) -> Target:
        """Return the same request, sent to the application as it was (--compare)."""
        return Target(f"before-{self.key}", f"{self.label}, before", self.expect, self.goal,
                      server="before")  # fmt: skip


@dataclass
class Run:
    """What one wrk run reported."""

    answered: int
    seconds: float
    wrong: int
    socket_errors: int
    exhausted: bool
    p50_ms: float
    p99_ms: float
    example: str

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def valid(self) -> bool:
        return self.answered > 0 and not self.wrong and not self.socket_errors


TARGETS = [
    Target("hello", "hello (bare Flask)", "page", server="hello"),
    # No goal: the least any signed-in request costs here (bench/floor.py).
    Target("floor", "signed in, empty answer (the floor)", "page"),
    Target("training", "My training (GET /training/)", "page", 0.3),
    Target("module", "module page (GET /training/<module>)", "page", 0.3),
    Target("submit", "quiz submit (POST, fresh attempt)", "submitted", 0.15),
    Target("certificate", "certificate download (stored)", "pdf", 0.3),
    Target("record", "training record download (cached)", "pdf", 0.3),
]


@dataclass
class Bench:
    """The servers, the seeded people and their requests, ready to be measured."""

    app: Flask
    args: argparse.Namespace
    urls: dict[str, str]
    files: Path
    versions: list[int] = field(default_factory=list)
    module: str = ""
    people: int = 0

    def line_file(self, name: str, lines: Iterable[str]) -> Path:
        path = self.files / f"{name}.tsv"
        path.write_text("".join(f"{line}\n" for line in lines))
        return path

    def wrk(self, target: Target, lines: Path, seconds: float, mode: str = "cycle") -> Run:
        """Run wrk on one server with one request file; return what it reported."""
        url = self.urls[target.server]
        threads = str(self.args.threads)
        command = [
            "wrk", f"-t{threads}", f"-c{self.args.connections}", f"-d{seconds:g}s",
            "--timeout", "30s", "-s", str(SCRIPT), url,
            "--", str(lines), target.expect, mode, threads, AGENT,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        result: dict[str, Any] = {}
        example = ""
        for line in done.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line.removeprefix("RESULT "))
            elif line.startswith("WRONG "):
                example = line.removeprefix("WRONG ")
        if not result:
            raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
        errors = sum(result[kind] for kind in ("connect", "read", "write", "timeout"))
        return Run(
            result["answered"], result["seconds"], result["wrong"], errors,
            result["exhausted"], result["p50_ms"], result["p99_ms"], example,
        )  # fmt: skip


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def choose_database(postgresql: str, sqlite: Path, force_sqlite: bool) -> str:
    """Return a fresh database: PostgreSQL when reachable, else an SQLite file."""
    if not force_sqlite:
        try:
            recreate_database(postgresql)
            return postgresql
        except psycopg.OperationalError as error:
            say(f"PostgreSQL not reachable, measuring on SQLite: {error}")
    sqlite.unlink(missing_ok=True)
    return f"sqlite:///{sqlite}"


def bench_config(url: str, secret: str, redis_url: str) -> type[Config]:
    """Return the configuration the seeding shares with the server (its key, its data)."""

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = secret
        REDIS_URL = redis_url
        DEMO_MODE = False
        PUBLIC_BASE_URL = BASE_URL
        MODULES_DIR = ROOT / "modules"
        CERTIFICATES_DIR = ROOT / "certificates"

    return BenchConfig


def server_environment(url: str, secret: str, redis_url: str) -> dict[str, str]:
    """Return the environment of both servers and of the flask commands."""
    env = {
        **os.environ,
        "APP_CONFIG": "development",
        "DATABASE_URL": url,
        "DEMO_MODE": "0",
        "SECRET_KEY": secret,
        "PUBLIC_BASE_URL": BASE_URL,
        "REDIS_URL": redis_url,
        # Eight connections download the same few people's PDFs thousands of times.
        "PDF_LIMIT_PER_USER": "1000000 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "1000000 per minute",
    }
    env.pop("MODULES_DIR", None)
    env.pop("CERTIFICATES_DIR", None)
    return env


def sign_in(app: Flask, person_id: int) -> tuple[str, str]:
    """Start a session through the application's sign-in; return its Cookie and CSRF token.

    Called outside any application context, so that each session gets a context (and a
    CSRF token) of its own.
    """
    with app.test_request_context(
        "/login", method="POST", headers={"User-Agent": AGENT},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ):  # fmt: skip
        complete_sign_in(db.session.get_one(User, person_id), remember=False, target=None)
        token = generate_csrf()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        cookie = serializer.dumps(dict(session))
        db.session.remove()
    return f"{app.config['SESSION_COOKIE_NAME']}={cookie}", token


def right_answers(
    attempt: QuizAttempt, key: dict[str, dict[str, list[str]]]
) -> dict[str, list[str]]:
    """Return the right options of every question drawn for an attempt."""
    answers = key[attempt.module_version.slug]
    return {drawn["id"]: answers[drawn["id"]] for drawn in attempt.questions}


def new_people(count: int, first: int) -> list[User]:
    """Create `count` peacekeepers of the load unit (no one signs in with a password)."""
    names = seed_people(count, secrets.token_urlsafe(16), first)
    people = db.session.scalars(sa.select(User).where(User.username.in_(names)))
    return sorted(people, key=lambda person: person.username)


def ready_for_quiz(person: User, version: ModuleVersion) -> None:
    """Confirm the module's undertaking, when it asks for one, so that its quiz counts."""
    if version.attestation is not None:
        attestation.attest(person, version)


def seed_readers(bench: Bench) -> dict[int, str]:
    """Seed the people who read and download: every module passed but the last.

    Return the code of a certificate of each, by person.
    """
    with bench.app.app_context():
        key = answer_key()
        people = new_people(bench.args.readers, 1)
        versions = curriculum.required_versions(people[0])
        if len(versions) < 2:
            raise SystemExit("The bench needs at least two mandatory modules per person.")
        bench.versions = [version.id for version in versions]
        bench.module = versions[-1].slug
        for person in people:
            for version in versions[:-1]:
                ready_for_quiz(person, version)
                attempt = quiz.start_attempt(person, version)
                quiz.submit_attempt(attempt, right_answers(attempt, key))
            ready_for_quiz(person, versions[-1])
        db.session.commit()
        codes = {
            person.id: str(
                db.session.scalar(
                    sa.select(Certificate.code)
                    .join(Completion)
                    .where(Completion.user_id == person.id)
                    .order_by(Certificate.id)
                    .limit(1)
                )
            )
            for person in people
        }
        bench.people = len(people)
        db.session.remove()
    return codes


def reader_files(bench: Bench, codes: dict[int, str]) -> dict[str, Path]:
    """Sign the readers in afresh (sessions end when idle); return each GET's request file."""
    lines: dict[str, list[str]] = {
        "floor": [], "training": [], "module": [], "certificate": [], "record": []
    }  # fmt: skip
    for person_id, code in codes.items():
        cookie, _token = sign_in(bench.app, person_id)
        lines["floor"].append(f"GET\t/bench/floor\t{cookie}\t")
        lines["training"].append(f"GET\t/training/\t{cookie}\t")
        lines["module"].append(f"GET\t/training/{bench.module}\t{cookie}\t")
        lines["certificate"].append(f"GET\t/training/certificates/{code}.pdf\t{cookie}\t")
        lines["record"].append(f"GET\t/training/record.pdf\t{cookie}\t")
    files = {key: bench.line_file(key, request_lines) for key, request_lines in lines.items()}
    return {**files, "hello": bench.line_file("hello", ["GET\t/\t\t"])}


def seed_pool(bench: Bench, size: int) -> tuple[list[str], list[int]]:
    """Draw `size` open attempts, each of its own person and module; return lines and ids.

    Each person holds one open attempt per mandatory module, as the quiz page would give.
    """
    with bench.app.app_context():
        key = answer_key()
        people = new_people(math.ceil(size / len(bench.versions)), bench.people + 1)
        bench.people += len(people)
        versions = [db.session.get_one(ModuleVersion, id_) for id_ in bench.versions]
        # Module after module, so that attempts of different people follow each other.
        attempts = []
        for version in versions:
            for person in people:
                ready_for_quiz(person, version)
                attempts.append(quiz.start_attempt(person, version))
        attempts = attempts[:size]
        db.session.commit()
        drawn = [(a.user_id, a.id, right_answers(a, key)) for a in attempts]
        db.session.remove()
    sessions = {person_id: sign_in(bench.app, person_id) for person_id, _, _ in drawn}
    lines = []
    for person_id, attempt_id, answers in drawn:
        cookie, token = sessions[person_id]
        form = [("csrf_token", token)] + [
            (f"q{question}", option) for question, options in answers.items() for option in options
        ]
        lines.append(f"POST\t/training/attempts/{attempt_id}\t{cookie}\t{urlencode(form)}")
    return lines, [attempt_id for _, attempt_id, _ in drawn]


def submitted(bench: Bench, ids: list[int]) -> int:
    """Return how many of these attempts the database holds as submitted."""
    with bench.app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.id.in_(ids), QuizAttempt.submitted_at.is_not(None))
        )
        db.session.remove()
    return int(count or 0)


def drain(redis_url: str, limit: float = 1800) -> None:
    """Wait until the render worker has rendered every document queued so far.

    So that the renders the quiz passes made due are not counted against the next request.
    """
    documents = worker.queue(redis_url, worker.DOCUMENTS_QUEUE)
    started = time.monotonic()
    queued = documents.count
    while documents.count or documents.started_job_registry.count:
        if time.monotonic() - started > limit:
            raise SystemExit(f"The render worker left documents queued after {limit:g} s.")
        time.sleep(0.2)
    if queued:
        say(f"the render worker took {time.monotonic() - started:.0f} s more for {queued} passes")


def measure_submit(
    bench: Bench, target: Target, pool: tuple[list[str], list[int]], seconds: float
) -> Run:
    """Submit a pool of fresh attempts; an answer counted for no submitted attempt is wrong.

    The renders the passes make due are left to the worker, and waited for afterwards.
    """
    lines, ids = pool
    run = bench.wrk(target, bench.line_file(f"pool-{ids[0]}", lines), seconds, "once")
    drain(bench.args.redis)
    stored = submitted(bench, ids)
    missing = run.answered - run.wrong - stored
    if missing > 0:
        run.wrong += missing
        run.example = run.example or f"{run.answered} answers, {stored} attempts submitted"
    return run


def report(targets: list[Target], bench: Bench, database: str) -> bool:
    """Print the table of median rates and ratios; return whether every run was valid."""
    args = bench.args
    hello = targets[0]
    print()
    print(
        f"HTTP: gunicorn {WORKERS} sync workers for each server, wrk -t{args.threads} "
        f"-c{args.connections}, {args.rounds} rounds of {args.duration:g} s, {database}; "
        f"load average {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores"
    )
    header = f"{'request':<48}{'req/s':>8}{'ratio':>8}{'goal':>8}{'p50 ms':>9}{'p99 ms':>9}  runs"
    print(header)
    print("-" * len(header))
    valid = True
    for target in targets:
        ratios = [
            run.rate / base.rate
            for run, base in zip(target.runs, hello.runs, strict=True)
            if base.rate
        ]
        ratio = statistics.median(ratios) if ratios else math.nan
        bad = [run for run in target.runs if not run.valid]
        valid = valid and not bad
        goal = f">={target.goal:.2f}" if target.goal else ""
        verdict = ""
        if bad:
            reasons = [
                f"{sum(r.wrong for r in bad)} wrong answers",
                f"{sum(r.socket_errors for r in bad)} socket errors",
                f"{sum(1 for r in bad if not r.answered)} runs without an answer",
            ]
            example = next((f" (e.g. {r.example})" for r in bad if r.example), "")
            verdict = f"  INVALID: {', '.join(reasons)}{example}"
        elif target.goal:
            verdict = "  met" if ratio >= target.goal else "  not met"
        short = [f"{run.seconds:.0f}s" for run in target.runs if run.exhausted]
        note = f" (pool ran out: {', '.join(short)})" if short else ""
        print(
            f"{target.label:<48}{statistics.median(r.rate for r in target.runs):>8.0f}"
            f"{ratio:>8.3f}{goal:>8}"
            f"{statistics.median(r.p50_ms for r in target.runs):>9.1f}"
            f"{statistics.median(r.p99_ms for r in target.runs):>9.1f}"
            f"  {len(target.runs)}{verdict}{note}"
        )
    return valid


def measure(bench: Bench) -> bool:
    """Warm up, then measure every request round after round; print the table."""
    args = bench.args
    say(f"seeding {args.readers} readers")
    readers = seed_readers(bench)
    # Their certificates and records rendered by the worker before any is downloaded.
    drain(args.redis)
    files = reader_files(bench, readers)
    targets = []
    for t in TARGETS:
        if args.only and t.key not in args.only and t.server != "hello":
            continue
        # Side by side: the application as it was just before as it is, for each request.
        # The floor is this checkout's own (bench/floor.py): it has no former self.
        if args.compare and t.server == "app" and t.goal is not None:
            targets.append(t.before())
        targets.append(Target(t.key, t.label, t.expect, t.goal, server=t.server))
    # The warm-up downloads every PDF once (so stored or cached) and gives the quiz's rate.
    warm = {}
    for target in targets:
        if target.kind == "submit":
            pool = seed_pool(bench, args.warmup_attempts)
            warm[target.key] = measure_submit(bench, target, pool, args.warmup)
        else:
            warm[target.key] = bench.wrk(target, files[target.kind], args.warmup)
        run = warm[target.key]
        say(f"warm-up {target.label}: {run.rate:.0f} req/s" + ("" if run.valid else " INVALID"))
    sizes = {
        target.key: max(50, math.ceil(warm[target.key].rate * args.duration * POOL_MARGIN))
        for target in targets
        if target.kind == "submit"
    }
    if sizes:
        say(f"each round's quiz submit: pools of {', '.join(map(str, sizes.values()))} attempts")
    for number in range(1, args.rounds + 1):
        files = reader_files(bench, readers)
        pools = {key: seed_pool(bench, size) for key, size in sizes.items()}
        for target in targets:
            if target.kind == "submit":
                run = measure_submit(bench, target, pools[target.key], args.duration)
            else:
                run = bench.wrk(target, files[target.kind], args.duration)
            target.runs.append(run)
        rates = ", ".join(f"{t.key} {t.runs[-1].rate:.0f}" for t in targets)
        say(f"round {number}/{args.rounds} (req/s): {rates}")
    url = bench.app.config["SQLALCHEMY_DATABASE_URI"]
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    valid = report(targets, bench, database)
    results = {
        "database": database,
        "settings": {key: str(value) for key, value in vars(args).items()},
        "targets": {
            t.key: {"label": t.label, "goal": t.goal, "runs": [vars(r) for r in t.runs]}
            for t in targets
        },
    }
    (args.output / "results.json").write_text(json.dumps(results, indent=1))
    print(f"Runs, request files and server logs: {args.output}")
    return valid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of every request")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of each warm-up")
    parser.add_argument(
        "--warmup-attempts", type=int, default=1000, help="attempts the warm-up may submit"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (-c)")
    parser.add_argument("--readers", type=int, default=8, help="people reading and downloading")
    parser.add_argument(
        "--only", type=lambda value: set(value.split(",")), metavar="KEYS",
        help="measure only these requests, with hello (of: "
        + ", ".join(t.key for t in TARGETS if t.server != "hello") + ")",
    )  # fmt: skip
    parser.add_argument("--sqlite", action="store_true", help="measure on SQLite")
    parser.add_argument(
        "--database", default=POSTGRESQL,
        help="the PostgreSQL database to measure on (dropped and created again)",
    )  # fmt: skip
    parser.add_argument(
        "--compare", type=Path, metavar="DIR",
        help="also measure the application checked out in DIR (an earlier commit, say), "
        "side by side on the same database, each request after its former self",
    )  # fmt: skip
    parser.add_argument(
        "--redis", default=REDIS,
        help="the Redis database of the render worker's queue (emptied first)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=ROOT / "instance" / "bench-pages",
        help="where the request files, server logs and results are kept",
    )  # fmt: skip
    args = parser.parse_args()
    unknown = (args.only or set()) - {t.key for t in TARGETS}
    if unknown:
        parser.error(f"no such request to measure: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install it with `scripts/system-packages wrk`.")
    args.output.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    database = choose_database(args.database, args.output / "bench.db", args.sqlite)
    env = server_environment(database, secret, args.redis)
    flask = [str(BIN / "flask"), "--app", "app"]
    for command in ([*flask, "db", "upgrade"], [*flask, "modules", "sync"]):
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    files = args.output / "requests"
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir()
    bench = Bench(create_app(bench_config(database, secret, args.redis)), args, {}, files)
    servers = start_render_workers(env, 1, args.output)
    started = [
        ("hello", "bench.hello:app", "/", ROOT),
        ("app", "bench.floor:create()", "/login", ROOT),
    ]
    if args.compare:
        started.append(("before", "app:create_app()", "/login", args.compare.resolve()))
    try:
        for name, application, probe, cwd in started:
            port = free_port()
            log = args.output / f"gunicorn-{name}.log"
            servers.append(start_server(env, port, log, WORKERS, application, probe, cwd))
            bench.urls[name] = f"http://127.0.0.1:{port}"
        return 0 if measure(bench) else 1
    finally:
        for server in servers:
            stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
