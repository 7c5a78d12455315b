"""Training modules, their versions, quiz attempts, completions and certificates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.documents import Document
from app.models.organisation import User
from app.models.types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from app.models.classroom import ClassroomSession


class TrainingModule(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Set when the module's file disappears from modules/: kept for its history.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[ModuleVersion]] = relationship(
        back_populates="module", order_by="ModuleVersion.number"
    )


class CurriculumRequirement(Model):
    """One line of the curriculum: people of this category (and position) must take the module.

    Rebuilt from the current version's front matter whenever modules are loaded, so
    reports can join people to what they must complete in plain SQL.
    """

    __table_args__ = (sa.Index("ix_curriculum_requirement_category", "category", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("training_module.id"), index=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    # Empty: everyone in the category; otherwise only people in this position.
    position: Mapped[str | None] = mapped_column(sa.String(16))


class ModuleVersion(Model):
    """One published state of a module's content, rendered and sanitised at load."""

    __table_args__ = (sa.UniqueConstraint("module_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("training_module.id"), index=True)
    number: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(32))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    is_current: Mapped[bool] = mapped_column(default=True, index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    toc_html: Mapped[str] = mapped_column(sa.Text)
    estimated_minutes: Mapped[int]
    pass_mark: Mapped[int]
    questions_per_attempt: Mapped[int]
    validity_months: Mapped[int]
    categories: Mapped[list[str]] = mapped_column(sa.JSON)
    positions: Mapped[list[str]] = mapped_column(sa.JSON)
    attestation: Mapped[str | None] = mapped_column(sa.Text)
    quiz: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    # The registry entries the content cites, as they stood when it was rendered.
    sources: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # Whether the module ends with the learner's mission annex (where to report, contacts).
    mission_annex: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[TrainingModule] = relationship(back_populates="versions")

    @property
    def slug(self) -> str:
        """Return the module's slug."""
        return self.module.slug


class ContentStamp(Model):
    """Which state of the published content is current: one row, changed by each sync.

    Every instance keeps the content it read in memory and compares this stamp once per
    request (services/content/published.py), so a sync is seen everywhere as soon as its
    transaction commits. A random value, not a counter, so that a state rolled back or
    restored never reuses a stamp some instance still holds.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp: Mapped[str] = mapped_column(sa.String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModuleTranslation(Model):
    """A module version in another language, rendered once from its catalog when loaded.

    Only the texts: the quiz's structure, its answer key and its tags stay the version's.
    A catalog with missing, stale or mismatched strings is stored as not complete, and
    learners then read the version in its source language.
    """

    module_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_version.id"), primary_key=True
    )
    language: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    complete: Mapped[bool] = mapped_column(default=False)
    # How many of the source's strings the catalog translates, as `modules check` counts.
    translated: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    title: Mapped[str | None] = mapped_column(sa.Text)
    summary: Mapped[str | None] = mapped_column(sa.Text)
    attestation: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    toc_html: Mapped[str | None] = mapped_column(sa.Text)
    # {question id: {"title_html", "prompt_html", "section", "options": {option id:
    # {"text_html", "feedback_html"}}}}: texts by the source's ids, never which is right.
    quiz: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MissionAnnex(Model):
    """A mission's own rules and contacts for reporting, loaded from modules/missions/.

    Keyed by the mission's code rather than its row, so an annex can be written before
    the mission is created.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # An illustration (the demo mission's), never real contacts.
    is_example: Mapped[bool] = mapped_column(default=False)
    reviewed_on: Mapped[date]
    # [{"label": ..., "phone": ..., "email": ..., "where": ...}, ...]
    contacts: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    body_html: Mapped[str] = mapped_column(sa.Text)
    content_hash: Mapped[str] = mapped_column(sa.String(64))


class MissionAnnexTranslation(Model):
    """A mission annex in another language, rendered from its complete catalog when loaded."""

    mission_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    # The annex's content this translates: an annex that changes drops its translations.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    contacts: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    body_html: Mapped[str] = mapped_column(sa.Text)


class Attestation(Model):
    """A learner's signed undertaking for one exact version of a module's content."""

    __table_args__ = (sa.UniqueConstraint("user_id", "module_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    module_version_id: Mapped[int] = mapped_column(sa.ForeignKey("module_version.id"))
    # The content the learner read and the words they confirmed, as they were.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    statement: Mapped[str] = mapped_column(sa.Text)
    # The language of the statement, the one the learner read it in.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Signed on paper in a facilitated session: the session, and the facilitator who
    # attests that the person signed the printed undertaking.
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("classroom_session.id"))
    attested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    module_version: Mapped[ModuleVersion] = relationship()


class ReadingProgress(Model):
    """How far a person has read one version of a module, section by section.

    Only where they are: the furthest section they reached and the last they opened.
    """

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    module_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_version.id"), primary_key=True
    )
    furthest: Mapped[int]
    last: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(Model):
    """One sitting of a quiz: the questions drawn, the answers given and the grade."""

    # One open attempt per person and version: starting again, even twice at once from
    # two tabs, continues it, so the answers saved on it are never left behind.
    __table_args__ = (
        sa.Index(
            "ix_quiz_attempt_open",
            "user_id",
            "module_version_id",
            unique=True,
            sqlite_where=sa.text("submitted_at IS NULL"),
            postgresql_where=sa.text("submitted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    module_version_id: Mapped[int] = mapped_column(sa.ForeignKey("module_version.id"), index=True)
    # [{"id": question id, "options": [option ids in display order]}, ...]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    answers: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON)
    # The answers saved while the attempt is open, {question id: [option ids]}: they fill
    # the quiz in again after a lost connection or a sign-out. Only a submission is graded.
    saved_answers: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None]
    passed: Mapped[bool | None]
    # The language the questions were shown in, kept for the whole attempt.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Answers kept on a device without a connection arrive late: when the answers last
    # recorded (saved or submitted) were given, by the device's clock but never before
    # the attempt started nor after they arrived, and when they arrived.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    module_version: Mapped[ModuleVersion] = relationship()


class DeliveryMode(StrEnum):
    """How a completion was earned: alone online, or on paper in a facilitated session."""

    ONLINE = "online"
    CLASSROOM = "classroom"

    @property
    def label(self) -> str:
        """Return how people name the delivery mode."""
        return str(DELIVERY_LABELS[self])


DELIVERY_LABELS = {
    DeliveryMode.ONLINE: _l("Online"),
    DeliveryMode.CLASSROOM: _l("In a facilitated session"),
}


class Completion(Model):
    """A module version passed by a person, valid until it expires."""

    __table_args__ = (
        sa.Index("ix_completion_user_module_expiry", "user_id", "module_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    # The module as well as its version, so reports group completions without a join.
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("training_module.id"), index=True)
    module_version_id: Mapped[int] = mapped_column(sa.ForeignKey("module_version.id"), index=True)
    # One completion per passed attempt, whatever the number of submissions.
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempt.id"), unique=True)
    # Indexed for the completions-per-month trend.
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The language the passed attempt was taken in.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    # "online", or "classroom" with the session it was earned in and who facilitated it.
    delivery_mode: Mapped[DeliveryMode] = mapped_column(
        str_enum(DeliveryMode, 16), default=DeliveryMode.ONLINE, server_default="online"
    )
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classroom_session.id"), index=True
    )
    facilitator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    module_version: Mapped[ModuleVersion] = relationship()
    attempt: Mapped[QuizAttempt] = relationship()
    certificate: Mapped[Certificate | None] = relationship(back_populates="completion")
    session: Mapped[ClassroomSession | None] = relationship()
    facilitator: Mapped[User | None] = relationship(foreign_keys=[facilitator_id])


class TrainingRecord(Model):
    """How long a person's training in a module is valid: the latest expiry of its completions.

    One row per person and module, kept with every completion, so reports over
    millions of completions read one row per person instead of grouping them.
    """

    # Reports find the records that expired, or started expiring, since their counts
    # were counted: from the index alone, without reading the table.
    __table_args__ = (
        sa.Index("ix_training_record_valid_until", "valid_until", "user_id", "module_id"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("training_module.id"), primary_key=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)


class Certificate(Model):
    """Proof of a completion, verifiable by anyone from its code."""

    id: Mapped[int] = mapped_column(primary_key=True)
    completion_id: Mapped[int] = mapped_column(sa.ForeignKey("completion.id"), unique=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # What the certificate states, fixed at issue so it never changes afterwards.
    holder_name: Mapped[str] = mapped_column(sa.String(200))
    service_number: Mapped[str] = mapped_column(sa.String(32))
    category: Mapped[str] = mapped_column(sa.String(32))
    unit_name: Mapped[str] = mapped_column(sa.String(200))
    module_title: Mapped[str] = mapped_column(sa.String(200))
    module_version: Mapped[str] = mapped_column(sa.String(32))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attestation: Mapped[str | None] = mapped_column(sa.Text)
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it was earned: online, or in a facilitated session, at a place, on a day, with
    # a facilitator, as they stood at issue (a session's place may be corrected later).
    delivery_mode: Mapped[DeliveryMode] = mapped_column(
        str_enum(DeliveryMode, 16), default=DeliveryMode.ONLINE, server_default="online"
    )
    session_place: Mapped[str | None] = mapped_column(sa.String(200))
    session_held_on: Mapped[date | None]
    facilitator_name: Mapped[str | None] = mapped_column(sa.String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Revocation keeps the certificate and says why; nothing is ever deleted.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)

    completion: Mapped[Completion] = relationship(back_populates="certificate")


class Reminder(Model):
    """An e-mail reminding a person of overdue or expiring training."""

    __table_args__ = (sa.Index("ix_reminder_user_sent", "user_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The module titles the reminder named.
    modules: Mapped[list[str]] = mapped_column(sa.JSON)


class RosterUpload(Model):
    """A roster file awaiting the coordinator's confirmation after its preview.

    Kept in the database, not in memory, so any instance can confirm it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrintJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PrintJob(Model):
    """Certificates for many people, or a session's pack, rendered in the background.

    State and output live in the database so that any instance can report progress
    and hand over the file, whichever instance or worker did the rendering.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # Set for a session's pack: its participants are `user_ids`, in print order.
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("classroom_session.id"), index=True
    )
    # The language of whoever asked, which a pack's attendance sheet is written in.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    user_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    # "pdf": one document for everyone; "zip": one PDF per person.
    output: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[PrintJobStatus] = mapped_column(sa.String(16), default=PrintJobStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PrintJobFile(Model):
    """The finished output of a print job: its name, and the file in the document store."""

    job_id: Mapped[int] = mapped_column(sa.ForeignKey("print_job.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    mimetype: Mapped[str] = mapped_column(sa.String(100))
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), unique=True)

    document: Mapped[Document] = relationship()
