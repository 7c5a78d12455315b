"""A learner's pages stay light enough for a slow, distant link.

In the field a peacekeeper may train over a satellite or mobile link of a few hundred
kilobits a second with a third of a second's latency. Each learner page, with the
stylesheet and scripts it links, must stay within a budget once compressed, and a module
page must open about as fast as a static file of the same size from the same server.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from tests.browser.helpers import (
    PASSWORD,
    LiveServer,
    Person,
    answers,
    certificate_code,
)

COMPRESSED_BUDGET = 15 * 1024
UNCOMPRESSED_BUDGET = 60 * 1024
LINKED = re.compile(r'<(?:link rel="stylesheet" href|script src)="(/static/[^"]+)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT = re.compile(r"/training/attempts/(\d+)$")


@dataclass
class Weight:
    page: str
    compressed: int = 0
    uncompressed: int = 0

    def __str__(self) -> str:
        return f"{self.page}: {self.compressed} B gzip, {self.uncompressed} B uncompressed"


def fetch(client: FlaskClient, url: str, weight: Weight) -> str:
    """Get a file as a browser that reads gzip does, adding what it weighs; return its text."""
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    assert response.headers.get("Content-Encoding") == "gzip", f"{url} is sent uncompressed"
    body = gzip.decompress(response.data)
    weight.compressed += len(response.data)
    weight.uncompressed += len(body)
    return body.decode()


def weigh(client: FlaskClient, url: str, name: str) -> Weight:
    """Weigh a page with the stylesheets and scripts it links, as a first visit loads them."""
    weight = Weight(name)
    html = fetch(client, url, weight)
    linked = LINKED.findall(html)
    assert linked, f"{url} links no stylesheet"
    for asset in linked:
        fetch(client, asset, weight)
    return weight


def csrf(client: FlaskClient, url: str) -> str:
    match = CSRF.search(client.get(url).get_data(as_text=True))
    assert match, url
    return match.group(1)


@pytest.fixture
def learner_client(live_server: LiveServer, make_person: Callable[..., Person]) -> FlaskClient:
    """A test client on the live server's application, signed in as a new peacekeeper."""
    client = live_server.app.test_client()
    person = make_person()
    form = {"csrf_token": csrf(client, "/login"), "username": person.username,
            "password": PASSWORD}  # fmt: skip
    assert client.post("/login", data=form).status_code == 302
    return client


def test_every_learner_page_stays_within_its_budget(
    learner_client: FlaskClient, live_server: LiveServer
) -> None:
    client = learner_client
    anonymous = live_server.app.test_client()
    weights = [
        weigh(anonymous, "/login", "sign-in"),
        weigh(anonymous, f"/verify/{certificate_code(live_server, 'Kiran Gurung')}", "verify"),
        weigh(client, "/training/", "my training"),
        weigh(client, "/training/duty-of-care", "module"),
    ]
    token = csrf(client, "/training/reporting")
    started = client.post("/training/reporting/attempts", data={"csrf_token": token})
    match = ATTEMPT.search(started.headers["Location"])
    assert match, started.headers["Location"]
    quiz = f"/training/attempts/{match.group(1)}"
    weights.append(weigh(client, quiz, "quiz"))
    chosen = answers(live_server, int(match.group(1)), correct=False)
    form = {"csrf_token": csrf(client, quiz), **{f"q{q}": o for q, o in chosen.items()}}
    assert client.post(quiz, data=form).status_code == 302
    weights.append(weigh(client, quiz, "result"))

    print("\n" + "\n".join(map(str, weights)))
    too_heavy = [
        str(w)
        for w in weights
        if w.compressed > COMPRESSED_BUDGET or w.uncompressed > UNCOMPRESSED_BUDGET
    ]
    assert too_heavy == [], f"over {COMPRESSED_BUDGET} B compressed or {UNCOMPRESSED_BUDGET} B"
