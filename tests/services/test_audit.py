"""The audit trail holds against whoever controls the database (OWASP ASVS 16.4)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from app import create_app
from app.models import AuditAction, AuditEntry, Role
from app.services import audit, signing
from config import ConfigError, ProductionConfig
from tests.fixtures import TestingConfig, count, post

ENTRY_COLUMNS = "id, at, actor_id, actor, action, target, details, ip, previous_hash, hash, key_id"


def write_trail(db, make_user, entries: int = 5) -> list[AuditEntry]:
    user = make_user()
    for number in range(entries):
        audit.record(AuditAction.EXPORT, f"/report/{number}", {"rows": number}, user)
    db.session.commit()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


@contextmanager
def as_database_owner(db) -> Iterator[sa.Connection]:
    """Act on the table as its owner could: triggers off, any statement, triggers back."""
    from app.models.audit import APPEND_ONLY_SQLITE

    with db.engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            connection.execute(sa.text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        else:
            connection.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
        yield connection
        if postgresql:
            connection.execute(sa.text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        else:
            for trigger in APPEND_ONLY_SQLITE:
                connection.execute(trigger)
    db.session.expire_all()


def rechain(
    db, key: tuple[str, bytes] | None, change: dict[int, dict[str, Any]], keep_key_ids=False
) -> None:
    """Rewrite entries and recompute every hash from the first, as a database owner would.

    `key` is what the forger hashes with: None for plain SHA-256 (entries passed off as
    written before the key, unless `keep_key_ids`), else a key id and secret.
    """
    rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    values = [
        {
            "id": row.id, "at": row.at, "actor_id": row.actor_id, "actor": row.actor,
            "action": row.action, "target": row.target, "details": row.details, "ip": row.ip,
            "key_id": row.key_id, **change.get(row.id, {}),
        }
        for row in rows
    ]  # fmt: skip
    db.session.rollback()
    with as_database_owner(db) as connection:
        connection.execute(sa.text("DELETE FROM audit_entry"))
        previous = audit.GENESIS
        for value in values:
            hashed = audit.entry_hash(
                previous, value["at"], value["actor_id"], value["actor"], value["action"],
                value["target"], value["details"], value["ip"], key,
            )  # fmt: skip
            connection.execute(
                sa.insert(AuditEntry).values(
                    **{name: v for name, v in value.items() if name != "key_id"},
                    previous_hash=previous,
                    hash=hashed,
                    key_id=value["key_id"] if keep_key_ids else key[0] if key else None,
                )
            )
            previous = hashed


def verify(app, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_trail_rewritten_and_rehashed_without_the_key_no_longer_verifies(app, db, make_user):
    entries = write_trail(db, make_user)
    third = entries[2].id
    # Changed, then every hash recomputed: what passed `audit verify` before it was keyed.
    rechain(db, None, {third: {"details": {"rows": 999}}}, keep_key_ids=True)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"broken at entry {entries[0].id}: its content was changed" in result.output


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_trail_rehashed_with_a_guessed_key_no_longer_verifies(app, db, make_user):
    entries = write_trail(db, make_user)
    kid = entries[0].key_id
    rechain(db, (kid, b"not the audit key"), {entries[1].id: {"target": "/nothing"}})
    result = verify(app)
    assert result.exit_code == 1
    assert f"broken at entry {entries[0].id}: its content was changed" in result.output


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_entries_removed_from_the_end_are_caught_by_the_expected_head(app, db, make_user):
    entries = write_trail(db, make_user)
    head = entries[-1].hash
    result = verify(app, "--expect-head", head)
    assert result.exit_code == 0 and "is in the trail, unchanged" in result.output
    with as_database_owner(db) as connection:
        connection.execute(sa.text(f"DELETE FROM audit_entry WHERE id >= {entries[3].id}"))
    assert verify(app).exit_code == 0, "a shortened trail still chains"
    result = verify(app, "--expect-head", head)
    assert result.exit_code == 1
    assert f"no entry holds the expected hash {head}" in result.output


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_a_signed_checkpoint_catches_a_trail_rewritten_even_with_the_key(
    app, db, make_user, tmp_path
):
    entries = write_trail(db, make_user)
    path = tmp_path / "checkpoint.json"
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint", "--output", str(path)])
    assert result.exit_code == 0, result.output
    document = json.loads(path.read_text())
    assert document["head"] == entries[-1].hash and document["entries"] == 5
    assert signing.verify_document(document, signing.public_keys())
    # The checkpoint is itself in the trail, and later entries do not disturb it.
    last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "audit_checkpoint"
    audit.record(AuditAction.EXPORT, "/later", {})
    db.session.commit()
    assert verify(app, "--checkpoint", str(path)).exit_code == 0

    # Someone holding the database and the key rewrites an entry before the checkpoint.
    kid, keys = audit.chain_keys()
    rechain(db, (kid, keys[kid]), {entries[0].id: {"target": "/other"}})
    assert verify(app).exit_code == 0, "with the key, the chain itself holds"
    result = verify(app, "--checkpoint", str(path))
    assert result.exit_code == 1 and "no entry holds the expected hash" in result.output


def test_an_altered_checkpoint_is_refused(app, db, make_user, tmp_path):
    write_trail(db, make_user, 2)
    document = audit.checkpoint()
    db.session.commit()
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps({**document, "head": "f" * 64}))
    result = verify(app, "--checkpoint", str(path))
    assert result.exit_code == 1 and "signature does not hold" in result.output


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_entries_from_before_the_key_still_verify_but_cannot_follow_keyed_ones(app, db, make_user):
    write_trail(db, make_user, 3)
    # The trail as an installation upgraded from before the key holds it.
    rechain(db, None, {})
    audit.record(AuditAction.EXPORT, "/after-the-upgrade", {})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "intact: 4 entries" in result.output
    assert "3 entries were written before the trail was keyed" in result.output

    last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()[-1]
    forged = audit.entry_hash(
        last.hash, last.at, None, "-", "export", "/forged", {}, None
    )  # fmt: skip
    db.session.rollback()
    with as_database_owner(db) as connection:
        connection.execute(
            sa.insert(AuditEntry).values(
                at=last.at, actor="-", action="export", target="/forged", details={},
                previous_hash=last.hash, hash=forged, key_id=None,
            )
        )  # fmt: skip
    result = verify(app)
    assert result.exit_code == 1 and "it has no audit key, yet the trail is keyed" in result.output


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_whole_trail_passed_off_as_unkeyed_is_caught_by_a_checkpoint(app, db, make_user):
    write_trail(db, make_user, 2)
    document = audit.checkpoint()
    audit.record(AuditAction.EXPORT, "/after-the-checkpoint", {})
    db.session.commit()
    rechain(db, None, {})
    head = document["head"]
    # The entries up to the checkpoint were keyed: rechained plain, their hashes differ.
    assert verify(app, "--expect-head", head).exit_code == 1


def test_production_refuses_to_start_without_an_audit_key():
    class Production(ProductionConfig):
        SECRET_KEY = "k" * 40
        MODULES_DIR = TestingConfig.MODULES_DIR
        CERTIFICATE_SIGNING_KEY = signing.generate_private_pem().decode()
        PUBLIC_BASE_URL = "https://training.example.org"
        AUDIT_KEY = ""

    with pytest.raises(ConfigError, match="AUDIT_KEY must be set to at least 32"):
        create_app(Production)
    Production.AUDIT_KEY = "short"
    with pytest.raises(ConfigError, match="AUDIT_KEY must be set"):
        create_app(Production)
    Production.AUDIT_KEY = "a" * 40
    assert create_app(Production).config["AUDIT_KEY"] == "a" * 40


def test_development_audit_key_is_created_once_under_instance(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEY", "")
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    first = audit.chain_keys()
    path = tmp_path / "instance" / audit.DEV_KEY_FILENAME
    assert path.is_file() and len(path.read_text().strip()) == 64
    audit._keys.cache_clear()
    assert audit.chain_keys() == first


def test_a_previous_audit_key_keeps_older_entries_verifiable(app, db, make_user, monkeypatch):
    write_trail(db, make_user, 2)
    old_key = app.config["AUDIT_KEY"]
    monkeypatch.setitem(app.config, "AUDIT_KEY", "the-next-audit-key-" + "b" * 32)
    audit.record(AuditAction.EXPORT, "/after-rotation", {})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1 and "neither AUDIT_KEY nor among" in result.output
    monkeypatch.setitem(app.config, "AUDIT_PREVIOUS_KEYS", old_key)
    assert verify(app).exit_code == 0


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
def test_an_insert_only_database_role_can_append_but_not_change_the_trail(app, db, make_user):
    write_trail(db, make_user, 1)
    if db.engine.dialect.name != "postgresql":
        # SQLite has no roles: the triggers alone guard the table, for every connection.
        with db.engine.connect() as connection:
            for statement in ("UPDATE audit_entry SET target = 'x'", "DELETE FROM audit_entry"):
                with pytest.raises(DatabaseError, match="append-only"):
                    connection.execute(sa.text(statement))
        return
    role = f"audit_writer_{db.engine.url.database}"
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        # The README's statements for the application's role, on this one table.
        connection.execute(sa.text(f"CREATE ROLE {role} NOLOGIN"))
        connection.execute(sa.text(f"GRANT SELECT, INSERT ON audit_entry TO {role}"))
        connection.execute(sa.text(f"GRANT USAGE ON SEQUENCE audit_entry_id_seq TO {role}"))
    try:
        db.session.execute(sa.text(f"SET LOCAL ROLE {role}"))
        audit.record(AuditAction.EXPORT, "/as-the-application", {})
        db.session.commit()
        assert count(AuditEntry) == 2
        for statement in (
            "UPDATE audit_entry SET target = 'x'",
            "DELETE FROM audit_entry",
            "TRUNCATE audit_entry",
            "ALTER TABLE audit_entry DISABLE TRIGGER USER",
        ):
            db.session.execute(sa.text(f"SET LOCAL ROLE {role}"))
            with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        assert count(AuditEntry) == 2
        assert verify(app).exit_code == 0
    finally:
        db.session.rollback()
        with db.engine.begin() as connection:
            connection.execute(sa.text(f"DROP OWNED BY {role}"))
            connection.execute(sa.text(f"DROP ROLE {role}"))


# What is recorded ----------------------------------------------------------------------


def actions_of(db, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_roster_uploads_and_reissued_set_password_links_are_audited(
    client, db, unit, make_user, login
):
    waiting = make_user(service_number="SN-900", full_name="Kofi Boateng")
    waiting.password_hash = None
    db.session.commit()
    coordinator = make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])
    login(coordinator)
    content = (
        b"service_number,full_name,category,unit,position,email,deployment_date\r\n"
        b"SN-900,Kofi Boateng,military_contingent,UNIT-A,,,\r\n"
    )
    response = post(
        client,
        "/coordinator/roster",
        {"file": (io.BytesIO(content), "june.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (uploaded,) = actions_of(db, "roster_uploaded")
    assert uploaded.target == "june.csv" and uploaded.actor == coordinator.username
    assert uploaded.details["bytes"] == len(content)

    post(client, response.headers["Location"], {"submit": "x"})
    (reissued,) = actions_of(db, "set_password_links_reissued")
    assert reissued.details == {"people": ["SN-900"]}
    assert reissued.actor == coordinator.username


def test_a_learner_downloading_their_record_is_audited(client, db, modules, make_user, login):
    person = make_user()
    login(person)
    assert client.get("/training/record.pdf").status_code == 200
    (entry,) = actions_of(db, "record_downloaded")
    assert entry.target == person.service_number and entry.actor == person.username


def test_an_append_that_lost_the_race_for_the_head_is_retried_on_top(
    app, db, make_user, monkeypatch
):
    """Another request appended meanwhile: the entry goes on top of it, the chain unforked."""
    trail = write_trail(db, make_user, entries=2)
    reads = iter([trail[0].hash])  # what the head was before the other request's entry
    real_head = audit.head_hash
    monkeypatch.setattr(audit, "head_hash", lambda: next(reads, None) or real_head())
    audit.record(AuditAction.EXPORT, "/report/late", {"rows": 0})
    db.session.commit()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [entry.target for entry in entries] == ["/report/0", "/report/1", "/report/late"]
    assert entries[2].previous_hash == entries[1].hash
    result = verify(app)
    assert result.exit_code == 0, result.output
