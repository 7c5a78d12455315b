"""Batch printing: one PDF or a ZIP for many people, in the background, for their commander."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from app import worker
from app.models import Document, DocumentChunk, PrintJob, PrintJobFile, PrintJobStatus, Role
from app.models.types import utcnow
from app.services import printing, training
from tests.fixtures import count, move_expiry, pass_module, pdf_text, post
from tests.fixtures.languages import shown

STATUS_URL = re.compile(r"/commander/print/([\w-]+)$")
REFRESH = '<meta http-equiv="refresh" content="2">'
BASE = "https://printing.example.org/"


# People and jobs -----------------------------------------------------------------------


@pytest.fixture
def commander(make_user, unit):
    return make_user(Role.COMMANDER, unit=None, assigned_units=[unit], full_name="Rajan Thapa")


@pytest.fixture
def troops(modules, make_user):
    """Three people of Unit A: one Ready, one Blocked, one Expiring, in print order."""
    far = date.today() + timedelta(days=200)
    ready = make_user(full_name="Amina Haddad", service_number="GH-20417", deployment_date=far)
    blocked = make_user(full_name="Ivan Petrov", service_number="RU/555", deployment_date=far)
    expiring = make_user(full_name="Mei Wang", service_number="CN-88", deployment_date=far)
    for person in (ready, expiring):
        pass_module(person, "basics")
        pass_module(person, "pledge")
    soon = utcnow() + timedelta(days=10)
    move_expiry(expiring, training.current_version("basics").module_id, soon)
    return [ready, blocked, expiring]


@pytest.fixture
def no_redis(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")


def start(client, unit, people=(), output="pdf", button="print_selected"):
    """Submit the print form as a commander would."""
    return post(
        client,
        "/commander/print",
        {"unit": unit.id, "people": [p.id for p in people], "output": output, button: "x"},
    )


def job_of(response):
    match = STATUS_URL.search(response.headers["Location"])
    assert response.status_code == 303 and match, response.status_code
    return match.group(1)


# The output ----------------------------------------------------------------------------


def test_one_pdf_has_each_person_on_a_page_of_their_own_in_name_order(
    client, unit, commander, troops, login, inline_jobs, tmp_path
):
    login(commander)
    token = job_of(start(client, unit, troops))
    response = client.get(f"/commander/print/{token}/file")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert len(PdfReader(io.BytesIO(response.data)).pages) == len(troops)
    for number, person in enumerate(sorted(troops, key=lambda p: p.full_name), start=1):
        text = pdf_text(response.data, tmp_path, page=number)
        assert person.full_name in text and person.service_number in text
        assert "Conduct training record" in text
        others = [p.full_name for p in troops if p is not person]
        assert not any(name in text for name in others)


def test_zip_holds_one_pdf_per_person_named_by_service_number(
    client, unit, commander, troops, login, inline_jobs, tmp_path
):
    login(commander)
    token = job_of(start(client, unit, troops, output="zip"))
    response = client.get(f"/commander/print/{token}/file")
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    # A slash cannot stand in a file name: RU/555 is written RU_555.
    assert sorted(archive.namelist()) == ["CN-88.pdf", "GH-20417.pdf", "RU_555.pdf"]
    for person in troops:
        name = printing.safe_name(person.service_number) + ".pdf"
        pdf = archive.read(name)
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
        text = pdf_text(pdf, tmp_path)
        assert person.full_name in text and person.service_number in text


# The print worker runs in other processes or threads, with connections of their own.
@pytest.mark.committing
def test_large_batches_render_in_worker_processes_with_progress_per_chunk(
    app, unit, commander, troops, make_user, monkeypatch, tmp_path
):
    more = [make_user(full_name=f"Zoe Extra {n}") for n in range(2)]
    people = troops + more
    monkeypatch.setattr(printing.batches, "CHUNK_SIZE", 2)
    assert printing.plan([p.id for p in people], 2) == (
        [[people[0].id, people[1].id], [people[2].id, people[3].id], [people[4].id]],
        2,
    )
    progress = []
    ids = printing.print_order([p.id for p in people])
    printed = io.BytesIO()
    batch = worker.render_batch(ids, "pdf", "http://localhost/", printed, unit, progress.append)
    assert progress == [2, 4, 5]
    assert batch.pages == len(PdfReader(printed).pages) == 5
    assert batch.filename.startswith("training-records-UNIT-A-") and batch.people == 5
    text = pdf_text(printed.getvalue(), tmp_path)
    for person in people:
        assert person.full_name in text


# The print worker runs in other processes or threads, with connections of their own.
@pytest.mark.committing
def test_one_pdf_is_archival_pdfa3b_like_a_single_record(app, unit, troops, make_user, monkeypatch):
    people = [*troops, make_user(full_name="Zoe Extra")]
    monkeypatch.setattr(printing.batches, "CHUNK_SIZE", 2)
    printed = io.BytesIO()
    ids = printing.print_order([p.id for p in people])
    batch = worker.render_batch(ids, "pdf", BASE, printed, unit)
    reader = PdfReader(printed)
    assert len(reader.pages) == 4
    assert (reader.xmp_metadata.pdfaid_part, reader.xmp_metadata.pdfaid_conformance) == ("3", "B")
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.metadata.title == batch.filename.removesuffix(".pdf")


def test_batch_links_point_to_the_site_decided_when_printing_without_a_request(
    app, unit, troops, monkeypatch
):
    def no_made_up_request(*args, **kwargs):
        raise AssertionError("a batch is rendered without a request")

    monkeypatch.setattr(type(app), "test_request_context", no_made_up_request)
    printed = io.BytesIO()
    worker.render_batch(printing.print_order([troops[0].id]), "pdf", BASE, printed, unit)
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(printed).pages
        for annotation in page.get("/Annots", [])
    ]
    assert links and all(link.startswith(BASE + "verify/set?codes=") for link in links), links


# The pages -----------------------------------------------------------------------------


def test_print_page_lists_the_units_people_and_creates_nothing(
    client, unit, commander, troops, login
):
    login(commander)
    page = client.get(f"/commander/print?unit={unit.id}").get_data(as_text=True)
    for person in troops:
        assert f'<input type="checkbox" name="people" value="{person.id}"' in page
        label = re.search(rf'<label for="person-{person.id}">(.*?)</label>', page, re.S)
        assert label and person.full_name in label.group(1)
        assert person.service_number in label.group(1)
    assert "Ready</span>" in page and "Blocked</span>" in page and "Expiring</span>" in page
    assert 'name="csrf_token"' in page and 'method="post"' in page
    assert "Print selected" in page and "Print all Ready" in page
    assert 'type="radio"' in page and "ZIP" in page
    assert count(PrintJob) == 0


def test_print_page_lists_one_readiness_when_asked_and_keeps_it(
    client, unit, commander, troops, login, held_jobs
):
    ready, blocked, expiring = troops
    login(commander)
    page = client.get(f"/commander/print?unit={unit.id}&show=blocked").get_data(as_text=True)
    assert f'value="{blocked.id}"' in page
    assert f'value="{ready.id}"' not in page and f'value="{expiring.id}"' not in page
    assert '<option value="blocked" selected>Blocked (1)</option>' in page
    assert "Everyone (3)" in page
    # Sent back with an error, the form still lists the same people.
    response = post(client, "/commander/print", {"unit": unit.id, "show": "blocked"})
    assert response.status_code == 422
    assert f'value="{ready.id}"' not in response.get_data(as_text=True)


def test_tick_everyone_listed_ticks_exactly_the_people_shown(
    client, unit, commander, troops, login
):
    ready, blocked, _expiring = troops
    login(commander)
    page = client.get(f"/commander/print?unit={unit.id}&show=ready").get_data(as_text=True)
    assert f"/commander/print?unit={unit.id}&amp;show=ready&amp;tick=all" in page
    assert " checked" not in page.split("<ul")[1].split("</ul>")[0]
    ticked = client.get(f"/commander/print?unit={unit.id}&show=ready&tick=all")
    ticked_page = ticked.get_data(as_text=True)
    assert f'value="{ready.id}" id="person-{ready.id}" checked' in ticked_page
    assert f'value="{blocked.id}"' not in ticked_page
    everyone = client.get(f"/commander/print?unit={unit.id}&tick=all").get_data(as_text=True)
    for person in troops:
        assert f'value="{person.id}" id="person-{person.id}" checked' in everyone


def test_print_all_ready_says_how_many_people_it_prints(client, unit, commander, troops, login):
    login(commander)
    page = client.get(f"/commander/print?unit={unit.id}").get_data(as_text=True)
    assert 'value="Print all Ready (1 person)"' in page


def test_print_page_without_a_unit_lists_the_commanders_units(
    client, unit, other_unit, commander, login
):
    login(commander)
    page = client.get("/commander/print").get_data(as_text=True)
    assert f"/commander/print?unit={unit.id}" in page
    assert f"/commander/print?unit={other_unit.id}" not in page


def test_status_page_refreshes_itself_and_shows_progress_while_running(
    client, db, unit, commander, troops, login, held_jobs
):
    login(commander)
    token = job_of(start(client, unit, troops))
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert REFRESH in page and "0 of 3" in page and "Waiting to start" in page
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    job.status, job.done = PrintJobStatus.RUNNING, 2
    db.session.commit()
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert REFRESH in page and "2 of 3" in page
    assert 'max="3" value="2"' in page
    assert f"/commander/print/{token}/file" not in page
    assert client.get(f"/commander/print/{token}/file").status_code == 404


def test_status_page_offers_the_file_when_done_and_stops_refreshing(
    client, unit, commander, troops, login, inline_jobs
):
    login(commander)
    token = job_of(start(client, unit, troops))
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert REFRESH not in page
    assert "3 of 3" in page
    assert f'href="/commander/print/{token}/file"' in page
    assert "training-records-UNIT-A-" in page


def test_failed_job_says_why(client, db, unit, commander, troops, login, held_jobs):
    login(commander)
    token = job_of(start(client, unit, troops))
    db.session.execute(sa.update(PrintJob).values(user_ids=[troops[0].id, 999_999]))
    db.session.commit()
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    worker.run_job(job.id, "http://localhost/")
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert REFRESH not in page
    assert "Printing failed" in page and "no longer exist" in page
    assert count(PrintJobFile) == 0


def test_a_failed_jobs_reason_reads_in_the_language_of_whoever_reads_it(
    app, client, db, unit, commander, troops, login, held_jobs, reading
):
    login(commander)
    token = job_of(start(client, unit, troops))
    db.session.execute(sa.update(PrintJob).values(user_ids=[troops[0].id, 999_999]))
    db.session.commit()
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    # The worker fails the job while it speaks Russian.
    with app.test_request_context(), force_locale("ru"):
        worker.run_job(job.id, "http://localhost/")
    reason = "Some of the people selected no longer exist. Select them again and print."
    reading("fr")
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert shown("fr", reason) in page and "no longer exist" not in page
    reading("en")
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert reason in page and shown("ru", reason) not in page


def test_a_job_whose_worker_died_is_reported_failed(
    client, db, unit, commander, troops, login, held_jobs
):
    login(commander)
    token = job_of(start(client, unit, troops))
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    job.status, job.started_at = PrintJobStatus.RUNNING, utcnow() - timedelta(minutes=59)
    db.session.commit()
    assert REFRESH in client.get(f"/commander/print/{token}").get_data(as_text=True)
    job.started_at = utcnow() - timedelta(minutes=61)
    db.session.commit()
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert "Printing did not finish" in page and REFRESH not in page
    db.session.refresh(job)
    assert job.status == PrintJobStatus.FAILED


def test_finished_jobs_and_their_files_are_deleted_after_a_week(db, unit, commander, troops):
    old, recent = (printing.create_job(commander, [troops[0].id], "pdf", unit.id) for _ in range(2))
    for job, age in ((old, 8), (recent, 6)):
        batch = printing.BatchFile("a.pdf", "application/pdf", 1, 1)
        printing.finish(job, batch, io.BytesIO(f"%PDF {age} days old".encode()))
        job.finished_at = utcnow() - timedelta(days=age)
    db.session.commit()
    old_id, recent_id = old.id, recent.id
    old_digest = printing.job_file(old).document.digest
    printing.create_job(commander, [troops[0].id], "pdf", unit.id)
    db.session.commit()
    assert db.session.get(PrintJob, old_id) is None
    assert db.session.get(PrintJob, recent_id) is not None
    assert count(PrintJobFile) == 1 and count(PrintJob) == 2
    # The file itself is gone from the document store, the recent one kept.
    assert count(Document) == 1 and count(DocumentChunk) == 1
    assert db.session.get(DocumentChunk, (old_digest, 0)) is None


def test_selecting_no_one_redisplays_the_form_with_an_error(
    client, unit, commander, troops, login, held_jobs
):
    login(commander)
    response = start(client, unit, [])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Select at least one person to print." in page
    assert "Amina Haddad" in page
    assert count(PrintJob) == 0 and held_jobs == []


def test_print_all_ready_selects_exactly_the_ready_people(
    client, db, unit, commander, troops, login, held_jobs
):
    ready, blocked, _expiring = troops
    login(commander)
    token = job_of(start(client, unit, [blocked], button="print_ready"))
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    assert job.user_ids == [ready.id] and job.total == 1
    assert held_jobs == [job.id]


def test_print_all_ready_with_no_one_ready_says_so(
    client, unit, commander, make_user, modules, login, held_jobs
):
    make_user(full_name="Not Trained")
    login(commander)
    response = start(client, unit, button="print_ready")
    assert response.status_code == 422
    assert "No one in this unit is Ready" in response.get_data(as_text=True)
    assert count(PrintJob) == 0


# Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PEACEKEEPER, Role.COORDINATOR])
def test_only_commanders_and_admins_may_print(client, unit, make_user, login, role, held_jobs):
    login(make_user(role, assigned_units=[unit]))
    assert client.get(f"/commander/print?unit={unit.id}").status_code == 403
    assert client.get("/commander/print").status_code == 403
    assert (
        post(client, "/commander/print", {"unit": unit.id, "print_ready": "x"}).status_code == 403
    )
    assert count(PrintJob) == 0


def test_a_job_is_visible_only_to_its_requester_and_admins(
    client, unit, commander, troops, make_user, login, inline_jobs
):
    login(commander)
    token = job_of(start(client, unit, troops))
    colleague = make_user(Role.COMMANDER, unit=None, assigned_units=[unit])
    post(client, "/logout")
    login(colleague)
    assert client.get(f"/commander/print/{token}").status_code == 404
    assert client.get(f"/commander/print/{token}/file").status_code == 404
    post(client, "/logout")
    login(make_user(Role.ADMIN, unit=None))
    assert client.get(f"/commander/print/{token}").status_code == 200
    assert client.get(f"/commander/print/{token}/file").status_code == 200


def test_commander_of_another_unit_cannot_print_people_outside_it(
    client, unit, other_unit, troops, make_user, login, held_jobs
):
    login(make_user(Role.COMMANDER, unit=None, assigned_units=[other_unit]))
    assert client.get(f"/commander/print?unit={unit.id}").status_code == 404
    assert start(client, unit, troops).status_code == 404
    response = start(client, other_unit, troops)
    assert response.status_code == 422
    assert "3 of the people selected are not in your units" in response.get_data(as_text=True)
    assert count(PrintJob) == 0 and held_jobs == []


def test_service_refuses_people_outside_the_requesters_units(
    db, unit, other_unit, troops, make_user
):
    outsider = make_user(full_name="Elsewhere", unit=other_unit)
    commander = make_user(Role.COMMANDER, unit=None, assigned_units=[unit])
    with pytest.raises(printing.PrintError, match="1 of the people selected is not"):
        printing.create_job(commander, [troops[0].id, outsider.id], "pdf", unit.id)
    with pytest.raises(printing.PrintError, match="not one of yours"):
        printing.create_job(commander, [outsider.id], "pdf", other_unit.id)
    with pytest.raises(printing.PrintError, match="one PDF or a ZIP"):
        printing.create_job(commander, [troops[0].id], "exe", unit.id)
    job = printing.create_job(commander, [troops[0].id], "zip", None)
    assert job.total == 1 and len(job.token) >= 32


# Queues --------------------------------------------------------------------------------


# The print worker runs in other processes or threads, with connections of their own.
@pytest.mark.committing
def test_in_process_pool_runs_the_job_while_the_page_shows_progress(
    client, unit, commander, troops, login, no_redis
):
    login(commander)
    token = job_of(start(client, unit, troops))
    deadline = time.monotonic() + 120
    while True:
        page = client.get(f"/commander/print/{token}").get_data(as_text=True)
        if "Ready to download" in page or "Printing failed" in page:
            break
        assert REFRESH in page
        assert time.monotonic() < deadline, "the job did not finish in time"
        time.sleep(0.2)
    assert "3 of 3" in page and REFRESH not in page
    response = client.get(f"/commander/print/{token}/file")
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 3


@pytest.fixture
def redis_queue(app, monkeypatch, redis_server):
    """A real Redis server (database 15, emptied), as REDIS_URL."""
    import redis

    url = redis_server
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    queue = worker.queue(url)
    yield queue
    connection.flushdb()


def test_with_redis_the_job_waits_in_the_queue_for_a_worker(
    client, db, unit, commander, troops, login, redis_queue
):
    from rq import SimpleWorker

    login(commander)
    token = job_of(start(client, unit, troops, output="zip"))
    assert redis_queue.count == 1
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    assert job.status == PrintJobStatus.QUEUED
    assert SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)
    assert redis_queue.count == 0
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert "Ready to download" in page and "3 of 3" in page
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/commander/print/{token}/file").data))
    assert len(archive.namelist()) == 3


def test_flask_worker_serves_the_queue(
    app, client, db, unit, commander, troops, login, redis_queue, monkeypatch
):
    from rq import SimpleWorker

    from app.cli import worker

    login(commander)
    token = job_of(start(client, unit, troops[:1]))
    # In this process: a forked work horse would share the test's database connection.
    monkeypatch.setattr(worker, "Worker", SimpleWorker)
    result = app.test_cli_runner().invoke(worker.worker_command, ["--burst"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    assert job.status == PrintJobStatus.DONE


def test_flask_worker_needs_redis(app, no_redis):
    from app.cli import worker

    result = app.test_cli_runner().invoke(worker.worker_command, ["--burst"])
    assert result.exit_code == 1
    assert "set REDIS_URL" in result.output


def test_unreachable_queue_fails_the_job_with_a_clear_message(
    app, client, unit, commander, troops, login, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    login(commander)
    token = job_of(start(client, unit, troops))
    page = client.get(f"/commander/print/{token}").get_data(as_text=True)
    assert "The print queue cannot be reached" in page and REFRESH not in page


# The command line ----------------------------------------------------------------------


def test_command_prints_a_unit_to_one_pdf(app, db, unit, troops, tmp_path):
    path = tmp_path / "unit-a.pdf"
    result = app.test_cli_runner().invoke(
        args=["certificates", "print", "--unit", "unit-a", "--output", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert len(PdfReader(path).pages) == 3
    assert str(path) in result.output and "3 people, 3 pages" in result.output


def test_records_printed_from_a_french_terminal_stay_in_the_platforms_language(
    app, db, unit, troops, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "CLI_LANGUAGE", "fr_FR.UTF-8")
    monkeypatch.setitem(app.config, "PRINT_WORKERS", 0)  # rendered in the command's process
    path = tmp_path / "unit-a.pdf"
    result = app.test_cli_runner().invoke(
        args=["certificates", "print", "--unit", "unit-a", "--output", str(path)]
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(path.read_bytes(), tmp_path)
    english = "January|February|March|April|May|June|July|August|September|October|November"
    assert re.search(rf"({english}|December) \d+, 20\d\d", text)
    assert not re.search(r"\d+ (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
                         r"octobre|novembre|décembre) 20\d\d", text)  # fmt: skip


def test_command_prints_the_ready_people_to_a_zip(app, db, unit, troops, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["certificates", "print", "--unit", "UNIT-A", "--zip", "--ready-only",
              "--output", str(tmp_path / "ready.zip")]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(tmp_path / "ready.zip").namelist() == ["GH-20417.pdf"]


def test_command_names_the_units_when_the_code_is_unknown(app, db, unit):
    result = app.test_cli_runner().invoke(args=["certificates", "print", "--unit", "NOPE"])
    assert result.exit_code == 1
    assert "no unit with the code NOPE" in result.output and "UNIT-A" in result.output


def test_file_names_are_safe_and_never_collide():
    taken: set[str] = set()
    assert printing.safe_name("RU/555") == "RU_555"
    assert printing.safe_name("../..") == "person"
    assert printing.unique_name("A_1", taken) == "A_1"
    assert printing.unique_name("A_1", taken) == "A_1-2"
