"""Completions earned on paper say so: certificates, records, the verify page, the trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import Flask

from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    Certificate,
    ClassroomSession,
    DeliveryMode,
    User,
)
from app.models.types import utcnow
from app.services import certificates
from app.services.documents import fingerprints
from tests.fixtures import certificate_pdf, pass_module, pdf_words, record_pdf
from tests.fixtures.classroom import pass_on_paper
from tests.fixtures.languages import shown

PLACE = "Peacekeeping Training Centre, Accra"
SENTENCE = "Completed in a facilitated session at %(place)s on %(date)s"


def sentence(language: str, session: ClassroomSession) -> str:
    """Return the sentence a document prints, in a language, for a session."""
    return shown(
        language,
        SENTENCE,
        place=session.place,
        date=format_date(session.held_on, "long", locale=language),
    ).replace("&#39;", "'")


def verify_page(app: Flask, client, certificate: Certificate) -> str:
    """Open a certificate's verify page as its QR code does, with the signature."""
    with app.test_request_context():
        signed = certificates.signed_verify_url(certificate)
    return client.get(signed[signed.index("/verify/") :]).get_data(as_text=True)


@pytest.fixture
def on_paper(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User], facilitator
) -> Callable[..., Certificate]:
    """Have someone pass basics on paper in a session held two days ago; the certificate."""

    def make(**values: object) -> Certificate:
        person = make_user(**values)
        session = make_session([person], held_on=utcnow().date() - timedelta(days=2))
        return pass_on_paper(session, person, facilitator)

    return make


def test_a_sheet_graded_from_a_session_records_how_it_was_earned(
    on_paper, make_user, facilitator
) -> None:
    certificate = on_paper(full_name="Ama Owusu")
    session = certificate.completion.session

    completion = certificate.completion
    assert completion.delivery_mode == DeliveryMode.CLASSROOM
    assert completion.session_id == session.id and completion.facilitator_id == facilitator.id
    # What the certificate states is fixed at issue, like its holder's name.
    assert certificate.delivery_mode == DeliveryMode.CLASSROOM
    assert certificate.session_place == PLACE
    assert certificate.session_held_on == session.held_on
    assert certificate.facilitator_name == "Kwame Mensah"
    issued = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CERTIFICATE_ISSUED)
    )
    assert issued is not None and issued.target == certificate.code
    assert issued.details["delivery"] == f"classroom, session {session.code}"
    assert issued.actor_id == facilitator.id


def test_an_online_pass_states_nothing_of_a_session(make_user, modules) -> None:
    certificate = pass_module(make_user())
    assert certificate.completion.delivery_mode == DeliveryMode.ONLINE
    assert certificate.delivery_mode == DeliveryMode.ONLINE
    assert certificate.session_place is None and certificate.facilitator_name is None
    issued = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CERTIFICATE_ISSUED)
    )
    assert issued is not None and "delivery" not in issued.details


def test_the_certificate_and_record_print_where_and_when_in_english(
    app, on_paper, make_user, facilitator, tmp_path
) -> None:
    certificate = on_paper(full_name="Ama Owusu")
    person, session = certificate.completion.user, certificate.completion.session

    pdf, pages = certificate_pdf(app, certificate)
    text = pdf_words(pdf, tmp_path)
    assert pages == 1
    assert sentence("en", session) in text
    assert "Facilitator: Kwame Mensah" in text
    pdf, pages = record_pdf(app, person)
    text = pdf_words(pdf, tmp_path)
    assert pages == 1
    assert sentence("en", session) in text


def test_a_french_holders_certificate_and_record_say_it_in_french_then_english(
    app, on_paper, make_user, facilitator, tmp_path
) -> None:
    certificate = on_paper(full_name="Ama Owusu", language="fr")
    person, session = certificate.completion.user, certificate.completion.session

    french, english = sentence("fr", session), sentence("en", session)
    assert french != english
    for pdf, pages in (certificate_pdf(app, certificate), record_pdf(app, person)):
        text = pdf_words(pdf, tmp_path)
        assert pages == 1
        assert french in text and english in text
        assert text.index(french) < text.index(english)
    text = pdf_words(certificate_pdf(app, certificate)[0], tmp_path)
    assert shown("fr", "Facilitator: %(name)s", name="Kwame Mensah") in text


def test_an_online_certificate_prints_no_session(app, make_user, modules, tmp_path) -> None:
    certificate = pass_module(make_user())
    text = pdf_words(certificate_pdf(app, certificate)[0], tmp_path)
    assert "facilitated session" not in text and "Facilitator" not in text


def test_the_credential_gives_the_session_as_evidence_outside_the_signature(
    app, on_paper, make_user, facilitator, modules
) -> None:
    paper = on_paper()
    session = paper.completion.session
    online = pass_module(make_user(), "pledge")
    with app.test_request_context():
        credential = certificates.module_credential(paper)
        assert "evidence" not in certificates.module_credential(online)
        claim = certificates.certificate_claim(paper)
    [evidence] = credential["evidence"]
    assert evidence["narrative"] == sentence("en", session)
    assert evidence["description"] == "Facilitator: Kwame Mensah"
    # The signed claim keeps its format: code, name, module and dates, whatever the mode.
    assert [entry.code for entry in claim.entries] == [paper.code]


def test_the_record_fingerprint_covers_how_each_certificate_was_earned(
    app, on_paper, make_user, facilitator
) -> None:
    certificate = on_paper()
    person = certificate.completion.user
    now = utcnow()
    content = certificates.record_content(person)
    before = fingerprints.record(content, now, "https://example.org")
    certificate.session_place = "Another place"
    assert fingerprints.record(content, now, "https://example.org") != before
    db.session.rollback()


def test_the_verify_page_says_where_and_when_it_was_earned(
    app, client, on_paper, make_user, facilitator
) -> None:
    certificate = on_paper()
    session = certificate.completion.session
    page = verify_page(app, client, certificate)
    assert sentence("en", session).replace(PLACE, f"<bdi>{PLACE}</bdi>") in page
    assert "The signature in the QR code is genuine and matches this record." in page


def test_a_certificate_issued_before_still_verifies_and_reads_online(
    app, client, make_user, modules
) -> None:
    certificate = pass_module(make_user())
    # As a certificate issued before delivery modes were recorded: the column's default.
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(delivery_mode=DeliveryMode.ONLINE, session_place=None, session_held_on=None)
    )
    db.session.commit()
    page = verify_page(app, client, certificate)
    assert "The signature in the QR code is genuine and matches this record." in page
    assert "How it was earned</dt><dd>Online</dd>" in page
    assert "facilitated session" not in page


def test_the_records_verify_page_lists_the_session(app, client, on_paper, make_user, facilitator):
    paper = on_paper()
    person = paper.completion.user
    online = pass_module(person, "pledge")
    page = client.get(f"/verify/set?codes={paper.code},{online.code}").get_data(as_text=True)
    assert page.count("Completed in a facilitated session at") == 1
