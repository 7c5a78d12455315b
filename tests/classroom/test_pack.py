"""The session pack: handouts, an answer sheet per participant, the attendance sheet.

The pack is a print job: the tests press the button, follow the job's page and download
its file (`inline_jobs` runs each job in the request that queues it).
"""

from __future__ import annotations

import io
import re
import secrets
import subprocess
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from app import worker
from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    AuditEntry,
    ClassroomSession,
    Document,
    DocumentKind,
    PrintJob,
    PrintJobStatus,
    QuizAttempt,
    Role,
    Unit,
    User,
)
from app.services import classroom, quiz
from tests.fixtures import count, post

BASE_URL = "https://training.example.org"
REFRESH = '<meta http-equiv="refresh" content="2">'

# As the application queues a job, before a test's fixtures run it at once instead.
ENQUEUE = worker.enqueue

pytestmark = pytest.mark.usefixtures("inline_jobs")


def ask_for_pack(client: FlaskClient, session: ClassroomSession) -> str:
    """Press "Print the session pack"; return the address of the job's page."""
    response = post(client, f"/sessions/{session.id}/pack")
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"])


def pack_of(client: FlaskClient, session: ClassroomSession) -> bytes:
    """Print a session's pack as the facilitator's browser does: the button, then the file."""
    status = ask_for_pack(client, session)
    page = client.get(status)
    assert page.status_code == 200
    assert "Ready to download" in page.get_data(as_text=True)
    assert f"{status}/file" in page.get_data(as_text=True)
    response = client.get(f"{status}/file")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    assert f"session-{session.code}-pack.pdf" in response.headers["Content-Disposition"]
    return response.get_data()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    """Return the text of each page, laid out as on the page, without directional marks."""
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    texts = []
    for page in range(1, page_count(pdf) + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        texts.append("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))
    return texts


def sheet_pages(texts: list[str], sheet: AnswerSheet) -> list[int]:
    """Return the numbers (from 1) of the pages of one answer sheet: its code heads each."""
    code = classroom.grouped(sheet.code)
    return [number for number, text in enumerate(texts, 1) if code in text]


def sheet_text(texts: list[str], sheet: AnswerSheet) -> str:
    pages = sheet_pages(texts, sheet)
    assert pages, f"no page of sheet {sheet.code}"
    return "\n".join(texts[number - 1] for number in pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def drawn(sheet: AnswerSheet) -> list[tuple[str, list[str]]]:
    """Return the sheet's questions as drawn: each title and its options' texts, in order."""
    return [
        (question.title_html, [option.text_html for option in question.options])
        for question in quiz.attempt_questions(sheet.attempt)
    ]


def printed_questions(text: str) -> list[tuple[str, list[str]]]:
    """Read the questions off a sheet's text: "1. Title", then "A  option" lines."""
    questions: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if match := re.match(r"\s*\d+\.\s+(.+?)\s+\((?:tick one|tick all that apply)\)", line):
            questions.append((match.group(1), []))
        elif questions and (match := re.match(r"\s+([A-Z])\s+(\S.*?)\s*$", line)):
            letter = "ABCDEFGH"[len(questions[-1][1])]
            assert match.group(1) == letter, line
            questions[-1][1].append(match.group(2))
    return questions


def qr_codes(pdf: bytes, page: int, tmp_path: Path) -> list[str]:
    """Return what the QR codes of a page hold, read from the page printed at 150 dpi."""
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", str(page), "-l", str(page), "-png", str(path),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    [image] = tmp_path.glob("page*.png")
    read = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
    )
    image.unlink()
    return read.stdout.split()


def stored_handouts() -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Document.id)).where(Document.kind == DocumentKind.HANDOUT)
        )
        or 0
    )


def people(make_user: Callable[..., User]) -> list[User]:
    return [
        make_user(full_name="Ama Owusu", service_number="GH-1001"),
        make_user(full_name="Yaw Boateng", service_number="GH-1002"),
        make_user(full_name="Efua Mensah", service_number="GH-1003"),
    ]


def test_the_pack_has_the_handout_a_sheet_per_participant_then_the_attendance_sheet(
    client, login, coordinator, make_session, make_user, tmp_path
):
    session = make_session(people(make_user))
    pdf = pack_of(login(coordinator), session)
    texts = page_texts(pdf, tmp_path)

    # The basics handout, three one-page sheets (four short questions), the attendance sheet.
    assert page_count(pdf) == 5
    assert "LESSON HANDOUT" in texts[0] and "Accept no gift." in texts[0]
    for sheet, page in zip(
        sorted(session.sheets, key=lambda sheet: sheet.user.full_name), (2, 3, 4), strict=True
    ):
        assert sheet_pages(texts, sheet) == [page]
        assert "Page 1 of 1" in texts[page - 1]
    assert "Attendance sheet" in texts[4]
    for person in ("Ama Owusu", "Yaw Boateng", "Efua Mensah"):
        assert person in texts[4]
    assert "Present" in texts[4] and "Absent" in texts[4] and "Signature" in texts[4]
    # Every sheet and the attendance sheet say the session they belong to; the handout,
    # printed alike for every session, its module and version.
    assert all(classroom.grouped(session.code) in text for text in texts[1:])
    assert classroom.grouped(session.code) not in texts[0] and "Version" in texts[0]
    # The attendance sheet says how many copies of each handout to make.
    assert "Handouts to copy" in texts[4] and "English \u00d7 3" in texts[4]


def test_one_more_participant_adds_one_sheet_to_the_pack(
    client, login, coordinator, make_session, make_user
):
    first = make_session([make_user()])
    second = make_session([make_user(), make_user()])
    client = login(coordinator)
    assert page_count(pack_of(client, second)) == page_count(pack_of(client, first)) + 1


def test_each_sheet_shows_its_person_and_their_questions_in_the_drawn_order(
    client, login, coordinator, make_session, make_user, tmp_path
):
    session = make_session(people(make_user), slugs=("basics", "pledge"))
    texts = page_texts(pack_of(login(coordinator), session), tmp_path)
    names = {person.user.full_name for person in session.participants}

    assert len(session.sheets) == 6
    for sheet in session.sheets:
        text = sheet_text(texts, sheet)
        assert sheet.user.full_name in text and sheet.user.service_number in text
        assert "Unit A" in text and "Peacekeeping Training Centre, Accra" in flat(text)
        assert classroom.grouped(sheet.code) in text and classroom.grouped(session.code) in text
        assert printed_questions(text) == drawn(sheet)
        for other in names - {sheet.user.full_name}:
            assert other not in text


def test_a_sheet_says_how_many_to_tick_and_never_which_answer_is_right(
    app, client, login, coordinator, make_session, make_user, tmp_path
):
    session = make_session([make_user()])
    texts = page_texts(pack_of(login(coordinator), session), tmp_path)
    [sheet] = session.sheets
    text = sheet_text(texts, sheet)

    for question in quiz.attempt_questions(sheet.attempt):
        how = "tick all that apply" if question.multiple else "tick one"
        assert f"{question.title_html} ({how})" in text
    # The test module's feedback starts "Right:" or "Wrong:": none of it is printed.
    whole = "\n".join(texts)
    assert "Right:" not in whole and "Wrong:" not in whole
    with app.test_request_context():
        data = classroom.sheet_data(sheet)
    shown = repr(data["questions"])
    assert "correct" not in shown and "feedback" not in shown


def test_the_qr_code_of_a_sheet_opens_its_results_entry(
    client, login, coordinator, make_session, make_user, tmp_path
):
    session = make_session([make_user()])
    pdf = pack_of(login(coordinator), session)
    [sheet] = session.sheets
    [page] = sheet_pages(page_texts(pdf, tmp_path), sheet)

    assert qr_codes(pdf, page, tmp_path) == [f"{BASE_URL}/sessions/sheets/{sheet.code}"]
    # The code under it, in fours, is the one results entry finds the sheet by.
    assert classroom.find_sheet(coordinator, classroom.grouped(sheet.code)) == sheet


def test_printing_again_prints_the_same_questions_and_draws_no_attempt(
    client, login, coordinator, make_session, make_user, tmp_path
):
    session = make_session(people(make_user))
    attempts = db.session.scalar(sa.select(sa.func.count(QuizAttempt.id)))
    client = login(coordinator)
    first = page_texts(pack_of(client, session), tmp_path)
    db.session.expire_all()
    printed_at = {sheet.id: sheet.printed_at for sheet in session.sheets}
    assert all(printed_at.values())

    again = page_texts(pack_of(client, session), tmp_path)
    reprinted = session.sheets[0]
    response = client.get(f"/sessions/{session.id}/sheets/{reprinted.code}.pdf")
    assert response.status_code == 200
    alone = page_texts(response.get_data(), tmp_path)

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(QuizAttempt.id))) == attempts
    for sheet in session.sheets:
        assert printed_questions(sheet_text(again, sheet)) == printed_questions(
            sheet_text(first, sheet)
        )
        # The first printing is the one kept.
        assert sheet.printed_at == printed_at[sheet.id]
    assert printed_questions("\n".join(alone)) == printed_questions(sheet_text(first, reprinted))
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_PACK_PRINTED)
    ).all()
    assert [entry.target for entry in entries] == [f"session {session.code}"] * 3
    assert entries[0].details["sheets"] == 3 and entries[2].details["sheet"] == reprinted.code


def test_sheets_are_in_the_participants_languages_where_the_module_is_translated(
    app, client, login, coordinator, make_session, make_user, translated_modules, tmp_path
):
    french = make_user(full_name="Claire Dubois", language="fr")
    arabic = make_user(full_name="Karim Haddad", language="ar")
    spanish = make_user(full_name="Lucía Pérez", language="es")
    session = make_session([french, arabic, spanish])
    texts = page_texts(pack_of(login(coordinator), session), tmp_path)
    sheets = {sheet.user.full_name: sheet for sheet in session.sheets}

    # A handout per language read: English, Arabic and French (basics has no Spanish).
    handouts = [text for text in texts if "LESSON HANDOUT" in text or "Support de cours" in text]
    assert len(handouts) == 3
    assert any("Les bases de la conduite" in text for text in texts[:3])
    french_sheet = flat(sheet_text(texts, sheets["Claire Dubois"]))
    assert "Les bases de la conduite" in french_sheet and "Page 1 sur 1" in french_sheet
    assert "FEUILLE DE RÉPONSES" in french_sheet and "ANSWER SHEET" in french_sheet
    assert "cochez une réponse" in french_sheet or "cochez toutes" in french_sheet
    spanish_sheet = flat(sheet_text(texts, sheets["Lucía Pérez"]))
    assert "Conduct basics" in spanish_sheet and "tick" in spanish_sheet
    with app.test_request_context():
        arabic_data = classroom.sheet_data(sheets["Karim Haddad"])
        french_data = classroom.sheet_data(sheets["Claire Dubois"])
    assert arabic_data["direction"] == "rtl" and arabic_data["language"] == "ar"
    assert arabic_data["module_title"] == "أساسيات السلوك"
    assert french_data["direction"] == "ltr"
    # The letters stay Latin in every language: they are what results entry takes.
    assert [o["letter"] for o in arabic_data["questions"][0]["options"]][:2] == ["A", "B"]
    assert "السؤال" in sheet_text(texts, sheets["Karim Haddad"])


def test_a_session_out_of_scope_answers_404(
    client, login, make_session, make_user, other_unit: Unit
):
    session = make_session([make_user()])
    [sheet] = session.sheets
    elsewhere = make_user(Role.COORDINATOR, assigned_units=[other_unit])
    client = login(elsewhere)
    assert post(client, f"/sessions/{session.id}/pack").status_code == 404
    assert client.get(f"/sessions/{session.id}/sheets/{sheet.code}.pdf").status_code == 404
    assert post(client, f"/sessions/{session.id + 1000}/pack").status_code == 404
    db.session.expire_all()
    assert sheet.printed_at is None
    assert count(PrintJob) == 0


def test_another_units_coordinator_cannot_see_the_job_or_its_file(
    client, login, coordinator, make_session, make_user, other_unit: Unit
):
    session = make_session([make_user()])
    status = ask_for_pack(login(coordinator), session)
    # Its requester finds it under its session only.
    other = make_session([make_user()])
    token = status.rsplit("/", 1)[1]
    assert client.get(status).status_code == 200
    assert client.get(f"/sessions/{other.id}/pack/{token}").status_code == 404
    assert client.get(f"/sessions/{other.id}/pack/{token}/file").status_code == 404

    post(client, "/logout")
    client = login(make_user(Role.COORDINATOR, assigned_units=[other_unit]))
    assert client.get(status).status_code == 404
    assert client.get(f"{status}/file").status_code == 404


def test_a_sheet_of_another_session_is_not_printed_under_this_one(
    client, login, coordinator, make_session, make_user
):
    one = make_session([make_user()])
    two = make_session([make_user()])
    client = login(coordinator)
    assert client.get(f"/sessions/{one.id}/sheets/{two.sheets[0].code}.pdf").status_code == 404
    assert client.get(f"/sessions/{one.id}/sheets/NOSUCHCODE.pdf").status_code == 404
    # The code as printed, in fours, finds the sheet.
    code = classroom.grouped(one.sheets[0].code)
    assert client.get(f"/sessions/{one.id}/sheets/{code}.pdf").status_code == 200


def test_the_sessions_facilitator_prints_its_pack(
    client, login, facilitator, make_session, make_user
):
    session = make_session([make_user()])
    assert page_count(pack_of(login(facilitator), session)) == 3


def test_a_participant_cannot_print_the_pack(client, login, make_session, make_user):
    participant = make_user()
    session = make_session([participant])
    response = post(login(participant), f"/sessions/{session.id}/pack")
    assert response.status_code == 403
    assert count(PrintJob) == 0


def test_the_sessions_page_prints_the_pack_with_a_form(
    client, login, coordinator, make_session, make_user
):
    session = make_session([make_user()])
    page = login(coordinator).get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f'<form method="post" action="/sessions/{session.id}/pack">' in page
    assert 'name="csrf_token"' in page and "Print the session pack" in page


def test_opening_the_print_address_prints_nothing(
    client, login, coordinator, make_session, make_user
):
    session = make_session([make_user()])
    response = login(coordinator).get(f"/sessions/{session.id}/pack")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session.id}")
    db.session.expire_all()
    assert count(PrintJob) == 0 and session.sheets[0].printed_at is None
    assert not db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_PACK_PRINTED)
    )


def test_the_job_page_shows_progress_and_reloads_itself_until_the_pack_is_ready(
    client, login, coordinator, make_session, make_user, held_jobs, tmp_path
):
    session = make_session(people(make_user))
    client = login(coordinator)
    status = ask_for_pack(client, session)
    # Asked for: recorded in the audit trail; the sheets count as printed once it is.
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_PACK_PRINTED)
    )
    assert entry is not None and entry.details["sheets"] == 3
    page = client.get(status).get_data(as_text=True)
    assert REFRESH in page and "Waiting to start" in page and "0 of 3" in page
    assert client.get(f"{status}/file").status_code == 404
    assert all(sheet.printed_at is None for sheet in session.sheets)

    [job_id] = held_jobs
    job = worker.run_job(job_id, BASE_URL)
    assert job is not None and job.status == PrintJobStatus.DONE
    page = client.get(status).get_data(as_text=True)
    assert REFRESH not in page and "3 of 3" in page and "Ready to download" in page
    assert f"session-{session.code}-pack.pdf" in page
    assert page_count(client.get(f"{status}/file").get_data()) == 5
    db.session.expire_all()
    assert all(sheet.printed_at for sheet in session.sheets)
    # The file names every participant: its download is an export in the audit trail.
    export = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT))
    assert export is not None and export.target == f"{status}/file"
    assert export.details == {"people": 3, "output": "pdf"}


# The print worker runs in threads, with connections of their own.
@pytest.mark.committing
def test_without_redis_the_pack_prints_in_a_thread_while_the_page_shows_progress(
    app: Flask, client, login, coordinator, make_session, make_user, monkeypatch
):
    monkeypatch.setattr(worker, "enqueue", ENQUEUE)
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    session = make_session(people(make_user))
    client = login(coordinator)
    status = ask_for_pack(client, session)
    deadline = time.monotonic() + 120
    while "Ready to download" not in (page := client.get(status).get_data(as_text=True)):
        assert "Printing failed" not in page and REFRESH in page
        assert time.monotonic() < deadline, "the pack was not printed in time"
        time.sleep(0.2)
    assert "3 of 3" in page
    assert page_count(client.get(f"{status}/file").get_data()) == 5


def test_with_redis_the_pack_waits_in_the_queue_for_a_worker(
    app: Flask, client, login, coordinator, make_session, make_user, monkeypatch, redis_server
):
    from rq import SimpleWorker

    monkeypatch.setattr(worker, "enqueue", ENQUEUE)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    # A queue of this test's own, which no other worker on the server serves.
    name = f"{worker.QUEUE_NAME}-{secrets.token_hex(4)}"
    queue = worker.queue(redis_server, name)
    monkeypatch.setattr(worker, "queue", lambda url, *args: queue)
    session = make_session([make_user()])
    client = login(coordinator)
    status = ask_for_pack(client, session)
    assert queue.count == 1 and "Waiting to start" in client.get(status).get_data(as_text=True)
    assert SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert "Ready to download" in client.get(status).get_data(as_text=True)
    assert page_count(client.get(f"{status}/file").get_data()) == 3
    queue.delete(delete_jobs=True)


def test_the_handout_is_rendered_once_and_reused_by_the_next_pack(
    client, login, coordinator, make_session, make_user, renders
):
    client = login(coordinator)
    first = make_session([make_user(), make_user()])
    pack_of(client, first)
    # The handout, each participant's sheet, the attendance sheet.
    assert len(renders) == 4
    assert stored_handouts() == 1

    renders.clear()
    second = make_session([make_user()])
    pdf = pack_of(client, second)
    # The stored handout is copied: only the sheet and the attendance sheet are rendered.
    assert len(renders) == 2
    assert stored_handouts() == 1
    assert page_count(pdf) == 3


def test_a_handout_is_rendered_again_when_what_it_prints_changes(
    app, client, login, coordinator, make_session, make_user, renders, monkeypatch
):
    client = login(coordinator)
    pack_of(client, make_session([make_user()]))
    from app.services.classroom import pack as pack_service

    data = pack_service.handout_data
    monkeypatch.setattr(
        pack_service,
        "handout_data",
        lambda version, language: {**data(version, language), "summary": "Corrected."},
    )
    pack_of(client, make_session([make_user()]))
    assert stored_handouts() == 2


def test_one_person_may_have_as_many_packs_printing_as_the_job_limit(
    app, client, login, coordinator, make_session, make_user, held_jobs, monkeypatch
):
    monkeypatch.setitem(app.config, "PRINT_JOBS_PER_PERSON", 1)
    session = make_session([make_user()])
    client = login(coordinator)
    ask_for_pack(client, session)
    response = post(client, f"/sessions/{session.id}/pack")
    assert response.status_code == 409
    assert "You already have 1 print job waiting or running" in response.get_data(as_text=True)
    assert count(PrintJob) == 1


def test_a_pack_whose_session_is_cancelled_meanwhile_is_not_printed(
    client, login, coordinator, make_session, make_user, held_jobs
):
    session = make_session([make_user()])
    client = login(coordinator)
    status = ask_for_pack(client, session)
    classroom.cancel(session, coordinator)
    db.session.commit()
    [job_id] = held_jobs
    job = worker.run_job(job_id, BASE_URL)
    assert job is not None and job.status == PrintJobStatus.FAILED
    page = client.get(status).get_data(as_text=True)
    assert "The session was cancelled after its pack was asked for" in page
    db.session.expire_all()
    assert session.sheets[0].printed_at is None


def test_the_qr_code_links_where_results_entry_opens_a_sheet_outside_a_request(
    app: Flask, make_session, make_user
):
    session = make_session([make_user()])
    [sheet] = session.sheets
    with app.app_context():
        link = classroom.sheet_url(sheet.code, "https://centre.example.org/")
    assert link == f"https://centre.example.org/sessions/sheets/{sheet.code}"


def test_a_cancelled_session_is_not_printed(client, login, coordinator, make_session, make_user):
    session = make_session([make_user()])
    classroom.cancel(session, coordinator)
    db.session.commit()
    client = login(coordinator)
    response = post(client, f"/sessions/{session.id}/pack")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f"Session {classroom.grouped(session.code)} was cancelled" in page
    response = client.get(f"/sessions/{session.id}/sheets/{session.sheets[0].code}.pdf")
    assert response.status_code == 409
    db.session.expire_all()
    assert session.sheets[0].printed_at is None
    assert count(PrintJob) == 0
    assert not db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_PACK_PRINTED)
    )
