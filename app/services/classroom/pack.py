"""The session pack: what a facilitator prints before travelling, as one PDF.

Handouts of each module's lesson, one answer sheet per participant and module, and the
attendance sheet, rendered with the certificate designs' locked-down setup (their URL
fetcher, cached stylesheet and fonts; `certificates/pack.css`). Each part is rendered
on its own and the parts are merged, so memory holds one participant's sheets at a time.

An answer sheet prints the questions of its attempt, drawn when the session was
scheduled: printing it again prints the same questions in the same order, and never
draws an attempt. It never prints which options are right or their feedback.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from app.models import AnswerSheet, AuditAction, ClassroomSession, User
from app.models.types import utcnow
from app.services import audit, certificates, quiz, translations
from app.services.certificates import wording
from app.services.classroom.sessions import SessionRefused
from app.services.content import published
from app.services.content.published import ModuleContent
from app.services.printing import merging

# The design (certificates/pack.html) and its parts.
PACK = "pack"
HANDOUT = "handout"
SHEET = "sheet"
ATTENDANCE = "attendance"
# Where results entry opens a sheet, as the sheet's QR code links to it (classroom.sheet).
SHEET_PATH = "/sessions/sheets/{code}"
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
    return certificates.public_url(SHEET_PATH.format(code=code), base_url)


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
class Pack:
    """A printed pack: the PDF, its pages and the sheets it holds."""

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


def handout_data(session: ClassroomSession, version: ModuleContent) -> list[dict[str, Any]]:
    """Return a module's handouts: in English, and in each other language of its sheets.

    A sheet's language is the one its attempt is shown in: the participant's where the
    module is translated in full, English otherwise. The handout says how many
    participants read it, so that the facilitator knows how many copies to make.
    """
    readers: dict[str, int] = {wording.ENGLISH: 0}
    for sheet in session.sheets:
        if sheet.module_version_id == version.id:
            readers[sheet.attempt.language] = readers.get(sheet.attempt.language, 0) + 1
    handouts = []
    for language in sorted(readers, key=lambda code: (code != wording.ENGLISH, code)):
        text = translations.module_text(version, language)
        handouts.append(
            {
                **session_values(session),
                **page_values(text.language, f"{grouped(session.code)} · {text.title}"),
                "part": HANDOUT,
                "title": text.title,
                "summary": text.summary,
                "version_label": version.label,
                "body_html": Markup(text.body_html),  # noqa: S704 (sanitised when synced)
                "sources": [dict(source) for source in version.sources],
                "readers": readers[language],
            }
        )
    return handouts


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
        titles = [
            translations.module_text(version, language).title for version in versions_of(session)
        ]
    return {
        **session_values(session),
        **page_values(language, grouped(session.code)),
        "part": ATTENDANCE,
        "module_titles": titles,
        "people": [
            {"name": person.full_name, "service_number": person.service_number}
            for person in participants_of(session)
        ],
    }


def render(documents: Sequence[dict[str, Any]]) -> bytes:
    """Render parts of the pack, each on pages of its own, into one PDF."""
    return certificates.render_documents(design_root(), documents, PACK)


def pieces(session: ClassroomSession, base_url: str | None = None) -> Iterator[bytes]:
    """Render the pack a part at a time: handouts, each participant's sheets, attendance."""
    for version in versions_of(session):
        yield render(handout_data(session, version))
    held = sheets_by_person(session)
    for person in participants_of(session):
        if held.get(person.id):
            yield render([sheet_data(sheet, base_url) for sheet in held[person.id]])
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


def print_pack(session: ClassroomSession, by: User, base_url: str | None = None) -> Pack:
    """Render a session's whole pack; record the sheets printed and the printing.

    Raise SessionRefused for a cancelled session.
    """
    refuse_cancelled(session)
    out = io.BytesIO()
    title = _("Session pack %(code)s", code=grouped(session.code))
    pages = merging.merge_to(out, pieces(session, base_url), title)
    mark_printed(session.sheets)
    audit.record(
        AuditAction.CLASSROOM_PACK_PRINTED,
        f"session {session.code}",
        {"sheets": len(session.sheets), "pages": pages},
        by,
    )
    return Pack(out.getvalue(), pages, len(session.sheets))


def print_sheet(sheet: AnswerSheet, by: User, base_url: str | None = None) -> Pack:
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
    return Pack(pdf, pages, 1)


def mark_printed(sheets: Sequence[AnswerSheet]) -> None:
    """Record when sheets were first printed; a reprint keeps the first time."""
    now = utcnow()
    for sheet in sheets:
        if sheet.printed_at is None:
            sheet.printed_at = now
