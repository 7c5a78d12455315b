"""Time the learner's pages in process against a bare Flask hello, and count their queries.

Run with `python bench/inprocess.py` (add `--database postgresql+psycopg://...` for
PostgreSQL: an empty database of your own, whose tables are dropped and created again).
Every page is requested through Flask's test client, round after round with the hello
in between, so the ratios hold on a busy machine; absolute times do not. A ratio is the
page's rate over the hello's: 0.30 means the page answers 30 requests while the hello
answers 100. This measures the application alone; the HTTP benchmark adds the server.

The learner has every module of modules/ to take, and in each a failed attempt and
a pass with its certificate, so a page whose queries grow with history would show it.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, session  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_wtf.csrf import generate_csrf  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.signin import complete_sign_in  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Certificate,
    Completion,
    Mission,
    PersonnelCategory,
    Position,
    QuizAttempt,
    Unit,
    User,
)
from app.services import attestation, content, quiz, training  # noqa: E402
from config import Config  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Each submission in the timing uses up one open attempt.
SUBMISSIONS = 400


def bare_hello() -> FlaskClient:
    """Return a client of the smallest Flask application: one route answering "Hello"."""
    hello = Flask("hello")
    hello.add_url_rule("/", "hello", lambda: "Hello")
    return hello.test_client()


def seed(unit: Unit, learner_name: str) -> User:
    """Create a learner of the unit with history in every module."""
    learner = User(
        username=learner_name,
        full_name="Bench Learner",
        service_number=learner_name,
        category=PersonnelCategory.MILITARY_CONTINGENT,
        position=Position.COMMANDER,
        unit=unit,
    )
    learner.set_password(PASSWORD)
    db.session.add(learner)
    db.session.flush()
    for version in training.module_statuses(learner):
        current = version.version
        if current.attestation:
            attestation.attest(learner, current)
        failed = quiz.start_attempt(learner, current)
        quiz.submit_attempt(failed, {})
        passed = quiz.start_attempt(learner, current)
        quiz.submit_attempt(passed, right_answers(passed))
    db.session.commit()
    return learner


def right_answers(attempt: QuizAttempt) -> dict[str, list[str]]:
    """Return the right options of each question drawn for an attempt."""
    pool = {question["id"]: question for question in attempt.module_version.quiz}
    return {
        drawn["id"]: [o["id"] for o in pool[drawn["id"]]["options"] if o["correct"]]
        for drawn in attempt.questions
    }


def sign_in(client: FlaskClient, username: str) -> str:
    """Sign in through the form; return the CSRF token the pages carry."""
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login", data={"csrf_token": token[1], "username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = CSRF_RE.search(client.get("/training/").get_data(as_text=True))
    assert page
    return page[1]


def session_of(app: Flask, user_id: int) -> tuple[str, str]:
    """Start a session through the application's sign-in; return its cookie and CSRF token.

    Called outside any application context, so that each session gets a CSRF token of its
    own; no password is checked, so that hundreds of people sign in at once.
    """
    with app.test_request_context("/login", method="POST"):
        complete_sign_in(db.session.get_one(User, user_id), remember=False, target=None)
        token = generate_csrf()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        cookie = serializer.dumps(dict(session))
        db.session.remove()
    return cookie, token


def count_queries(engine: sa.Engine, action: Callable[[], Any]) -> int:
    """Return how many SQL statements an action sends to the database."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def prepare(database: str | None, scratch: str) -> tuple[sa.Engine, dict[str, Callable[[], None]]]:
    """Build the application and its data; return the engine and each page's request."""

    class Bench(Config):
        SQLALCHEMY_DATABASE_URI = database or f"sqlite:///{scratch}/inprocess.db"
        DEMO_MODE = False
        SECRET_KEY = "bench-secret-key-" + "x" * 32
        PDF_LIMIT_PER_USER = "1000000 per minute"
        AUDIT_KEY = "bench-audit-key-" + "x" * 32
        # The certificates a pass issues are rendered in the background, in a thread of
        # this process: left out, so that what is timed is the request's own work.
        PRERENDER_DOCUMENTS = False

    app = create_app(Bench)
    app.add_url_rule("/bench-hello", "bench_hello", lambda: "Hello")
    with app.app_context():
        db.drop_all()
        db.create_all()
        content.sync_modules(Config.MODULES_DIR)
        mission = Mission(code="DEMO", name="Demonstration")  # modules/missions/demo.md
        unit = Unit(mission=mission, code="U1", name="Unit 1", country="Nepal")
        learner = seed(unit, "bench-learner")
        statuses = training.module_statuses(learner)
        shown = statuses[0].version
        slug = shown.slug
        shown_attempt = quiz.start_attempt(learner, shown).id
        submitted = db.session.scalar(
            sa.select(QuizAttempt.id).where(
                QuizAttempt.user_id == learner.id,
                QuizAttempt.module_version_id == shown.id,
                QuizAttempt.passed,
            )
        )
        code = db.session.scalar(
            sa.select(Certificate.code).join(Completion).where(Completion.user_id == learner.id)
        )
        # Open attempts for the submissions, drawn beforehand: one open attempt per person
        # and version, so each submission is another learner's (not the one measured, so
        # the pages measured do not grow with the certificates).
        drawn = []
        for number in range(SUBMISSIONS):
            submitter = User(
                username=f"bench-submitter-{number}",
                full_name="Bench Submitter",
                service_number=f"bench-submitter-{number}",
                category=PersonnelCategory.MILITARY_CONTINGENT,
                position=Position.COMMANDER,
                unit=unit,
            )
            db.session.add(submitter)
            db.session.flush()
            if shown.attestation:
                attestation.attest(submitter, shown)
            drawn.append(quiz.start_attempt(submitter, shown))
        db.session.commit()
        pool = [(a.user_id, a.id, right_answers(a)) for a in drawn]
        engine = db.engine
        db.session.remove()
    open_attempts = [
        (attempt_id, answers, *session_of(app, user_id)) for user_id, attempt_id, answers in pool
    ]

    client, submitting = app.test_client(), app.test_client()
    sign_in(client, "bench-learner")

    def get(path: str, pdf: bool = False) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            assert not pdf or response.data.startswith(b"%PDF"), path

        return fetch

    def submit() -> None:
        attempt_id, answers, cookie, token = open_attempts.pop()
        submitting.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        response = submitting.post(
            f"/training/attempts/{attempt_id}",
            data={"csrf_token": token, **{f"q{key}": value for key, value in answers.items()}},
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    hello = bare_hello()
    return engine, {
        "bare Flask hello": lambda: hello.get("/") and None,
        "app hello (no database)": get("/bench-hello"),
        "My training": get("/training/"),
        "module page": get(f"/training/{slug}"),
        "quiz": get(f"/training/attempts/{shown_attempt}"),
        "quiz submit (a pass)": submit,
        "result": get(f"/training/attempts/{submitted}"),
        # Rendered by the warm-up's download, stored from then on.
        "certificate download": get(f"/training/certificates/{code}.pdf", pdf=True),
        "record download": get("/training/record.pdf", pdf=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds of every page")
    parser.add_argument("--requests", type=int, default=20, help="requests per page per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engine, pages = prepare(args.database, scratch)
        # Warmed up first: the downloads are then stored, as they are once issued.
        for page in pages.values():
            page()
        queries = {name: count_queries(engine, page) for name, page in pages.items()}
        timings: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, page in pages.items():
                started = time.perf_counter()
                for _ in range(args.requests):
                    page()
                timings[name].append((time.perf_counter() - started) * 1000 / args.requests)
    hello_ms = statistics.median(timings["bare Flask hello"])
    print(engine.dialect.name)
    print(f"  {'page':<26} {'ms':>7} {'x hello':>8} {'queries':>8}")
    for name, values in timings.items():
        ms = statistics.median(values)
        print(f"  {name:<26} {ms:7.2f} {hello_ms / ms:8.3f} {queries[name]:8d}")


if __name__ == "__main__":
    main()
