"""Crashes: a server killed in the middle of an import leaves nothing half done, and the
application carries on after the database server restarts.

The kill test runs a real gunicorn server on the test database (the SQLite file, or
PostgreSQL with TEST_DATABASE_URL), uploads a roster of 20,000 people through the web
page, presses Confirm, and kills the server with SIGKILL while it is writing the people:

- on SQLite, the rollback journal (`<database>-journal`) exists exactly while a write
  transaction is open. The test waits for it to appear, lets the server write for a
  moment (the import's transaction lasts about two seconds), then kills it. An import
  committed in parts would have committed some of them by then;
- on PostgreSQL, the test first inserts, without committing, a person with the service
  number of the file's last row. The server's bulk INSERT then waits for that row's fate
  with every earlier row written in its transaction (an import committed in parts would
  have committed those), and pg_stat_activity shows the wait. The test kills the server
  there, then rolls its own row back.

Afterwards not one person of the file may exist, and confirming the same preview on a
restarted server must import everyone, once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from app.models import Role, RosterUpload, User
from tests.fixtures import DATA, PASSWORD, count, csv_file, free_port

# A separate server process and connections of its own must see what the test commits.
pytestmark = pytest.mark.committing

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROWS = 20_000
PREFIX = "CRASH-"
WAIT_SECONDS = 120


def postgresql(app: Flask) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


def wait_for(condition: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    """Poll until a condition holds; return its value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"gave up after {seconds} s waiting for {what}")


class Server:
    """The application under gunicorn, in a process group of its own."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "APP_CONFIG": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "crash-test-secret-" + "k" * 40,
            "PUBLIC_BASE_URL": "https://training.example.org",
            "MODULES_DIR": str(DATA / "modules"),
            "DEMO_MODE": "0",
            "REQUIRE_MFA": "0",
            "MAIL_SERVER": "",
        }
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    *(str(GUNICORN), "--workers", "1", "--timeout", "600"),
                    *("--bind", f"127.0.0.1:{self.port}", "app:create_app()"),
                ],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self.ready, f"the server to answer (log: {log})", 60)
        except BaseException:
            self.kill()
            raise

    def ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the server exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(self.base + "/login", timeout=30).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """Kill gunicorn and its worker at once, as a power cut or the OOM killer would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def start_server(app: Flask, tmp_path: Path) -> Iterator[Callable[[], Server]]:
    servers: list[Server] = []

    def start() -> Server:
        servers.append(Server(str(app.config["SQLALCHEMY_DATABASE_URI"]), tmp_path / "server.log"))
        return servers[-1]

    yield start
    for server in servers:
        server.kill()


def sign_in(server: Server, username: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF_RE.search(browser.get(server.base + "/login").text).group(1)
    response = browser.post(
        server.base + "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return browser


def form_token(server: Server, browser: requests.Session) -> str:
    return CSRF_RE.search(browser.get(server.base + "/coordinator/roster").text).group(1)


class ImportWatch:
    """Tell when the server is inside the import's transaction."""

    def __init__(self, app: Flask, db: Any, unit_id: int, last_service_number: str) -> None:
        self.db = db
        self.postgresql = postgresql(app)
        self.waiting: list[int] = []
        if self.postgresql:
            # Hold the last row back; see the module's docstring.
            self.held = db.engine.connect()
            self.held.execute(
                sa.insert(User).values(
                    username=last_service_number.lower(),
                    service_number=last_service_number,
                    full_name="Held back",
                    role=Role.PEACEKEEPER.value,
                    category="civilian",
                    position="member",
                    unit_id=unit_id,
                    is_active=True,
                )
            )
        else:
            self.journal = Path(db.engine.url.database + "-journal")

    def server_is_importing(self) -> bool:
        if not self.postgresql:
            return self.journal.exists()
        with self.db.engine.connect() as probe:
            self.waiting = list(
                probe.scalars(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"user\"%'"
                    )
                )
            )
        return bool(self.waiting)

    def release(self) -> None:
        if self.postgresql:
            self.held.rollback()
            self.held.close()
            # The killed server's backend finds its client gone and rolls back.
            wait_for(lambda: not self.backends_alive(), "the killed server's backend to end")

    def backends_alive(self) -> bool:
        with self.db.engine.connect() as probe:
            alive = probe.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": self.waiting},
            )
        return bool(alive)


def roster_people(db: Any) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(User.service_number).where(User.service_number.like(PREFIX + "%"))
        )
    )


def test_server_killed_during_a_roster_import_leaves_no_partial_import(
    app, db, make_user, unit, start_server
):
    coordinator = make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])
    rows = [f"{PREFIX}{n:05d},Person {n:05d},military_contingent,UNIT-A,,," for n in range(ROWS)]
    content = csv_file(*rows)
    assert len(content) < app.config["MAX_CONTENT_LENGTH"]  # a file the web page accepts

    first = start_server()
    browser = sign_in(first, coordinator.username)
    token = form_token(first, browser)
    uploaded = browser.post(
        first.base + "/coordinator/roster",
        data={"csrf_token": token},
        files={"file": ("roster.csv", content, "text/csv")},
        allow_redirects=False,
    )
    assert uploaded.status_code == 302, uploaded.text
    preview = uploaded.headers["Location"]

    watch = ImportWatch(app, db, unit.id, rows[-1].split(",")[0])
    outcome: dict[str, Any] = {}

    def confirm() -> None:
        try:
            outcome["response"] = browser.post(
                first.base + preview, data={"csrf_token": token}, timeout=600
            )
        except requests.ConnectionError as error:
            outcome["error"] = error

    pressed = threading.Thread(target=confirm)
    pressed.start()
    try:
        wait_for(watch.server_is_importing, "the server to be writing the import")
        time.sleep(0.3)
        first.kill()
    finally:
        watch.release()
    pressed.join(30)

    # The coordinator got no answer: the server died in the middle of the request.
    assert "response" not in outcome, "the import finished before the server was killed"
    # Not one person of the file exists, and the preview is still there to confirm.
    assert roster_people(db) == []
    assert count(RosterUpload) == 1
    if not postgresql(app):
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    # Back up, the same preview imports everyone, once.
    second = start_server()
    done = browser.post(second.base + preview, data={"csrf_token": token}, timeout=600)
    assert done.status_code == 200, done.text[-2000:]
    assert f"{ROWS} new people, 0 updated, 0 unchanged." in done.text
    assert sorted(roster_people(db)) == sorted(row.split(",")[0] for row in rows)
    assert count(RosterUpload) == 0


def pg_start_time(db: Any) -> Any:
    with db.engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_postmaster_start_time()"))


@pytest.mark.skipif(
    not str(os.environ.get("TEST_DATABASE_URL", "")).startswith("postgres"),
    reason="restarts the PostgreSQL server; SQLite has no server to restart",
)
def test_next_request_after_a_postgresql_restart_succeeds(
    app, client, db, modules, make_user, login
):
    login(make_user())
    assert client.get("/training/").status_code == 200
    # Every connection is back in the pool, as between requests, to be reused by the next.
    db.session.remove()
    assert db.engine.pool.checkedout() == 0 and db.engine.pool.checkedin() >= 1
    started = pg_start_time(db)

    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=120,
    )
    wait_for(
        lambda: (
            subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0
        ),
        "PostgreSQL to accept connections again",
        60,
    )

    # The pooled connection died with the old server; the next request does not notice.
    page = client.get("/training/")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "Conduct basics" in page.get_data(as_text=True)
    assert pg_start_time(db) != started
