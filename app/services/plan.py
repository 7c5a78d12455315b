"""My training as a plan: each mandatory module, where it stands, and the one thing to do next.

Nothing is decided here that the reports decide otherwise: the due date is the one the
coordinator's reports use (`reporting.due_date`), a module is overdue when it is not valid
and that date has passed, and it is expiring when it lapses before the person must still
hold it (`readiness.must_hold_until`, as the commander's readiness board says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from app.models import Certificate, User
from app.models.types import utcnow
from app.services import quiz, readiness, reporting, training
from app.services.training import ModuleStatus, Status


class Standing(StrEnum):
    """Where a module stands for the person, as My training names it."""

    OVERDUE = "overdue"
    REVOKED = "revoked"
    EXPIRED = "expired"
    EXPIRING = "expiring"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"
    COMPLETED = "completed"


# What needs doing first: overdue modules lead, the ones done close the list.
ORDER = list(Standing)


class Step(StrEnum):
    """The one next action My training offers on a module."""

    START = "start"
    READ = "read"
    CONTINUE = "continue"
    RETAKE = "retake"
    RENEW = "renew"
    CERTIFICATE = "certificate"
    # The quiz is on a session's printed sheet: nothing to do online until it is recorded.
    ON_PAPER = "on_paper"


@dataclass(frozen=True)
class PlanItem:
    """One mandatory module in the plan."""

    status: ModuleStatus
    standing: Standing
    # None only for a valid module whose certificate is not issued yet: nothing to do.
    step: Step | None
    # The certificate of the completion that counts, to download while it is valid.
    certificate: Certificate | None
    # The section of the lesson the person opened last, if they started reading it.
    last_section: int | None = None
    # The session whose printed sheet holds the open attempt, if one does.
    on_paper: quiz.OnPaper | None = None

    @property
    def done(self) -> bool:
        """Return whether the module is valid today."""
        return self.standing in (Standing.COMPLETED, Standing.EXPIRING)

    @property
    def renewable_from(self) -> datetime | None:
        """Return when an expiring module may be taken again, if that is still to come."""
        completion = self.status.completion
        if self.standing != Standing.EXPIRING or completion is None or self.status.renewal_due:
            return None
        return completion.expires_at - training.RENEWAL_WINDOW


@dataclass(frozen=True)
class Plan:
    """The person's mandatory modules, what to do first at the top, and their due date."""

    items: list[PlanItem]
    # Every certificate, newest first, those of modules no longer mandatory included.
    certificates: list[Certificate]
    due_on: date
    deployment_on: date | None

    @property
    def done(self) -> int:
        """Return how many mandatory modules are valid today."""
        return sum(item.done for item in self.items)


def plan(user: User, now: datetime | None = None) -> Plan:
    """Return the person's plan, from the queries of `training.overview` and no other."""
    now = now or utcnow()
    overview = training.overview(user, now)
    due_on = reporting.due_date(user)
    hold_until = readiness.must_hold_until(user.deployment_date, now)
    by_completion = {c.completion_id: c for c in overview.certificates if c.revoked_at is None}
    # Read only for someone with an attempt open: most people have none.
    held = quiz.on_paper([s.open_attempt_id for s in overview.statuses if s.open_attempt_id])
    items = []
    for status in overview.statuses:
        standing = _standing(status, due_on < now.date(), hold_until)
        completion = status.completion
        certificate = by_completion.get(completion.id) if completion is not None else None
        read = overview.lessons_read.get(status.version.id)
        step = _step(status, standing, certificate)
        if step == Step.START and read is not None and status.attested_at is None:
            step = Step.READ
        last = read.last if read is not None else None
        paper = held.get(status.open_attempt_id) if status.open_attempt_id else None
        if paper is not None and step == Step.CONTINUE:
            step = Step.ON_PAPER
        items.append(PlanItem(status, standing, step, certificate, last, paper))
    # Stable: modules in the same standing keep their order by title.
    items.sort(key=lambda item: ORDER.index(item.standing))
    return Plan(items, overview.certificates, due_on, user.deployment_date)


def _standing(status: ModuleStatus, due_passed: bool, hold_until: date) -> Standing:
    """Decide how My training names a module's state."""
    if status.status == Status.PASSED:
        assert status.completion is not None
        if status.completion.expires_at.date() <= hold_until:
            return Standing.EXPIRING
        return Standing.COMPLETED
    if due_passed:
        return Standing.OVERDUE
    if status.status == Status.REVOKED:
        return Standing.REVOKED
    if status.status == Status.EXPIRED:
        return Standing.EXPIRED
    if status.status == Status.NOT_STARTED and status.attested_at is None:
        return Standing.NOT_STARTED
    # An open attempt, a failed one, or an undertaking given: the module is under way.
    return Standing.IN_PROGRESS


def _step(status: ModuleStatus, standing: Standing, certificate: Certificate | None) -> Step | None:
    """Pick the one action that moves the module on."""
    if standing in (Standing.COMPLETED, Standing.EXPIRING):
        if standing == Standing.EXPIRING and status.renewal_due:
            return Step.RENEW
        return Step.CERTIFICATE if certificate is not None else None
    if status.open_attempt_id is not None:
        return Step.CONTINUE
    if status.status in (Status.EXPIRED, Status.REVOKED, Status.FAILED):
        return Step.RETAKE
    return Step.START
