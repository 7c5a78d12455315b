"""The audit trail: an append-only, hash-chained record of security-relevant events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class AuditAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    SIGN_OUT = "sign_out"
    PASSWORD_SET = "password_set"  # noqa: S105 (an event name)
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an event name)
    MFA_ENABLED = "mfa_enabled"
    MFA_REPLACED = "mfa_replaced"
    MFA_REMOVED = "mfa_removed"
    # A wrong password or code given to confirm a change on an open session.
    REAUTHENTICATION_FAILED = "reauthentication_failed"
    ACCOUNT_CHANGED = "account_changed"
    ROSTER_IMPORTED = "roster_imported"
    COMPLETION_RECORDED = "completion_recorded"
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_REVOKED = "certificate_revoked"
    EXPORT = "export"
    RECORD_DOWNLOADED = "record_downloaded"
    ROSTER_UPLOADED = "roster_uploaded"
    PRINT_JOB_CREATED = "print_job_created"
    SET_PASSWORD_LINKS_REISSUED = "set_password_links_reissued"  # noqa: S105 (an event name)
    # A coordinator or admin gave one person a new link, for a forgotten password.
    SET_PASSWORD_LINK_ISSUED = "set_password_link_issued"  # noqa: S105 (an event name)
    # Facilitated sessions: scheduled, participants added or removed, cancelled, their
    # pack printed, results confirmed.
    CLASSROOM_SCHEDULED = "classroom_scheduled"
    CLASSROOM_PARTICIPANTS_ADDED = "classroom_participants_added"
    CLASSROOM_PARTICIPANT_REMOVED = "classroom_participant_removed"
    CLASSROOM_CANCELLED = "classroom_cancelled"
    CLASSROOM_PACK_PRINTED = "classroom_pack_printed"
    CLASSROOM_RESULTS_ENTERED = "classroom_results_entered"
    RATE_LIMITED = "rate_limited"
    AUDIT_CHECKPOINT = "audit_checkpoint"


class AuditEntry(Model):
    """One event. Each entry's hash covers its content and the previous entry's hash.

    The hash is an HMAC keyed with AUDIT_KEY, which the database never holds, so
    whoever controls the database cannot recompute the chain after changing it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    # Who acted, as they were known then (accounts may change later).
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[AuditAction] = mapped_column(sa.String(32), index=True)
    target: Mapped[str] = mapped_column(sa.String(200))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    # Unique: two entries can never claim the same predecessor, so the chain cannot fork.
    previous_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Which AUDIT_KEY made the hash; None for entries written before the trail was keyed
    # (plain SHA-256), which can only come before every keyed entry.
    key_id: Mapped[str | None] = mapped_column(sa.String(16))


# Entries may be added, never changed or removed, whatever code runs against the table.
APPEND_ONLY_SQLITE = [
    sa.DDL(  # type: ignore[no-untyped-call]
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
    ),
    sa.DDL(  # type: ignore[no-untyped-call]
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
    ),
]
APPEND_ONLY_POSTGRESQL = [
    sa.DDL(  # type: ignore[no-untyped-call]
        "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$"
    ),
    sa.DDL(  # type: ignore[no-untyped-call]
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    ),
]


@sa.event.listens_for(AuditEntry.__table__, "after_create")
def _append_only(target: Any, connection: sa.Connection, **_: Any) -> None:
    statements = (
        APPEND_ONLY_POSTGRESQL if connection.dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    )
    for statement in statements:
        connection.execute(statement)


@sa.event.listens_for(AuditEntry.__table__, "before_drop")
def _drop_append_only(target: Any, connection: sa.Connection, **_: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("DROP FUNCTION IF EXISTS audit_entry_append_only() CASCADE"))
