"""Peacekeepers doing their training at the same time, as `make load` runs them.

Each simulated peacekeeper signs in with one of the seeded accounts, then, over and
over: opens their module list, reads one of their modules, confirms its undertaking if
it asks for one, takes its quiz when they may (answering from the answer key, wrongly
now and then, as people do), and downloads a certificate or their training record.

Every submitted attempt is written to LOAD_ATTEMPT_LOG (one JSON line: attempt id,
username, whether it should have passed), so the runner can check afterwards that each
one is in the database as submitted. A line marked "sending" comes first: when the run
stops a peacekeeper during the submission, the runner knows the attempt was in flight.
Settings come from the environment:

LOAD_ACCOUNTS      the JSON file load/seed.py wrote (usernames and answer key)
LOAD_PASSWORD      the seeded accounts' password
LOAD_ATTEMPT_LOG   where to write the submitted attempts
LOAD_RIGHT_SHARE   the share of attempts answered correctly (default 0.75)
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text())
ANSWERS: dict[str, dict[str, list[str]]] = ACCOUNTS["answers"]
PASSWORD = os.environ["LOAD_PASSWORD"]
ATTEMPT_LOG = Path(os.environ["LOAD_ATTEMPT_LOG"])
RIGHT_SHARE = float(os.environ.get("LOAD_RIGHT_SHARE", "0.75"))

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MODULE_RE = re.compile(r'href="/training/([a-z0-9]+(?:-[a-z0-9]+)*)"')
CERTIFICATE_RE = re.compile(r'href="(/training/certificates/[A-Z0-9-]+\.pdf)"')
ATTEMPT_RE = re.compile(r"/training/attempts/(\d+)$")
OPTION_RE = re.compile(r'name="q(\d+)" value="([^"]+)"')

_unused_accounts = iter(ACCOUNTS["usernames"])
rng = random.Random()  # noqa: S311  (a mix of behaviours, not secrets)


class Peacekeeper(FastHttpUser):
    """One peacekeeper taking their mandatory training."""

    wait_time = between(1, 4)

    def on_start(self) -> None:
        try:
            self.username = next(_unused_accounts)
        except StopIteration:
            raise RuntimeError("more simulated peacekeepers than seeded accounts") from None
        page = self.page("/login", "/login")
        form = {"csrf_token": self.csrf(page or ""), "username": self.username}
        self.post_redirect("/login", "/login [POST]", {**form, "password": PASSWORD})

    @task
    def train(self) -> None:
        listing = self.page("/training/", "/training/")
        if listing is None:
            return
        slugs = sorted(set(MODULE_RE.findall(listing)) & set(ANSWERS))
        if slugs:
            self.study(rng.choice(slugs))
        certificates = CERTIFICATE_RE.findall(listing)
        if certificates and rng.random() < 0.5:
            self.download(rng.choice(certificates), "/training/certificates/[code].pdf")
        elif certificates and rng.random() < 0.1:
            self.download("/training/record.pdf", "/training/record.pdf")

    def study(self, slug: str) -> None:
        """Read a module; confirm its undertaking and take its quiz if due."""
        page = self.page(f"/training/{slug}", "/training/[module]")
        if page is None:
            return
        if f'action="/training/{slug}/attestation"' in page:
            if not self.post_redirect(
                f"/training/{slug}/attestation",
                "/training/[module]/attestation",
                {"csrf_token": self.csrf(page), "confirm": "yes"},
            ):
                return
            page = self.page(f"/training/{slug}", "/training/[module]")
            if page is None:
                return
        if f'action="/training/{slug}/attempts"' in page:
            self.take_quiz(slug, self.csrf(page))

    def take_quiz(self, slug: str, token: str) -> None:
        location = self.post_redirect(
            f"/training/{slug}/attempts", "/training/[module]/attempts", {"csrf_token": token}
        )
        match = ATTEMPT_RE.search(location or "")
        if match is None:
            return
        url = f"/training/attempts/{match.group(1)}"
        quiz = self.page(url, "/training/attempts/[id]")
        if quiz is None:
            return
        shown: dict[str, list[str]] = {}
        for question, option in OPTION_RE.findall(quiz):
            shown.setdefault(question, []).append(option)
        right = rng.random() < RIGHT_SHARE
        form: list[tuple[str, str]] = [("csrf_token", self.csrf(quiz))]
        for question, options in shown.items():
            correct = ANSWERS[slug][question]
            chosen = correct if right else [o for o in options if o not in correct][:1]
            form += [(f"q{question}", option) for option in chosen]
        entry = {"attempt": int(match.group(1)), "user": self.username, "passed": right}
        self.log({**entry, "sending": True})
        if self.post_redirect(url, "/training/attempts/[id] [POST]", form) != url:
            return
        self.log(entry)
        result = self.page(url, "/training/attempts/[id]")
        if result is not None and right and "/training/certificates/" not in result:
            self.fail("result page", "a passed attempt's result page links no certificate")

    @staticmethod
    def log(entry: dict[str, Any]) -> None:
        """Append one line to the attempt log."""
        with ATTEMPT_LOG.open("a") as log:
            log.write(json.dumps(entry) + "\n")

    def download(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                response.failure(f"{response.status_code}: not a PDF")

    def page(self, url: str, name: str) -> str | None:
        """GET a page; None (and a failure) unless it answers 200."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}")
                return None
            return str(response.text)

    def post_redirect(self, url: str, name: str, data: Any) -> str | None:
        """POST a form that must answer with a redirect; return where it leads."""
        with self.client.post(
            url,
            data=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"answered {response.status_code}, not a redirect")
                return None
            return urlsplit(response.headers["Location"]).path

    def fail(self, name: str, message: str) -> None:
        """Count a wrong page as a failure even though it answered 200."""
        self.environment.events.request.fire(
            request_type="CHECK",
            name=name,
            response_time=0,
            response_length=0,
            exception=AssertionError(message),
            context={},
        )

    @staticmethod
    def csrf(page: str) -> str:
        match = CSRF_RE.search(page)
        return match.group(1) if match else ""
