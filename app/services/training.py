"""What each person must complete, and where they stand."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Attestation,
    Certificate,
    Completion,
    ModuleVersion,
    QuizAttempt,
    TrainingModule,
    User,
)
from app.models.types import utcnow
from app.services import curriculum, records

# Other services ask this module for a person's mandatory modules.

# A valid completion may be renewed this long before it expires.
RENEWAL_WINDOW = timedelta(days=60)


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    PASSED = "passed"
    EXPIRED = "expired"
    # The certificate of the latest completion was revoked: the module must be taken again.
    REVOKED = "revoked"


def add_months(moment: datetime, months: int) -> datetime:
    """Return the same day `months` later, clamped to the end of shorter months."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class ModuleStatus:
    version: ModuleVersion
    status: Status
    # The completion that counts: the latest expiry whose certificate is not revoked.
    completion: Completion | None
    attested_at: datetime | None = None
    # When the certificate of a later completion was revoked, if that is where things stand.
    revoked_at: datetime | None = None

    @property
    def needs_attestation(self) -> bool:
        """Return whether the learner must still confirm this version's undertaking."""
        return self.version.attestation is not None and self.attested_at is None

    @property
    def can_start(self) -> bool:
        """Return whether a new attempt makes sense now."""
        return self.status != Status.PASSED or self.renewal_due

    @property
    def renewal_due(self) -> bool:
        return (
            self.completion is not None and self.completion.expires_at - utcnow() < RENEWAL_WINDOW
        )


def module_statuses(user: User, now: datetime | None = None) -> list[ModuleStatus]:
    """Return the status of each mandatory module, in four queries whatever their number."""
    now = now or utcnow()
    versions = curriculum.required_versions(user)
    module_ids = [version.module_id for version in versions]
    latest = records.latest_completions(user.id, module_ids)
    completions, revoked = latest.counting, latest.revoked
    attempts = db.session.execute(
        sa.select(ModuleVersion.module_id, sa.func.count(QuizAttempt.submitted_at))
        .join(QuizAttempt.module_version)
        .where(QuizAttempt.user_id == user.id, ModuleVersion.module_id.in_(module_ids))
        .group_by(ModuleVersion.module_id)
    )
    submitted = dict(attempts.all())
    attested = dict(
        db.session.execute(
            sa.select(Attestation.module_version_id, Attestation.attested_at)
            .join(Attestation.module_version)
            .where(
                Attestation.user_id == user.id,
                Attestation.module_version_id.in_([version.id for version in versions]),
                Attestation.content_hash == ModuleVersion.content_hash,
            )
        ).all()
    )
    statuses = []
    for version in versions:
        status, completion, revoked_at = _standing(
            completions.get(version.module_id),
            revoked.get(version.module_id),
            submitted.get(version.module_id),
            now,
        )
        statuses.append(
            ModuleStatus(version, status, completion, attested.get(version.id), revoked_at)
        )
    return statuses


def _standing(
    completion: Completion | None,
    withdrawn: tuple[Completion, datetime] | None,
    submitted: int | None,
    now: datetime,
) -> tuple[Status, Completion | None, datetime | None]:
    """Decide a module's status from its latest completion, revocation and attempts.

    `submitted` counts the submitted attempts (None when none was started); the answer
    is the status, the completion that counts, and when a pass was revoked.
    """
    if completion is not None and completion.expires_at > now:
        return Status.PASSED, completion, None
    if withdrawn is not None and (
        completion is None or completion.completed_at < withdrawn[0].completed_at
    ):
        # A revoked pass outranks an older lapsed one: it is why the module is due.
        return Status.REVOKED, None, withdrawn[1]
    if completion is not None:
        return Status.EXPIRED, completion, None
    if submitted is None:
        return Status.NOT_STARTED, None, None
    return (Status.FAILED if submitted else Status.IN_PROGRESS), None, None


def module_status(user: User, slug: str) -> ModuleStatus | None:
    """Return the status of one mandatory module, or None if it is not required."""
    return next((s for s in module_statuses(user) if s.version.slug == slug), None)


def current_version(slug: str) -> ModuleVersion | None:
    """Return the published version of a module."""
    return db.session.scalar(
        sa.select(ModuleVersion)
        .join(TrainingModule)
        .where(
            TrainingModule.slug == slug,
            ModuleVersion.is_current,
            TrainingModule.retired_at.is_(None),
        )
    )


def earned_certificate(attempt: QuizAttempt) -> Certificate | None:
    """Return the certificate earned by a passed attempt."""
    return db.session.scalar(
        sa.select(Certificate).join(Completion).where(Completion.attempt_id == attempt.id)
    )


@dataclass(frozen=True)
class History:
    """Everything a person did in their training, newest first, for a coordinator."""

    attempts: list[QuizAttempt]
    completions: list[Completion]
    attestations: list[Attestation]


def history(user: User) -> History:
    """Return the person's quiz attempts, completions and attestations, newest first."""
    attempts = db.session.scalars(
        sa.select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id)
        .options(selectinload(QuizAttempt.module_version))
        .order_by(QuizAttempt.started_at.desc())
    ).all()
    completions = db.session.scalars(
        sa.select(Completion)
        .where(Completion.user_id == user.id)
        .options(selectinload(Completion.module_version), selectinload(Completion.certificate))
        .order_by(Completion.completed_at.desc())
    ).all()
    attestations = db.session.scalars(
        sa.select(Attestation)
        .where(Attestation.user_id == user.id)
        .options(selectinload(Attestation.module_version))
        .order_by(Attestation.attested_at.desc())
    ).all()
    return History(list(attempts), list(completions), list(attestations))
