"""A learner who reads French or Arabic: module, quiz, result and undertaking in their words."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.models import Attestation, Completion, QuizAttempt
from app.services import content, training
from tests.fixtures import post, start
from tests.fixtures.languages import language_names, shown

WORDS_RE = re.compile(r'<input type="hidden" name="words" value="([^"]+)"')
LANGUAGE_RE = re.compile(r'<input type="hidden" name="language" value="([^"]+)"')


def english_right_answers(db, attempt_id):
    """The options the English source marks right, for each question drawn."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    pool = {q["id"]: q for q in attempt.module_version.quiz}
    return {
        f"q{drawn['id']}": [o["id"] for o in pool[drawn["id"]]["options"] if o["correct"]]
        for drawn in attempt.questions
    }


def test_module_page_in_french_and_arabic(client, translated_modules, make_user, login, reading):
    login(make_user())
    reading("fr")
    page = client.get("/training/basics/all").get_data(as_text=True)
    assert "Les bases de la conduite" in page and "N'acceptez aucun cadeau." in page
    assert "Accept no gift." not in page
    # The source's anchors: the contents link to the same place in every language.
    assert 'href="#the-rule"' in page and 'id="the-rule"' in page
    assert "<script>" not in page and "javascript:" not in page
    reading("ar")
    page = client.get("/training/basics/all").get_data(as_text=True)
    assert "أساسيات السلوك" in page and "لا تقبل أي هدية." in page
    assert 'lang="ar" dir="rtl"' in page and 'id="the-rule"' in page
    assert "Les bases" not in page and "Accept no gift." not in page
    listing = client.get("/training/").get_data(as_text=True)
    assert "أساسيات السلوك" in listing and "وحدة اختبار يجب على الجميع إكمالها." in listing


@pytest.mark.parametrize(
    ("language", "option", "feedback"),
    [("fr", "Refuser poliment.", "Juste : Dix règles"), ("ar", "أرفضها بأدب.", "صحيح:")],
)
def test_french_and_arabic_quizzes_pass_with_the_english_answers(
    client, db, translated_modules, make_user, login, reading, in_pool_order,
    language, option, feedback,
):  # fmt: skip
    login(make_user())
    reading(language)
    attempt_id = start(client)
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert option in page and "Decline politely." not in page
    # The same option ids are graded right as in English.
    answers = english_right_answers(db, attempt_id)
    response = post(client, f"/training/attempts/{attempt_id}", answers, follow_redirects=True)
    result = response.get_data(as_text=True)
    assert shown(language, "You passed with %(score)s%%.", score=100) in result
    assert feedback in result and "Right: Ten Rules" not in result
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt.passed and attempt.language == language
    completion = db.session.scalar(sa.select(Completion).filter_by(attempt_id=attempt_id))
    assert completion.language == language


def test_an_attempt_keeps_the_language_it_was_started_in(
    client, db, translated_modules, make_user, login, reading, in_pool_order
):
    login(make_user())
    reading("fr")
    attempt_id = start(client)
    reading("en")
    # Starting again continues the open attempt, still in French.
    assert start(client) == attempt_id
    page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "Refuser poliment." in page and "Decline politely." not in page
    reading("ar")
    answers = english_right_answers(db, attempt_id)
    result = post(client, f"/training/attempts/{attempt_id}", answers, follow_redirects=True)
    page = result.get_data(as_text=True)
    # The interface reads Arabic; the attempt's texts stay French, not the module's Arabic.
    assert "Juste : Dix règles pour les Casques bleus." in page and "صحيح:" not in page
    assert db.session.get(QuizAttempt, attempt_id).language == "fr"


def test_the_undertaking_is_stored_in_the_words_the_learner_read(
    client, db, translated_modules, make_user, login, reading
):
    login(make_user())
    reading("fr")
    page = client.get("/training/pledge").get_data(as_text=True)
    french = (
        "J&#39;ai lu et compris ce module. "
        "Je signalerai toute préoccupation par les voies établies."
    )
    assert french in page
    form = {
        "confirm": "yes",
        "language": LANGUAGE_RE.search(page).group(1),
        "words": WORDS_RE.search(page).group(1),
    }
    # The interface switches to English before the box is ticked: the words read count.
    reading("en")
    post(client, "/training/pledge/attestation", form)
    [attestation] = db.session.scalars(sa.select(Attestation)).all()
    assert attestation.language == "fr"
    assert attestation.statement == french.replace("&#39;", "'")


def test_an_undertaking_whose_words_changed_since_the_page_is_read_again(
    client, db, translated_modules, make_user, login, reading
):
    login(make_user())
    reading("fr")
    page = client.get("/training/pledge").get_data(as_text=True)
    form = {"confirm": "yes", "language": "fr", "words": "0" * 16}
    assert WORDS_RE.search(page).group(1) != form["words"]
    response = post(client, "/training/pledge/attestation", form, follow_redirects=True)
    changed = shown(
        "fr",
        "The words of the undertaking have changed since the page was shown. "
        "Read them again, then confirm.",
    )
    assert changed in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Attestation)).all() == []


def test_a_language_without_a_catalog_gets_the_source_with_a_note(
    client, translated_modules, make_user, login, reading
):
    login(make_user())
    reading("ru")
    page = client.get("/training/basics/all").get_data(as_text=True)
    assert "Accept no gift." in page
    note = "This module is not available in %(language)s yet: it is shown in %(source)s."
    assert shown("ru", note, **language_names("ru")) in page
    # The English content is marked as English inside the page.
    assert 'class="lesson" lang="en" dir="ltr"' in page


def test_a_stale_translation_is_not_served_and_the_source_is_shown_with_a_note(
    client, db, translated_modules, make_user, login, reading, in_pool_order
):
    basics = translated_modules / "basics.md"
    basics.write_text(basics.read_text().replace("Decline politely.", "Decline it politely."))
    results = {result.slug: result for result in content.sync_modules(translated_modules)}
    db.session.commit()
    assert results["basics"].action == "updated"
    login(make_user())
    for language in ("fr", "ar"):
        reading(language)
        page = client.get("/training/basics/all").get_data(as_text=True)
        # Never a mix: the whole module is the source's, with the note.
        assert "Accept no gift." in page and "Decline" not in page
        assert "Les bases" not in page and "أساسيات" not in page
        note = (
            "The %(language)s translation of this module is not up to date: "
            "it is shown in %(source)s until it is."
        )
        note = shown(language, note, **language_names(language))
        assert note in page
    attempt_id = start(client)
    quiz_page = client.get(f"/training/attempts/{attempt_id}").get_data(as_text=True)
    assert "Decline it politely." in quiz_page and "أرفضها" not in quiz_page
    assert db.session.get(QuizAttempt, attempt_id).language == "en"
    # The module whose source did not change is still served in Arabic.
    assert "وحدة مع تعهد" in client.get("/training/pledge").get_data(as_text=True)
    assert training.current_version("pledge").number == 1
