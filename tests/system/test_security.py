"""Authentication, sessions and the audit trail (OWASP ASVS level 2)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from app.extensions import limiter
from app.models import AuditAction, AuditEntry, Role
from app.services import audit, mfa
from tests.fixtures import PASSWORD, count, pass_module, post

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


def test_current_password_guesses_on_my_account_are_slowed_and_audited(
    app, client, db, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 2)
    user = make_user()
    login(user)
    change = {"password": STRONG, "confirm": STRONG}
    for _ in range(2):
        response = post(client, "/account", {"current": "guess", **change})
        assert response.status_code == 422
    assert actions(db).count(AuditAction.REAUTHENTICATION_FAILED) == 2
    response = post(client, "/account", {"current": PASSWORD, **change})
    assert response.status_code == 429
    assert "Wait 1 second," in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


# Brute force -----------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves forward; the rate limiter's storage reads it too."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def forward(seconds: float) -> None:
        offset[0] += seconds

    return forward


def sign_in(client, name, password=PASSWORD):
    return post(client, "/login", {"username": name, "password": password})


def test_wrong_passwords_slow_the_account_down_without_locking_its_owner_out(
    app, client, db, make_user, monkeypatch, caplog, clock
):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 3)
    user = make_user()
    for _ in range(3):
        assert sign_in(client, user.username, "bad").status_code == 401
    # Past the free attempts the next one waits, even with the right password...
    response = sign_in(client, user.username)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Wait 1 second, then try again." in response.get_data(as_text=True)
    assert "Sign-in slowed down" in caplog.text
    assert AuditAction.SIGN_IN_THROTTLED in actions(db)
    # ...another account from the same address is not slowed by this one...
    assert sign_in(client, make_user().username).status_code == 302
    post(client, "/logout")
    # ...each further failure doubles the wait...
    clock(2)
    assert sign_in(client, user.username, "bad").status_code == 401
    assert "Wait 2 seconds" in sign_in(client, user.username).get_data(as_text=True)
    # ...and once it has passed, the owner's right password is accepted.
    clock(3)
    assert sign_in(client, user.username).status_code == 302


def test_owner_signs_in_from_a_known_browser_while_others_guess(
    app, client, make_user, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 3)
    user = make_user()
    assert sign_in(client, user.username).status_code == 302
    post(client, "/logout")
    attacker = app.test_client()
    for _ in range(3):
        assert sign_in(attacker, user.username, "bad").status_code == 401
    assert sign_in(attacker, user.username).status_code == 429
    # The browser the owner signed in with before is not slowed by the attacker's guesses.
    assert sign_in(client, user.username).status_code == 302
    # A copied device cookie names one account only.
    other = make_user()
    thief = app.test_client()
    thief.set_cookie("known_device", client.get_cookie("known_device").value)
    for _ in range(3):
        assert sign_in(thief, other.username, "bad").status_code == 401
    assert sign_in(thief, other.username).status_code == 429


def test_the_wait_never_grows_past_its_cap(app, client, make_user, monkeypatch, clock):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 1)
    monkeypatch.setitem(app.config, "LOGIN_MAX_WAIT_SECONDS", 5)
    user = make_user()
    for _ in range(6):
        assert sign_in(client, user.username, "bad").status_code == 401
        clock(6)
    assert sign_in(client, user.username, "bad").status_code == 401
    assert "Wait 5 seconds" in sign_in(client, user.username).get_data(as_text=True)
    clock(6)
    assert sign_in(client, user.username).status_code == 302


def test_username_and_service_number_count_as_one_account(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 3)
    user = make_user(service_number="GH-1234")
    assert sign_in(client, user.username, "bad").status_code == 401
    assert sign_in(client, "gh-1234", "bad").status_code == 401
    assert sign_in(client, user.username.upper(), "bad").status_code == 401
    assert sign_in(client, "GH-1234", "bad").status_code == 429


def test_unknown_names_are_slowed_down_like_accounts(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 2)
    assert sign_in(client, "nobody-here", "bad").status_code == 401
    assert sign_in(client, "nobody-here", "bad").status_code == 401
    assert sign_in(client, "nobody-here", "bad").status_code == 429


def without_password(db, user):
    user.password_hash = None
    db.session.commit()
    return user


@pytest.mark.parametrize("who", ["unknown", "without password", "wrong password", "disabled"])
def test_every_refused_sign_in_checks_a_password_hash(client, db, make_user, monkeypatch, who):
    from app.services import passwords

    checked = []
    real = passwords.check_password_hash
    monkeypatch.setattr(
        passwords, "check_password_hash", lambda *args: checked.append(1) or real(*args)
    )
    name = {
        "unknown": lambda: "nobody-at-all",
        "without password": lambda: without_password(db, make_user()).username,
        "wrong password": lambda: make_user().username,
        "disabled": lambda: make_user(is_active=False).username,
    }[who]()
    assert sign_in(client, name, "guess").status_code == 401
    # The same work as for a real account: the answer's timing does not tell them apart.
    assert len(checked) == 1


def test_a_line_break_in_a_username_cannot_forge_a_log_line(app, client, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "1 per minute")
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 1)
    limiter.reset()
    forged = "x\nINFO Sign-in succeeded for admin"
    sign_in(client, forged, "bad")
    assert sign_in(client, forged, "bad").status_code == 429
    messages = [record.getMessage() for record in caplog.records]
    assert any("Sign-in throttled" in message for message in messages)
    assert not any("\n" in message for message in messages)


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
    assert mfa.secret_of(user) == secret
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


def pending_sign_in(app, db, make_user):
    """An enrolled person who has given the password and is asked for a code."""
    secret = pyotp.random_base32()
    user = make_user()
    mfa.enable(user, secret)
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, user.username).headers["Location"] == "/login/code"
    return user, secret, client


def test_wrong_codes_end_the_pending_sign_in_after_a_few(app, db, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_CODE_ATTEMPTS", 3)
    _user, secret, client = pending_sign_in(app, db, make_user)
    saved = client.get_cookie("session").value
    for _ in range(3):
        assert post(client, "/login/code", {"code": "000000"}).status_code == 401
    # Replaying the session cookie from before the wrong codes does not reset the count.
    client.set_cookie("session", saved)
    response = post(client, "/login/code", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 429
    assert "Too many wrong codes. Sign in again" in response.get_data(as_text=True)
    assert client.get("/login/code").headers["Location"] == "/login"
    assert client.get("/training/").status_code == 302


def test_wrong_codes_across_sign_ins_slow_the_account_down(app, db, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_ATTEMPTS", 3)
    user, secret, client = pending_sign_in(app, db, make_user)
    for _ in range(3):
        # A new pending sign-in, from another browser or address, each time.
        other = app.test_client()
        sign_in(other, user.username)
        assert post(other, "/login/code", {"code": "000000"}).status_code == 401
    response = post(client, "/login/code", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 429
    assert "Wait 1 second," in response.get_data(as_text=True)
    assert AuditAction.SIGN_IN_THROTTLED in actions(db)


def signed_in_twice(app, db, make_user, login, client, role=Role.PEACEKEEPER):
    """An enrolled person signed in here and in another browser."""
    old = pyotp.random_base32()
    user = make_user(role)
    mfa.enable(user, old)
    db.session.commit()
    other = app.test_client()
    for browser in (client, other):
        sign_in(browser, user.username)
        db.session.refresh(user)
        user.totp_last_step = 0
        db.session.commit()
        assert post(browser, "/login/code", {"code": pyotp.TOTP(old).now()}).status_code == 302
    db.session.refresh(user)
    user.totp_last_step = 0
    db.session.commit()
    return user, old, other


def test_replacing_the_second_factor_needs_the_password_and_a_current_code(
    app, client, db, make_user, login
):
    user, old, other = signed_in_twice(app, db, make_user, login, client)
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Replace my second factor" in page
    new = page.split("<code>")[1].split("</code>")[0]
    form = {"current_code": pyotp.TOTP(old).now(), "code": pyotp.TOTP(new).now()}
    assert post(client, "/account/second-factor", {"code": form["code"]}).status_code == 422
    response = post(client, "/account/second-factor", {"current": "guess", **form})
    assert response.status_code == 422 and "current password is not right" in response.text
    wrong_code = {**form, "current_code": "000000"}
    response = post(client, "/account/second-factor", {"current": PASSWORD, **wrong_code})
    assert response.status_code == 422 and "current authenticator app is not right" in response.text
    db.session.refresh(user)
    assert mfa.secret_of(user) == old

    response = post(client, "/account/second-factor", {"current": PASSWORD, **form})
    assert response.status_code == 302
    db.session.refresh(user)
    assert mfa.secret_of(user) == new
    assert client.get("/training/").status_code == 200
    assert other.get("/training/").status_code == 302
    assert actions(db).count(AuditAction.REAUTHENTICATION_FAILED) == 2
    assert AuditAction.MFA_REPLACED in actions(db)


def test_turning_off_the_second_factor_needs_the_password_and_a_code(
    app, client, db, make_user, login
):
    user, old, other = signed_in_twice(app, db, make_user, login, client)
    assert "Turn off my second factor" in client.get("/account").text
    response = post(client, "/account/second-factor/remove", {"current": PASSWORD})
    assert response.status_code == 422 and user.totp_secret
    response = post(
        client,
        "/account/second-factor/remove",
        {"current": PASSWORD, "current_code": pyotp.TOTP(old).now()},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret is None
    assert client.get("/training/").status_code == 200
    assert other.get("/training/").status_code == 302
    assert AuditAction.MFA_REMOVED in actions(db)


def test_a_required_second_factor_cannot_be_turned_off(
    app, client, db, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "REQUIRE_MFA", True)
    user, old, _other = signed_in_twice(app, db, make_user, login, client, Role.COORDINATOR)
    assert "Turn off my second factor" not in client.get("/account").text
    response = post(
        client,
        "/account/second-factor/remove",
        {"current": PASSWORD, "current_code": pyotp.TOTP(old).now()},
    )
    assert response.headers["Location"] == "/account"
    db.session.refresh(user)
    assert mfa.secret_of(user) == old


def test_second_factor_secrets_are_encrypted_in_the_database(client, db, make_user, login):
    user = make_user()
    login(user)
    secret = enrol(client, db, user)
    stored = db.session.scalar(
        sa.text('SELECT totp_secret FROM "user" WHERE id = :id'), {"id": user.id}
    )
    assert secret not in stored and stored.startswith("fernet:")
    # The secret shown during enrolment is not readable in the session cookie either.
    assert secret not in client.get_cookie("session").value


def test_a_secret_stored_in_clear_still_works_and_is_sealed_at_its_first_use(app, db, make_user):
    secret = pyotp.random_base32()
    user = make_user(totp_secret=secret)
    client = app.test_client()
    sign_in(client, user.username)
    assert post(client, "/login/code", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    db.session.refresh(user)
    assert user.totp_secret.startswith("fernet:") and mfa.secret_of(user) == secret


def test_an_own_encryption_key_can_be_set_and_rotated(app, monkeypatch):
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "MFA_ENCRYPTION_KEY", first)
    with app.app_context():
        sealed = mfa.seal("JBSWY3DPEHPK3PXP")
        assert Fernet(first).decrypt(sealed.removeprefix("fernet:").encode()) == b"JBSWY3DPEHPK3PXP"
        monkeypatch.setitem(app.config, "MFA_ENCRYPTION_KEY", f"{second},{first}")
        assert mfa.unseal(sealed) == "JBSWY3DPEHPK3PXP"
        monkeypatch.setitem(app.config, "MFA_ENCRYPTION_KEY", second)
        assert mfa.unseal(sealed) is None


# Sessions --------------------------------------------------------------------------------


def test_idle_session_expires(client, make_user, login):
    login(make_user())
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 31 * 60
    response = client.get("/training/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/training/").status_code == 302


def test_pages_seen_within_a_minute_send_no_new_session_cookie(client, make_user, login, clock):
    login(make_user())
    client.get("/training/")
    assert not client.get("/training/").headers.getlist("Set-Cookie")
    clock(61)
    cookies = client.get("/training/").headers.getlist("Set-Cookie")
    assert any(cookie.startswith("session=") for cookie in cookies)


def test_session_expires_after_the_absolute_limit_even_if_active(client, make_user, login):
    login(make_user())
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - 13 * 3600
    assert client.get("/training/").status_code == 302


def remembered(client, make_user):
    """Sign in with "Keep me signed in"; return the remember-me cookie a thief would copy."""
    user = make_user()
    post(client, "/login", {"username": user.username, "password": PASSWORD, "remember": "y"})
    return client.get_cookie("remember_token").value


def opened_with(app, cookie):
    """Open a page in another browser that has only the copied remember-me cookie."""
    thief = app.test_client()
    thief.set_cookie("remember_token", cookie)
    return thief, thief.get("/training/")


def test_copied_remember_cookie_is_refused_after_the_idle_limit(app, client, make_user, clock):
    copied = remembered(client, make_user)
    clock(31 * 60)
    assert opened_with(app, copied)[1].status_code == 302


def test_copied_remember_cookie_is_refused_after_the_absolute_limit(
    app, client, make_user, monkeypatch, clock
):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 24 * 60)
    copied = remembered(client, make_user)
    clock(13 * 3600)
    assert opened_with(app, copied)[1].status_code == 302


def test_remember_cookie_is_refused_once_its_session_idled_out(app, client, make_user):
    copied = remembered(client, make_user)
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 31 * 60
    assert client.get("/training/").status_code == 302
    assert client.get_cookie("remember_token") is None
    assert opened_with(app, copied)[1].status_code == 302


def test_remember_cookie_opens_one_session_and_is_replaced(app, client, make_user):
    copied = remembered(client, make_user)
    with client.session_transaction() as session:
        signed_in_at = session["signed_in_at"]
    browser, response = opened_with(app, copied)
    assert response.status_code == 200
    renewed = browser.get_cookie("remember_token").value
    assert renewed != copied
    # The session it opened keeps the time of the sign-in: the absolute limit still counts.
    with browser.session_transaction() as session:
        assert session["signed_in_at"] == int(signed_in_at)
    assert opened_with(app, copied)[1].status_code == 302
    # The replacement works, once, like the first.
    assert opened_with(app, renewed)[1].status_code == 200


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
    from tests.fixtures import TestingConfig

    class Production(ProductionConfig):
        SECRET_KEY = "k" * 40
        MODULES_DIR = TestingConfig.MODULES_DIR
        AUDIT_KEY = "a" * 40
        PUBLIC_BASE_URL = "https://training.example.org"
        SQLALCHEMY_DATABASE_URI = TestingConfig.SQLALCHEMY_DATABASE_URI
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


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
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


# Changes the trail from a connection of its own, as the database's owner would.
@pytest.mark.committing
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
    reason = "Misconduct finding confirmed by the investigation."
    post(client, url, {"reason": reason, "confirm": "yes"})
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "certificate_revoked")
    )
    assert entry is not None and entry.target == certificate.code
    assert entry.details["reason"] == "Misconduct finding confirmed by the investigation."


# Set-password links ----------------------------------------------------------------------


def link_for(app, db, make_user):
    from app.services import accounts

    user = without_password(db, make_user())
    token = accounts.set_password_token(user.id, user.session_token)
    with app.test_request_context():
        return user, token, accounts.set_password_url(token)


def test_set_password_token_never_reaches_the_logged_request_line(app, client, db, make_user):
    user, token, link = link_for(app, db, make_user)
    parts = urlsplit(link)
    # Browsers never send the fragment: the request line (which access logs keep) has no token.
    assert parts.fragment == token and token not in parts.path + parts.query
    page = client.get(parts.path)
    assert page.status_code == 200 and 'name="token"' in page.text
    # The script that reads the fragment, named by its content.
    assert re.search(r'<script src="/static/set-password\.[0-9a-f]{10}\.js" defer>', page.text)
    opened = post(client, "/set-password", {"token": token})
    assert f"This sets the password of <bdi>{user.full_name}</bdi>" in opened.text
    done = post(client, "/set-password", {"token": token, "password": STRONG, "confirm": STRONG})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    db.session.refresh(user)
    assert user.check_password(STRONG)


def test_set_password_page_says_what_to_paste_without_javascript(client):
    response = post(client, "/set-password", {"token": ""})
    assert response.status_code == 422
    assert "everything after the # sign" in response.text


def test_a_link_of_the_earlier_form_is_moved_out_of_the_address(app, client, db, make_user):
    _user, token, _link = link_for(app, db, make_user)
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/set-password#{token}"
    assert response.headers["Cache-Control"] == "no-store"
