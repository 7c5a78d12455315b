"""What each person must complete, and where they stand."""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Attestation,
    Certificate,
    Completion,
    ModuleVersion,
    QuizAttempt,
    User,
)
from app.models.types import utcnow
from app.services import records
from app.services.content import published
from app.services.content.published import ModuleContent

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
    version: ModuleContent
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
    """Return the status of each mandatory module, in three queries whatever their number."""
    versions = published.required_versions(user)
    module_ids = [version.module_id for version in versions]
    latest = records.latest_completions(user.id, module_ids)
    return _statuses(user, versions, latest, _submitted(user, module_ids), now)


@dataclass(frozen=True)
class Overview:
    """What My training shows: each mandatory module's status, and every certificate."""

    statuses: list[ModuleStatus]
    # Newest first, revoked ones and those of modules no longer mandatory included.
    certificates: list[Certificate]


def overview(user: User, now: datetime | None = None) -> Overview:
    """Return the person's mandatory modules and certificates, in three queries.

    Their completions are read once, with the certificates, for both.
    """
    versions = published.required_versions(user)
    module_ids = {version.module_id for version in versions}
    held = db.session.execute(
        sa.select(Completion, Certificate)
        .outerjoin(Certificate, Certificate.completion_id == Completion.id)
        .where(Completion.user_id == user.id)
        .order_by(Completion.expires_at)
    ).all()
    latest = records.latest_of(
        (completion, certificate.revoked_at if certificate else None)
        for completion, certificate in held
        if completion.module_id in module_ids
    )
    certificates = sorted(
        (certificate for _, certificate in held if certificate is not None),
        key=lambda certificate: certificate.issued_at,
        reverse=True,
    )
    statuses = _statuses(user, versions, latest, _submitted(user, module_ids), now)
    return Overview(statuses, certificates)


def _submitted(user: User, module_ids: Collection[int]) -> dict[int, int]:
    """Count the person's submitted attempts per module, for the modules they started."""
    rows = db.session.execute(
        sa.select(ModuleVersion.module_id, sa.func.count(QuizAttempt.submitted_at))
        .join(QuizAttempt.module_version)
        .where(QuizAttempt.user_id == user.id, ModuleVersion.module_id.in_(module_ids))
        .group_by(ModuleVersion.module_id)
    )
    return dict(rows.all())


def _statuses(
    user: User,
    versions: Sequence[ModuleContent],
    latest: records.Latest,
    submitted: dict[int, int],
    now: datetime | None = None,
) -> list[ModuleStatus]:
    """Decide the status of each version from the person's completions and undertakings.

    `submitted` counts the submitted attempts per module (absent: none was started).
    """
    now = now or utcnow()
    completions, revoked = latest.counting, latest.revoked
    hashes = {version.id: version.content_hash for version in versions}
    attested = {
        version_id: attested_at
        for version_id, content_hash, attested_at in db.session.execute(
            sa.select(
                Attestation.module_version_id, Attestation.content_hash, Attestation.attested_at
            ).where(Attestation.user_id == user.id, Attestation.module_version_id.in_(hashes))
        )
        # An undertaking counts for the content it was given for.
        if hashes[version_id] == content_hash
    }
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


def required_version(user: User, slug: str) -> ModuleContent | None:
    """Return the current version of a module if it is mandatory for the person."""
    return next((v for v in published.required_versions(user) if v.slug == slug), None)


def module_status(user: User, slug: str) -> ModuleStatus | None:
    """Return the status of one mandatory module, or None if it is not required."""
    version = required_version(user, slug)
    if version is None:
        return None
    return module_page(user, version).status


class AttemptSummary(NamedTuple):
    """An attempt as a list of attempts shows it, without its questions and answers."""

    id: int
    module_version_id: int
    score: int | None
    passed: bool | None
    started_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class ModulePage:
    """Where a person stands in one module, and every attempt they made at it."""

    status: ModuleStatus
    # Newest first, whatever the version.
    attempts: list[AttemptSummary]

    @property
    def attempts_at_version(self) -> list[AttemptSummary]:
        """Return the attempts at the version the module page shows."""
        return [a for a in self.attempts if a.module_version_id == self.status.version.id]


def module_page(user: User, version: ModuleContent) -> ModulePage:
    """Return the person's status in a module and their attempts at it, in three queries."""
    rows = db.session.execute(
        sa.select(*(getattr(QuizAttempt, name) for name in AttemptSummary._fields))
        .join(QuizAttempt.module_version)
        .where(QuizAttempt.user_id == user.id, ModuleVersion.module_id == version.module_id)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
    )
    attempts = [AttemptSummary(*row) for row in rows]
    submitted = {version.module_id: sum(a.submitted_at is not None for a in attempts)}
    latest = records.latest_completions(user.id, [version.module_id])
    [status] = _statuses(user, [version], latest, submitted if attempts else {})
    return ModulePage(status, attempts)


def current_version(slug: str) -> ModuleContent | None:
    """Return the published version of a module."""
    return published.current_version(slug)


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
