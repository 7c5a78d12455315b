"""Stored documents: certificates rendered once, records when they change, any store."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from datetime import timedelta

import boto3
import pytest
import sqlalchemy as sa
from moto import mock_aws
from pypdf import PdfReader

from app import worker
from app.extensions import db as _db
from app.models import Document, DocumentChunk, DocumentKind, Role, User
from app.models.types import utcnow
from app.services import certificates, documents, printing, roster, signing, training
from app.services.documents import issued
from tests.fixtures import (
    answers_for,
    count,
    csrf_token,
    csv_file,
    move_expiry,
    pass_module,
    pdf_text,
    render_due,
    start,
)

REASON = "Misconduct finding of the board of inquiry"


def stored(db, kind, **where):
    return db.session.scalars(
        sa.select(Document).filter_by(kind=kind, **where).order_by(Document.id)
    ).all()


def etag(document):
    return f'"{document.digest}"'


def revoke(app, db, certificate, by):
    with app.test_request_context():
        certificates.revoke(certificate, by, REASON)
    db.session.commit()


# Certificates: rendered once, when issued ------------------------------------------------


def test_passing_the_quiz_renders_nothing_and_hands_the_certificate_to_the_background(
    client, db, modules, make_user, login, renders, due_documents
):
    learner = make_user()
    login(learner)
    attempt_id = start(client)
    form = {"csrf_token": csrf_token(client, "/training/"), **answers_for(db, attempt_id)}
    response = client.post(f"/training/attempts/{attempt_id}", data=form)
    assert response.status_code == 302
    assert renders == [] and count(Document) == 0
    certificate = certificates.user_certificates(learner.id)[0]
    (due,) = due_documents
    assert due.certificate_ids == {certificate.id} and due.user_ids == {learner.id}
    assert due.base_url == "https://training.example.org"


def test_an_issued_certificate_is_stored_once_and_downloaded_without_rendering(
    client, db, modules, make_user, login, renders, due_documents, tmp_path
):
    learner = make_user(full_name="Amina Haddad")
    certificate = pass_module(learner)
    render_due(due_documents)
    (document,) = stored(db, DocumentKind.CERTIFICATE)
    assert document.certificate_id == certificate.id and document.user_id == learner.id
    # The background also stored the training record the certificate changed.
    assert len(stored(db, DocumentKind.RECORD, user_id=learner.id)) == 1
    rendered = len(renders)

    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    first, second = client.get(url), client.get(url)
    assert len(renders) == rendered, "a stored certificate is not rendered again"
    assert first.status_code == second.status_code == 200
    assert (
        first.data
        == second.data
        == b"".join(documents.store_for("database").chunks(document.digest))
    )
    assert first.headers["ETag"] == etag(document)
    assert int(first.headers["Content-Length"]) == len(first.data) == document.size
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.headers["Cache-Control"] == "no-cache, private"
    assert "Amina Haddad" in pdf_text(first.data, tmp_path)

    again = client.get(url, headers={"If-None-Match": etag(document)})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag(document)
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert len(renders) == rendered and count(Document) == 2


def test_a_stored_pdf_goes_uncompressed_with_its_own_validator(
    client, db, modules, make_user, login, renders, due_documents
):
    """A PDF is compressed already: sent as stored, its ETag the digest, 304 when held."""
    learner = make_user()
    certificate = pass_module(learner)
    render_due(due_documents)
    (document,) = stored(db, DocumentKind.CERTIFICATE)
    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    accepting = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    response = client.get(url, headers=accepting)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert response.headers["ETag"] == etag(document)
    assert response.data == b"".join(documents.store_for("database").chunks(document.digest))
    again = client.get(url, headers={**accepting, "If-None-Match": etag(document)})
    assert again.status_code == 304 and again.headers["ETag"] == etag(document)
    assert "Content-Encoding" not in again.headers


def test_a_certificate_not_rendered_yet_is_rendered_on_download_and_stored(
    client, db, modules, make_user, login, renders
):
    learner = make_user()
    certificate = pass_module(learner)
    assert count(Document) == 0
    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    first = client.get(url)
    assert first.status_code == 200 and len(renders) == 1
    assert client.get(url).data == first.data and len(renders) == 1
    assert len(stored(db, DocumentKind.CERTIFICATE)) == 1


def test_a_stored_certificate_is_not_found_by_anyone_else(
    client, db, modules, make_user, login, unit
):
    owner = make_user()
    certificate = pass_module(owner)
    assert login(owner).get(f"/training/certificates/{certificate.code}.pdf").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/training/")})
    for other in (make_user(), make_user(Role.ADMIN, unit=None)):
        login(other)
        assert client.get(f"/training/certificates/{certificate.code}.pdf").status_code == 404
        client.post("/logout", data={"csrf_token": csrf_token(client, "/training/")})


def test_a_revoked_certificate_is_kept_but_never_handed_out_again(
    app, client, db, modules, make_user, login, unit
):
    learner = make_user()
    certificate = pass_module(learner)
    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    assert client.get(url).status_code == 200
    (document,) = stored(db, DocumentKind.CERTIFICATE)
    revoke(app, db, certificate, make_user(Role.COORDINATOR, assigned_units=[unit]))

    db.session.expire_all()
    (kept,) = stored(db, DocumentKind.CERTIFICATE)
    assert kept.id == document.id and kept.withdrawn_at == certificate.revoked_at
    assert db.session.get(DocumentChunk, (kept.digest, 0)) is not None
    assert documents.servable(kept.fingerprint) is None
    for headers in ({}, {"If-None-Match": etag(kept)}):
        response = client.get(url, headers=headers)
        assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was revoked on" in page and "cannot be downloaded" in page


def test_a_stored_certificate_is_served_while_its_key_is_published(
    app, client, db, modules, make_user, login, renders, monkeypatch, tmp_path
):
    old_pem, new_pem = signing.generate_private_pem(), signing.generate_private_pem()
    old = signing.private_key_from_pem(old_pem, "old")
    (tmp_path / "old.pem").write_text(signing.public_pem(old.public))
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", "")
    monkeypatch.setitem(app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", "")
    learner = make_user()
    certificate = pass_module(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    login(learner)

    def download():
        response = client.get(url)
        assert response.status_code == 200
        return response.headers["ETag"], certificate_kid(response.data)

    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", old_pem.decode())
    first = download()
    assert first[1] == old.kid
    # Rotated, the old key still published: the stored PDF still verifies, as it is.
    monkeypatch.setitem(app.config, "CERTIFICATE_SIGNING_KEY", new_pem.decode())
    monkeypatch.setitem(app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", str(tmp_path / "old.pem"))
    assert download() == first and len(renders) == 1
    # The old key withdrawn: its signature would no longer verify, so it is signed anew.
    monkeypatch.setitem(app.config, "CERTIFICATE_PREVIOUS_PUBLIC_KEYS", "")
    second = download()
    new_kid = signing.private_key_from_pem(new_pem, "new").kid
    assert second[1] == new_kid and second[0] != first[0] and len(renders) == 2
    assert len(stored(db, DocumentKind.CERTIFICATE)) == 2


def test_a_new_public_address_renders_certificates_with_links_to_it(
    app, client, db, modules, make_user, login, renders, monkeypatch
):
    learner = make_user()
    certificate = pass_module(learner)
    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    client.get(url)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://conduct.example.int")
    pdf = client.get(url).data
    assert len(renders) == 2
    (link,) = {a.get_object()["/A"]["/URI"] for a in PdfReader(io.BytesIO(pdf)).pages[0]["/Annots"]}
    assert link.startswith(f"https://conduct.example.int/verify/{certificate.code}?s=")


def certificate_kid(pdf):
    reader = PdfReader(io.BytesIO(pdf))
    (content,) = reader.attachments[certificates.CREDENTIAL_FILENAME]
    method = json.loads(content)["blueBeretSignature"]["verificationMethod"]
    return method.rsplit("#", 1)[1]


# Training records: rendered when they change -----------------------------------------


def test_a_record_is_rendered_again_after_a_completion_a_revocation_or_a_new_name_only(
    app, client, db, modules, make_user, login, unit, renders, tmp_path
):
    learner = make_user(full_name="Amina Haddad", service_number="GH-20417")
    certificate = pass_module(learner)
    login(learner)

    def download():
        response = client.get("/training/record.pdf")
        assert response.status_code == 200
        return response

    first = download()
    assert len(renders) == 1
    # Nothing it shows changed: another person's completion, the next day, a sign-in.
    pass_module(make_user())
    later = utcnow() + timedelta(days=1)
    with app.test_request_context():
        assert (
            documents.record_document(learner, now=later).digest
            == stored(db, DocumentKind.RECORD, user_id=learner.id)[0].digest
        )
    assert download().headers["ETag"] == first.headers["ETag"] and len(renders) == 1

    pass_module(learner, "pledge")
    download()
    assert len(renders) == 2
    revoke(app, db, certificate, make_user(Role.COORDINATOR, assigned_units=[unit]))
    download()
    assert len(renders) == 3
    renamed_row = "GH-20417,Amina Haddad-Diallo,military_contingent,UNIT-A,,,"
    roster.apply(roster.preview(csv_file(renamed_row), [unit]))
    db.session.commit()
    renamed = download()
    assert len(renders) == 4 and "Amina Haddad-Diallo" in pdf_text(renamed.data, tmp_path)
    assert download().headers["ETag"] == renamed.headers["ETag"] and len(renders) == 4
    assert len(stored(db, DocumentKind.RECORD, user_id=learner.id)) == 4


def test_a_record_is_rendered_again_once_a_certificate_on_it_expires(
    client, db, modules, make_user, login, renders, tmp_path
):
    learner = make_user()
    certificate = pass_module(learner)
    login(learner)
    client.get("/training/record.pdf")
    move_expiry(learner, training.current_version("basics").module_id, utcnow() - timedelta(days=1))
    db.session.refresh(certificate)
    certificate.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    pdf = client.get("/training/record.pdf").data
    assert len(renders) == 2 and "(expired)" in pdf_text(pdf, tmp_path)


def test_completion_revocation_and_renaming_hand_the_record_to_the_background(
    app, db, modules, make_user, unit, due_documents, renders
):
    learner = make_user(service_number="GH-1")
    certificate = pass_module(learner)
    render_due(due_documents)
    records = stored(db, DocumentKind.RECORD, user_id=learner.id)
    assert len(records) == 1
    revoke(app, db, certificate, make_user(Role.COORDINATOR, assigned_units=[unit]))
    assert [due.user_ids for due in due_documents] == [{learner.id}]
    render_due(due_documents)
    renamed_row = "GH-1,Renamed Person,military_contingent,UNIT-A,,,"
    roster.apply(roster.preview(csv_file(renamed_row), [unit]))
    db.session.commit()
    assert [due.user_ids for due in due_documents] == [{learner.id}]
    render_due(due_documents)
    # A new e-mail address is not printed on the record: nothing to render.
    new_address = "GH-1,Renamed Person,military_contingent,UNIT-A,,gh1@example.org,"
    roster.apply(roster.preview(csv_file(new_address), [unit]))
    db.session.commit()
    assert due_documents == []
    assert len(stored(db, DocumentKind.RECORD, user_id=learner.id)) == 3
    rendered = len(renders)
    with app.test_request_context():
        documents.record_document(learner)
    assert len(renders) == rendered


def test_a_change_rolled_back_hands_nothing_to_the_background(
    db, modules, make_user, due_documents
):
    learner = make_user()
    version = training.current_version("basics")
    from app.services import quiz

    attempt = quiz.start_attempt(learner, version)
    pool = {question["id"]: question for question in version.quiz}
    answers = {
        drawn["id"]: [o["id"] for o in pool[drawn["id"]]["options"] if o["correct"]]
        for drawn in attempt.questions
    }
    due_documents.clear()
    assert quiz.submit_attempt(attempt, answers)
    db.session.rollback()
    db.session.commit()
    assert due_documents == []


# Battalion printing from stored records --------------------------------------------------


@pytest.fixture
def troops(modules, make_user):
    people = [
        make_user(full_name="Amina Haddad", service_number="GH-20417"),
        make_user(full_name="Ivan Petrov", service_number="RU/555"),
        make_user(full_name="Mei Wang", service_number="CN-88"),
    ]
    for person in people[::2]:
        pass_module(person)
    return people


def print_unit(people, output="pdf"):
    printed = io.BytesIO()
    ids = printing.print_order([p.id for p in people])
    batch = worker.render_batch(ids, output, "https://training.example.org", printed)
    return batch, printed.getvalue()


def test_printing_people_whose_records_did_not_change_renders_nothing(
    app, db, unit, troops, renders, tmp_path
):
    print_unit(troops)
    assert len(renders) == len(troops)
    batch, pdf = print_unit(troops)
    assert renders == [renders[0]] * len(troops), "nothing rendered the second time"
    reader = PdfReader(io.BytesIO(pdf))
    assert batch.pages == len(reader.pages) == len(troops)
    assert (reader.xmp_metadata.pdfaid_part, reader.xmp_metadata.pdfaid_conformance) == ("3", "B")
    assert "/OutputIntents" in reader.trailer["/Root"]
    for number, person in enumerate(troops, start=1):
        text = pdf_text(pdf, tmp_path, page=number)
        assert person.full_name in text and person.service_number in text
        assert not any(p.full_name in text for p in troops if p is not person)
    # One person renamed: only their record is rendered.
    troops[1].full_name = "Ivan Petrovich"
    db.session.commit()
    _batch, pdf = print_unit(troops)
    assert len(renders) == len(troops) + 1
    assert "Ivan Petrovich" in pdf_text(pdf, tmp_path, page=2)


def test_the_zip_holds_each_persons_stored_record_as_they_download_it(
    app, client, db, unit, troops, renders, login
):
    print_unit(troops)
    batch, content = print_unit(troops, "zip")
    assert len(renders) == len(troops) and batch.pages == len(troops)
    archive = zipfile.ZipFile(io.BytesIO(content))
    login(troops[0])
    own = client.get("/training/record.pdf")
    assert archive.read("GH-20417.pdf") == own.data and len(renders) == len(troops)


def test_a_large_print_file_is_sent_in_pieces_with_its_length(
    client, db, unit, troops, make_user, login, monkeypatch
):
    monkeypatch.setattr(documents, "CHUNK_SIZE", 16 * 1024)
    monkeypatch.setattr(documents.store, "CHUNK_SIZE", 16 * 1024)
    commander = make_user(Role.COMMANDER, unit=None, assigned_units=[unit])
    job = printing.create_job(commander, [p.id for p in troops], "pdf", unit.id)
    db.session.commit()
    worker.run_job(job.id, "https://training.example.org")
    file = printing.job_file(job)
    assert count(DocumentChunk) > 3
    login(commander)
    # A browser that reads compressed pages gets the file in pieces all the same.
    response = client.get(
        f"/commander/print/{job.token}/file", headers={"Accept-Encoding": "gzip, br"}
    )
    assert response.status_code == 200 and response.is_streamed
    assert "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == file.document.size == len(response.data)
    assert response.headers["ETag"] == etag(file.document)
    assert len(PdfReader(io.BytesIO(response.data)).pages) == len(troops)


# Other stores ------------------------------------------------------------------------------


def first_download(db, client, make_user, login):
    """Have a learner pass and download their certificate: (learner, address, PDF, document)."""
    learner = make_user()
    certificate = pass_module(learner)
    login(learner)
    url = f"/training/certificates/{certificate.code}.pdf"
    pdf = client.get(url).data
    (document,) = stored(db, DocumentKind.CERTIFICATE)
    return learner, url, pdf, document


def test_documents_can_be_kept_in_a_directory(
    app, client, db, modules, make_user, login, unit, renders, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "DOCUMENT_STORE", str(tmp_path))
    learner, url, pdf, document = first_download(db, client, make_user, login)
    assert (tmp_path / document.digest[:2] / document.digest).read_bytes() == pdf
    assert count(DocumentChunk) == 0
    assert client.get(url).data == pdf and len(renders) == 1
    # A print job's file is kept there too, and deleted from it with the job.
    commander = make_user(Role.COMMANDER, unit=None, assigned_units=[unit])
    job = printing.create_job(commander, [learner.id], "zip", unit.id)
    db.session.commit()
    worker.run_job(job.id, "https://training.example.org")
    digest = printing.job_file(job).document.digest
    assert (tmp_path / digest[:2] / digest).is_file()
    job.finished_at = utcnow() - printing.JOB_LIFETIME - timedelta(days=1)
    db.session.commit()
    printing.create_job(commander, [learner.id], "zip", unit.id)
    assert (tmp_path / digest[:2] / digest).is_file(), "kept until the deletion is committed"
    db.session.commit()
    assert not (tmp_path / digest[:2] / digest).exists()
    assert (tmp_path / document.digest[:2] / document.digest).is_file()


def test_documents_can_be_kept_in_an_s3_bucket(
    app, client, db, modules, make_user, login, renders, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        documents.s3_client.cache_clear()
        boto3.client("s3").create_bucket(Bucket="blue-beret")
        monkeypatch.setitem(app.config, "DOCUMENT_STORE", "s3://blue-beret/documents")
        _learner, url, pdf, document = first_download(db, client, make_user, login)
        kept = boto3.client("s3").get_object(
            Bucket="blue-beret", Key=f"documents/{document.digest}"
        )
        assert kept["Body"].read() == pdf and count(DocumentChunk) == 0
        again = client.get(url)
        assert again.data == pdf and again.headers["ETag"] == etag(document) and len(renders) == 1
    documents.s3_client.cache_clear()


# In the background -------------------------------------------------------------------------


# The thread renders with a connection of its own: it must see the test's commits.
@pytest.mark.committing
def test_without_redis_a_thread_of_the_instance_renders_what_was_issued(
    app, client, db, modules, make_user, login, renders, monkeypatch
):
    monkeypatch.setitem(app.config, "PRERENDER_DOCUMENTS", True)
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    learner = make_user()
    certificate = pass_module(learner)
    deadline = time.monotonic() + 60
    while count(Document) < 2:
        assert time.monotonic() < deadline, "the background did not store the documents"
        time.sleep(0.1)
    assert len(renders) == 2
    login(learner)
    assert client.get(f"/training/certificates/{certificate.code}.pdf").status_code == 200
    assert client.get("/training/record.pdf").status_code == 200
    assert len(renders) == 2


def test_with_redis_documents_wait_in_their_own_queue_for_flask_worker(
    app, db, modules, make_user, monkeypatch, redis_server
):
    import redis
    from rq import SimpleWorker

    from app.cli import worker as worker_cli

    redis.Redis.from_url(redis_server).flushdb()
    monkeypatch.setitem(app.config, "PRERENDER_DOCUMENTS", True)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    learner = make_user()
    pass_module(learner)
    assert worker.queue(redis_server, worker.DOCUMENTS_QUEUE).count == 1
    assert worker.queue(redis_server).count == 0 and count(Document) == 0
    # In this process: a forked work horse would share the test's database connection.
    monkeypatch.setattr(worker_cli, "Worker", SimpleWorker)
    result = app.test_cli_runner().invoke(worker_cli.worker_command, ["--burst"])
    assert result.exit_code == 0, result.output
    assert len(stored(db, DocumentKind.CERTIFICATE)) == 1
    assert len(stored(db, DocumentKind.RECORD, user_id=learner.id)) == 1
    redis.Redis.from_url(redis_server).flushdb()


@pytest.mark.committing
@pytest.mark.skipif(
    not str(os.environ.get("TEST_DATABASE_URL", "")).startswith("postgres"),
    reason="row locks: PostgreSQL (TEST_DATABASE_URL)",
)
def test_a_row_naming_the_person_is_written_while_their_record_renders(
    app, db, modules, make_user, monkeypatch
):
    """A sign-in (its audit entry names the person) never waits for their record's render.

    Locked FOR UPDATE, the render held off the foreign-key check of that entry, while the
    render's own audit entry waited for the sign-in's: a deadlock.
    """
    learner = make_user()
    pass_module(learner)
    db.session.commit()
    rendering, finish = threading.Event(), threading.Event()
    render_record = issued.render_record

    def slow_render(*args, **kwargs):
        rendering.set()
        finish.wait(20)
        return render_record(*args, **kwargs)

    monkeypatch.setattr(issued, "render_record", slow_render)

    def download() -> None:
        with app.app_context():
            person = _db.session.get(User, learner.id)
            documents.record_document(person, "https://training.example.org")
            _db.session.commit()

    thread = threading.Thread(target=download)
    thread.start()
    try:
        assert rendering.wait(20)
        with db.engine.connect() as other:
            other.execute(sa.text("SET lock_timeout = '2s'"))
            # What PostgreSQL checks for a row that refers to the person.
            other.execute(
                sa.text('SELECT 1 FROM "user" WHERE id = :id FOR KEY SHARE'), {"id": learner.id}
            )
            other.rollback()
    finally:
        finish.set()
        thread.join()
    assert count(Document) >= 1
