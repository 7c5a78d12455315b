"""Print jobs and their state: asked for, waited on, claimed, finished or failed.

A job's state and output live in the database, so any instance can report progress and
hand over the file whichever instance, thread or worker rendered it. Running jobs, and
their commits, belong to `app.worker`; this module only flushes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import (
    AuditAction,
    Document,
    DocumentKind,
    PrintJob,
    PrintJobFile,
    PrintJobStatus,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import audit, documents, organisation
from app.services.readiness import PersonReadiness, Readiness

# How long a job may wait and run (a battalion takes a minute or two): past that, its
# worker is taken to have died with it (a restart, or out of memory) and the job failed.
JOB_TIMEOUT = timedelta(hours=1)
# Finished jobs and their files are deleted after this long.
JOB_LIFETIME = timedelta(days=7)
ACTIVE = (PrintJobStatus.QUEUED, PrintJobStatus.RUNNING)


class PrintOutput(StrEnum):
    PDF = "pdf"
    ZIP = "zip"


MIMETYPES = {PrintOutput.PDF: "application/pdf", PrintOutput.ZIP: "application/zip"}


# Why a job failed, stored by key: whoever reads the job's status reads it in their own
# language, not in the language of the worker that failed it.
FAILURES = {
    "people-gone": _l("Some of the people selected no longer exist. Select them again and print."),
    "nobody": _l("Select at least one person to print."),
    "session-cancelled": _l(
        "The session was cancelled after its pack was asked for: the pack was not printed."
    ),
    "worker-stopped": _l(
        "Printing did not finish: the print worker stopped (perhaps restarted). Try again."
    ),
    "queue-unreachable": _l("The print queue cannot be reached. Try again in a few minutes."),
    "worker-crashed": _l(
        "A print worker stopped unexpectedly, perhaps for lack of memory. "
        "Try again, or print fewer people at once."
    ),
    "internal": _l(
        "Printing failed because of an error on our side. Try again; if it fails again, "
        "tell an administrator."
    ),
}


class PrintError(ValueError):
    """A print job that cannot be made or finished; the message says what to do.

    `failure`, a key of FAILURES, is what a failed job stores of it.
    """

    def __init__(self, message: str, failure: str | None = None) -> None:
        super().__init__(message)
        self.failure = failure

    @classmethod
    def of(cls, failure: str) -> PrintError:
        """Return the error for one of FAILURES, in the current language."""
        return cls(str(FAILURES[failure]), failure)


@dataclass(frozen=True)
class BatchFile:
    """A finished batch, written to a file: its name and type, and how much it holds."""

    filename: str
    mimetype: str
    people: int
    pages: int


# Jobs ----------------------------------------------------------------------------------


def create_job(
    requested_by: User, user_ids: Sequence[int], output: str, unit_id: int | None
) -> PrintJob:
    """Record a print job for people the requester oversees; raise PrintError otherwise.

    With a unit, everyone must belong to it or to a unit below it. A person may have
    PRINT_JOBS_PER_PERSON jobs waiting or running at once, so that one cannot fill
    the queue for everyone else.
    """
    if output not in set(PrintOutput):
        raise PrintError(gettext("Choose one PDF or a ZIP file of one PDF per person."))
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        raise PrintError(gettext("Select at least one person to print."))
    units = organisation.units_in_scope(requested_by)
    if unit_id is not None:
        if unit_id not in {unit.id for unit in units}:
            raise PrintError(gettext("This unit is not one of yours: nothing was printed."))
        allowed = organisation.subtree_ids(units, unit_id)
    else:
        allowed = [unit.id for unit in units]
    found = set(
        db.session.scalars(
            sa.select(User.id).where(User.id.in_(wanted), User.unit_id.in_(allowed), User.is_active)
        )
    )
    outside = len(wanted) - len(found)
    if outside:
        raise PrintError(
            ngettext(
                "%(num)s of the people selected is not in your units: nothing was printed.",
                "%(num)s of the people selected are not in your units: nothing was printed.",
                outside,
            )
        )
    job = new_job(requested_by, print_order(wanted), output, unit_id=unit_id)
    audit.record(
        AuditAction.PRINT_JOB_CREATED,
        f"print job {job.id}",
        {"people": job.total, "output": output, "unit_id": unit_id},
        actor=requested_by,
    )
    return job


def create_pack_job(
    requested_by: User, session_id: int, user_ids: Sequence[int], language: str
) -> PrintJob:
    """Record a print job for a session's pack; raise PrintError if the person has too many.

    The caller checks that the person may see the session; `user_ids` are its
    participants in print order, and `language` the one its attendance sheet is written in.
    """
    return new_job(
        requested_by, list(user_ids), PrintOutput.PDF, session_id=session_id, language=language
    )


def new_job(
    requested_by: User,
    user_ids: list[int],
    output: str,
    *,
    unit_id: int | None = None,
    session_id: int | None = None,
    language: str | None = None,
) -> PrintJob:
    """Queue a job unless its requester has as many waiting or running as allowed."""
    refuse_too_many_jobs(requested_by)
    discard_old_jobs()
    job = PrintJob(
        token=secrets.token_urlsafe(32),
        requested_by_id=requested_by.id,
        unit_id=unit_id,
        session_id=session_id,
        language=language,
        user_ids=user_ids,
        output=output,
        status=PrintJobStatus.QUEUED,
        done=0,
        total=len(user_ids),
    )
    db.session.add(job)
    db.session.flush()
    return job


def active_jobs(user: User, now: datetime | None = None) -> int:
    """Count a person's jobs that wait or run (a stalled one, past JOB_TIMEOUT, does not)."""
    since = sa.func.coalesce(PrintJob.started_at, PrintJob.created_at)
    return int(
        db.session.scalar(
            sa.select(sa.func.count(PrintJob.id)).where(
                PrintJob.requested_by_id == user.id,
                PrintJob.status.in_(ACTIVE),
                since > (now or utcnow()) - JOB_TIMEOUT,
            )
        )
        or 0
    )


def refuse_too_many_jobs(user: User) -> None:
    """Raise PrintError if the person already has as many active jobs as allowed."""
    # Two requests at once by one person wait for each other here (PostgreSQL), so
    # that both cannot count the same free place.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    allowed = int(current_app.config["PRINT_JOBS_PER_PERSON"])
    if active_jobs(user) >= allowed:
        raise PrintError(
            ngettext(
                "You already have %(num)s print job waiting or running. Wait until it is "
                "done, then print again: nothing was printed.",
                "You already have %(num)s print jobs waiting or running. Wait until one of "
                "them is done, then print again: nothing was printed.",
                allowed,
            )
        )


def discard_old_jobs(now: datetime | None = None) -> None:
    """Delete jobs, and their files, that ended more than JOB_LIFETIME ago."""
    old = sa.select(PrintJob.id).where(PrintJob.finished_at < (now or utcnow()) - JOB_LIFETIME)
    files = db.session.scalars(
        sa.select(Document).join(PrintJobFile).where(PrintJobFile.job_id.in_(old))
    ).all()
    db.session.execute(sa.delete(PrintJobFile).where(PrintJobFile.job_id.in_(old)))
    documents.discard(files)
    db.session.execute(sa.delete(PrintJob).where(PrintJob.id.in_(old)))


def expire_stalled(job: PrintJob, now: datetime | None = None) -> bool:
    """Fail a job that has waited or run longer than any job can; return whether it did."""
    since = job.started_at or job.created_at
    if job.status in {PrintJobStatus.DONE, PrintJobStatus.FAILED} or (
        (now or utcnow()) - since <= JOB_TIMEOUT
    ):
        return False
    fail(job, "worker-stopped")
    return True


def print_order(user_ids: Sequence[int]) -> list[int]:
    """Return people's ids in the order their records are printed: by name, then number."""
    rows = db.session.execute(
        sa.select(User.id)
        .where(User.id.in_(user_ids))
        .order_by(User.full_name, User.service_number)
    )
    return list(rows.scalars())


def ready_ids(people: Sequence[PersonReadiness]) -> list[int]:
    """Return the ids of the people who are ready to deploy."""
    return [person.user_id for person in people if person.status == Readiness.READY]


def find_job(token: str, user: User) -> PrintJob | None:
    """Return a job for the person who asked for it, or for an administrator."""
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.token == token))
    if job is None or (job.requested_by_id != user.id and user.role != Role.ADMIN):
        return None
    return job


def job_file(job: PrintJob) -> PrintJobFile | None:
    """Return the finished output of a job, if there is one."""
    return db.session.get(PrintJobFile, job.id)


def file_info(job: PrintJob) -> tuple[str, int] | None:
    """Return the name and size in bytes of a job's file, without loading its content."""
    row = db.session.execute(
        sa.select(PrintJobFile.filename, Document.size)
        .join(Document)
        .where(PrintJobFile.job_id == job.id)
    ).first()
    return (row[0], int(row[1])) if row is not None else None


def job_unit(job: PrintJob) -> Unit | None:
    """Return the unit a job prints for, if it was started from one."""
    return db.session.get(Unit, job.unit_id) if job.unit_id is not None else None


# Running -----------------------------------------------------------------------------


def next_job_id() -> int | None:
    """Return the waiting job to run next: requesters take turns, each oldest job first.

    The turn goes to the requester served longest ago (never served: first), so one
    person's many jobs do not hold back another's.
    """
    served = (
        sa.select(PrintJob.requested_by_id, sa.func.max(PrintJob.started_at).label("at"))
        .where(PrintJob.started_at.is_not(None))
        .group_by(PrintJob.requested_by_id)
        .subquery()
    )
    return db.session.scalar(
        sa.select(PrintJob.id)
        .outerjoin(served, served.c.requested_by_id == PrintJob.requested_by_id)
        .where(PrintJob.status == PrintJobStatus.QUEUED)
        .order_by(served.c.at.asc().nulls_first(), PrintJob.created_at, PrintJob.id)
        .limit(1)
    )


def claim(job_id: int) -> PrintJob | None:
    """Mark a waiting job running for this worker; None when it is gone or already taken."""
    claimed = db.session.execute(
        sa.update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.status == PrintJobStatus.QUEUED)
        .values(status=PrintJobStatus.RUNNING, started_at=utcnow(), done=0)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(PrintJob, job_id)


def finish(job: PrintJob, batch: BatchFile, file: BinaryIO) -> None:
    """Store a job's file (written to `file`) in the document store, and mark the job done."""
    document = documents.keep_file(DocumentKind.BATCH, file, batch.pages)
    db.session.add(
        PrintJobFile(
            job_id=job.id, filename=batch.filename, mimetype=batch.mimetype, document=document
        )
    )
    job.status = PrintJobStatus.DONE
    job.done = job.total
    job.finished_at = utcnow()
    db.session.flush()


def fail(job: PrintJob, failure: str) -> None:
    """Mark a job failed for a reason: a key of FAILURES, or else words shown as they are."""
    job.status = PrintJobStatus.FAILED
    job.error = failure
    job.finished_at = utcnow()
    db.session.flush()


def failure(error: Exception) -> str:
    """Return why a job failed, as `fail` stores it: a key of FAILURES, no technical detail."""
    if isinstance(error, PrintError):
        return error.failure or str(error)
    if isinstance(error, BrokenProcessPool):
        return "worker-crashed"
    return "internal"


def failure_message(error: Exception) -> str:
    """Explain why a job failed, in the current language, without technical detail."""
    return job_error_text(failure(error))


def job_error_text(stored: str) -> str:
    """Return a failed job's stored reason in the reader's language."""
    known = FAILURES.get(stored)
    return str(known) if known is not None else stored


def job_error(job: PrintJob) -> str | None:
    """Return why a job failed, in the language of whoever reads its status."""
    return job_error_text(job.error) if job.error else None
