"""The language of every page: who chooses it, how it is remembered, and how it writes."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import click
import pytest
import sqlalchemy as sa
from flask_babel import get_locale

from app import i18n
from app.cli import COMMANDS, WRAPPED, in_operators_language
from app.models import Certificate, Completion, Role
from app.services import content, training
from config import ROOT
from tests.fixtures import PASSWORD, csrf_token, move_expiry, pass_module, post, start
from tests.fixtures.languages import shown

HTML_TAG = re.compile(r'<html lang="([a-z]+)" dir="(rtl|ltr)">')
DIRECTIONS = {"ar": "rtl", "en": "ltr", "es": "ltr", "fr": "ltr", "ru": "ltr", "zh": "ltr"}


def page_language(response) -> tuple[str, str]:
    """Return the language and direction a page's <html> element declares."""
    match = HTML_TAG.search(response.get_data(as_text=True))
    assert match, "the page has no <html lang dir>"
    return match.group(1), match.group(2)


def sign_in_from(client, person, browser_language):
    """Sign in through the form from a browser that asks for a language."""
    response = post(
        client,
        "/login",
        {"username": person.username, "password": PASSWORD},
        headers={"Accept-Language": browser_language},
    )
    assert response.status_code == 302


def choose(client, language, next_page="/verify", **extra):
    """Press a language's button in the switcher of a page, as a browser sends it."""
    data = {"csrf_token": csrf_token(client, next_page), "language": language, "next": next_page}
    return client.post("/language", data={**data, **extra})


# How the language is chosen -------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(DIRECTIONS))
def test_each_language_declares_itself_and_its_direction(client, language):
    response = client.get("/login", headers={"Accept-Language": language})
    assert page_language(response) == (language, DIRECTIONS[language])
    # A cache keeps one copy of a page per language.
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_a_visitor_gets_the_best_of_the_languages_their_browser_asks_for(client):
    asked = {
        "fr-CA,fr;q=0.9,en;q=0.5": "fr",
        "de-DE,ar;q=0.7,en;q=0.3": "ar",
        "zh-CN": "zh",
        "es-419": "es",
        "de, pt": "en",  # none of ours: English
        "": "en",
    }
    for header, language in asked.items():
        response = client.get("/verify", headers={"Accept-Language": header})
        assert page_language(response)[0] == language, header


def test_a_visitors_choice_beats_what_the_browser_asks_for(client):
    response = choose(client, "ru")
    assert response.status_code == 302
    page = client.get("/verify", headers={"Accept-Language": "fr"})
    assert page_language(page) == ("ru", "ltr")


def test_the_accounts_language_beats_the_cookie_and_the_browser(client, db, make_user, login):
    person = make_user(language="ar")
    login(person)
    client.set_cookie(i18n.COOKIE, "fr")
    page = client.get("/training/", headers={"Accept-Language": "es"})
    assert page_language(page) == ("ar", "rtl")


def test_an_address_naming_a_language_wins_for_that_page_only(client, db, make_user, login):
    person = make_user(language="ar")
    login(person)
    assert page_language(client.get("/training/?lang=fr")) == ("fr", "ltr")
    assert page_language(client.get("/training/")) == ("ar", "rtl")
    assert page_language(client.get("/training/?lang=xx")) == ("ar", "rtl")
    db.session.refresh(person)
    assert person.language == "ar"


def test_unknown_cookie_or_account_language_falls_back_to_the_browser(client, db, make_user):
    client.set_cookie(i18n.COOKIE, "tlh")
    assert page_language(client.get("/verify", headers={"Accept-Language": "es"}))[0] == "es"


# The switcher ---------------------------------------------------------------------------


def test_every_page_has_the_switcher_with_each_language_named_in_itself(
    client, db, make_user, login
):
    names = {"ar": "العربية", "zh": "中文", "en": "English", "fr": "Français",
             "ru": "Русский", "es": "Español"}  # fmt: skip
    pages = ["/login", "/verify", "/verify/NO-SUCH-CODE", "/no-such-page"]
    for address in pages:
        page = client.get(address).get_data(as_text=True)
        form = page[page.index('<form class="languages"') :]
        form = form[: form.index("</form>")]
        assert 'method="post" action="/language"' in form, address
        assert 'name="csrf_token"' in form, address
        for code, name in names.items():
            assert f'value="{code}" lang="{code}"' in form and f">{name}</button>" in form
    login(make_user())
    page = client.get("/training/").get_data(as_text=True)
    assert page.count('name="language"') == 6
    assert 'value="en" lang="en" aria-current="true">English<' in page


def test_the_switcher_returns_to_the_same_page(client):
    response = choose(client, "fr", next_page="/verify?code=&x=1#top")
    assert response.status_code == 302
    assert response.headers["Location"] == "/verify?code=&x=1#top"


def test_the_switcher_drops_a_language_named_in_the_address(client):
    response = choose(client, "ar", next_page="/report/demo?lang=fr&x=1")
    assert response.headers["Location"] == "/report/demo?x=1"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
     "evil.example", "/%0d%0aSet-Cookie:x", "\x00/"],
)  # fmt: skip
def test_the_switcher_never_sends_anyone_to_another_site(client, target):
    response = choose(client, "fr", next_page="/verify", **{"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\n" not in location


def test_a_visitors_choice_is_a_cookie_that_scripts_and_other_sites_cannot_use(client):
    response = choose(client, "zh")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("language="))
    assert cookie.startswith("language=zh;")
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "Max-Age=31536000" in cookie
    assert "Secure" not in cookie


def test_the_language_cookie_is_secure_when_the_session_cookie_is(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    token = csrf_token(client, "https://localhost/verify")
    response = client.post(
        "/language",
        data={"csrf_token": token, "language": "fr", "next": "/verify"},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/verify"},
    )
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("language="))
    assert "Secure" in cookie


def test_a_signed_in_persons_choice_is_kept_in_their_account(client, db, make_user, login):
    person = make_user()
    login(person)
    response = post(client, "/language", {"language": "es", "next": "/training/"})
    assert response.status_code == 302 and response.headers["Location"] == "/training/"
    db.session.refresh(person)
    assert person.language == "es"
    # Another browser, asking for English, still gets the account's language.
    other = client.application.test_client()
    sign_in_from(other, person, "en")
    assert page_language(other.get("/training/", headers={"Accept-Language": "en"}))[0] == "es"


def test_the_switcher_needs_the_forms_token(client, db, make_user, login):
    person = make_user()
    login(person)
    response = client.post("/language", data={"language": "fr", "next": "/training/"})
    assert response.status_code == 400
    assert "language=" not in str(response.headers.getlist("Set-Cookie"))
    db.session.refresh(person)
    assert person.language is None


def test_choosing_a_language_is_never_done_by_following_a_link(client, db, make_user, login):
    person = make_user()
    login(person)
    for address in ("/language?language=fr", "/language?language=fr&next=/training/"):
        response = client.get(address)
        assert response.status_code == 405
        assert "language=" not in str(response.headers.getlist("Set-Cookie"))
    db.session.refresh(person)
    assert person.language is None


def test_a_language_the_platform_does_not_speak_is_refused(client):
    response = choose(client, "de")
    assert response.status_code == 400
    assert "language=" not in str(response.headers.getlist("Set-Cookie"))


def test_signing_in_keeps_the_language_the_browser_reads_for_later_emails(client, db, make_user):
    person = make_user()
    sign_in_from(client, person, "fr-FR,fr;q=0.9")
    db.session.refresh(person)
    assert person.language == "fr"
    # A later sign-in from an English browser does not undo a choice.
    chosen = make_user(language="ru")
    sign_in_from(client.application.test_client(), chosen, "en")
    db.session.refresh(chosen)
    assert chosen.language == "ru"


def test_the_where_to_report_page_offers_languages_as_links_and_sets_no_cookie(client, db):
    content.sync_modules(ROOT / "modules")
    db.session.commit()
    response = client.get("/report/DEMO?lang=ar")
    page = response.get_data(as_text=True)
    assert page_language(response) == ("ar", "rtl")
    assert "<form" not in page and "Set-Cookie" not in response.headers
    assert '<a href="?lang=fr" lang="fr" hreflang="fr">Français</a>' in page
    # Cached by anyone: a cache must keep each language apart.
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


# How each language writes --------------------------------------------------------------


@pytest.fixture
def december_certificate(db, modules, make_user):
    """A certificate completed on 1 December 2026, valid until 1 December 2028."""
    certificate = pass_module(make_user(full_name="Ivan Petrov"))
    completed = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    expires = datetime(2028, 12, 1, 9, 30, tzinfo=UTC)
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == certificate.id)
        .values(completed_at=completed, expires_at=expires)
    )
    completion = db.session.get(Completion, certificate.completion_id)
    completion.completed_at = completed
    db.session.commit()
    move_expiry(completion.user, completion.module_id, expires)
    return certificate


@pytest.mark.parametrize(
    ("language", "completed", "expires"),
    [
        ("en", "December 1, 2026", "December 1, 2028"),
        ("fr", "1 décembre 2026", "1 décembre 2028"),
        ("es", "1 de diciembre de 2026", "1 de diciembre de 2028"),
        ("ru", "1 декабря 2026\u202fг.", "1 декабря 2028\u202fг."),  # noqa: RUF001
        ("ar", "1 ديسمبر 2026", "1 ديسمبر 2028"),
        ("zh", "2026年12月1日", "2028年12月1日"),
    ],
)
def test_the_verify_page_writes_dates_as_the_visitors_language_does(
    client, december_certificate, language, completed, expires
):
    response = client.get(
        f"/verify/{december_certificate.code}", headers={"Accept-Language": language}
    )
    page = response.get_data(as_text=True)
    assert page_language(response)[0] == language
    assert f"<dd>{completed}</dd>" in page and f"<dd>{expires}</dd>" in page
    assert "2026-12-01" not in page


def test_a_learners_pages_write_dates_in_their_language(client, db, december_certificate, login):
    learner = db.session.get(Completion, december_certificate.completion_id).user
    learner.language = "fr"
    db.session.commit()
    login(learner)
    page = client.get("/training/").get_data(as_text=True)
    assert "1 décembre 2028" in page and "2028-12-01" not in page


def test_numbers_and_shares_are_written_with_the_languages_separators(app):
    written = {}
    for language in ("en", "fr", "ar"):
        with app.test_request_context(headers={"Accept-Language": language}):
            written[language] = (
                i18n.format_number(12345),
                i18n.format_share(40),
                i18n.format_moment(datetime(2026, 12, 1, 14, 5, tzinfo=UTC)),
            )
    assert written["en"] == ("12,345", "40%", "Dec 1, 2026, 2:05\u202fPM")
    assert written["fr"] == ("12\u202f345", "40\u00a0%", "1 déc. 2026, 14:05")
    assert written["ar"][:2] == ("12,345", "40%")  # Western digits, as UN Arabic documents
    assert "14:05" not in written["ar"][2] and "2:05" in written["ar"][2]


def test_exports_stay_iso_whatever_the_language(
    client, db, december_certificate, make_user, login, unit
):
    login(make_user(Role.COORDINATOR, assigned_units=[unit], language="fr"))
    response = client.get("/coordinator/export/people.csv")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "décembre" not in text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    held = [row for row in rows if row["full_name"] == "Ivan Petrov"]
    dates = [value for row in held for value in row.values() if re.match(r"\d{4}-", value)]
    assert any(value.startswith("2028-12-01") for value in dates), held
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", value) for value in dates)


# Error pages, forms and commands --------------------------------------------------------


def test_an_error_page_speaks_the_visitors_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert page_language(response) == ("fr", "ltr")
    assert "<h1>Page introuvable</h1>" in page and "Not Found" not in page
    arabic = client.get("/no-such-page", headers={"Accept-Language": "ar"})
    assert "<h1>الصفحة غير موجودة</h1>" in arabic.get_data(as_text=True)


def test_form_errors_from_the_form_library_are_in_the_pages_language(client, db, make_user, login):
    admin = make_user(Role.ADMIN, unit=None, language="fr")
    person = make_user()
    login(admin)
    response = post(client, f"/admin/users/{person.id}", {"role": ""})
    page = html.unescape(response.get_data(as_text=True))
    assert "N'est pas un choix valide." in page
    assert "Not a valid choice." not in page


def test_commands_speak_the_operators_language(app, monkeypatch):
    for environment, language in {
        "fr_FR.UTF-8": "fr",
        "de_DE:es": "es",
        "ar_EG.UTF-8@latin": "ar",
        "C.UTF-8": None,
        "": None,
    }.items():
        monkeypatch.setitem(app.config, "CLI_LANGUAGE", environment)
        with app.app_context():
            assert i18n.cli_language() == language, environment


def leaf_commands(command: click.Command) -> list[click.Command]:
    """Return the commands a group holds, those of the groups inside it included."""
    if isinstance(command, click.Group):
        return [leaf for inner in command.commands.values() for leaf in leaf_commands(inner)]
    return [command]


def test_a_command_prints_in_the_operators_language_and_a_job_in_the_platforms(
    app, db, monkeypatch
):
    spoken = {}

    @click.command("say-language")
    def say_language():
        spoken["command"] = str(get_locale())
        with app.app_context():  # as a command's documents are drawn, in a context of their own
            spoken["document"] = str(get_locale())

    monkeypatch.setitem(app.config, "CLI_LANGUAGE", "fr_FR.UTF-8")
    result = app.test_cli_runner().invoke(in_operators_language(say_language))
    assert result.exit_code == 0, result.output
    assert spoken == {"command": "fr", "document": "en"}
    # Every command of ours speaks so, but the print worker, whose messages are stored.
    ours = [command for group in COMMANDS for command in leaf_commands(group)]
    assert len(ours) > 10 and all(command.callback in WRAPPED for command in ours)
    assert app.cli.commands["worker"].callback not in WRAPPED


def test_texts_sort_alphabetically_whatever_their_accents_and_case():
    words = ["Zèbre", "être", "État", "Avion", "etat"]
    assert sorted(words, key=i18n.collation_key) == ["Avion", "etat", "État", "être", "Zèbre"]


# How each language punctuates ----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "<h1>Readiness: Unit A</h1>"),
        # A non-breaking space before the colon, as French writes it.
        ("fr", "<h1>État de préparation\u00a0: Unit A</h1>"),
        # The full-width colon, without spaces.
        ("zh", "<h1>部署准备情况\uff1aUnit A</h1>"),
        ("ar", "<h1>الجاهزية: Unit A</h1>"),
    ],
)
def test_a_label_and_its_value_are_punctuated_as_the_language_writes_them(
    client, unit, make_user, login, reading, language, heading
):
    login(make_user(Role.COMMANDER, unit=None, assigned_units=[unit]))
    reading(language)
    page = client.get(f"/commander/units/{unit.id}").get_data(as_text=True)
    assert heading in page
    assert f"<title>{heading[4:-5]}" in page


def test_a_certificate_in_my_training_reads_as_one_chinese_sentence(
    client, db, modules, make_user, login, reading
):
    person = make_user()
    pass_module(person)
    login(person)
    reading("zh")
    page = client.get("/training/").get_data(as_text=True)
    # Full-width brackets, comma and colon, no space between them and the words.
    line = r"<li>Conduct basics\uff08第[^<]+版\uff09\uff0c有效期至[^<]+\uff1a<a href="
    assert re.search(line, page)


# How each language writes "label: value" after its label, and a bracket.
COLON = {"en": ": ", "fr": "\u00a0: ", "zh": "\uff1a", "ar": ": "}


@pytest.mark.parametrize("language", sorted(COLON))
def test_a_section_and_a_questions_state_are_punctuated_as_the_language_writes_them(
    client, db, modules, make_user, login, reading, language
):
    person = make_user()
    login(person)
    reading(language)
    post(client, "/training/basics/sections", {"to": 1})
    page = client.get("/training/basics").get_data(as_text=True)
    section = shown(language, "Section %(number)s of %(total)s", number=1, total=1)
    assert f'{section}{COLON[language]}<span class="lesson"' in page

    page = client.get(f"/training/attempts/{start(client)}").get_data(as_text=True)
    question = shown(language, "Question %(number)s", number=1)
    assert f'{question}</a>{COLON[language]}<span class="answer-state"' in page


def test_a_modules_version_is_bracketed_as_chinese_writes_it(
    client, db, modules, make_user, login, reading
):
    certificate = pass_module(make_user(full_name="Amina Haddad"))
    reading("zh")
    titled = "Conduct basics\uff08第1.0版\uff09"
    assert titled in client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert titled in client.get(f"/verify/set?codes={certificate.code}").get_data(as_text=True)
    login(make_user(Role.ADMIN, unit=None))
    page = client.get(f"/admin/certificates?code={certificate.code}").get_data(as_text=True)
    assert titled in page
    url = f"/admin/certificates/{certificate.code}/revoke"
    reason = "Recorded in error by the training cell."
    assert titled in post(client, url, {"reason": reason}).get_data(as_text=True)


def test_the_commanders_lists_of_modules_are_written_as_chinese_writes_them(
    client, db, unit, modules, make_user, login, reading
):
    make_user(full_name="Blocked Boris")
    expiring = make_user(full_name="Expiring Elena")
    soon = datetime.now(UTC) + timedelta(days=5)
    for slug in ("basics", "pledge"):
        pass_module(expiring, slug)
        move_expiry(expiring, training.current_version(slug).module_id, soon)
    login(make_user(Role.COMMANDER, unit=None, assigned_units=[unit]))
    reading("zh")
    page = client.get(f"/commander/units/{unit.id}").get_data(as_text=True)
    title = '<span lang="en" dir="ltr">{}</span>'
    pledge, basics = title.format("A module with an undertaking"), title.format("Conduct basics")
    assert f"缺少或已过期\uff1a{pledge}\u3001{basics}" in page
    assert re.search(
        f"到期\uff1a({re.escape(basics)}|{re.escape(pledge)})\uff08[^<]+\uff09\u3001<span", page
    )
