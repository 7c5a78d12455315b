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
from app.services import attestation, reading, records
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
    # The attempt at this version drawn and not submitted yet, which the quiz continues
    # (read for My training only).
    open_attempt_id: int | None = None

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


# The queries of the learner's pages, built once: building a statement costs about as
# much Python as running it, and these run on every page view.

# A person's completions with their certificates, by expiry.
HELD = (
    sa.select(Completion, Certificate)
    .outerjoin(Certificate, Certificate.completion_id == Completion.id)
    .where(Completion.user_id == sa.bindparam("user_id"))
    .order_by(Completion.expires_at)
)


def _progress_query() -> sa.Select[int, int, int, datetime | None, int | None]:
    """Select per version the person's attempts at its module, submitted ones, undertaking.

    And the attempt at the version still open, the one `quiz.open_attempt` finds.
    """
    attempted = sa.orm.aliased(ModuleVersion)
    attempts = (
        sa.select(QuizAttempt.id)
        .join(attempted, attempted.id == QuizAttempt.module_version_id)
        .where(
            QuizAttempt.user_id == sa.bindparam("user_id"),
            attempted.module_id == ModuleVersion.module_id,
        )
    )
    attested = sa.select(Attestation.attested_at).where(
        Attestation.user_id == sa.bindparam("user_id"),
        Attestation.module_version_id == ModuleVersion.id,
        # An undertaking counts for the content it was given for.
        Attestation.content_hash == ModuleVersion.content_hash,
    )
    still_open = (
        sa.select(QuizAttempt.id)
        .where(
            QuizAttempt.user_id == sa.bindparam("user_id"),
            QuizAttempt.module_version_id == ModuleVersion.id,
            QuizAttempt.submitted_at.is_(None),
        )
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
        .limit(1)
    )
    return sa.select(
        ModuleVersion.id,
        attempts.with_only_columns(sa.func.count()).scalar_subquery(),
        attempts.with_only_columns(sa.func.count(QuizAttempt.submitted_at)).scalar_subquery(),
        attested.scalar_subquery(),
        still_open.scalar_subquery(),
    ).where(ModuleVersion.id.in_(sa.bindparam("version_ids", expanding=True)))


PROGRESS = _progress_query()


def module_statuses(user: User, now: datetime | None = None) -> list[ModuleStatus]:
    """Return the status of each mandatory module, in two queries whatever their number."""
    versions = published.required_versions(user)
    latest = records.latest_completions(user.id, [version.module_id for version in versions])
    return _statuses(versions, latest, *_progress(user, versions), now=now)


@dataclass(frozen=True)
class Overview:
    """What My training shows: each mandatory module's status, and every certificate."""

    statuses: list[ModuleStatus]
    # Newest first, revoked ones and those of modules no longer mandatory included.
    certificates: list[Certificate]
    # Where the person is in each module they started to read, by version id.
    lessons_read: dict[int, reading.Reading]


def overview(user: User, now: datetime | None = None) -> Overview:
    """Return the person's mandatory modules and certificates, in three queries.

    Their completions are read once, with the certificates, for both; the third reads
    where they are in each module's lesson.
    """
    versions = published.required_versions(user)
    module_ids = {version.module_id for version in versions}
    held = db.session.execute(HELD, {"user_id": user.id}).all()
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
    read = reading.progress_for(user, versions)
    statuses = _statuses(
        versions, latest, *_progress(user, versions), now=now, started_reading=read
    )
    return Overview(statuses, certificates, read)


# Per version: the submitted attempts at its module (None when none was started), and
# when the person gave its undertaking.
Progress = dict[int, tuple[int | None, datetime | None]]


def _progress(user: User, versions: Sequence[ModuleContent]) -> tuple[Progress, dict[int, int]]:
    """Read the person's attempts and undertakings for each version, in one query.

    With the attempt still open at each version that has one.
    """
    rows = db.session.execute(
        PROGRESS, {"user_id": user.id, "version_ids": [version.id for version in versions]}
    ).all()
    progress: Progress = {
        version_id: (submitted if started else None, attested_at)
        for version_id, started, submitted, attested_at, _ in rows
    }
    return progress, {row[0]: row[4] for row in rows if row[4] is not None}


def _statuses(
    versions: Sequence[ModuleContent],
    latest: records.Latest,
    progress: Progress,
    open_attempts: dict[int, int] | None = None,
    now: datetime | None = None,
    started_reading: Collection[int] = (),
) -> list[ModuleStatus]:
    """Decide the status of each version from the person's completions and progress.

    `started_reading` holds the ids of the versions the person has started to read.
    """
    now = now or utcnow()
    open_attempts = open_attempts or {}
    statuses = []
    for version in versions:
        submitted, attested_at = progress.get(version.id, (None, None))
        status, completion, revoked_at = _standing(
            latest.counting.get(version.module_id),
            latest.revoked.get(version.module_id),
            submitted,
            now,
        )
        if status == Status.NOT_STARTED and version.id in started_reading:
            status = Status.IN_PROGRESS
        statuses.append(
            ModuleStatus(
                version, status, completion, attested_at, revoked_at, open_attempts.get(version.id)
            )
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


# A person's attempts at a module, whatever the version, newest first.
ATTEMPTS_AT_MODULE = (
    sa.select(*(getattr(QuizAttempt, name) for name in AttemptSummary._fields))
    .join(QuizAttempt.module_version)
    .where(
        QuizAttempt.user_id == sa.bindparam("user_id"),
        ModuleVersion.module_id == sa.bindparam("module_id"),
    )
    .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
)


@dataclass(frozen=True)
class ModulePage:
    """Where a person stands in one module, and every attempt they made at it."""

    status: ModuleStatus
    # Newest first, whatever the version.
    attempts: list[AttemptSummary]
    # How far the person has read the version, if they started.
    read_so_far: reading.Reading | None = None

    @property
    def attempts_at_version(self) -> list[AttemptSummary]:
        """Return the attempts at the version the module page shows."""
        return [a for a in self.attempts if a.module_version_id == self.status.version.id]


def module_page(user: User, version: ModuleContent) -> ModulePage:
    """Return the person's status in a module, attempts and reading, in four queries."""
    rows = db.session.execute(
        ATTEMPTS_AT_MODULE, {"user_id": user.id, "module_id": version.module_id}
    )
    attempts = [AttemptSummary(*row) for row in rows]
    submitted = sum(a.submitted_at is not None for a in attempts) if attempts else None
    latest = records.latest_completions(user.id, [version.module_id])
    undertaking = attestation.find(user, version)
    progress = {version.id: (submitted, undertaking.attested_at if undertaking else None)}
    read = reading.progress_for(user, [version])
    [status] = _statuses([version], latest, progress, started_reading=read)
    return ModulePage(status, attempts, read.get(version.id))


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
        .options(
            selectinload(Completion.module_version),
            selectinload(Completion.certificate),
            selectinload(Completion.session),
            selectinload(Completion.facilitator),
        )
        .order_by(Completion.completed_at.desc())
    ).all()
    attestations = db.session.scalars(
        sa.select(Attestation)
        .where(Attestation.user_id == user.id)
        .options(selectinload(Attestation.module_version))
        .order_by(Attestation.attested_at.desc())
    ).all()
    return History(list(attempts), list(completions), list(attestations))
