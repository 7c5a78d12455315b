"""The real application served over HTTP with the demo data, and Chromium to use it."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import send_from_directory
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import PersonnelCategory, Position, Role, Unit, User
from app.models.types import utcnow
from app.services import content, demo
from config import ROOT, TestConfig
from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    EXPECT_TIMEOUT_MS,
    PASSWORD,
    TIMEOUT_MS,
    VNU,
    HtmlChecker,
    LiveServer,
    Person,
    sign_in,
)
from tests.browser.pages import Site


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium against the application served over HTTP"
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the real modules and the demo data from a background thread."""
    database = tmp_path_factory.mktemp("browser") / "blue-beret.db"

    class BrowserConfig(TestConfig):
        # Always a SQLite file of its own, even when TEST_DATABASE_URL names another
        # database: the fixtures of tests/fixtures/ undo every test's writes,
        # and this server's data must last the whole session.
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        MODULES_DIR = ROOT / "modules"
        DEMO_MODE = True
        DEMO_PASSWORD = DEMO_PASSWORD
        REQUIRE_MFA = False

    app = create_app(BrowserConfig)
    # Plain files of the tests' making, served by the application like its own: what a
    # page's timing is compared with.
    files = tmp_path_factory.mktemp("served")
    app.add_url_rule(
        "/test-files/<name>", "test_file", lambda name: send_from_directory(files, name, max_age=0)
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # Known only once the port is bound; read per request, so set before the first one.
    app.config["PUBLIC_BASE_URL"] = url
    with app.app_context():
        db.create_all()
        content.sync_modules(app.config["MODULES_DIR"])
        demo.seed(DEMO_PASSWORD)
        db.session.commit()
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app, url, files)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def html_checker() -> Iterator[HtmlChecker]:
    """Run the Nu Html Checker (vnu.jar, from `make browser-deps`) as a local service."""
    java = shutil.which("java")
    assert java, "The HTML checker needs Java: scripts/system-packages installs it."
    assert VNU.exists(), f"{VNU} is missing: run make browser-deps."
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        java,
        "-Xss8m",  # its schemas are read recursively, deeper than the default stack
        "-Dnu.validator.servlet.bind-address=127.0.0.1",
        "-cp",
        str(VNU),
        "nu.validator.servlet.Main",
        str(port),
    ]
    checker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                break
        except OSError:
            assert checker.poll() is None, "The HTML checker stopped as it started."
            assert time.monotonic() < deadline, "The HTML checker did not start in 60 s."
            time.sleep(0.5)
    yield HtmlChecker(url)
    checker.terminate()
    checker.wait(timeout=10)


_numbers = itertools.count(1)


@pytest.fixture
def make_person(live_server: LiveServer) -> Callable[..., Person]:
    """Create a person in Infantry Battalion 1 who can sign in; keywords override."""

    def make(**values: Any) -> Person:
        number = next(_numbers)
        values.setdefault("username", f"browser{number}")
        values.setdefault("full_name", f"Nadia Okafor {number}")
        values.setdefault("service_number", f"BR-{number:05d}")
        values.setdefault("role", Role.PEACEKEEPER)
        values.setdefault("category", PersonnelCategory.MILITARY_CONTINGENT)
        values.setdefault("position", Position.MEMBER)
        password = values.pop("password", PASSWORD)
        with live_server.data():
            values.setdefault(
                "unit", db.session.scalar(sa.select(Unit).where(Unit.code == "DEMO-INF-1"))
            )
            values.setdefault("deployment_date", (utcnow() + timedelta(days=60)).date())
            user = User(**values)
            if password is not None:
                user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return Person(user.id, user.username, user.full_name, user.service_number, password)

    return make


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; the browser suite is skipped without it.

    One per test module, not per session: while Playwright runs, the main thread has a
    running asyncio loop, and the tests after these must not inherit it.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(scripts/system-packages installs it)"
        )
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(
    chromium: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts (fresh cookie jars) on the server; all closed after the test."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        context = chromium.new_context(base_url=live_server.url, accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A tab in a fresh browser, signed in as nobody."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, Any]:
    """Cookies of the demo accounts, each signed in once through the form."""
    return {}


@pytest.fixture
def open_page(
    new_context: Callable[..., BrowserContext],
    make_person: Callable[..., Person],
    signed_in_states: dict[str, Any],
) -> Callable[..., Page]:
    """Open a tab as a demo account, as a new peacekeeper ("learner"), or as nobody (None)."""

    def open_as(who: str | None, **options: Any) -> Page:
        if who is None:
            return new_context(**options).new_page()
        if who == "learner":
            person = make_person()
            page = new_context(**options).new_page()
            sign_in(page, person.username, PASSWORD)
            return page
        if who not in signed_in_states:
            first = new_context().new_page()
            sign_in(first, who, DEMO_PASSWORD)
            signed_in_states[who] = first.context.storage_state()
        return new_context(storage_state=signed_in_states[who], **options).new_page()

    return open_as


@pytest.fixture
def open_in_arabic(
    open_page: Callable[..., Page],
    new_context: Callable[..., BrowserContext],
    make_person: Callable[..., Person],
    live_server: LiveServer,
) -> Iterator[Callable[[str | None], Page]]:
    """Open a tab in Arabic as `open_page` opens one: a visitor's browser asks for Arabic;
    a new peacekeeper, once signed in, has chosen it; a demo account has it for the test."""
    chosen: dict[str, str | None] = {}

    def open_as(who: str | None) -> Page:
        if who is None:
            return new_context(locale="ar").new_page()
        if who == "learner":
            person = make_person()
            page = new_context().new_page()
            sign_in(page, person.username, PASSWORD)
            account_language(live_server, person.username, "ar")
            return page
        page = open_page(who)
        chosen.setdefault(who, account_language(live_server, who, "ar"))
        return page

    yield open_as
    for who, language in chosen.items():
        account_language(live_server, who, language)


def account_language(server: LiveServer, username: str, language: str | None) -> str | None:
    """Set the language of an account; return the one it had."""
    with server.data():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        before, user.language = user.language, language
        db.session.commit()
        return before


@pytest.fixture
def site(live_server: LiveServer, make_person: Callable[..., Person], tmp_path: Path) -> Site:
    return Site(live_server, make_person, tmp_path)
