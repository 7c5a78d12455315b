"""A module read one section at a time: where a person is, kept for them across devices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.models import ReadingProgress, User
from app.services import content, reading, training
from tests.fixtures import PASSWORD, csrf_token

SHIPPED = Path(__file__).resolve().parents[2] / "modules"
SECTION_RE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL)


@pytest.fixture
def shipped(db) -> None:
    """The modules as shipped, with their French and Arabic translations."""
    content.sync_modules(SHIPPED)
    db.session.commit()


def sign_in(app: Flask, person: User) -> FlaskClient:
    """Sign the person in on a client of their own: another device, another browser."""
    device = app.test_client()
    token = csrf_token(device, "/login")
    response = device.post(
        "/login", data={"csrf_token": token, "username": person.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return device


def go_to(device: FlaskClient, slug: str, number: int):
    """Press a Previous/Next (or Start reading) button: a form posted to the module."""
    token = csrf_token(device, f"/training/{slug}")
    return device.post(f"/training/{slug}/sections", data={"csrf_token": token, "to": number})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_lesson_is_served_one_section_at_a_time(client, shipped, make_user, login):
    login(make_user())
    version = training.current_version("reporting")
    assert version is not None
    total = len(version.sections)
    assert total == 11
    page = text(client.get("/training/reporting/sections/3"))
    assert f"Section 3 of {total}" in page
    assert SECTION_RE.search(page)[1] == "Immediate danger comes first"
    # This section's words, and not those of the sections around it.
    assert "Immediate danger" in page and "Report facts, not conclusions" not in page
    assert "Previous section" in page and "Next section" in page
    # The contents link to every section.
    for number in range(1, total + 1):
        assert f'href="/training/reporting/sections/{number}"' in page
    assert 'href="/training/reporting/sections/3" aria-current="page"' in page
    assert 'href="/training/reporting/all"' in page
    first = text(client.get("/training/reporting/sections/1"))
    assert "Previous section" not in first and "Next section" in first
    last = text(client.get(f"/training/reporting/sections/{total}"))
    assert "Next section" not in last and "Go to the quiz" in last
    # The sources cited close the last section, and only it.
    assert "Sources cited in this module" in last and "Sources cited" not in page
    assert client.get(f"/training/reporting/sections/{total + 1}").status_code == 404
    assert client.get("/training/reporting/sections/0").status_code == 404


def test_next_records_where_the_person_is_and_another_device_continues_there(
    app, db, shipped, make_user
):
    person = make_user()
    phone, laptop = sign_in(app, person), sign_in(app, person)
    assert "Not started" in text(phone.get("/training/reporting"))
    assert "Start reading" in text(phone.get("/training/reporting"))
    started = go_to(phone, "reporting", 1)
    assert started.status_code == 302
    assert started.headers["Location"].endswith("/training/reporting/sections/1")
    for number in (2, 3, 4):
        assert go_to(phone, "reporting", number).status_code == 302
    go_to(phone, "reporting", 3)  # Previous: the last opened, not the furthest reached
    overview = text(laptop.get("/training/reporting"))
    assert "In progress" in overview and "Start reading" not in overview
    assert "Continue reading" in overview
    assert 'href="/training/reporting/sections/3">Continue reading' in overview
    assert "You have reached section 4 of 11." in overview
    version = training.current_version("reporting")
    assert reading.progress_for(person, [version]) == {version.id: reading.Reading(4, 3)}


def test_reading_progress_is_each_persons_own(app, db, shipped, make_user):
    reader, other = make_user(), make_user()
    go_to(sign_in(app, reader), "reporting", 5)
    page = text(sign_in(app, other).get("/training/reporting"))
    assert "Start reading" in page and "Continue reading" not in page and "Not started" in page
    version = training.current_version("reporting")
    assert reading.progress_for(other, [version]) == {}
    assert reading.progress_for(reader, [version]) == {version.id: reading.Reading(5, 5)}


def test_opening_a_section_changes_nothing(client, db, shipped, make_user, login):
    login(make_user())
    for url in ("/training/reporting/sections/4", "/training/reporting", "/training/reporting/all"):
        assert client.get(url).status_code == 200
    assert db.session.scalars(sa.select(ReadingProgress)).all() == []


def test_going_to_a_section_needs_the_form_and_a_section_that_exists(
    client, db, shipped, make_user, login
):
    login(make_user())
    token = csrf_token(client, "/training/reporting")
    assert client.post("/training/reporting/sections", data={"to": 2}).status_code == 400
    for wrong in ("0", "12", "two"):
        response = client.post(
            "/training/reporting/sections", data={"csrf_token": token, "to": wrong}
        )
        assert response.status_code == 400
    assert (
        client.post("/training/no-such/sections", data={"csrf_token": token, "to": 1}).status_code
        == 404
    )
    assert db.session.scalars(sa.select(ReadingProgress)).all() == []


def test_a_french_reader_gets_the_same_section_in_french(
    client, shipped, make_user, login, reading
):
    login(make_user())
    english = text(client.get("/training/reporting/sections/3"))
    reading("fr")
    french = text(client.get("/training/reporting/sections/3"))
    assert "Partie 3 sur 11" in french
    assert 'lang="fr"' in french[:200]
    title = SECTION_RE.search(french)[1]
    assert title != "Immediate danger comes first" and "danger" in title.lower()
    assert "Immediate danger comes first" not in french
    # The same anchors: a link to a heading finds it in either language.
    anchors = re.findall(r'<h[23] id="([^"]+)"', english)
    assert anchors and anchors == re.findall(r'<h[23] id="([^"]+)"', french)
    reading("ar")
    arabic = text(client.get("/training/reporting/sections/3"))
    assert 'lang="ar" dir="rtl"' in arabic
    assert anchors == re.findall(r'<h[23] id="([^"]+)"', arabic)


def test_translations_are_cut_into_the_sources_sections(shipped, app):
    from app.services import translations

    for version in (training.current_version(slug) for slug in ("reporting", "zero-tolerance")):
        assert version is not None
        source = [s.anchor for s in version.sections]
        for language in ("fr", "ar"):
            with app.test_request_context():
                shown = translations.module_text(version, language)
            assert shown.language == language
            assert [s.anchor for s in shown.sections] == source


def test_the_whole_module_stays_on_one_page_for_printing(client, shipped, make_user, login):
    login(make_user())
    version = training.current_version("reporting")
    page = text(client.get("/training/reporting/all"))
    for section in version.sections:
        assert f'id="{section.anchor}"' in page
    assert "Sources cited in this module" in page
    assert "Print" in page and 'id="print"' in page
    overview = text(client.get("/training/reporting"))
    assert 'href="/training/reporting/all">Whole module on one page' in overview
    assert 'href="/training/reporting/all#print">Print or save as PDF' in overview


def test_the_print_stylesheet_hides_navigation_and_shows_where_sources_are(client):
    css = text(client.get("/static/style.css"))
    printing = css[css.rindex("@media print") :]
    assert ".section-nav" in printing and "button" in printing
    assert 'a[href^="http"]::after' in printing and "attr(href)" in printing
    assert "color: #000" in printing and "background: #fff" in printing


def test_a_lesson_is_cut_once_not_at_each_request(
    client, shipped, make_user, login, reading, monkeypatch
):
    from app.services.content import published
    from app.services.translations import serving

    login(make_user())
    for language in ("en", "fr"):
        reading(language)
        assert client.get("/training/reporting/sections/2").status_code == 200
    cuts = []

    def counted(html: str):
        cuts.append(html)
        return ()

    monkeypatch.setattr(published, "split", counted)
    monkeypatch.setattr(serving, "split", counted)
    for language in ("en", "fr", "en"):
        reading(language)
        for number in (1, 2, 3):
            assert client.get(f"/training/reporting/sections/{number}").status_code == 200
    assert cuts == []


def test_my_training_says_in_progress_and_continues_reading_where_the_person_stopped(
    app, db, shipped, make_user
):
    person = make_user()
    phone, laptop = sign_in(app, person), sign_in(app, person)
    plan = text(laptop.get("/training/"))
    assert 'href="/training/reporting/sections/' not in plan
    for number in (1, 2):
        go_to(phone, "reporting", number)
    plan = text(laptop.get("/training/"))
    card = plan.split('id="plan-reporting"', 1)[1].split("</li>", 1)[0]
    assert "In progress" in card
    assert 'href="/training/reporting/sections/2">Continue reading' in card
