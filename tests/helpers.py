"""Shortcuts for tests that need a person who already passed a module."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Certificate, User
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
