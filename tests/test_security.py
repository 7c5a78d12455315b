"""Authentication, sessions and the audit trail (OWASP ASVS level 2)."""

from __future__ import annotations

import time

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from app.extensions import limiter
from app.models import AuditAction, AuditEntry, Role
from app.services import audit
from tests.conftest import PASSWORD, count, post
from tests.helpers import pass_module

STRONG = "blue helmets keep the peace"


def actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


# Passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short", "Use at least 8 characters."),
        ("password1", "This password is too common"),
        ("Football", "This password is too common"),
        ("x" * 129, "Use at most 128 characters."),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(client, make_user, login, new, message):
    user = make_user()
    login(user)
    response = post(client, "/account", {"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user.check_password(PASSWORD)


def test_password_containing_the_service_number_is_refused(client, make_user, login):
    user = make_user(service_number="GH-44821")
    login(user)
    new = "my number is gh-44821"
    response = post(client, "/account", {"current": PASSWORD, "password": new, "confirm": new})
    assert "Do not use your username or service number" in response.get_data(as_text=True)


def test_long_passphrase_without_composition_rules_is_accepted(client, db, make_user, login):
    user = make_user()
    login(user)
    response = post(
        client, "/account", {"current": PASSWORD, "password": STRONG, "confirm": STRONG}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password(STRONG)


def test_changing_password_ends_other_sessions_but_not_this_one(app, client, db, make_user, login):
    user = make_user()
    login(user)
    other = app.test_client()
    post(other, "/login", {"username": user.username, "password": PASSWORD})
    assert other.get("/training/").status_code == 200
    post(client, "/account", {"current": PASSWORD, "password": STRONG, "confirm": STRONG})
    assert client.get("/training/").status_code == 200
    assert other.get("/training/").status_code == 302
    assert AuditAction.PASSWORD_CHANGED in actions(db)


def test_wrong_current_password_changes_nothing(client, make_user, login):
    user = make_user()
    login(user)
    response = post(client, "/account", {"current": "nope", "password": STRONG, "confirm": STRONG})
    assert "Your current password is not right." in response.get_data(as_text=True)
    assert user.check_password(PASSWORD)


# Brute force -----------------------------------------------------------------------------


def test_too_many_attempts_on_one_account_are_refused_and_recorded(
    app, client, db, make_user, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    limiter.reset()
    user = make_user()
    for _ in range(3):
        assert (
            post(client, "/login", {"username": user.username, "password": "bad"}).status_code
            == 401
        )
    response = post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert "Sign-in throttled" in caplog.text
    assert AuditAction.SIGN_IN_THROTTLED in actions(db)
    # Another account from the same address is not locked out by this one.
    assert (
        post(client, "/login", {"username": make_user().username, "password": PASSWORD}).status_code
        == 302
    )


def test_too_many_attempts_from_one_address_are_refused(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "4 per minute")
    limiter.reset()
    for _ in range(4):
        post(client, "/login", {"username": make_user().username, "password": "bad"})
    response = post(client, "/login", {"username": make_user().username, "password": PASSWORD})
    assert response.status_code == 429


def test_failed_and_successful_sign_ins_are_audited(client, db, make_user):
    user = make_user()
    post(client, "/login", {"username": user.username, "password": "bad"})
    post(client, "/login", {"username": "nobody-at-all", "password": "bad"})
    post(client, "/login", {"username": user.username, "password": PASSWORD})
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target) for e in entries] == [
        ("sign_in_failed", user.username),
        ("sign_in_failed", "nobody-at-all"),
        ("sign_in", user.username),
    ]
    assert entries[-1].actor_id == user.id and entries[-1].ip == "127.0.0.1"


# Second factor ---------------------------------------------------------------------------


def enrol(client, db, user) -> str:
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "data:image/png;base64," in page
    secret = page.split("<code>")[1].split("</code>")[0]
    response = post(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret == secret
    return secret


def test_second_factor_is_asked_at_sign_in_once_enrolled(app, client, db, make_user, login):
    user = make_user()
    login(user)
    secret = enrol(client, db, user)
    post(client, "/logout")
    response = post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/login/code"
    assert client.get("/training/").status_code == 302  # not signed in yet
    wrong = post(client, "/login/code", {"code": "000000"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    # The enrolment code (its exact time step) was already used: replaying it is refused.
    db.session.refresh(user)
    enrolled_step = user.totp_last_step
    code = pyotp.TOTP(secret).at(enrolled_step * 30)
    replay = post(client, "/login/code", {"code": code})
    assert replay.status_code == 401
    user.totp_last_step = enrolled_step - 5
    db.session.commit()
    assert post(client, "/login/code", {"code": code}).status_code == 302
    assert client.get("/training/").status_code == 200


def test_required_second_factor_sends_coordinators_to_enrol(
    app, client, db, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "REQUIRE_MFA", True)
    coordinator = make_user(Role.COORDINATOR)
    login(coordinator)
    response = client.get("/coordinator/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/second-factor"
    enrol(client, db, coordinator)
    assert client.get("/coordinator/").status_code == 200


def test_peacekeepers_are_not_forced_to_enrol(app, client, make_user, login, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_MFA", True)
    login(make_user())
    assert client.get("/training/").status_code == 200


# Sessions --------------------------------------------------------------------------------


def test_idle_session_expires(client, make_user, login):
    login(make_user())
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 31 * 60
    response = client.get("/training/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/training/").status_code == 302


def test_session_expires_after_the_absolute_limit_even_if_active(client, make_user, login):
    login(make_user())
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - 13 * 3600
    assert client.get("/training/").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, client, db, make_user, login):
    victim = make_user()
    victim_client = app.test_client()
    post(victim_client, "/login", {"username": victim.username, "password": PASSWORD})
    assert victim_client.get("/training/").status_code == 200
    login(make_user(Role.ADMIN, unit=None))
    page = client.get(f"/admin/users/{victim.id}").get_data(as_text=True)
    assert "Account active" in page
    response = post(
        client,
        f"/admin/users/{victim.id}",
        {"role": "peacekeeper", "category": victim.category, "position": "member",
         "unit": victim.unit_id},
    )  # fmt: skip
    assert response.status_code == 302
    assert victim_client.get("/training/").status_code == 302
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account_changed"))
    assert entry.target == victim.username and entry.details["is_active"] == [True, False]


def test_role_change_is_audited_and_admins_keep_their_own_access(client, db, make_user, login):
    admin = make_user(Role.ADMIN, unit=None)
    person = make_user()
    login(admin)
    form = {
        "role": "coordinator",
        "category": person.category,
        "position": "member",
        "unit": person.unit_id,
        "assigned_units": [person.unit_id],
        "is_active": "y",
    }
    post(client, f"/admin/users/{person.id}", form)
    db.session.refresh(person)
    assert person.role == "coordinator" and [u.id for u in person.assigned_units] == [
        person.unit_id
    ]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account_changed"))
    assert entry.details["role"] == ["peacekeeper", "coordinator"]
    response = post(client, f"/admin/users/{admin.id}",
                    {"role": "peacekeeper", "category": admin.category, "position": "member",
                     "unit": 0, "is_active": "y"}, follow_redirects=True)  # fmt: skip
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_non_admins_cannot_manage_accounts_or_read_the_audit_trail(client, make_user, login):
    login(make_user(Role.COORDINATOR))
    for url in ("/admin/users", "/admin/audit", "/admin/users/1"):
        assert client.get(url).status_code == 403


# Cookies and headers ---------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user()
    response = post(client, "/login", {"username": user.username, "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_sends_hsts_and_secure_cookies(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app import create_app
    from config import ProductionConfig
    from tests.conftest import _Config

    class Production(ProductionConfig):
        SECRET_KEY = "k" * 40
        MODULES_DIR = _Config.MODULES_DIR
        SQLALCHEMY_DATABASE_URI = _Config.SQLALCHEMY_DATABASE_URI
        CERTIFICATE_SIGNING_KEY = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )

    app = create_app(Production)
    response = app.test_client().get("/login")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


# Audit trail -----------------------------------------------------------------------------


def test_completions_certificates_exports_and_imports_are_audited(
    client, db, modules, make_user, login
):
    person = make_user()
    pass_module(person)
    coordinator = make_user(Role.COORDINATOR, assigned_units=[person.unit])
    login(coordinator)
    client.get("/coordinator/export/people.csv")
    recorded = actions(db)
    for action in ("completion_recorded", "certificate_issued", "sign_in", "export"):
        assert action in recorded, action


def test_audit_trail_verifies_and_detects_a_changed_entry(app, db, make_user):
    user = make_user()
    for number in range(5):
        audit.record(AuditAction.EXPORT, f"/report/{number}", {"rows": number}, user)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 5 entries" in result.output
    third = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()[2]
    tamper(db, f"UPDATE audit_entry SET details = '{{\"rows\": 999}}' WHERE id = {third.id}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {third.id}: its content was changed" in result.output


def test_audit_trail_detects_a_deleted_entry(app, db, make_user):
    user = make_user()
    for number in range(4):
        audit.record(AuditAction.EXPORT, f"/report/{number}", {}, user)
    db.session.commit()
    ids = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    tamper(db, f"DELETE FROM audit_entry WHERE id = {ids[1]}")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {ids[2]}: an entry before it was removed or changed" in result.output


def test_the_database_refuses_to_change_or_delete_audit_entries(db, make_user):
    audit.record(AuditAction.EXPORT, "/report", {}, make_user())
    db.session.commit()
    for statement in ("UPDATE audit_entry SET target = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert count(AuditEntry) == 1


def test_admin_reads_and_filters_the_trail(client, db, make_user, login):
    admin = make_user(Role.ADMIN, unit=None)
    audit.record(AuditAction.EXPORT, "/coordinator/export/matrix.csv", {}, admin)
    db.session.commit()
    login(admin)
    page = client.get("/admin/audit?action=export").get_data(as_text=True)
    assert "/coordinator/export/matrix.csv" in page and "Signed in</td>" not in page
    checked = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "The trail is intact" in checked


def tamper(db, statement: str) -> None:
    """Change the trail as someone with direct database access could."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            connection.execute(sa.text(statement))
            connection.execute(sa.text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        else:
            connection.execute(sa.text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(sa.text("DROP TRIGGER audit_entry_no_delete"))
            connection.execute(sa.text(statement))
            from app.models.audit import APPEND_ONLY_SQLITE

            for trigger in APPEND_ONLY_SQLITE:
                connection.execute(trigger)
    db.session.expire_all()


def test_verify_page_is_rate_limited(app, client, db, modules, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_LIMIT_PER_ADDRESS", "5 per minute")
    limiter.reset()
    code = pass_module(make_user()).code
    statuses = [client.get(f"/verify/{code}").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_revocation_is_in_the_audit_trail(client, db, modules, make_user, login):
    person = make_user()
    certificate = pass_module(person)
    login(make_user(Role.COORDINATOR, assigned_units=[person.unit]))
    revoke_urls = [
        rule.rule for rule in client.application.url_map.iter_rules()
        if rule.endpoint.startswith("coordinator.") and "revoke" in rule.rule
    ]  # fmt: skip
    assert revoke_urls, "coordinators can revoke"
    url = (
        revoke_urls[0].replace("<code>", certificate.code).replace("<int:user_id>", str(person.id))
    )
    post(client, url, {"reason": "Misconduct finding confirmed by the investigation."})
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "certificate_revoked")
    )
    assert entry is not None and entry.target == certificate.code
    assert entry.details["reason"] == "Misconduct finding confirmed by the investigation."
