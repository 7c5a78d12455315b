"""Certificates and records in their holder's language, with English alongside."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.dates import format_date

from app.services import certificates
from app.services.documents import issued, store
from tests.fixtures import certificate_pdf, pass_module, pdf_words, record_pdf
from tests.fixtures.languages import shown

TITLE = "Certificate of completion"
RECORD_TITLE = "Conduct training record"
COMPLETED = "Completed on"


# pdftotext reads Arabic's lam-alef ligature as alef then lam.
LIGATURES = {f"\u0644{alef}": f"{alef}\u0644" for alef in "\u0627\u0623\u0625\u0622"}


def words_in(label: str, text: str) -> bool:
    """Whether every word of a label is in a PDF's text (right-to-left lines may be reordered)."""
    for ligature, extracted in LIGATURES.items():
        label = label.replace(ligature, extracted)
    return all(word in text for word in label.split())


def test_french_certificate_shows_french_first_then_english_with_dates_in_each(
    app, translated_modules, make_user, tmp_path
):
    certificate = pass_module(make_user(), language="fr")
    pdf, pages = certificate_pdf(app, certificate)
    text = pdf_words(pdf, tmp_path)

    assert pages == 1
    french = shown("fr", TITLE)
    assert french != TITLE and french in text and TITLE in text
    assert text.index(french) < text.index(TITLE)
    # The module under its French title, then its English one.
    assert "Les bases de la conduite" in text and certificate.module_title in text
    assert text.index("Les bases de la conduite") < text.index(certificate.module_title)
    for locale in ("fr", "en"):
        assert format_date(certificate.completed_at, "long", locale=locale) in text


@pytest.mark.parametrize("language", ["ar", "zh"])
def test_arabic_and_chinese_certificates_extract_with_pdftotext(
    app, translated_modules, make_user, tmp_path, language
):
    user = make_user(full_name="Amina Diallo", language=language)
    certificate = pass_module(user, language=language)
    pdf, pages = certificate_pdf(app, certificate)
    text = pdf_words(pdf, tmp_path)

    assert pages == 1
    for label in (TITLE, COMPLETED, "Certificate code"):
        own = shown(language, label)
        assert own != label
        assert words_in(own, text), (own, text)
        assert label.lower() in text.lower()  # some labels print in capitals
    assert "Amina Diallo" in text and certificate.code in text
    assert format_date(certificate.completed_at, "long", locale="en") in text


def test_arabic_certificate_is_laid_out_right_to_left(app, translated_modules, make_user):
    certificate = pass_module(make_user(), language="ar")
    with app.test_request_context():
        data = certificates.document_data(certificate)
        design = certificates.load_design(
            Path(app.config["CERTIFICATES_DIR"]).resolve(), certificates.MODULE_CERTIFICATE
        )
        with certificates.written_in("ar"):
            page = design.template.render(**data)
    assert '<html lang="ar" dir="rtl">' in page
    # English lines keep their own direction inside the Arabic page.
    assert 'class="en" lang="en" dir="ltr"' in page


def test_english_certificate_shows_each_label_once(app, modules, make_user, tmp_path):
    certificate = pass_module(make_user())
    text = pdf_words(certificate_pdf(app, certificate)[0], tmp_path)
    assert text.count(TITLE) == 1 and text.lower().count(COMPLETED.lower()) == 1
    assert " / " not in text.replace(certificate.code, "")


def test_the_signed_qr_payload_does_not_change_with_the_language(
    app, translated_modules, make_user
):
    certificate = pass_module(make_user(), language="fr")
    with app.test_request_context():
        french = certificates.document_data(certificate)
        certificate.completion.language = "en"
        english = certificates.document_data(certificate)
    assert french["signed_verify_url"] == english["signed_verify_url"]
    assert french["credential"] == english["credential"]


def test_a_record_is_written_in_its_holders_language_whoever_prints_it(
    app, db, translated_modules, make_user, reading, tmp_path
):
    user = make_user(language="fr")
    pass_module(user, language="fr")
    reading("en")  # a coordinator whose pages are in English prints it
    pdf, pages = record_pdf(app, user)
    text = pdf_words(pdf, tmp_path)
    assert pages == 1
    assert shown("fr", RECORD_TITLE) in text and RECORD_TITLE in text
    assert "Les bases de la conduite" in text


def test_a_stored_record_is_made_again_when_its_holder_changes_language(
    app, db, modules, make_user, tmp_path
):
    user = make_user(language="en")
    pass_module(user)
    with app.test_request_context():
        english = issued.record_document(user)
        db.session.commit()
        user.language = "ru"
        russian = issued.record_document(user)
        db.session.commit()
    assert english.digest != russian.digest
    text = pdf_words(store.read(store.document_store(), russian.digest), tmp_path)
    assert shown("ru", RECORD_TITLE) in text and RECORD_TITLE in text
