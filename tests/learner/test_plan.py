"""My training as a plan: each module's state and due date, one next action, overdue first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import Completion, PersonnelCategory, Position, Role
from app.models.types import utcnow
from app.services import attestation, certificates, quiz, training
from tests.fixtures import move_expiry, pass_module, shown_day

CARD = re.compile(r'<li class="plan-item plan-([a-z_]+)">(.*?)</li>', re.S)
ACTION = re.compile(
    r'<p class="plan-action"><a class="button primary"[^>]*href="([^"]+)">([^<]+)</a>'
)


def cards(client) -> dict[str, tuple[str, str]]:
    """Return My training's cards in page order: slug -> (standing, the card's HTML)."""
    page = client.get("/training/").get_data(as_text=True)
    found = {}
    for standing, html in CARD.findall(page):
        slug = re.search(r'<h2 id="plan-([a-z-]+)"', html).group(1)
        found[slug] = (standing, html)
    return found


def action(card: tuple[str, str]) -> tuple[str, str]:
    """Return the card's one action: its label and where it leads."""
    [(href, label)] = ACTION.findall(card[1])
    return label, href


def version_of(slug: str):
    version = training.current_version(slug)
    assert version is not None
    return version


@pytest.fixture
def commander(make_user):
    """A commander, with three modules to take: basics, leaders, pledge."""
    return make_user(category=PersonnelCategory.MILITARY_CONTINGENT, position=Position.COMMANDER)


def test_overdue_modules_come_first_and_the_summary_counts_the_valid_ones(
    client, db, modules, commander, login
):
    # Due 14 days before deployment: five days before it, the due date has passed.
    commander.deployment_date = (utcnow() + timedelta(days=5)).date()
    db.session.commit()
    pass_module(commander, "basics")
    login(commander)

    page = client.get("/training/").get_data(as_text=True)
    assert "<strong>1 of 3 done</strong>" in page
    due = shown_day(commander.deployment_date - timedelta(days=14))
    assert (
        f"You deploy on {shown_day(commander.deployment_date)}: complete every module by {due}."
        in page
    )
    plan = cards(client)
    # Overdue first (by title), the valid module last, although it comes first by title.
    assert list(plan) == ["pledge", "leaders", "basics"]
    assert [standing for standing, _ in plan.values()] == ["overdue", "overdue", "completed"]
    assert f"Was due by {due}" in plan["leaders"][1]
    assert 'badge-overdue">Overdue<' in plan["leaders"][1]
    assert "Due by" not in plan["basics"][1]


def test_modules_under_way_come_before_those_not_started_and_those_done(
    client, db, modules, commander, login
):
    commander.deployment_date = (utcnow() + timedelta(days=100)).date()
    db.session.commit()
    pass_module(commander, "basics")
    quiz.start_attempt(commander, version_of("leaders"))
    db.session.commit()
    login(commander)

    plan = cards(client)
    assert list(plan) == ["leaders", "pledge", "basics"]
    standings = [standing for standing, _ in plan.values()]
    assert standings == ["in_progress", "not_started", "completed"]
    due = shown_day(commander.deployment_date - timedelta(days=14))
    assert f"Due by {due}" in plan["pledge"][1]
    assert "2 of 3 done" not in client.get("/training/").get_data(as_text=True)


def test_without_a_deployment_date_the_modules_are_due_after_the_account_was_opened(
    client, db, modules, make_user, login
):
    person = make_user()
    login(person)
    page = client.get("/training/").get_data(as_text=True)
    due = shown_day(person.created_at + timedelta(days=30))
    assert f"Complete every module by {due}." in page and "You deploy on" not in page
    assert "0 of 2 done" in page


def test_a_module_not_started_offers_start(client, modules, commander, login):
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "not_started" and 'badge-not_started">Not started<' in card[1]
    assert action(card) == ("Start", "/training/basics")


def test_an_undertaking_given_puts_the_module_in_progress_and_start_leads_to_the_quiz(
    client, db, modules, commander, login
):
    attestation.attest(commander, version_of("pledge"))
    db.session.commit()
    login(commander)
    card = cards(client)["pledge"]
    assert card[0] == "in_progress" and "Undertaking confirmed" in card[1]
    assert action(card) == ("Start", "/training/pledge#quiz-heading")


def test_an_open_attempt_offers_to_continue_the_quiz(client, db, modules, commander, login):
    attempt = quiz.start_attempt(commander, version_of("basics"))
    db.session.commit()
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "in_progress" and "Your quiz is started and not submitted yet." in card[1]
    assert action(card) == ("Continue the quiz", f"/training/attempts/{attempt.id}")


def test_a_failed_quiz_offers_a_retake(client, db, modules, commander, login):
    attempt = quiz.start_attempt(commander, version_of("basics"))
    assert quiz.submit_attempt(attempt, {})
    db.session.commit()
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "in_progress" and "Not passed yet" in card[1]
    assert action(card) == ("Retake", "/training/basics")


def test_a_failed_quiz_with_a_new_attempt_open_offers_to_continue_it(
    client, db, modules, commander, login
):
    failed = quiz.start_attempt(commander, version_of("basics"))
    assert quiz.submit_attempt(failed, {})
    again = quiz.start_attempt(commander, version_of("basics"))
    db.session.commit()
    login(commander)
    assert action(cards(client)["basics"]) == (
        "Continue the quiz",
        f"/training/attempts/{again.id}",
    )


def test_a_valid_module_says_until_when_and_offers_its_certificate(
    client, db, modules, commander, login
):
    certificate = pass_module(commander, "basics")
    login(commander)
    card = cards(client)["basics"]
    completion = db.session.get(Completion, certificate.completion_id)
    assert card[0] == "completed" and 'badge-completed">Completed<' in card[1]
    assert f"valid until {shown_day(completion.expires_at)}" in card[1]
    pdf = f"/training/certificates/{certificate.code}.pdf"
    assert action(card) == ("Download certificate", pdf)
    assert client.get(action(card)[1]).data.startswith(b"%PDF")


def test_a_module_expiring_soon_offers_to_renew(client, db, modules, commander, login):
    certificate = pass_module(commander, "basics")
    completion = db.session.get(Completion, certificate.completion_id)
    move_expiry(commander, completion.module_id, utcnow() + timedelta(days=10))
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "expiring" and 'badge-expiring">Expiring soon<' in card[1]
    assert action(card) == ("Renew", "/training/basics")
    assert "1 of 3 done" in client.get("/training/").get_data(as_text=True)


def test_a_module_that_lapses_before_deployment_is_expiring_but_not_yet_renewable(
    client, db, modules, commander, login
):
    certificate = pass_module(commander, "basics")
    completion = db.session.get(Completion, certificate.completion_id)
    move_expiry(commander, completion.module_id, utcnow() + timedelta(days=90))
    commander.deployment_date = (utcnow() + timedelta(days=120)).date()
    db.session.commit()
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "expiring"
    assert action(card)[0] == "Download certificate"
    renewable = shown_day(utcnow() + timedelta(days=30))
    assert f"It expires before your deployment: you can renew it from {renewable}." in card[1]


def test_an_expired_module_offers_a_retake(client, db, modules, commander, login):
    certificate = pass_module(commander, "basics")
    completion = db.session.get(Completion, certificate.completion_id)
    lapsed = utcnow() - timedelta(days=2)
    move_expiry(commander, completion.module_id, lapsed)
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "expired" and f"Expired on {shown_day(lapsed)}." in card[1]
    assert action(card) == ("Retake", "/training/basics")


def test_a_revoked_module_offers_a_retake(client, db, modules, commander, make_user, login):
    certificate = pass_module(commander, "basics")
    certificates.revoke(certificate, make_user(Role.ADMIN), "Misconduct finding, case 2026-114.")
    db.session.commit()
    login(commander)
    card = cards(client)["basics"]
    assert card[0] == "revoked" and 'badge-revoked">Revoked<' in card[1]
    assert f"Revoked on {shown_day(certificate.revoked_at)}: take the module again." in card[1]
    assert action(card) == ("Retake", "/training/basics")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 1
