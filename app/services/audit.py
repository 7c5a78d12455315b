"""Record security-relevant events in a hash chain, and check that chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditAction, AuditEntry, User
from app.models.types import utcnow

GENESIS = "0" * 64
ATTEMPTS = 5


def entry_hash(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
    ip: str | None,
) -> str:
    """Return the hash of an entry's content chained to its predecessor's hash."""
    content = json.dumps(
        [previous_hash, at.isoformat(), actor_id, actor, action, target, details, ip],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def record(
    action: AuditAction,
    target: str,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> AuditEntry:
    """Append an event to the trail, in the caller's transaction.

    The previous hash is unique, so of two concurrent appends one fails and is
    retried on top of the other: the chain never forks.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    ip = request.remote_addr if has_request_context() else None
    details = json.loads(json.dumps(details or {}, default=str))
    for attempt in range(ATTEMPTS):
        last = db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
        previous = last or GENESIS
        at = utcnow()
        name = actor.username if actor is not None else "-"
        entry = AuditEntry(
            at=at,
            actor_id=actor.id if actor is not None else None,
            actor=name,
            action=action.value,
            target=target[:200],
            details=details,
            ip=ip,
            previous_hash=previous,
            hash=entry_hash(
                previous,
                at,
                actor.id if actor else None,
                name,
                action.value,
                target[:200],
                details,
                ip,
            ),
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
            return entry
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise RuntimeError("unreachable")


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding, and why."""

    entry_id: int
    reason: str


def verify(batch: int = 5000) -> tuple[int, Break | None]:
    """Walk the whole trail in order; return the number of entries and the first break."""
    previous, checked, last_id = GENESIS, 0, 0
    while True:
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not entries:
            return checked, None
        for entry in entries:
            if entry.previous_hash != previous:
                return checked, Break(entry.id, "an entry before it was removed or changed")
            expected = entry_hash(
                entry.previous_hash,
                entry.at,
                entry.actor_id,
                entry.actor,
                entry.action,
                entry.target,
                entry.details,
                entry.ip,
            )
            if entry.hash != expected:
                return checked, Break(entry.id, "its content was changed")
            previous, last_id, checked = entry.hash, entry.id, checked + 1
        db.session.expunge_all()
