"""One person cannot starve everyone else: limits on PDFs and print jobs, served in turn."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import worker
from app.extensions import limiter
from app.models import AuditEntry, PrintJob, PrintJobStatus, Role
from app.models.types import utcnow
from app.services import printing
from tests.fixtures import PASSWORD, count, pass_module, post


def refusals(db, action: str = "rate_limited") -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


# PDFs ----------------------------------------------------------------------------------


@pytest.fixture
def two_pdfs_a_minute(app, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_LIMIT_PER_USER", "2 per minute")
    limiter.reset()


def test_many_pdf_downloads_by_one_person_are_refused_with_a_clear_page(
    app, client, db, modules, make_user, login, two_pdfs_a_minute
):
    person = make_user()
    certificate = pass_module(person)
    login(person)
    assert client.get("/training/record.pdf").status_code == 200
    assert client.get(f"/training/certificates/{certificate.code}.pdf").status_code == 200
    # Certificates and records share one count: the third PDF of the minute is refused.
    refused = client.get("/training/record.pdf")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "You have downloaded many PDFs in a short time (at most 2 per 1 minute)" in page
    assert "Retry-After" in refused.headers
    # Pages other than PDFs still answer.
    assert client.get("/training/").status_code == 200


def test_pdf_limit_counts_per_person_not_per_address(
    app, client, db, modules, make_user, login, two_pdfs_a_minute
):
    greedy, other = make_user(), make_user()
    login(greedy)
    for _ in range(2):
        assert client.get("/training/record.pdf").status_code == 200
    assert client.get("/training/record.pdf").status_code == 429
    # Another person at the same address is not held back by the first.
    second = app.test_client()
    token = second.get("/login").get_data(as_text=True).split('name="csrf_token"')[1]
    token = token.split('value="')[1].split('"')[0]
    second.post(
        "/login", data={"csrf_token": token, "username": other.username, "password": PASSWORD}
    )
    assert second.get("/training/record.pdf").status_code == 200


def test_commanders_record_downloads_are_limited_and_audited(
    app, client, db, modules, make_user, unit, login, two_pdfs_a_minute
):
    person = make_user()
    login(make_user(Role.COMMANDER, unit=None, assigned_units=[unit]))
    for _ in range(2):
        assert client.get(f"/commander/people/{person.id}/record.pdf").status_code == 200
    assert client.get(f"/commander/people/{person.id}/record.pdf").status_code == 429
    downloads = refusals(db, "record_downloaded")
    assert [entry.target for entry in downloads] == [person.service_number] * 2


def test_refused_requests_are_audited_once_per_person_and_window(
    app, client, db, modules, make_user, login, two_pdfs_a_minute
):
    person = make_user()
    login(person)
    for _ in range(2):
        client.get("/training/record.pdf")
    for _ in range(5):
        assert client.get("/training/record.pdf").status_code == 429
    (entry,) = refusals(db)
    assert entry.target == f"user:{person.id}" and entry.actor == person.username
    assert entry.details == {"limit": "2 per 1 minute", "path": "/training/record.pdf"}


def test_refused_sign_ins_are_audited_once_per_account_and_window(
    app, client, db, make_user, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 2)
    # A stopped clock: the wait after the second failure does not run out during the test.
    stopped = time.time()
    monkeypatch.setattr(time, "time", lambda: stopped)
    limiter.reset()
    user = make_user()
    statuses = [
        post(client, "/login", {"username": user.username, "password": "bad"}).status_code
        for _ in range(6)
    ]
    assert statuses == [401, 401, 429, 429, 429, 429]
    (entry,) = refusals(db, "sign_in_throttled")
    assert entry.target == user.username


# Print jobs ----------------------------------------------------------------------------


@pytest.fixture
def commanders(make_user, unit):
    return [
        make_user(Role.COMMANDER, unit=None, assigned_units=[unit], full_name=name)
        for name in ("Alpha", "Bravo", "Charlie")
    ]


def test_a_third_print_job_waits_until_one_of_the_first_two_ends(
    client, db, modules, unit, make_user, commanders, login, monkeypatch
):
    monkeypatch.setattr(worker, "enqueue", lambda job, base_url: None)
    person = make_user()
    login(commanders[0])
    form = {"unit": unit.id, "people": [person.id], "output": "pdf", "print_selected": "x"}
    assert [post(client, "/commander/print", form).status_code for _ in range(2)] == [303, 303]
    refused = post(client, "/commander/print", form)
    assert refused.status_code == 422
    assert "You already have 2 print jobs waiting or running" in refused.get_data(as_text=True)
    assert count(PrintJob) == 2
    first = db.session.scalars(sa.select(PrintJob).order_by(PrintJob.id)).first()
    first.status, first.finished_at = PrintJobStatus.DONE, utcnow()
    db.session.commit()
    assert post(client, "/commander/print", form).status_code == 303
    created = refusals(db, "print_job_created")
    assert len(created) == 3 and created[0].details["people"] == 1


def test_a_stalled_print_job_does_not_hold_a_place(db, modules, unit, make_user, commanders):
    person, commander = make_user(), commanders[0]
    stalled = printing.create_job(commander, [person.id], "pdf", unit.id)
    stalled.created_at = utcnow() - printing.JOB_TIMEOUT - timedelta(minutes=1)
    printing.create_job(commander, [person.id], "pdf", unit.id)
    db.session.commit()
    assert printing.create_job(commander, [person.id], "pdf", unit.id)


def test_print_jobs_of_different_people_are_served_in_turn(
    app, db, modules, unit, make_user, commanders, monkeypatch
):
    person = make_user()
    alpha, bravo, charlie = commanders
    # Alpha asks first and twice; Bravo and Charlie after.
    order = [alpha, alpha, bravo, charlie]
    jobs = [printing.create_job(c, [person.id], "pdf", unit.id).id for c in order]
    db.session.commit()
    ran = []

    def render(user_ids, output, base_url, target, unit=None, progress=lambda done: None):
        target.write(b"%PDF")
        return printing.BatchFile("x.pdf", "application/pdf", len(user_ids), 1)

    monkeypatch.setattr(worker, "render_batch", render)
    while (job := worker.run_next("http://localhost/")) is not None:
        ran.append(job.id)
    # Alpha's second job waits until Bravo and Charlie have had their turn.
    assert ran == [jobs[0], jobs[2], jobs[3], jobs[1]]


def test_the_next_job_goes_to_whoever_waited_without_being_served(
    db, modules, unit, make_user, commanders
):
    person = make_user()
    alpha, bravo, _ = commanders
    running = printing.create_job(alpha, [person.id], "pdf", unit.id)
    running.status, running.started_at = PrintJobStatus.RUNNING, utcnow()
    waiting_alpha = printing.create_job(alpha, [person.id], "pdf", unit.id)
    waiting_bravo = printing.create_job(bravo, [person.id], "pdf", unit.id)
    db.session.commit()
    assert printing.next_job_id() == waiting_bravo.id
    waiting_bravo.status = PrintJobStatus.RUNNING
    db.session.commit()
    assert printing.next_job_id() == waiting_alpha.id


def test_print_job_files_count_towards_the_pdf_limit(
    client, db, modules, unit, make_user, commanders, login, two_pdfs_a_minute
):
    job = printing.create_job(commanders[0], [make_user().id], "pdf", unit.id)
    db.session.commit()
    job = worker.run_job(job.id, "http://localhost/")
    login(commanders[0])
    url = f"/commander/print/{job.token}/file"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
