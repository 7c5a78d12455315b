"""Record security-relevant events in a keyed hash chain, and check that chain.

Each entry's hash is an HMAC-SHA256, keyed with AUDIT_KEY, of its content and the
previous entry's hash. The key is kept outside the database, so whoever controls the
database can delete the newest entries but cannot change, insert or remove any other
without the chain breaking. Signed checkpoints (the head hash signed with the
certificate key) kept elsewhere catch the rest: a trail cut short or rewritten no
longer holds the hash a checkpoint names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditAction, AuditEntry, User
from app.models.types import utcnow
from app.services import pagination, signing
from config import create_once

GENESIS = "0" * 64
ATTEMPTS = 5
DEV_KEY_FILENAME = "audit-key"
CHECKPOINT_TYPE = "BlueBeretAuditCheckpoint"

log = logging.getLogger(__name__)


class AuditKeyError(ValueError):
    """The audit key cannot be used; the message says what to fix."""


# Keys ----------------------------------------------------------------------------------


def key_id(secret: bytes) -> str:
    """Return the short id of an audit key, to tell keys apart without revealing them."""
    return hashlib.sha256(b"blue-beret audit key " + secret).hexdigest()[:8]


def development_key(instance_path: str) -> bytes:
    """Return the development audit key under instance/, creating it once."""
    path = Path(instance_path) / DEV_KEY_FILENAME
    return create_once(path, lambda: secrets.token_hex(32).encode()).strip()


@lru_cache(maxsize=8)
def _keys(current: str, previous: str, instance_path: str) -> tuple[str, dict[str, bytes]]:
    secret = current.encode() if current else development_key(instance_path)
    keys = {key_id(secret): secret}
    for value in (part.strip() for part in previous.split(",")):
        if value:
            keys.setdefault(key_id(value.encode()), value.encode())
    return key_id(secret), keys


def chain_keys() -> tuple[str, dict[str, bytes]]:
    """Return the current key's id and every key the trail may be keyed with, by id.

    AUDIT_KEY is the current key; AUDIT_PREVIOUS_KEYS (comma-separated) keeps the
    entries written before a rotation verifiable. ProductionConfig refuses to start
    without AUDIT_KEY, so the development key under instance/ is never used there.
    """
    config = current_app.config
    return _keys(
        str(config.get("AUDIT_KEY") or ""),
        str(config.get("AUDIT_PREVIOUS_KEYS") or ""),
        current_app.instance_path,
    )


# Entries -------------------------------------------------------------------------------


def entry_hash(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
    ip: str | None,
    key: tuple[str, bytes] | None = None,
) -> str:
    """Return the hash of an entry's content chained to its predecessor's hash.

    With a key (its id and secret), an HMAC that covers the key's id too; without,
    the plain SHA-256 of the entries written before the trail was keyed.
    """
    content: list[Any] = [
        previous_hash,
        at.isoformat(),
        actor_id,
        actor,
        action,
        target,
        details,
        ip,
    ]
    if key is not None:
        content.append(key[0])
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
    if key is None:
        return hashlib.sha256(text).hexdigest()
    return hmac.new(key[1], text, hashlib.sha256).hexdigest()


def record(
    action: AuditAction,
    target: str,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> int:
    """Append an event to the trail, in the caller's transaction; return the entry's id.

    The previous hash is unique, so of two concurrent appends one inserts nothing and is
    retried on top of the other: the chain never forks. One read of the head and one
    INSERT, no savepoint: an append costs two statements.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    ip = request.remote_addr if has_request_context() else None
    details = json.loads(json.dumps(details or {}, default=str))
    kid, keys = chain_keys()
    name = actor.username if actor is not None else "-"
    actor_id = actor.id if actor is not None else None
    insert = (sqlite if db.engine.dialect.name == "sqlite" else postgresql).insert
    for _attempt in range(ATTEMPTS):
        previous = head_hash() or GENESIS
        at = utcnow()
        digest = entry_hash(
            previous, at, actor_id, name, action.value, target[:200], details, ip, (kid, keys[kid])
        )
        entry_id = db.session.scalar(
            insert(AuditEntry)
            .values(
                at=at,
                actor_id=actor_id,
                actor=name,
                action=action.value,
                target=target[:200],
                details=details,
                ip=ip,
                previous_hash=previous,
                key_id=kid,
                hash=digest,
            )
            .on_conflict_do_nothing()
            .returning(AuditEntry.id)
        )
        if entry_id is not None:
            return int(entry_id)
    raise IntegrityError(
        "INSERT INTO audit_entry", None, Exception(f"no append after {ATTEMPTS} attempts")
    )


# Built once: every entry appended reads it.
HEAD = sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


def head_hash() -> str | None:
    """Return the hash of the newest entry, if there is one."""
    return db.session.scalar(HEAD)


# Checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding, and why."""

    entry_id: int
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of walking the trail: entries checked, the first break, the head."""

    checked: int
    broken: Break | None
    unkeyed: int
    head: str | None


def verify(batch: int = 5000) -> tuple[int, Break | None]:
    """Walk the whole trail in order; return the number of entries and the first break."""
    result = check_chain(batch=batch)
    return result.checked, result.broken


def check_chain(
    expect_head: str | None = None, expect_entries: int | None = None, batch: int = 5000
) -> ChainCheck:
    """Walk the whole trail in order, checking every hash with the audit keys.

    With `expect_head` (a hash kept outside the database, from a checkpoint), the
    entry holding it must still be there, preceded by `expect_entries` entries when
    given: otherwise the trail was cut short or rewritten.
    """
    _kid, keys = chain_keys()
    previous, checked, unkeyed, last_id = GENESIS, 0, 0, 0
    keyed_since: int | None = None
    # An empty trail's checkpoint names the genesis hash, which no entry holds.
    found = expect_head in {None, GENESIS}
    # Every entry after a checkpoint is keyed (the checkpoint itself is one): an unkeyed
    # entry there was forged to pass as one from before the key.
    anchored = expect_head == GENESIS
    while True:
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            problem = entry_problem(entry, previous, keys, keyed_since, anchored)
            if problem is not None:
                return ChainCheck(checked, Break(entry.id, problem), unkeyed, previous)
            if entry.key_id is None:
                unkeyed += 1
            elif keyed_since is None:
                keyed_since = entry.id
            previous, last_id, checked = entry.hash, entry.id, checked + 1
            if entry.hash == expect_head:
                found = anchored = True
                if expect_entries is not None and checked != expect_entries:
                    reason = (
                        f"the checkpoint counts {expect_entries} entries up to it, "
                        f"the trail {checked}"
                    )
                    return ChainCheck(checked, Break(entry.id, reason), unkeyed, previous)
        db.session.expunge_all()
    head = previous if checked else None
    if not found:
        reason = (
            f"no entry holds the expected hash {expect_head}: the trail was cut short "
            "or rewritten after it was taken"
        )
        return ChainCheck(checked, Break(last_id, reason), unkeyed, head)
    return ChainCheck(checked, None, unkeyed, head)


def entry_problem(
    entry: AuditEntry,
    previous: str,
    keys: dict[str, bytes],
    keyed_since: int | None,
    anchored: bool = False,
) -> str | None:
    """Return why an entry breaks the chain after `previous`, or None if it holds."""
    if entry.previous_hash != previous:
        return "an entry before it was removed or changed"
    if entry.key_id is None and keyed_since is not None:
        return f"it has no audit key, yet the trail is keyed since entry {keyed_since}"
    if entry.key_id is None and anchored:
        return "it has no audit key, yet it comes after the checkpoint's entry"
    key = None
    if entry.key_id is not None:
        secret = keys.get(entry.key_id)
        if secret is None:
            return (
                f"it was written with the audit key {entry.key_id}, which is neither "
                "AUDIT_KEY nor among AUDIT_PREVIOUS_KEYS"
            )
        key = (entry.key_id, secret)
    expected = entry_hash(
        entry.previous_hash,
        entry.at,
        entry.actor_id,
        entry.actor,
        entry.action,
        entry.target,
        entry.details,
        entry.ip,
        key,
    )
    if not hmac.compare_digest(entry.hash, expected):
        return "its content was changed"
    return None


# Checkpoints ---------------------------------------------------------------------------


def checkpoint() -> dict[str, Any]:
    """Sign the trail's head with the certificate key and record it in the trail.

    Returns the signed checkpoint, to keep outside the database: whatever happens
    to the database later, `flask audit verify --checkpoint` holds the trail to it.
    """
    head = db.session.execute(
        sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) or 0
    document = signing.sign_document(
        {
            "type": CHECKPOINT_TYPE,
            "at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": int(entries),
            "head_id": head[0] if head else None,
            "head": head[1] if head else GENESIS,
        },
        signing.signing_key(),
    )
    record(AuditAction.AUDIT_CHECKPOINT, document["head"], {"checkpoint": document})
    # Published in the application log too, which is usually shipped off the server.
    log.info("Audit checkpoint: %s", json.dumps(document, sort_keys=True))
    return document


def read_checkpoint(document: Any, keys: signing.PublicKeys) -> tuple[str, int]:
    """Return the head hash and entry count of a signed checkpoint; raise AuditKeyError."""
    if not isinstance(document, dict) or document.get("type") != CHECKPOINT_TYPE:
        raise AuditKeyError("This is not an audit checkpoint (flask audit checkpoint).")
    if not signing.verify_document(document, keys):
        raise AuditKeyError(
            "The checkpoint's signature does not hold: it was altered, or signed with a key "
            "that is not among the certificate public keys."
        )
    head, entries = document.get("head"), document.get("entries")
    if not isinstance(head, str) or not isinstance(entries, int):
        raise AuditKeyError("The checkpoint has no head hash or entry count.")
    return head, entries


def search(
    action: str | None,
    actor: str,
    since: datetime | None,
    until: datetime | None,
    page: int,
    per_page: int,
) -> pagination.Window[AuditEntry]:
    """Return one page of the trail, newest first, narrowed to an action, actor and period."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at <= until)
    return pagination.window(query, page, per_page)
