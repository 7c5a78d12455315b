"""What a person does in the browser, and what the tests read from the server's database."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.ctx import AppContext
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Certificate, QuizAttempt, Unit, User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "blue helmets browser demo"
PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 15_000  # for actions; assertions wait up to EXPECT_TIMEOUT_MS
EXPECT_TIMEOUT_MS = 10_000
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ATTEMPT_URL = re.compile(r"/training/attempts/(\d+)$")


@dataclass(frozen=True)
class LiveServer:
    """The application answering on `url`, a way into its database, and files it serves."""

    app: Flask
    url: str
    files: Path  # a file put here is served at /test-files/<name>

    def data(self) -> AppContext:
        """Return an app context in which to read or change the server's database."""
        return self.app.app_context()


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    full_name: str
    service_number: str
    password: str | None  # None: not set yet, as after a roster import


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the form, as a person types it, and land on their start page."""
    page.goto("/login")
    page.get_by_label("Username or service number").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def attempt_id(page: Page) -> int:
    """Return the id of the quiz attempt the page shows."""
    match = ATTEMPT_URL.search(page.url)
    assert match, f"not a quiz page: {page.url}"
    return int(match.group(1))


def answers(server: LiveServer, attempt: int, correct: bool = True) -> dict[str, list[str]]:
    """Return, per drawn question, the right options (or a wrong one) from the module's quiz.

    The page never shows which options are right; the module's source does.
    """
    with server.data():
        row = db.session.get(QuizAttempt, attempt)
        assert row is not None
        pool = {question["id"]: question for question in row.module_version.quiz}
        chosen = {}
        for drawn in row.questions:
            options = pool[drawn["id"]]["options"]
            right = [option["id"] for option in options if option["correct"]]
            wrong = [option["id"] for option in options if not option["correct"]]
            chosen[drawn["id"]] = right if correct else wrong[:1]
        return chosen


def answer_quiz(page: Page, server: LiveServer, correct: bool = True) -> None:
    """Tick the options for every question of the quiz on the page."""
    for question, options in answers(server, attempt_id(page), correct).items():
        for option in options:
            page.locator(f"#q{question}-{option}").check()


def start_quiz(page: Page, slug: str, t: Callable[[str], str] = str) -> None:
    """Open a module, confirm its undertaking if it has one, and start the quiz.

    `t` gives the words of the page's language (Site.t); English by default.
    """
    page.goto(f"/training/{slug}")
    confirm = page.get_by_label(t("I confirm this undertaking."))
    if confirm.count():
        confirm.check()
        page.get_by_role("button", name=t("Confirm"), exact=True).click()
        recorded = t("Thank you. Your undertaking is recorded. You can now take the quiz.")
        expect(page.get_by_role("status")).to_have_text(recorded)
    page.get_by_role("button", name=t("Start the quiz")).click()
    expect(page).to_have_url(ATTEMPT_URL)


def unit_id(server: LiveServer, code: str) -> int:
    """Return the id of a unit by its code."""
    with server.data():
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        assert unit is not None
        return unit.id


def user_id(server: LiveServer, full_name: str) -> int:
    """Return the id of a person by their full name."""
    with server.data():
        found = db.session.scalar(sa.select(User.id).where(User.full_name == full_name))
        assert found is not None, full_name
        return found


def certificate_code(server: LiveServer, holder: str, valid: bool = True) -> str:
    """Return the code of a certificate of a demo member, still valid or expired."""
    with server.data():
        certificate = db.session.scalar(
            sa.select(Certificate)
            .where(Certificate.holder_name == holder)
            .order_by(Certificate.expires_at.desc() if valid else Certificate.expires_at)
        )
        assert certificate is not None, holder
        return certificate.code


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it stands, against WCAG 2.2 A and AA."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser-deps` (npm ci --prefix tests/browser)")
    # A form's answer can be in the DOM before its stylesheet has loaded: judge the page
    # as it finally looks.
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugging protocol, which the page's
        # Content-Security-Policy (no inline scripts) does not govern.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})
                        .then((results) => results.violations)""",
        WCAG_TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    """Format axe violations: rule, help, and each offending element."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  - {' '.join(map(str, node['target']))}")
            lines.append(f"    {node['html'][:200]}")
            for summary in (node.get("failureSummary") or "").splitlines():
                lines.append(f"      {summary}")
    return "\n".join(lines)


def sticking_out(page: Page) -> list[str]:
    """Return the elements, outside data tables, that reach past the window's end edge.

    The end is the right edge left to right, the left edge right to left: the side to
    which a page scrolls. Data tables may scroll sideways (WCAG 1.4.10 exempts
    two-dimensional content); nothing else may.
    """
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const rtl = getComputedStyle(document.documentElement).direction === 'rtl';
            const beyond = (box) => rtl ? box.left < -0.5 : box.right > width + 0.5;
            return [...document.body.querySelectorAll('*')]
                .filter((e) => !e.closest('table') && beyond(e.getBoundingClientRect()))
                .map((e) => e.outerHTML.slice(0, 120));
        }"""
    )


# The ids the page gives to more than one element: invalid HTML (a label or a skip link
# may then lead to the wrong element), which axe-core no longer reports.
DUPLICATE_IDS = """() => {
    const seen = new Set(), twice = new Set();
    for (const element of document.querySelectorAll('[id]')) {
        (seen.has(element.id) ? twice : seen).add(element.id);
    }
    return [...twice].sort();
}"""


def duplicate_ids(page: Page) -> list[str]:
    """Return the ids more than one element of the page holds."""
    found: list[str] = page.evaluate(DUPLICATE_IDS)
    return found


def assert_accessible(page: Page) -> None:
    """Fail with every WCAG 2.2 AA violation axe-core finds on the page, and repeated ids."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"
    assert duplicate_ids(page) == [], f"ids given twice on {page.url}"


VNU = Path(__file__).parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@dataclass(frozen=True)
class HtmlChecker:
    """The Nu Html Checker (the W3C's validator, vnu.jar) answering on `url`."""

    url: str

    def errors(self, html: str) -> list[str]:
        """Return the checker's errors on a document, each with its line."""
        request = urllib.request.Request(  # noqa: S310 (our own local checker)
            f"{self.url}/?out=json",
            data=html.encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            messages = json.load(response)["messages"]
        return [
            f"line {message.get('lastLine', '?')}: {message['message']}"
            for message in messages
            if message["type"] == "error"
            or (message["type"] == "info" and message.get("subType") == "warning")
        ]


def assert_valid_html(checker: HtmlChecker, page: Page) -> None:
    """Fail with every error and warning the HTML checker finds in the page's document."""
    problems = checker.errors(page.content())
    assert not problems, f"HTML checker on {page.url}:\n" + "\n".join(problems)
