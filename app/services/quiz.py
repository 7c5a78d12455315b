"""Quiz attempts: draw questions, grade answers on the server, record the result once."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.models import AuditAction, Completion, ModuleVersion, QuizAttempt, User
from app.models.types import utcnow
from app.services import audit, certificates, records, training

_random = random.SystemRandom()


# Of the questions drawn, at least this many are written for the learner's own category
# when the pool has them, so a police officer meets police situations every time.
OWN_CATEGORY_MINIMUM = 3


def draw_questions(
    pool: list[dict[str, Any]], count: int, category: str, rng: random.Random
) -> list[dict[str, Any]]:
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


def start_attempt(user: User, version: ModuleVersion, rng: random.Random = _random) -> QuizAttempt:
    """Draw this attempt's questions from the pool, in random order, options shuffled."""
    drawn = draw_questions(version.quiz, version.questions_per_attempt, user.category, rng)
    questions = []
    for question in drawn:
        order = [option["id"] for option in question["options"]]
        rng.shuffle(order)
        questions.append({"id": question["id"], "options": order})
    attempt = QuizAttempt(user=user, module_version=version, questions=questions)
    db.session.add(attempt)
    db.session.flush()
    return attempt


@dataclass(frozen=True)
class ShownOption:
    id: str
    text_html: str
    correct: bool
    feedback_html: str
    chosen: bool


@dataclass(frozen=True)
class ShownQuestion:
    id: str
    title_html: str
    prompt_html: str
    multiple: bool
    options: list[ShownOption]

    @property
    def answered_correctly(self) -> bool:
        """Return whether exactly the correct options were chosen."""
        return all(option.chosen == option.correct for option in self.options)


def attempt_questions(
    attempt: QuizAttempt, answers: dict[str, list[str]] | None = None
) -> list[ShownQuestion]:
    """Return the attempt's questions in their drawn order with options as shown."""
    pool = {question["id"]: question for question in attempt.module_version.quiz}
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
            )
        )
    return shown


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


def submit_attempt(
    attempt: QuizAttempt, answers: dict[str, list[str]], now: datetime | None = None
) -> bool:
    """Grade and record an attempt; return False if it had already been submitted.

    The conditional UPDATE is the guard: of several concurrent submissions of one
    attempt, the database lets exactly one change the row.
    """
    now = now or utcnow()
    version = attempt.module_version
    result = score(attempt, answers)
    passed = result >= version.pass_mark
    recorded = db.session.execute(
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(answers=answers, score=result, passed=passed, submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(recorded, "rowcount", 0) != 1:
        return False
    db.session.refresh(attempt)
    if passed:
        completion = Completion(
            user_id=attempt.user_id,
            module_id=version.module_id,
            module_version=version,
            attempt_id=attempt.id,
            completed_at=now,
            expires_at=training.add_months(now, version.validity_months),
        )
        db.session.add(completion)
        db.session.flush()
        records.extend([(completion.user_id, version.module_id, completion.expires_at)])
        certificate = certificates.issue(completion)
        subject = f"{attempt.user.username}: {version.slug} {version.label}"
        audit.record(
            AuditAction.COMPLETION_RECORDED,
            subject,
            {"attempt": attempt.id, "score": result, "expires": completion.expires_at.isoformat()},
            attempt.user,
        )
        audit.record(
            AuditAction.CERTIFICATE_ISSUED, certificate.code, {"for": subject}, attempt.user
        )
    return True


def parse_answers(form: Any, attempt: QuizAttempt) -> dict[str, list[str]]:
    """Read the submitted options for each drawn question from a form."""
    return {
        drawn["id"]: [value for value in form.getlist(f"q{drawn['id']}") if value]
        for drawn in attempt.questions
    }
