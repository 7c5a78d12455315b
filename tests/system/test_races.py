"""Requests that arrive together take effect once: certificate issue, its first download and
roster import.

Each race runs 20 threads, each with its own test client holding the same signed-in
session (as 20 tabs, or an impatient double click, would), released at one moment by a
barrier. On SQLite the threads share a database file; with TEST_DATABASE_URL they
race on PostgreSQL.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db as _db
from app.models import (
    Certificate,
    Completion,
    Document,
    DocumentChunk,
    QuizAttempt,
    Role,
    RosterUpload,
    User,
)
from tests.fixtures import (
    answers_for,
    count,
    csrf_token,
    csv_file,
    pass_module,
    post,
    start,
    upload_and_preview,
)

# Twenty threads, each with its own connection, must see what the others commit.
pytestmark = pytest.mark.committing

THREADS = 20
FLASH_RE = re.compile(r'<p class="flash[^"]*"[^>]*>([^<]+)</p>')
T = TypeVar("T")


def together(action: Callable[[], T], threads: int = THREADS) -> list[T]:
    """Run an action in several threads released at the same moment; return every result."""
    barrier = threading.Barrier(threads)
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = action()
        except BaseException as error:  # reported below, in the test's own thread
            with lock:
                failures.append(error)
        else:
            with lock:
                results.append(result)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures
    return results


def same_session(app: Flask, client: FlaskClient) -> Callable[[], FlaskClient]:
    """Return a factory of clients holding the client's session, like other tabs."""
    cookie = client.get_cookie("session")
    assert cookie is not None

    def tab() -> FlaskClient:
        browser = app.test_client()
        browser.set_cookie("session", cookie.value)
        return browser

    return tab


# Certificate issue


def test_twenty_submissions_of_a_passing_attempt_issue_one_certificate(
    app, client, db, modules, make_user, login
):
    learner = make_user()
    login(learner)
    response = post(client, "/training/pledge/attestation", {"confirm": "yes"})
    assert response.status_code == 302
    attempt_id = start(client, "pledge")
    form = {"csrf_token": csrf_token(client, "/training/"), **answers_for(db, attempt_id)}
    tab = same_session(app, client)
    result_url = f"/training/attempts/{attempt_id}"

    responses = together(lambda: tab().post(result_url, data=form))

    # Every click lands on the result page; none meets an error.
    assert [r.status_code for r in responses] == [302] * THREADS
    assert {r.headers["Location"] for r in responses} == {result_url}
    assert count(Completion) == 1
    assert count(Certificate) == 1
    certificate = db.session.scalar(sa.select(Certificate))
    completion = db.session.scalar(sa.select(Completion))
    assert certificate.completion_id == completion.id and completion.attempt_id == attempt_id
    assert certificate.attestation and "established channels" in certificate.attestation

    result = client.get(result_url).get_data(as_text=True)
    assert certificate.code in result
    listing = client.get("/training/").get_data(as_text=True)
    # One certificate listed under My certificates (the plan above links to it too).
    held = listing.split("My certificates", 1)[1]
    assert held.count("/training/certificates/") == 1
    assert held.count(f"/training/certificates/{certificate.code}.pdf") == 1
    pdf = client.get(f"/training/certificates/{certificate.code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_twenty_submissions_of_a_failing_attempt_record_one_failure_and_no_certificate(
    app, client, db, modules, make_user, login
):
    login(make_user())
    attempt_id = start(client)
    form = {
        "csrf_token": csrf_token(client, "/training/"),
        **answers_for(db, attempt_id, right=False),
    }
    tab = same_session(app, client)

    responses = together(lambda: tab().post(f"/training/attempts/{attempt_id}", data=form))

    assert [r.status_code for r in responses] == [302] * THREADS
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.submitted_at is not None and attempt.passed is False
    assert count(Completion) == 0 and count(Certificate) == 0
    # The learner may try again: the failed attempt does not block a new one.
    assert start(client) != attempt_id


# Certificate download


def test_twenty_downloads_of_a_certificate_not_rendered_yet_store_it_once(
    app, client, db, modules, make_user, login
):
    learner = make_user()
    certificate = pass_module(learner)
    login(learner)
    tab = same_session(app, client)

    responses = together(lambda: tab().get(f"/training/certificates/{certificate.code}.pdf"))

    # Every download gets the same file, rendered by whichever got there first.
    assert [r.status_code for r in responses] == [200] * THREADS
    assert len({r.data for r in responses}) == 1
    assert len({r.headers["ETag"] for r in responses}) == 1
    (document,) = db.session.scalars(sa.select(Document)).all()
    assert responses[0].headers["ETag"] == f'"{document.digest}"'
    chunks = db.session.scalars(sa.select(DocumentChunk.digest)).all()
    assert chunks == [document.digest]


# Roster import

ROSTER_ROWS = 200


def test_twenty_confirmations_of_one_roster_create_everyone_once(
    app, client, db, make_user, unit, login
):
    coordinator = make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])
    login(coordinator)
    rows = [f"RACE-{n:04d},Person {n},military_contingent,UNIT-A,,," for n in range(ROSTER_ROWS)]
    url, page = upload_and_preview(client, csv_file(*rows))
    assert f"New people</dt><dd>{ROSTER_ROWS}</dd>" in page.replace("\n", "")
    form = {"csrf_token": csrf_token(client, "/coordinator/roster")}
    tab = same_session(app, client)

    def confirm() -> tuple[int, str, int | None, str]:
        """Press Confirm in a tab; return what the coordinator ends up seeing."""
        browser = tab()
        response = browser.post(url, data=form)
        if response.status_code != 302:
            return response.status_code, "", None, response.get_data(as_text=True)
        location = response.headers["Location"]
        landing = browser.get(location)
        return 302, location, landing.status_code, landing.get_data(as_text=True)

    outcomes = together(confirm)

    # Everyone in the file exists exactly once, and the preview is spent.
    numbers = db.session.scalars(
        sa.select(User.service_number).where(User.service_number.like("RACE-%"))
    ).all()
    assert sorted(numbers) == sorted(row.split(",")[0] for row in rows)
    assert count(RosterUpload) == 0

    statuses = [status for status, *_ in outcomes]
    assert 500 not in statuses, [page for _s, _l, _f, page in outcomes if "went wrong" in page]
    done = [page for status, _l, _f, page in outcomes if status == 200]
    assert len(done) == 1, f"{len(done)} confirmations reported an import"
    assert f"{ROSTER_ROWS} new people, 0 updated, 0 unchanged." in done[0]

    for status, location, landing_status, page in outcomes:
        if status == 200:
            continue
        # A confirmation that arrives after the import has nothing left to confirm (404);
        # one sent back to a page must land on a page that exists and says why.
        assert status in {302, 404}, status
        # Everyone was imported: a page telling the coordinator otherwise is wrong.
        assert "Nothing was imported" not in page, (location, landing_status, page_flash(page))
        if status == 302:
            assert landing_status == 200, (location, landing_status, page_flash(page))
            assert page_flash(page), location


def page_flash(page: str) -> list[str]:
    """Return the messages flashed on a page."""
    return FLASH_RE.findall(page)


# Report counts


def test_counts_stay_right_when_people_move_as_they_complete_and_counts_refresh(
    app, db, modules, make_user, unit, other_unit
):
    from datetime import date, timedelta

    from app.models.types import utcnow
    from app.services import records, training
    from app.services.reporting import Cutoffs, summary

    people = [make_user(deployment_date=date.today() + timedelta(days=60)) for _ in range(9)]
    ids, elsewhere = [person.id for person in people], other_unit.id
    basics = training.current_version("basics").module_id
    started = itertools.count()
    lock = threading.Lock()

    def act() -> None:
        with lock:
            index = next(started)
        with app.app_context():
            if index >= 2 * len(ids):
                summary.refresh()
            else:
                person = _db.session.get(User, ids[index // 2])
                if index % 2:  # a completion, while another thread moves this very person
                    records.extend([(person.id, basics, utcnow() + timedelta(days=365))])
                else:
                    person.unit_id = elsewhere
                    person.deployment_date = date.today() - timedelta(days=1)
            _db.session.commit()

    together(act)
    assert summary.differences(Cutoffs.at()) == []
