"""Facilitated sessions at training centres, and the paper answer sheets they record."""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.organisation import Unit, User
from app.models.training import ModuleVersion, QuizAttempt
from app.models.types import UTCDateTime, utcnow

# Letters and digits nobody misreads on paper or types wrong: no 0/O, 1/I/L, 5/S, 2/Z, U/V.
CODE_ALPHABET = "34679ABCDEFGHJKMNPQRTWXY"


def new_code(length: int = 8) -> str:
    """Return a short random code to print on a session pack or an answer sheet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


classroom_facilitator = sa.Table(
    "classroom_facilitator",
    db.metadata,
    sa.Column(
        "session_id", sa.ForeignKey("classroom_session.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class ClassroomSession(Model):
    """A facilitated session: modules taught on one day at one place to people of a unit.

    It belongs to the unit whose roster its participants come from, so it is seen by the
    coordinators of that unit (and the units above it) and by its facilitators.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on every page of the pack.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_code)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # When the facilitator confirmed the results entered from the sheets, and who.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    facilitators: Mapped[list[User]] = relationship(
        secondary=classroom_facilitator, order_by="User.full_name"
    )
    modules: Mapped[list[ClassroomSessionModule]] = relationship(
        back_populates="session",
        order_by="ClassroomSessionModule.position",
        cascade="all, delete-orphan",
    )
    participants: Mapped[list[ClassroomParticipant]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    sheets: Mapped[list[AnswerSheet]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class ClassroomSessionModule(Model):
    """A module a session teaches, in the version current when it was scheduled."""

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classroom_session.id", ondelete="CASCADE"), primary_key=True
    )
    module_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("module_version.id"), primary_key=True
    )
    # The order the modules are taught and printed in.
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[ClassroomSession] = relationship(back_populates="modules")
    module_version: Mapped[ModuleVersion] = relationship()


class ClassroomParticipant(Model):
    """A person expected at a session, and whether the facilitator recorded them present."""

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classroom_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True, index=True)
    # None until the results are recorded.
    attended: Mapped[bool | None]

    session: Mapped[ClassroomSession] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class AnswerSheet(Model):
    """One participant's paper quiz for one module: a real attempt, drawn as online.

    Printing the sheet again prints the same attempt, so the same questions in the same
    order. The code under its QR code finds the sheet when results are entered.
    """

    __table_args__ = (sa.UniqueConstraint("session_id", "user_id", "module_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_code)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classroom_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    module_version_id: Mapped[int] = mapped_column(sa.ForeignKey("module_version.id"))
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempt.id"), unique=True)
    # The first time the sheet was printed, for the facilitator's checklist.
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[ClassroomSession] = relationship(back_populates="sheets")
    user: Mapped[User] = relationship()
    module_version: Mapped[ModuleVersion] = relationship()
    attempt: Mapped[QuizAttempt] = relationship()
