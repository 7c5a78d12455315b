"""Missions, units and the people who serve in them."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import Model, db
from app.models.types import UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    """What a person may do on the platform."""

    PEACEKEEPER = "peacekeeper"
    COORDINATOR = "coordinator"
    COMMANDER = "commander"
    # Mission and UN headquarters: aggregate figures of every mission, never a person.
    HEADQUARTERS = "headquarters"
    ADMIN = "admin"
    # Runs facilitated sessions at a training centre and records their results.
    FACILITATOR = "facilitator"


class PersonnelCategory(StrEnum):
    """The personnel categories of UN peacekeeping, each with its own curriculum."""

    MILITARY_CONTINGENT = "military_contingent"
    MILITARY_STAFF_OFFICER = "military_staff_officer"
    FORMED_POLICE = "formed_police"
    INDIVIDUAL_POLICE = "individual_police"
    CIVILIAN = "civilian"
    UN_VOLUNTEER = "un_volunteer"
    CONTRACTOR = "contractor"

    @property
    def label(self) -> str:
        """Return the category's name for people."""
        return str(CATEGORY_LABELS[self])


CATEGORY_LABELS = {
    PersonnelCategory.MILITARY_CONTINGENT: _l("Military contingent member"),
    PersonnelCategory.MILITARY_STAFF_OFFICER: _l("Military staff officer or observer"),
    PersonnelCategory.FORMED_POLICE: _l("Formed police unit member"),
    PersonnelCategory.INDIVIDUAL_POLICE: _l("Individual police officer"),
    PersonnelCategory.CIVILIAN: _l("Civilian staff"),
    PersonnelCategory.UN_VOLUNTEER: _l("United Nations Volunteer"),
    PersonnelCategory.CONTRACTOR: _l("Contractor or consultant"),
}


class Position(StrEnum):
    """Whether a person leads others, which adds command-responsibility training."""

    MEMBER = "member"
    MANAGER = "manager"
    COMMANDER = "commander"


def new_session_token() -> str:
    """Return a fresh token that binds sessions to the account's current sign-in."""
    return secrets.token_urlsafe(24)


class Mission(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))

    units: Mapped[list[Unit]] = relationship(back_populates="mission")


class Unit(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[int] = mapped_column(sa.ForeignKey("mission.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(100))

    mission: Mapped[Mission] = relationship(back_populates="units")
    parent: Mapped[Unit | None] = relationship(remote_side=[id])


unit_assignment = sa.Table(
    "unit_assignment",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)


class User(Model):
    __table_args__ = (
        sa.Index("ix_user_unit_category", "unit_id", "category", "position"),
        # The order people are listed in within a state (reporting.people): every page of
        # a long list follows this index from where the previous page ended.
        sa.Index("ix_user_report_order", "deployment_date", "full_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # Empty until the person sets a password from their one-time link.
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16), default=Role.PEACEKEEPER)
    category: Mapped[PersonnelCategory] = mapped_column(str_enum(PersonnelCategory, 32))
    position: Mapped[Position] = mapped_column(str_enum(Position, 16), default=Position.MEMBER)
    service_number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    deployment_date: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    # Time-based one-time passwords (RFC 6238): the shared secret, sealed (services.mfa),
    # and the last time step accepted so that a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The language the person reads the platform in (pages and e-mails); None: not known.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    # Units a coordinator or commander is responsible for (with their sub-units).
    assigned_units: Mapped[list[Unit]] = relationship(secondary=unit_assignment)

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Return whether the password matches the stored hash."""
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every session and remember-me cookie issued so far."""
        self.session_token = new_session_token()

    # Flask-Login protocol: the session id carries the token, so a rotated token
    # turns every copied cookie into an unknown one.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"
