"""Reminder e-mails: who gets one, how often, what it says, and what happens when mail fails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import render_template

from app.models import Mission, Position, Reminder, Role, TrainingModule, Unit
from app.services import certificates, reminders
from tests.fixtures import count, move_expiry, pass_module, post

SIGN_IN = "https://training.example.org/training/"


@pytest.fixture
def run(app):
    """Run `flask reminders send` with extra arguments."""

    def invoke(*args):
        return app.test_cli_runner().invoke(args=["reminders", "send", *args])

    return invoke


def text(message):
    """Return the plain-text part of a message."""
    return message.get_body(("plain",)).get_content()


def today():
    return datetime.now(UTC).date()


@pytest.fixture
def overdue(make_user):
    """Create a person deploying in three days, so past the 14-day lead time."""

    def make(**values):
        values.setdefault("deployment_date", today() + timedelta(days=3))
        return make_user(**values)

    return make


def long_date(day):
    return format_date(day, "long", locale="en")


def expire_in(db, user, slug, days):
    """Move the expiry of a person's completion of a module to `days` from now."""
    module_id = db.session.scalar(sa.select(TrainingModule.id).where(TrainingModule.slug == slug))
    when = datetime.now(UTC) + timedelta(days=days)
    move_expiry(user, module_id, when)
    return when.date()


def test_overdue_person_gets_one_email_naming_modules_and_due_date(
    db, modules, inbox, overdue, run
):
    amina = overdue(full_name="Amina Diallo", email="amina@example.org")
    result = run()
    assert result.exit_code == 0, result.output
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"].addresses[0].addr_spec == "amina@example.org"
    assert "overdue" in message["Subject"]
    body = text(message)
    assert "Dear Amina Diallo," in body
    due_on = long_date(today() + timedelta(days=3 - 14))
    assert f"Conduct basics: overdue. It was due by {due_on}." in body
    assert f"A module with an undertaking: overdue. It was due by {due_on}." in body
    assert "Policing with respect" not in body
    assert SIGN_IN in body
    assert "Reminded Amina Diallo <amina@example.org>" in result.output
    assert "1 reminder sent." in result.output
    reminder = db.session.scalar(sa.select(Reminder))
    assert reminder.user_id == amina.id
    assert sorted(reminder.modules) == ["A module with an undertaking", "Conduct basics"]


def test_nobody_with_valid_training_or_not_yet_due_or_inactive_is_reminded(
    db, modules, inbox, overdue, make_user, run
):
    trained = overdue(email="trained@example.org")
    pass_module(trained, "basics")
    pass_module(trained, "pledge")
    make_user(email="later@example.org", deployment_date=today() + timedelta(days=60))
    overdue(email="left@example.org", is_active=False)
    result = run()
    assert result.exit_code == 0, result.output
    assert inbox.messages == []
    assert "0 reminders sent." in result.output
    assert count(Reminder) == 0


def test_revoked_module_is_named_in_the_reminder(db, modules, inbox, overdue, make_user, run):
    person = overdue(email="revoked@example.org")
    basics = pass_module(person, "basics")
    pass_module(person, "pledge")
    certificates.revoke(basics, make_user(Role.ADMIN), "Misconduct finding, case 2026-114.")
    db.session.commit()
    result = run()
    assert result.exit_code == 0, result.output
    [message] = inbox.messages
    body = text(message)
    due_on = long_date(today() + timedelta(days=3 - 14))
    assert f"Conduct basics: overdue. It was due by {due_on}." in body
    assert "A module with an undertaking" not in body
    assert db.session.scalar(sa.select(Reminder)).modules == ["Conduct basics"]


def test_completion_expiring_soon_gets_one_email_with_its_expiry(db, modules, inbox, overdue, run):
    person = overdue(email="expiring@example.org")
    pass_module(person, "basics")
    pass_module(person, "pledge")
    expires_on = expire_in(db, person, "basics", days=10)
    result = run()
    assert result.exit_code == 0, result.output
    [message] = inbox.to("expiring@example.org")
    assert "expires soon" in message["Subject"]
    body = text(message)
    assert f"Conduct basics: your completion expires on {long_date(expires_on)}." in body
    assert "A module with an undertaking" not in body


def test_within_sets_how_far_ahead_expiry_counts(db, modules, inbox, overdue, run):
    person = overdue(email="expiring@example.org")
    pass_module(person, "basics")
    pass_module(person, "pledge")
    expire_in(db, person, "basics", days=45)
    assert run().exit_code == 0
    assert inbox.messages == []
    assert run("--within", "60").exit_code == 0
    assert len(inbox.to("expiring@example.org")) == 1


def test_second_run_within_interval_sends_nothing_then_sends_again_after_it(
    app, db, modules, inbox, overdue, run
):
    overdue(email="amina@example.org")
    assert run().exit_code == 0
    again = run()
    assert again.exit_code == 0
    assert len(inbox.messages) == 1
    assert "1 person skipped: already reminded in the last 7 days." in again.output
    assert count(Reminder) == 1

    interval = app.config["REMINDER_INTERVAL_DAYS"]
    reminder = db.session.scalar(sa.select(Reminder))
    reminder.sent_at = datetime.now(UTC) - timedelta(days=interval - 1)
    db.session.commit()
    assert run().exit_code == 0
    assert len(inbox.messages) == 1

    reminder.sent_at = datetime.now(UTC) - timedelta(days=interval + 1)
    db.session.commit()
    assert run().exit_code == 0
    assert len(inbox.messages) == 2
    assert count(Reminder) == 2


def test_dry_run_lists_people_but_sends_and_records_nothing(db, modules, inbox, overdue, run):
    overdue(full_name="Amina Diallo", email="amina@example.org")
    result = run("--dry-run")
    assert result.exit_code == 0, result.output
    due_on = (today() + timedelta(days=3 - 14)).isoformat()
    assert (
        "Would remind Amina Diallo <amina@example.org>: "
        f"A module with an undertaking (overdue, due {due_on}); "
        f"Conduct basics (overdue, due {due_on})"
    ) in result.output
    assert "Dry run: 1 reminder would be sent." in result.output
    assert inbox.messages == []
    assert count(Reminder) == 0
    # The dry run did not use up the person's reminder.
    assert run().exit_code == 0
    assert len(inbox.messages) == 1


def test_dry_run_works_before_mail_is_set_up(db, modules, overdue, run, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    overdue(email="amina@example.org")
    result = run("--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 reminder would be sent." in result.output


def test_people_without_email_are_counted_not_mailed(db, modules, inbox, overdue, run):
    overdue(email="amina@example.org")
    overdue(email=None)
    overdue(email="  ")
    result = run()
    assert result.exit_code == 0, result.output
    assert inbox.recipients() == ["amina@example.org"]
    assert "2 people have no e-mail address and were not reminded." in result.output
    assert count(Reminder) == 1


def test_mail_server_down_reports_failures_records_nothing_and_fails(
    db, modules, mail_down, overdue, run
):
    overdue(email="amina@example.org")
    overdue(email="ben@example.org")
    result = run()
    assert result.exit_code == 1
    assert "Not sent to" in result.output and "<amina@example.org>" in result.output
    assert "<ben@example.org>" in result.output
    assert "2 reminders could not be sent" in result.output
    assert count(Reminder) == 0


def test_command_refuses_without_mail_server(app, db, modules, overdue, run, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    overdue(email="amina@example.org")
    result = run()
    assert result.exit_code == 1
    assert "MAIL_SERVER is not set" in result.output
    assert count(Reminder) == 0


def test_command_refuses_without_an_address_to_link_to(
    app, db, modules, inbox, overdue, run, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    overdue(email="amina@example.org")
    result = run()
    assert result.exit_code == 1
    assert "set PUBLIC_BASE_URL" in result.output
    assert inbox.messages == []


def second_unit(db):
    mission = db.session.scalar(sa.select(Mission))
    other = Unit(mission=mission, code="UNIT-B", name="Unit B", country="Nepal")
    db.session.add(other)
    db.session.commit()
    return other


def flashes(client):
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def test_coordinator_reminds_only_people_in_their_units(
    client, db, modules, inbox, unit, overdue, make_user, login
):
    other = second_unit(db)
    overdue(email="mine@example.org")
    overdue(email="theirs@example.org", unit=other)
    coordinator = make_user(Role.COORDINATOR, assigned_units=[unit])
    login(coordinator)
    response = post(client, "/coordinator/reminders")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/coordinator/")
    assert inbox.recipients() == ["mine@example.org"]
    assert SIGN_IN in text(inbox.messages[0])
    assert count(Reminder) == 1
    assert "1 reminder sent." in flashes(client)[0]


def test_without_public_address_email_links_to_the_site_the_coordinator_uses(
    client, db, modules, app, inbox, unit, overdue, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    overdue(email="amina@example.org")
    login(make_user(Role.COORDINATOR, assigned_units=[unit]))
    post(client, "/coordinator/reminders")
    [message] = inbox.messages
    assert "http://localhost/training/" in text(message)


def test_coordinator_sees_skipped_without_email_and_failed(
    client, db, modules, unit, overdue, make_user, login, mail_down
):
    reminded = overdue(email="reminded@example.org")
    overdue(email="failing@example.org")
    overdue(email=None)
    db.session.add(Reminder(user_id=reminded.id, modules=["Conduct basics"]))
    db.session.commit()
    login(make_user(Role.COORDINATOR, assigned_units=[unit]))
    post(client, "/coordinator/reminders")
    [message] = flashes(client)
    assert "0 reminders sent." in message
    assert "1 person skipped: already reminded in the last 7 days." in message
    assert "1 person has no e-mail address" in message
    assert "1 reminder could not be sent" in message
    assert count(Reminder) == 1


def test_coordinator_told_when_mail_is_not_set_up(
    client, db, modules, app, unit, overdue, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    overdue(email="amina@example.org")
    login(make_user(Role.COORDINATOR, assigned_units=[unit]))
    response = post(client, "/coordinator/reminders")
    assert response.status_code == 302
    assert "E-mail is not set up" in flashes(client)[0]
    assert count(Reminder) == 0


def test_peacekeeper_cannot_send_reminders(client, db, modules, inbox, overdue, make_user, login):
    overdue(email="amina@example.org")
    login(make_user(Role.PEACEKEEPER))
    assert post(client, "/coordinator/reminders").status_code == 403
    assert inbox.messages == []
    assert count(Reminder) == 0


def test_reminders_are_sent_by_post_only(client, db, modules, unit, make_user, login):
    login(make_user(Role.COORDINATOR, assigned_units=[unit]))
    assert client.get("/coordinator/reminders").status_code == 405


def test_reminders_form_posts_with_csrf_and_explains_the_interval(app):
    with app.test_request_context():
        page = render_template("coordinator/_reminders_form.html")
    assert 'action="/coordinator/reminders"' in page and 'method="post"' in page
    assert 'name="csrf_token"' in page
    assert "Send reminders" in page
    assert "at most once every 7 days" in page


def test_due_takes_as_many_queries_for_30_people_as_for_3(db, modules, overdue, make_user):
    def queries_for_due():
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            dues = reminders.due(None, within_days=30)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return len(dues), len(statements)

    for number in range(3):
        overdue(email=f"p{number}@example.org", position=Position.MANAGER)
    few = queries_for_due()
    for number in range(3, 30):
        overdue(email=f"p{number}@example.org", position=Position.MANAGER)
    many = queries_for_due()
    assert few[0] == 3 and many[0] == 30
    assert few[1] == many[1]


# What the message itself carries


def test_reminder_is_dated_and_has_a_unique_message_id(db, modules, inbox, overdue, run):
    overdue(email="amina@example.org")
    overdue(email="ben@example.org")
    before = datetime.now(UTC).replace(microsecond=0)
    assert run().exit_code == 0
    assert len(inbox.messages) == 2
    for message in inbox.messages:
        sent_at = message["Date"].datetime
        assert sent_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= sent_at <= datetime.now(UTC)
        assert re.fullmatch(r"<[^@<>\s]+@localhost>", message["Message-ID"])
    assert inbox.messages[0]["Message-ID"] != inbox.messages[1]["Message-ID"]


def test_reminder_has_an_html_part_with_the_same_text_and_link(db, modules, inbox, overdue, run):
    overdue(full_name="Amina <b>Diallo</b> & Co", email="amina@example.org")
    assert run().exit_code == 0
    [message] = inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    page = message.get_body(("html",)).get_content()
    assert "Dear Amina &lt;b&gt;Diallo&lt;/b&gt; &amp; Co," in page
    assert "<b>" not in page
    assert f'<a href="{SIGN_IN}">{SIGN_IN}</a>' in page
    assert "<li>Conduct basics: overdue." in page


def test_non_ascii_recipient_name_is_encoded_in_the_header(db, modules, inbox, overdue, run):
    overdue(full_name="Diop, Aïssatou", email="aissatou@example.org")
    overdue(full_name="ليلى حداد", email="layla@example.org")
    assert run().exit_code == 0
    for raw in inbox.raw:
        headers = raw.split(b"\r\n\r\n", 1)[0]
        headers.decode("ascii")  # RFC 5322 headers are ASCII; names travel RFC 2047-encoded
        assert b"=?utf-8?" in headers.lower()
    names = {message["To"].addresses[0].display_name for message in inbox.messages}
    assert names == {"Diop, Aïssatou", "ليلى حداد"}
    assert sorted(inbox.recipients()) == ["aissatou@example.org", "layla@example.org"]


def test_person_who_never_set_a_password_gets_a_set_password_link(
    client, db, modules, inbox, overdue, run
):
    newcomer = overdue(email="newcomer@example.org", service_number="NP-41028")
    newcomer.password_hash = None
    db.session.commit()
    assert run().exit_code == 0
    [message] = inbox.messages
    body = text(message)
    assert SIGN_IN not in body
    assert "You have not chosen a password yet" in body and "NP-41028" in body
    link = re.search(r"https://training\.example\.org/set-password#([\w.\-]+)", body)
    assert link is not None
    assert f'href="{link.group(0)}"' in message.get_body(("html",)).get_content()
    # The page behind the link posts the token after the # (never sent in the address).
    page = post(client, "/set-password", {"token": link.group(1)})
    assert page.status_code == 200
    assert "password" in page.get_data(as_text=True).lower()


def test_coordinator_is_told_who_got_a_set_password_link(
    client, db, modules, inbox, unit, overdue, make_user, login
):
    newcomer = overdue(email="newcomer@example.org")
    newcomer.password_hash = None
    overdue(email="amina@example.org")
    db.session.commit()
    login(make_user(Role.COORDINATOR, assigned_units=[unit]))
    post(client, "/coordinator/reminders")
    [message] = flashes(client)
    assert "2 reminders sent." in message
    assert (
        "1 of them has never set a password, so the reminder carries a set-password link "
        "instead of the sign-in link."
    ) in message


def test_non_ascii_sender_name_is_encoded_in_the_header(
    app, db, modules, inbox, overdue, run, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_FROM", '"Bérets bleus, formation" <no-reply@example.org>')
    overdue(email="amina@example.org")
    assert run().exit_code == 0
    [raw] = inbox.raw
    raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    [message] = inbox.messages
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Bérets bleus, formation",
        "no-reply@example.org",
    )
    assert message["Message-ID"].endswith("@example.org>")


def test_each_reminder_is_in_its_recipients_language_not_the_senders(
    client, db, modules, inbox, unit, overdue, make_user, login
):
    overdue(email="french@example.org", language="fr")
    overdue(email="arabic@example.org", language="ar")
    overdue(email="unknown@example.org")
    login(make_user(Role.COORDINATOR, assigned_units=[unit], language="ru"))
    post(client, "/coordinator/reminders")
    due_on = today() + timedelta(days=3 - 14)
    written = {"fr": format_date(due_on, "long", locale="fr"), "en": long_date(due_on)}
    french, arabic, unknown = (
        inbox.to(f"{name}@example.org")[0] for name in ("french", "arabic", "unknown")
    )
    assert french["Content-Language"] == "fr"
    assert written["fr"] in text(french) and written["en"] not in text(french)
    assert '<html lang="fr" dir="ltr">' in french.get_body(("html",)).get_content()
    assert arabic["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in arabic.get_body(("html",)).get_content()
    assert format_date(due_on, "long", locale="ar") in text(arabic)
    # Nobody chose a language: the platform's, never the coordinator's Russian.
    assert unknown["Content-Language"] == "en"
    assert written["en"] in text(unknown)
    assert format_date(due_on, "long", locale="ru") not in text(unknown)
