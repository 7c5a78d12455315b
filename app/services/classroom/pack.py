"""The session pack: what a facilitator prints before travelling, as one PDF.

Handouts of each module's lesson, one answer sheet per participant and module, and the
attendance sheet, rendered with the certificate designs' locked-down setup (their URL
fetcher, cached stylesheet and fonts; `certificates/pack.css`). A pack is a print job
(`app.worker` runs it): each part is rendered on its own and the parts are merged
straight to a file, so memory holds one participant's sheets at a time. A handout names
no session, so it is rendered once per module version, language and design, stored, and
every later pack copies it as stored.

An answer sheet prints the questions of its attempt, drawn when the session was
scheduled: printing it again prints the same questions in the same order, and never
draws an attempt. It never prints which options are right or their feedback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    ClassroomSession,
    Document,
    DocumentKind,
    PrintJob,
    User,
)
from app.models.types import utcnow
from app.services import audit, certificates, documents, printing, quiz, translations
from app.services.certificates import wording
from app.services.classroom.sessions import SessionRefused
from app.services.content import published
from app.services.content.published import ModuleContent
from app.services.documents import fingerprints
from app.services.printing import MIMETYPES, BatchFile, PrintError, PrintOutput, merging

# The design (certificates/pack.html) and its parts.
PACK = "pack"
HANDOUT = "handout"
SHEET = "sheet"
ATTENDANCE = "attendance"
# The page of results entry that opens a sheet: where the sheet's QR code links to.
SHEET_ENDPOINT = "classroom.sheet"
# How often a pack's progress is saved, at most (seconds): its page reloads every two.
PROGRESS_EVERY = 1.0
# Letters of the options on paper, as the results grid takes them.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def design_root() -> Path:
    """Return the folder of the printed designs (the certificates' own)."""
    return Path(current_app.config["CERTIFICATES_DIR"])


def grouped(code: str) -> str:
    """Return a code as printed for reading aloud: in fours, joined by hyphens."""
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


def sheet_url(code: str, base_url: str | None = None) -> str:
    """Return the address the QR code of an answer sheet holds: its results entry."""
    return certificates.public_url(certificates.site_path(SHEET_ENDPOINT, code=code), base_url)


def page_counter(message: str) -> Markup:
    """Return a CSS `content` value writing "page N of M" as a translated message says it.

    `message` holds %(number)s and %(total)s; every other character is written as a CSS
    escape, so no text of a catalog can end the style sheet it is written in.
    """
    counters = {"%(number)s": "counter(page)", "%(total)s": "counter(pages)"}
    parts, rest = [], message
    while rest:
        found = [(rest.find(key), key) for key in counters if key in rest]
        if not found:
            parts.append(css_string(rest))
            break
        at, key = min(found)
        if at:
            parts.append(css_string(rest[:at]))
        parts.append(counters[key])
        rest = rest[at + len(key) :]
    return Markup(" ".join(parts))  # noqa: S704 (every character of text is escaped)


def css_string(text: str) -> str:
    """Return text as a CSS string, every character but letters and digits escaped."""
    return (
        '"'
        + "".join(ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):x} " for ch in text)
        + '"'
    )


@dataclass(frozen=True)
class PrintedSheet:
    """An answer sheet printed again: the PDF, its pages and the sheets it holds."""

    pdf: bytes
    pages: int
    sheets: int


def participants_of(session: ClassroomSession) -> list[User]:
    """Return a session's participants in the order they are printed: by name."""
    return sorted(
        (participant.user for participant in session.participants),
        key=lambda person: (person.full_name.casefold(), person.service_number),
    )


def versions_of(session: ClassroomSession) -> list[ModuleContent]:
    """Return the module versions a session teaches, in their order."""
    return [published.version(module.module_version_id) for module in session.modules]


def sheets_by_person(session: ClassroomSession) -> dict[int, list[AnswerSheet]]:
    """Return each participant's answer sheets, in the order of the session's modules."""
    position = {module.module_version_id: module.position for module in session.modules}
    found: dict[int, list[AnswerSheet]] = {}
    for sheet in sorted(session.sheets, key=lambda sheet: position[sheet.module_version_id]):
        found.setdefault(sheet.user_id, []).append(sheet)
    return found


def session_values(session: ClassroomSession) -> dict[str, Any]:
    """Return what every part of the pack says of the session."""
    return {
        "session_code": grouped(session.code),
        "held_on": session.held_on,
        "place": session.place,
        "unit_name": session.unit.name,
        "facilitators": [person.full_name for person in session.facilitators],
    }


def page_values(language: str, running: str) -> dict[str, Any]:
    """Return a part's language, direction and what its page margins say."""
    with wording.written_in(language):
        counter = page_counter(_("Page %(number)s of %(total)s"))
    return {
        "language": language,
        "direction": wording.direction(language),
        "running": Markup(css_string(running)),  # noqa: S704 (escaped as a CSS string)
        "page_counter": counter,
    }


def handout_readers(session: ClassroomSession, version: ModuleContent) -> dict[str, int]:
    """Return how many participants read a module's handout in each language, English first.

    A sheet's language is the one its attempt is shown in: the participant's where the
    module is translated in full, English otherwise. English is always printed, for the
    facilitator.
    """
    readers: dict[str, int] = {wording.ENGLISH: 0}
    for sheet in session.sheets:
        if sheet.module_version_id == version.id:
            readers[sheet.attempt.language] = readers.get(sheet.attempt.language, 0) + 1
    return {
        language: readers[language]
        for language in sorted(readers, key=lambda code: (code != wording.ENGLISH, code))
    }


def handout_data(version: ModuleContent, language: str) -> dict[str, Any]:
    """Return a module's handout in one language: the lesson alone, naming no session."""
    text = translations.module_text(version, language)
    return {
        **page_values(text.language, f"{text.title} · {version.label}"),
        "part": HANDOUT,
        "title": text.title,
        "summary": text.summary,
        "version_label": version.label,
        "body_html": Markup(text.body_html),  # noqa: S704 (sanitised when synced)
        "sources": [dict(source) for source in version.sources],
    }


def handout_document(version: ModuleContent, language: str) -> Document:
    """Return a module's handout in a language as stored, rendering and storing it once.

    Stored under a fingerprint of what it prints and of the design, so a new translation
    or design makes a new one, and a handout rendered by two jobs at once is kept once.
    """
    data = handout_data(version, language)
    fingerprint = fingerprints.handout(version.id, data, design_root())
    found = documents.unsigned(fingerprint)
    if found is not None:
        return found
    pdf, pages = certificates.render_counted(design_root(), data, PACK)
    return documents.keep(DocumentKind.HANDOUT, pdf, pages, fingerprint, documents.UNSIGNED)


def sheet_data(sheet: AnswerSheet, base_url: str | None = None) -> dict[str, Any]:
    """Return the values of one answer sheet: the attempt's questions, never their key."""
    attempt = sheet.attempt
    language = attempt.language
    person = sheet.user
    version = published.version(sheet.module_version_id)
    text = translations.module_text(version, language)
    questions = [
        {
            "title_html": Markup(question.title_html),  # noqa: S704 (sanitised when synced)
            "prompt_html": Markup(question.prompt_html),  # noqa: S704 (sanitised when synced)
            "multiple": question.multiple,
            "options": [
                {"letter": LETTERS[index], "text_html": Markup(option.text_html)}  # noqa: S704
                for index, option in enumerate(question.options)
            ],
        }
        for question in quiz.attempt_questions(attempt)
    ]
    link = sheet_url(sheet.code, base_url)
    running = " · ".join((grouped(sheet.session.code), grouped(sheet.code), person.full_name))
    return {
        **session_values(sheet.session),
        **page_values(language, running),
        "part": SHEET,
        "holder_name": person.full_name,
        "service_number": person.service_number,
        "holder_unit": person.unit.name if person.unit else "",
        "module_title": text.title,
        "version_label": version.label,
        "pass_mark": version.pass_mark,
        "questions": questions,
        "attestation": text.attestation,
        "code": grouped(sheet.code),
        "sheet_url": link,
        "qr": certificates.qr_data_uri(link),
    }


def attendance_data(session: ClassroomSession) -> dict[str, Any]:
    """Return the attendance sheet: every participant, in the printing person's language."""
    language = wording.document_language(wording.language())
    with wording.written_in(language):
        modules = [
            {
                "title": translations.module_text(version, language).title,
                "handouts": [
                    {"language": translations.language_name(code), "copies": copies}
                    for code, copies in handout_readers(session, version).items()
                ],
            }
            for version in versions_of(session)
        ]
    return {
        **session_values(session),
        **page_values(language, grouped(session.code)),
        "part": ATTENDANCE,
        "modules": modules,
        "people": [
            {"name": person.full_name, "service_number": person.service_number}
            for person in participants_of(session)
        ],
    }


def render(parts: Sequence[dict[str, Any]]) -> bytes:
    """Render parts of the pack, each on pages of its own, into one PDF."""
    return certificates.render_documents(design_root(), parts, PACK)


def pieces(
    session: ClassroomSession,
    base_url: str | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> Iterator[bytes]:
    """Yield the pack a part at a time: stored handouts, each participant's sheets, attendance.

    `progress` is called with the number of participants whose sheets are done, at most
    every PROGRESS_EVERY seconds and when all are: saving it is a commit, which waits for
    the disk.
    """
    store = documents.document_store()
    for version in versions_of(session):
        for language in handout_readers(session, version):
            yield documents.read(store, handout_document(version, language).digest)
    held = sheets_by_person(session)
    people = participants_of(session)
    saved = time.monotonic()
    for done, person in enumerate(people, 1):
        if held.get(person.id):
            yield render([sheet_data(sheet, base_url) for sheet in held[person.id]])
        if done == len(people) or time.monotonic() - saved >= PROGRESS_EVERY:
            progress(done)
            saved = time.monotonic()
    yield render([attendance_data(session)])


def refuse_cancelled(session: ClassroomSession) -> None:
    """Refuse to print a cancelled session's pack or sheets, saying why."""
    if session.cancelled_at is not None:
        raise SessionRefused(
            _(
                "Session %(code)s was cancelled: its pack and answer sheets cannot be printed.",
                code=grouped(session.code),
            )
        )


def request_pack(session: ClassroomSession, by: User) -> PrintJob:
    """Queue a print job for a session's pack; record the printing.

    Raise SessionRefused for a cancelled session, PrintError when the person already has
    as many print jobs waiting or running as allowed. The attendance sheet is written in
    the language being written in now, the requester's.
    """
    refuse_cancelled(session)
    people = [person.id for person in participants_of(session)]
    job = printing.create_pack_job(by, session.id, people, wording.language())
    audit.record(
        AuditAction.CLASSROOM_PACK_PRINTED,
        f"session {session.code}",
        {"sheets": len(session.sheets), "print_job": job.id},
        by,
    )
    return job


def pack_filename(session: ClassroomSession) -> str:
    """Return the download name of a session's pack."""
    return f"session-{session.code}-pack.pdf"


def write_pack(
    job: PrintJob, target: BinaryIO, base_url: str, progress: Callable[[int], None]
) -> BatchFile:
    """Write a pack job's PDF on `target`, part by part; mark its sheets printed.

    Handouts come from the document store (rendered and stored the first time); the
    sheets and the attendance sheet are rendered for this pack, their links at `base_url`.
    """
    session = db.session.get(ClassroomSession, job.session_id)
    if session is None or session.cancelled_at is not None:
        raise PrintError.of("session-cancelled")
    with wording.written_in(job.language or wording.ENGLISH):
        title = _("Session pack %(code)s", code=grouped(session.code))
        pages = merging.merge_to(target, pieces(session, base_url, progress), title)
    mark_printed(session.sheets)
    return BatchFile(pack_filename(session), MIMETYPES[PrintOutput.PDF], len(job.user_ids), pages)


def print_sheet(sheet: AnswerSheet, by: User, base_url: str | None = None) -> PrintedSheet:
    """Render one answer sheet again, with the same questions; record the printing."""
    refuse_cancelled(sheet.session)
    pdf, pages = certificates.render_counted(design_root(), sheet_data(sheet, base_url), PACK)
    mark_printed([sheet])
    audit.record(
        AuditAction.CLASSROOM_PACK_PRINTED,
        f"session {sheet.session.code}",
        {"sheet": sheet.code, "pages": pages},
        by,
    )
    return PrintedSheet(pdf, pages, 1)


def mark_printed(sheets: Sequence[AnswerSheet]) -> None:
    """Record when sheets were first printed; a reprint keeps the first time."""
    now = utcnow()
    for sheet in sheets:
        if sheet.printed_at is None:
            sheet.printed_at = now
