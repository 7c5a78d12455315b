"""Shortcuts for tests that need a person who already passed a module."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Certificate, Completion, TrainingRecord, User
from app.services import quiz, training


def pass_module(user: User, slug: str = "basics") -> Certificate:
    """Have a person take and pass a module's quiz; return the certificate issued."""
    version = training.current_version(slug)
    assert version is not None
    attempt = quiz.start_attempt(user, version)
    pool = {question["id"]: question for question in version.quiz}
    answers = {
        drawn["id"]: [o["id"] for o in pool[drawn["id"]]["options"] if o["correct"]]
        for drawn in attempt.questions
    }
    assert quiz.submit_attempt(attempt, answers)
    db.session.commit()
    certificate = db.session.scalar(sa.select(Certificate).order_by(Certificate.id.desc()))
    assert certificate is not None
    return certificate


def move_expiry(user: User, module_id: int, when: datetime) -> None:
    """Make a person's completions of a module expire at `when`, as time passing would."""
    db.session.execute(
        sa.update(Completion)
        .where(Completion.user_id == user.id, Completion.module_id == module_id)
        .values(expires_at=when)
    )
    db.session.execute(
        sa.update(TrainingRecord)
        .where(TrainingRecord.user_id == user.id, TrainingRecord.module_id == module_id)
        .values(valid_until=when)
    )
    db.session.commit()
