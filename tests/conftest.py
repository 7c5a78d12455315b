"""Fixtures that read like a story: an app, a database, people, and signing in."""

from __future__ import annotations

import functools
import itertools
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from app.models import Mission, PersonnelCategory, Position, Role, Unit, User
from app.services import content
from config import TestConfig
from tests.mail import Inbox, free_port

pytest_plugins = ["tests.skip_policy"]

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _Config(TestConfig):
    MODULES_DIR = DATA / "modules"


class IsolatedClient(FlaskClient):
    """A client whose every request runs in its own app context, as in production.

    Without this, requests would share the test's app context: its `g` (where
    CSRF tokens are cached) and its database session.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if _Config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///blue-beret.db"):
        # A file, not memory, so that threads in the concurrency tests share it.
        _Config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app(_Config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database, emptied after each test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        empty_all_tables()
        limiter.reset()


def empty_all_tables() -> None:
    """Delete every row, the append-only audit trail included (as only a DBA could)."""
    from app.models.audit import APPEND_ONLY_SQLITE

    with _db.engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            connection.execute(sa.text("TRUNCATE audit_entry"))
        else:
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
        for table in reversed(_db.metadata.sorted_tables):
            connection.execute(table.delete())
        if not postgresql:
            for statement in APPEND_ONLY_SQLITE:
                connection.execute(statement)


@pytest.fixture
def modules(db: Any) -> None:
    """The test modules, loaded as `flask modules sync` loads them."""
    content.sync_modules(_Config.MODULES_DIR)
    db.session.commit()


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def unit(db: Any) -> Unit:
    mission = Mission(code="TEST", name="Test Mission")
    unit = Unit(mission=mission, code="UNIT-A", name="Unit A", country="Ghana")
    db.session.add(unit)
    db.session.commit()
    return unit


@pytest.fixture
def other_unit(db: Any, unit: Unit) -> Unit:
    """A second unit in the same mission, assigned to no one."""
    other = Unit(mission_id=unit.mission_id, code="UNIT-B", name="Unit B", country="Peru")
    db.session.add(other)
    db.session.commit()
    return other


_numbers = itertools.count(1)


@pytest.fixture
def make_user(db: Any, unit: Unit) -> Callable[..., User]:
    """Create a person; every keyword overrides a sensible default."""

    def make(role: Role = Role.PEACEKEEPER, **values: Any) -> User:
        number = next(_numbers)
        values.setdefault("username", f"{role.value}{number}")
        values.setdefault("full_name", f"Person {number}")
        values.setdefault("service_number", f"SN-{number:05d}")
        values.setdefault("category", PersonnelCategory.MILITARY_CONTINGENT)
        values.setdefault("position", Position.MEMBER)
        values.setdefault("unit", unit)
        password = values.pop("password", PASSWORD)
        user = User(role=role, **values)
        if password == PASSWORD:
            # Hashing is slow by design; one hash serves every test person.
            user.password_hash = _password_hash()
        else:
            user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@functools.cache
def _password_hash() -> str:
    # Few iterations: tests sign in thousands of times; the method is read from the hash.
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """Read a CSRF token from a page's form, as a browser would submit it."""
    response = client.get(page, follow_redirects=True)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with a valid CSRF token taken from a page of the site."""
    page = "/training/" if _signed_in(client) else "/login"
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs)


def _signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign a person in through the sign-in form."""

    def sign_in(user: User, password: str = PASSWORD) -> FlaskClient:
        response = post(client, "/login", {"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


def count(model: Any) -> int:
    """Count the rows of a model's table."""
    return int(_db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.fixture
def inbox(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on localhost that the application sends to."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield handler
    controller.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server: REDIS_TEST_URL, the local one, or one started for the run."""
    import redis

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pass
    else:
        yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "Redis is needed: install Debian's redis-server (scripts/system-packages)"
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/15"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def mail_down(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mail server address where nothing listens."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
