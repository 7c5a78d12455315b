"""Quiz attempts: draw questions, grade answers on the server, record the result once."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from app import i18n
from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    ClassroomSession,
    Completion,
    DeliveryMode,
    ModuleVersion,
    QuizAttempt,
    User,
)
from app.models.types import utcnow
from app.services import audit, certificates, records, training, translations
from app.services.content import published
from app.services.content.published import ModuleContent

# Read at each draw, not bound as a default, so that tests can replace the draw.
_random: random.Random = random.SystemRandom()

# Failed attempts in a row after which the learner waits QUIZ_COOLDOWN_MINUTES.
FAILURES_BEFORE_COOLDOWN = 2


# Of the questions drawn, at least this many are written for the learner's own category
# when the pool has them, so a police officer meets police situations every time.
OWN_CATEGORY_MINIMUM = 3


def draw_questions(
    pool: Sequence[Mapping[str, Any]], count: int, category: str, rng: random.Random
) -> list[Mapping[str, Any]]:
    """Draw questions for a learner: untagged ones and those tagged for their category.

    Questions tagged only for other categories are used only if the pool runs short.
    """
    own = [q for q in pool if category in q.get("categories", [])]
    general = [q for q in pool if not q.get("categories")]
    others = [q for q in pool if q.get("categories") and category not in q["categories"]]
    drawn = rng.sample(own, min(len(own), OWN_CATEGORY_MINIMUM, count))
    rest = [q for q in own + general if q not in drawn]
    drawn += rng.sample(rest, min(len(rest), count - len(drawn)))
    drawn += rng.sample(others, min(len(others), count - len(drawn)))
    rng.shuffle(drawn)
    return drawn


def drawn_questions(
    version: ModuleContent, category: str, rng: random.Random
) -> list[dict[str, Any]]:
    """Draw a new attempt's questions for a person: in random order, options shuffled."""
    drawn = draw_questions(version.quiz, version.questions_per_attempt, category, rng)
    questions = []
    for question in drawn:
        order = [option["id"] for option in question["options"]]
        rng.shuffle(order)
        questions.append({"id": question["id"], "options": order})
    return questions


def start_attempt(
    user: User,
    version: ModuleContent,
    rng: random.Random | None = None,
    language: str = translations.SOURCE_LANGUAGE,
) -> QuizAttempt:
    """Continue the person's open attempt at the version, or draw a new one.

    A new attempt's questions come from the pool, in random order, options shuffled; it
    is shown in `language` from start to end, if the version is translated into it in
    full, in the source language otherwise. Of two starts at once (two tabs, a double
    press on a slow line), the unique index lets one draw and the other continues it.
    """
    attempt = open_attempt(user, version)
    if attempt is not None:
        return attempt
    attempt = QuizAttempt(
        user=user,
        module_version_id=version.id,
        questions=drawn_questions(version, user.category, rng or _random),
        language=translations.served_language(version, language),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except sa.exc.IntegrityError:
        drawn_meanwhile = open_attempt(user, version)
        if drawn_meanwhile is None:
            raise
        return drawn_meanwhile
    return attempt


def start_attempts(
    people: Sequence[User],
    versions: Sequence[ModuleContent],
    rng: random.Random | None = None,
    language_of: Callable[[User], str] = lambda person: translations.SOURCE_LANGUAGE,
) -> dict[tuple[int, int], int]:
    """Continue or draw each person's attempt at each version; return their ids.

    As start_attempt for every person and version in turn (the same draw, the same
    language rule: `language_of(person)` if the version is translated into it in full),
    but in a few statements whatever the number of people: the open attempts read at
    once, the new ones inserted at once. The ids are keyed by (person id, version id).
    Should someone start an attempt meanwhile, each is started one by one instead.
    """
    if not people or not versions:
        return {}
    ids = open_attempt_ids([person.id for person in people], [version.id for version in versions])
    rng = rng or _random
    served: dict[tuple[int, str], str] = {}
    rows = []
    for person in people:
        language = language_of(person)
        for version in versions:
            if (person.id, version.id) in ids:
                continue
            if (version.id, language) not in served:
                served[version.id, language] = translations.served_language(version, language)
            rows.append(
                {
                    "user_id": person.id,
                    "module_version_id": version.id,
                    "questions": drawn_questions(version, person.category, rng),
                    "language": served[version.id, language],
                }
            )
    if not rows:
        return ids
    insert = sa.insert(QuizAttempt).returning(
        QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.module_version_id
    )
    try:
        with db.session.begin_nested():
            drawn = db.session.execute(insert, rows).all()
    except sa.exc.IntegrityError:
        return {
            (person.id, version.id): start_attempt(person, version, rng, language_of(person)).id
            for person in people
            for version in versions
        }
    ids.update({(user_id, version_id): attempt_id for attempt_id, user_id, version_id in drawn})
    return ids


def open_attempt_ids(
    user_ids: Collection[int], version_ids: Collection[int]
) -> dict[tuple[int, int], int]:
    """Return the ids of the open attempts of these people at these versions, in one query."""
    rows = db.session.execute(
        sa.select(QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.module_version_id).where(
            QuizAttempt.user_id.in_(list(user_ids)),
            QuizAttempt.module_version_id.in_(list(version_ids)),
            QuizAttempt.submitted_at.is_(None),
        )
    )
    return {(user_id, version_id): attempt_id for attempt_id, user_id, version_id in rows}


def find_attempt(user: User, attempt_id: int) -> QuizAttempt | None:
    """Return one of the person's own attempts, or None (someone else's included)."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    return attempt if attempt is not None and attempt.user_id == user.id else None


def open_attempt(user: User, version: ModuleContent) -> QuizAttempt | None:
    """Return the person's latest attempt at this version that is not submitted yet."""
    return db.session.scalar(
        sa.select(QuizAttempt)
        .where(
            QuizAttempt.user_id == user.id,
            QuizAttempt.module_version_id == version.id,
            QuizAttempt.submitted_at.is_(None),
        )
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class OnPaper:
    """An open attempt printed on an answer sheet, held for a session yet to be recorded."""

    attempt_id: int
    session_code: str
    held_on: date
    # The first day it may be taken online if the session's results are never entered.
    online_from: date


def on_paper(attempt_ids: Collection[int], today: date | None = None) -> dict[int, OnPaper]:
    """Return, by attempt id, the open attempts held on paper for a session, in one query.

    A sheet holds its attempt until the session's results are entered, the session is
    cancelled, or its entry window (the session's day plus CLASSROOM_GRACE_DAYS) closes:
    the printed sheet stays valid that long, so the same attempt cannot be taken online
    meanwhile. Absent participants' attempts stay open for online use once recorded.
    """
    if not attempt_ids:
        return {}
    grace = timedelta(days=int(current_app.config["CLASSROOM_GRACE_DAYS"]))
    today = today or utcnow().date()
    rows = db.session.execute(
        sa.select(AnswerSheet.attempt_id, ClassroomSession.code, ClassroomSession.held_on)
        .join(ClassroomSession, ClassroomSession.id == AnswerSheet.session_id)
        .join(QuizAttempt, QuizAttempt.id == AnswerSheet.attempt_id)
        .where(
            AnswerSheet.attempt_id.in_(list(attempt_ids)),
            QuizAttempt.submitted_at.is_(None),
            ClassroomSession.cancelled_at.is_(None),
            ClassroomSession.recorded_at.is_(None),
            ClassroomSession.held_on >= today - grace,
        )
    )
    return {
        attempt_id: OnPaper(attempt_id, code, held_on, held_on + grace + timedelta(days=1))
        for attempt_id, code, held_on in rows
    }


def paper_refusal(held: OnPaper) -> str:
    """Say why an attempt held on paper cannot be taken online, and until when."""
    return str(
        _(
            "Your quiz for this module is on paper, in session %(code)s on %(date)s. You "
            "cannot take it online until that session's results are recorded or it is "
            "cancelled, or from %(online)s if they are not recorded by then.",
            code=held.session_code,
            date=i18n.format_day(held.held_on),
            online=i18n.format_day(held.online_from),
        )
    )


@dataclass(frozen=True)
class Cooldown:
    """A wait after failing twice in a row: from the last failure until the next try."""

    since: datetime
    until: datetime


# Built once: the quiz and its result ask it on every submission and view.
LATEST_SUBMITTED = (
    sa.select(QuizAttempt.passed, QuizAttempt.submitted_at)
    .join(QuizAttempt.module_version)
    .where(
        QuizAttempt.user_id == sa.bindparam("user_id"),
        ModuleVersion.module_id == sa.bindparam("module_id"),
        QuizAttempt.submitted_at.is_not(None),
    )
    .order_by(QuizAttempt.submitted_at.desc())
    .limit(FAILURES_BEFORE_COOLDOWN)
)


def cooldown(
    user: User,
    version: ModuleContent,
    now: datetime | None = None,
    attempts: Sequence[training.AttemptSummary] | None = None,
) -> Cooldown | None:
    """Return the wait before the person may try the module's quiz again, if any.

    They wait QUIZ_COOLDOWN_MINUTES after failing it twice in a row; None when they may
    try now. Given the person's `attempts` at the module, already read, it reads nothing.
    """
    minutes = int(current_app.config["QUIZ_COOLDOWN_MINUTES"])
    if minutes <= 0:
        return None
    latest: list[tuple[bool | None, datetime]]
    if attempts is None:
        rows = db.session.execute(
            LATEST_SUBMITTED, {"user_id": user.id, "module_id": version.module_id}
        )
        latest = [(passed, submitted_at) for passed, submitted_at in rows if submitted_at]
    else:
        submitted = [(a.passed, a.submitted_at) for a in attempts if a.submitted_at is not None]
        submitted.sort(key=lambda pair: pair[1], reverse=True)
        latest = submitted[:FAILURES_BEFORE_COOLDOWN]
    if len(latest) < FAILURES_BEFORE_COOLDOWN or any(passed for passed, _ in latest):
        return None
    last_failure = latest[0][1]
    until = last_failure + timedelta(minutes=minutes)
    return Cooldown(last_failure, until) if until > (now or utcnow()) else None


@dataclass(frozen=True)
class ShownOption:
    id: str
    text_html: str
    # None where the key is withheld (the result of a failed attempt).
    correct: bool | None
    feedback_html: str
    chosen: bool


@dataclass(frozen=True)
class ShownQuestion:
    id: str
    title_html: str
    prompt_html: str
    multiple: bool
    options: list[ShownOption]
    # Exactly the correct options were chosen.
    answered_correctly: bool
    # The lesson section that teaches the answer: {"title": ..., "anchor": ...}, if named.
    section: dict[str, str] | None = None

    @property
    def explained(self) -> bool:
        """Return whether any option shown carries feedback."""
        return any(option.feedback_html for option in self.options)


def attempt_questions(
    attempt: QuizAttempt, answers: dict[str, list[str]] | None = None
) -> list[ShownQuestion]:
    """Return the attempt's questions in their drawn order with options as shown."""
    version = published.version(attempt.module_version_id)
    pool = {
        question["id"]: question for question in translations.quiz_in(version, attempt.language)
    }
    answers = answers or {}
    shown = []
    for drawn in attempt.questions:
        question = pool[drawn["id"]]
        options = {option["id"]: option for option in question["options"]}
        chosen = set(answers.get(drawn["id"], []))
        shown.append(
            ShownQuestion(
                id=drawn["id"],
                title_html=question["title_html"],
                prompt_html=question["prompt_html"],
                multiple=question["multiple"],
                options=[
                    ShownOption(
                        id=option_id,
                        text_html=options[option_id]["text_html"],
                        correct=options[option_id]["correct"],
                        feedback_html=options[option_id]["feedback_html"],
                        chosen=option_id in chosen,
                    )
                    for option_id in drawn["options"]
                ],
                answered_correctly=all(
                    (option_id in chosen) == options[option_id]["correct"]
                    for option_id in drawn["options"]
                ),
                section=question.get("section"),
            )
        )
    return shown


def attempt_feedback(attempt: QuizAttempt) -> list[ShownQuestion]:
    """Return a submitted attempt's questions as its result shows them.

    A pass shows the whole key. A failure says which questions were wrong, and why
    through the feedback on the wrong options chosen, but never which options were
    right: otherwise failing on purpose would hand out the key.
    """
    questions = attempt_questions(attempt, attempt.answers)
    if attempt.passed:
        return questions
    return [
        replace(
            question,
            options=[
                replace(
                    option,
                    correct=None,
                    # A right question's chosen options are all right: saying why adds nothing.
                    feedback_html=option.feedback_html
                    if option.chosen and (question.answered_correctly or not option.correct)
                    else "",
                )
                for option in question.options
            ],
        )
        for question in questions
    ]


def answer_errors(attempt: QuizAttempt, answers: dict[str, list[str]]) -> dict[str, str]:
    """Return, per question id, what is wrong with the answers given (empty when valid)."""
    errors = {}
    for number, question in enumerate(attempt_questions(attempt), start=1):
        chosen = answers.get(question.id, [])
        valid = {option.id for option in question.options}
        if not chosen:
            errors[question.id] = _("Choose an answer to question %(number)s.", number=number)
        elif not set(chosen) <= valid or (not question.multiple and len(chosen) > 1):
            errors[question.id] = _(
                "Question %(number)s: choose among the options shown.", number=number
            )
    return errors


def score(attempt: QuizAttempt, answers: dict[str, list[str]]) -> int:
    """Return the percentage of questions answered exactly right."""
    questions = attempt_questions(attempt, answers)
    right = sum(question.answered_correctly for question in questions)
    return round(100 * right / len(questions))


def received(attempt: QuizAttempt, said: datetime | None, now: datetime) -> dict[str, datetime]:
    """Return when answers arriving `now` were given, as the device `said`, and arrived.

    A device's clock may be wrong: the time is never before the attempt started nor after
    the answers arrived. Without a time from the device, they were given as they arrived.
    """
    answered = now if said is None else min(max(said, attempt.started_at), now)
    return {"answered_at": answered, "arrived_at": now}


def submit_attempt(
    attempt: QuizAttempt,
    answers: dict[str, list[str]],
    now: datetime | None = None,
    answered_at: datetime | None = None,
    *,
    delivery_mode: DeliveryMode = DeliveryMode.ONLINE,
    session: ClassroomSession | None = None,
    facilitator: User | None = None,
) -> bool:
    """Grade and record an attempt; return False if it had already been submitted.

    The conditional UPDATE is the guard: of several concurrent submissions of one
    attempt, the database lets exactly one change the row; a submission kept on a device
    and sent again when the connection returns changes nothing the second time.
    `answered_at` is when the device says the learner pressed Submit. A sheet entered
    from a facilitated session passes its session and facilitator: the completion, its
    certificate and the audit trail say it was earned there.
    """
    now = now or utcnow()
    version = published.version(attempt.module_version_id)
    result = score(attempt, answers)
    passed = result >= version.pass_mark
    values = {"answers": answers, "score": result, "passed": passed, "submitted_at": now,
              **received(attempt, answered_at, now)}  # fmt: skip
    recorded = db.session.execute(
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(recorded, "rowcount", 0) != 1:
        return False
    # What the UPDATE stored, without reading the row back.
    for name, value in values.items():
        set_committed_value(attempt, name, value)
    if passed:
        completion = Completion(
            user_id=attempt.user_id,
            module_id=version.module_id,
            module_version_id=version.id,
            attempt_id=attempt.id,
            completed_at=now,
            expires_at=training.add_months(now, version.validity_months),
            language=attempt.language,
            delivery_mode=delivery_mode,
            session=session,
            facilitator=facilitator,
        )
        db.session.add(completion)
        db.session.flush()
        records.extend([(completion.user_id, version.module_id, completion.expires_at)])
        certificate = certificates.issue(completion)
        subject = f"{attempt.user.username}: {version.slug} {version.label}"
        # Who recorded it: the learner online, the facilitator who entered the sheet.
        actor = facilitator or attempt.user
        audit.record(
            AuditAction.COMPLETION_RECORDED,
            subject,
            {"attempt": attempt.id, "score": result, "expires": completion.expires_at.isoformat()}
            | delivery_detail(completion),
            actor,
        )
        audit.record(
            AuditAction.CERTIFICATE_ISSUED,
            certificate.code,
            {"for": subject} | delivery_detail(completion),
            actor,
        )
    return True


def delivery_detail(completion: Completion) -> dict[str, str]:
    """Return what the audit trail says of how a completion was earned (nothing online)."""
    if completion.delivery_mode != DeliveryMode.CLASSROOM:
        return {}
    session = completion.session
    return {"delivery": f"classroom, session {session.code}" if session else "classroom"}


class SaveRefused(Exception):
    """Answers that cannot be saved on an attempt, with the reason to show."""

    def __init__(self, message: str, submitted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.submitted = submitted


def save_answers(
    attempt: QuizAttempt,
    answers: dict[str, list[str]],
    now: datetime | None = None,
    answered_at: datetime | None = None,
) -> None:
    """Keep the answers chosen so far on an open attempt, without grading them.

    Raise SaveRefused for options that are not the question's (or several for a question
    that takes one), and once the attempt is submitted: a save that arrives after the
    submission, however late, changes nothing. The conditional UPDATE is the guard.
    `answered_at` is when the device says the answers were given.
    """
    for number, question in enumerate(attempt_questions(attempt), start=1):
        chosen = answers.get(question.id, [])
        valid = {option.id for option in question.options}
        if not set(chosen) <= valid or (not question.multiple and len(chosen) > 1):
            raise SaveRefused(
                _("Question %(number)s: choose among the options shown.", number=number)
            )
    saved = {question_id: chosen for question_id, chosen in answers.items() if chosen}
    now = now or utcnow()
    values = {"saved_answers": saved, "saved_at": now, **received(attempt, answered_at, now)}
    recorded = db.session.execute(
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(recorded, "rowcount", 0) != 1:
        raise SaveRefused(
            _("This attempt has already been submitted: these answers were not saved."),
            submitted=True,
        )
    for name, value in values.items():
        set_committed_value(attempt, name, value)


def parse_answers(form: Any, attempt: QuizAttempt) -> dict[str, list[str]]:
    """Read the submitted options for each drawn question from a form."""
    return {
        drawn["id"]: [value for value in form.getlist(f"q{drawn['id']}") if value]
        for drawn in attempt.questions
    }


def device_time(value: str | None) -> datetime | None:
    """Read the time a device says answers were given (ISO 8601); None when it says none.

    Raise ValueError for a value that is not a time. A time without an offset is UTC.
    """
    if not value:
        return None
    said = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return said if said.tzinfo is not None else said.replace(tzinfo=UTC)
