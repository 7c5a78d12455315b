"""Undertakings: confirmed before the quiz counts, tied to the exact content version."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Attestation, QuizAttempt
from app.services import content
from tests.fixtures import DATA, count, pass_module, pdf_text, post

STATEMENT = (
    "I have read and understood this module. I will report any concern through the "
    "established channels."
)


def test_quiz_cannot_start_before_the_undertaking(client, modules, make_user, login):
    login(make_user())
    page = client.get("/training/pledge").get_data(as_text=True)
    assert STATEMENT in page and "I confirm this undertaking." in page
    assert "Start the quiz" not in page
    response = post(client, "/training/pledge/attempts", follow_redirects=True)
    assert "Confirm the undertaking at the end of the module" in response.get_data(as_text=True)
    assert count(QuizAttempt) == 0


def test_undertaking_needs_the_box_ticked(client, modules, make_user, login):
    login(make_user())
    response = post(client, "/training/pledge/attestation", follow_redirects=True)
    assert "Tick the box to confirm the undertaking" in response.get_data(as_text=True)
    assert count(Attestation) == 0


def test_undertaking_is_stored_with_version_hash_and_time(client, db, modules, make_user, login):
    user = make_user()
    login(user)
    post(client, "/training/pledge/attestation", {"confirm": "yes"})
    post(client, "/training/pledge/attestation", {"confirm": "yes"})
    [attestation] = db.session.scalars(sa.select(Attestation)).all()
    assert attestation.user_id == user.id
    assert attestation.statement == STATEMENT
    assert attestation.content_hash == attestation.module_version.content_hash
    assert attestation.attested_at is not None
    assert "Undertaking confirmed" in client.get("/training/").get_data(as_text=True)
    assert "Start the quiz" in client.get("/training/pledge").get_data(as_text=True)
    assert post(client, "/training/pledge/attempts").status_code == 302
    assert count(QuizAttempt) == 1


def test_certificate_states_the_undertaking(client, db, modules, make_user, login, tmp_path):
    user = make_user()
    login(user)
    post(client, "/training/pledge/attestation", {"confirm": "yes"})
    certificate = pass_module(user, "pledge")
    assert certificate.attestation == STATEMENT
    pdf = client.get(f"/training/certificates/{certificate.code}.pdf").data
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "Undertaking confirmed on" in text
    assert "I will report any concern through the established channels." in text


def test_new_content_version_needs_a_new_undertaking(
    client, db, modules, make_user, login, tmp_path
):
    login(make_user())
    post(client, "/training/pledge/attestation", {"confirm": "yes"})
    changed = tmp_path / "modules"
    changed.mkdir()
    for path in (DATA / "modules").glob("*.md"):
        (changed / path.name).write_text(
            path.read_text().replace("Pledge lesson.", "Pledge lesson, revised.")
        )
    content.sync_modules(changed)
    db.session.commit()
    assert "Pledge lesson, revised." in client.get("/training/pledge/all").get_data(as_text=True)
    page = client.get("/training/pledge").get_data(as_text=True)
    assert "I confirm this undertaking." in page and "Start the quiz" not in page
    assert "Undertaking to confirm" in client.get("/training/").get_data(as_text=True)


def test_modules_without_undertaking_offer_no_form(client, modules, make_user, login):
    login(make_user())
    assert "I confirm this undertaking." not in client.get("/training/basics").get_data(
        as_text=True
    )
    assert post(client, "/training/basics/attestation", {"confirm": "yes"}).status_code == 404
