"""Results entered from the paper answer sheets: read, checked, graded as online, recorded.

The grid has one row per answer sheet: whether the participant sat it, whether they
signed its undertaking, and per question the letters they ticked. Letters stand for the
options in the order the sheet printed them, the attempt's own order. Everything is
checked before anything is written, and the whole session is recorded in the caller's
one transaction: an error in any row records nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import i18n
from app.extensions import db
from app.models import AnswerSheet, AuditAction, ClassroomSession, DeliveryMode, User
from app.models.types import utcnow
from app.services import attestation, audit, quiz, translations
from app.services.classroom.sessions import SessionRefused, entry_closes_on
from app.services.content import published
from app.services.content.published import ModuleContent

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Typed for "nothing ticked on the sheet": graded as a wrong answer.
NOTHING_TICKED = "-"
# Separators a facilitator may type between letters.
SEPARATORS = str.maketrans("", "", " ,;/")
# Cyrillic and Greek capitals that look like the printed Latin ones, typed on another
# keyboard layout.
LOOKALIKES = str.maketrans("\u0410\u0412\u0421\u0415\u0391\u0392\u0395", "ABCEABE")


@dataclass
class Row:
    """One answer sheet as entered: its number in the grid, what was typed, what it means."""

    number: int
    sheet: AnswerSheet
    version: ModuleContent
    present: bool
    signed: bool
    # The text typed per question, in the sheet's order.
    typed: list[str]
    # Per question: how many options the sheet printed, and whether several may be ticked.
    option_counts: list[int]
    multiple: list[bool]
    # What is wrong, per question number (0 for the row itself).
    errors: dict[int, str] = field(default_factory=dict)
    # The options chosen per question id, once the row is valid and graded.
    answers: dict[str, list[str]] | None = None
    score: int | None = None

    @property
    def name(self) -> str:
        return self.sheet.user.full_name

    @property
    def submitted_online(self) -> bool:
        return self.sheet.attempt.submitted_at is not None

    @property
    def needs_undertaking(self) -> bool:
        return self.version.attestation is not None

    @property
    def attended(self) -> bool | None:
        """Return whether the participant was recorded present (None until recorded)."""
        return next(
            (
                p.attended
                for p in self.sheet.session.participants
                if p.user_id == self.sheet.user_id
            ),
            None,
        )

    @property
    def passed(self) -> bool | None:
        return None if self.score is None else self.score >= self.version.pass_mark

    @property
    def graded(self) -> bool:
        """Return whether confirming records this sheet as a submitted attempt."""
        return self.answers is not None


@dataclass
class ModuleGrid:
    """The rows of one module's sheets: one table of the grid."""

    version: ModuleContent
    title: str
    rows: list[Row]

    @property
    def question_count(self) -> int:
        return max((len(row.typed) for row in self.rows), default=0)


@dataclass
class Entry:
    """A session's results as entered, per module, checked and graded."""

    session: ClassroomSession
    modules: list[ModuleGrid]

    @property
    def rows(self) -> list[Row]:
        return [row for module in self.modules for row in module.rows]

    @property
    def errors(self) -> list[tuple[Row, int, str]]:
        """Return every error, in the grid's order: the row, the question (0: none), why."""
        return [
            (row, number, message)
            for row in self.rows
            for number, message in sorted(row.errors.items())
        ]

    @property
    def recorded_by(self) -> User | None:
        """Return who confirmed the results, once they are recorded."""
        recorded_by_id = self.session.recorded_by_id
        return None if recorded_by_id is None else db.session.get(User, recorded_by_id)


def field_name(sheet: AnswerSheet, what: str | int) -> str:
    """Return the grid's field name for a sheet: present, signed, or a question's number."""
    if isinstance(what, int):
        return f"answer-{sheet.code}-{what}"
    return f"{what}-{sheet.code}"


def sheet_code(typed: str) -> str:
    """Return the sheet code in what was typed or scanned: a code, or the QR code's address."""
    return typed.strip().rstrip("/").rsplit("/", 1)[-1].upper().replace("-", "")


def refusal(session: ClassroomSession, today: date | None = None) -> str | None:
    """Say why the session's results cannot be entered now, or None when they can."""
    today = today or utcnow().date()
    reason: str | None = None
    if session.cancelled_at is not None:
        reason = _("This session was cancelled: there are no results to enter.")
    elif session.recorded_at is not None:
        reason = _("This session's results are already recorded.")
    # A day's margin for training centres whose day begins before UTC's.
    elif today < session.held_on - timedelta(days=1):
        reason = _(
            "This session is held on %(date)s: its results can be entered from that day.",
            date=i18n.format_day(session.held_on),
        )
    elif today > entry_closes_on(session):
        reason = _(
            "Results of this session could be entered until %(date)s. That time is over: "
            "the participants take the quiz online instead.",
            date=i18n.format_day(entry_closes_on(session)),
        )
    return reason


def blank(session: ClassroomSession) -> Entry:
    """Return the grid to fill in: everyone present, no undertaking ticked, no letters."""
    return _entry(session, None)


def read(session: ClassroomSession, form: Mapping[str, str]) -> Entry:
    """Read the grid as posted, check every row and grade the valid ones as online would."""
    entry = _entry(session, form)
    for row in entry.rows:
        _check(row)
    return entry


def _entry(session: ClassroomSession, form: Mapping[str, str] | None) -> Entry:
    sheets: dict[int, list[AnswerSheet]] = {}
    for sheet in sorted(session.sheets, key=lambda s: (s.user.full_name, s.user_id)):
        sheets.setdefault(sheet.module_version_id, []).append(sheet)
    modules = []
    number = 0
    for taught in session.modules:
        version = published.version(taught.module_version_id)
        rows = []
        for sheet in sheets.get(taught.module_version_id, []):
            number += 1
            questions = quiz.attempt_questions(sheet.attempt)
            if form is None:
                present, signed = True, False
                typed = ["" for _ in questions]
            else:
                present = bool(form.get(field_name(sheet, "present")))
                signed = bool(form.get(field_name(sheet, "signed")))
                typed = [
                    (form.get(field_name(sheet, n)) or "")[:40]
                    for n in range(1, len(questions) + 1)
                ]
            rows.append(
                Row(
                    number=number,
                    sheet=sheet,
                    version=version,
                    present=present,
                    signed=signed,
                    typed=typed,
                    option_counts=[len(question.options) for question in questions],
                    multiple=[question.multiple for question in questions],
                )
            )
        modules.append(ModuleGrid(version, translations.module_text(version).title, rows))
    return Entry(session, modules)


def normalise(typed: str) -> str:
    """Return the letters typed, upper case, without separators, each once, in order."""
    text = unicodedata.normalize("NFKC", typed).upper().translate(LOOKALIKES)
    text = text.translate(SEPARATORS)
    return "".join(sorted(set(text), key=text.index))


def _check(row: Row) -> None:
    """Fill in the row's errors, and its answers and score when it has none."""
    typed = [normalise(text) for text in row.typed]
    entered = any(typed)
    where = _("Row %(row)s (%(name)s)", row=row.number, name=row.name)
    if row.submitted_online:
        if entered:
            row.errors[0] = _(
                "%(where)s: this sheet's quiz was submitted online on %(date)s. Its answers "
                "cannot be recorded again: clear them.",
                where=where,
                date=i18n.format_day(row.sheet.attempt.submitted_at),
            )
        return
    if not row.present:
        if entered:
            row.errors[0] = _(
                "%(where)s: answers are entered but Present is not ticked. Tick Present, "
                "or clear the answers of someone absent.",
                where=where,
            )
        return
    if row.needs_undertaking and not row.signed:
        if entered:
            row.errors[0] = _(
                "%(where)s: the undertaking is not ticked as signed. Tick it if the sheet's "
                "undertaking is signed; unsigned, the answers cannot count: clear them.",
                where=where,
            )
        return
    answers: dict[str, list[str]] = {}
    for number, (letters, count, multiple, drawn) in enumerate(
        zip(typed, row.option_counts, row.multiple, row.sheet.attempt.questions, strict=True),
        start=1,
    ):
        at = _("%(where)s, question %(number)s", where=where, number=number)
        printed = LETTERS[:count]
        unknown = [letter for letter in letters if letter not in printed + NOTHING_TICKED]
        if not letters:
            row.errors[number] = _(
                "%(at)s: no answer is entered. Type the letter ticked, or %(none)s if "
                "nothing is ticked.",
                at=at,
                none=NOTHING_TICKED,
            )
        elif unknown:
            row.errors[number] = _(
                "%(at)s: “%(letter)s” is not an option of this question. Type a letter "
                "from A to %(last)s.",
                at=at,
                letter=unknown[0],
                last=printed[-1],
            )
        elif NOTHING_TICKED in letters and len(letters) > 1:
            row.errors[number] = _(
                "%(at)s: type letters, or %(none)s alone if nothing is ticked.",
                at=at,
                none=NOTHING_TICKED,
            )
        elif not multiple and len(letters) > 1:
            row.errors[number] = _(
                "%(at)s: this question takes one answer, and “%(letters)s” gives "
                "%(count)s. If the sheet has several ticked, type %(none)s: it counts as wrong.",
                at=at,
                letters=letters,
                count=len(letters),
                none=NOTHING_TICKED,
            )
        else:
            options = drawn["options"]
            answers[drawn["id"]] = [
                options[LETTERS.index(letter)] for letter in letters if letter != NOTHING_TICKED
            ]
    if not row.errors:
        row.answers = answers
        row.score = quiz.score(row.sheet.attempt, answers)


@dataclass(frozen=True)
class Recorded:
    """What confirming a session's results recorded."""

    present: int
    absent: int
    graded: int
    passed: int


def record(entry: Entry, by: User, now: datetime | None = None) -> Recorded:
    """Record a checked entry: attendance, undertakings, every graded sheet, the session.

    Each graded sheet's attempt is submitted as online (quiz.submit_attempt), after the
    undertaking signed on paper where the module asks for one, attested by the person
    confirming. Raise SessionRefused when the entry has errors, the session is no longer
    open for entry, or a sheet was submitted online meanwhile: the caller then rolls
    back, and nothing is recorded.
    """
    session = entry.session
    reason = refusal(session)
    if reason is not None:
        raise SessionRefused(reason)
    if entry.errors:
        raise SessionRefused(entry.errors[0][2])
    now = now or utcnow()
    # The guard against two people confirming the same session at once.
    marked = db.session.execute(
        sa.update(ClassroomSession)
        .where(
            ClassroomSession.id == session.id,
            ClassroomSession.recorded_at.is_(None),
            ClassroomSession.cancelled_at.is_(None),
        )
        .values(recorded_at=now, recorded_by_id=by.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:
        raise SessionRefused(_("This session's results are already recorded."))
    facilitator = (
        by if by in session.facilitators or not session.facilitators else session.facilitators[0]
    )
    attended: dict[int, bool] = {}
    for row in entry.rows:
        attended[row.sheet.user_id] = attended.get(row.sheet.user_id, False) or row.present
        if row.answers is None:
            continue
        attempt = row.sheet.attempt
        if row.needs_undertaking:
            text = translations.module_text(row.version, attempt.language)
            attestation.attest(
                row.sheet.user,
                row.version,
                text.attestation,
                text.language,
                session_id=session.id,
                attested_by_id=by.id,
            )
        if not quiz.submit_attempt(
            attempt,
            row.answers,
            now,
            delivery_mode=DeliveryMode.CLASSROOM,
            session=session,
            facilitator=facilitator,
        ):
            raise SessionRefused(
                _(
                    "Row %(row)s (%(name)s): this sheet's quiz was submitted online meanwhile. "
                    "Nothing is recorded: clear its answers and confirm again.",
                    row=row.number,
                    name=row.name,
                )
            )
    for participant in session.participants:
        participant.attended = attended.get(participant.user_id, False)
    graded = [row for row in entry.rows if row.graded]
    result = Recorded(
        present=sum(attended.values()),
        absent=len(session.participants) - sum(attended.values()),
        graded=len(graded),
        passed=sum(bool(row.passed) for row in graded),
    )
    audit.record(
        AuditAction.CLASSROOM_RESULTS_ENTERED,
        f"session {session.code}",
        {
            "present": result.present,
            "absent": result.absent,
            "sheets_graded": result.graded,
            "passed": result.passed,
        },
        by,
    )
    db.session.flush()
    db.session.refresh(session)
    return result
