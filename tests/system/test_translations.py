"""Every interface string is translated, and no page shows an English string in another language.

These fail until translators have filled every catalog (app/translations/<lang>/): that
is the point. The README's "Languages" section says how they work on the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import PYTHON_FORMAT, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from app import i18n
from app.extensions import db
from app.models import Certificate, Mission, ModuleVersion, Role, Unit, User
from tests.fixtures import PASSWORD, pass_module, post
from tests.fixtures.translations import TRANSLATED, catalog

ROOT = Path(__file__).parents[2]


def source_messages() -> dict[str | tuple[str, ...], set[str]]:
    """Return every string the source marks for translation, with where it is used."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found: dict[str | tuple[str, ...], set[str]] = {}
    for folder in ("app", "certificates"):
        # The patterns name paths from the project's root; each folder is walked alone.
        patterns = [(pattern.removeprefix(f"{folder}/"), method) for pattern, method in method_map]
        options = {pattern.removeprefix(f"{folder}/"): o for pattern, o in options_map.items()}
        for filename, line, message, _comments, _context in extract_from_dir(
            ROOT / folder, patterns, options, keywords
        ):
            found.setdefault(message, set()).add(f"{folder}/{filename}:{line}")
    return found


SOURCE = source_messages()


def placeholders(text: str) -> set[str]:
    """Return the named placeholders of a format string, as %(name)s."""
    return {f"%({name})" for name, _format, _kind in PYTHON_FORMAT.findall(text) if name}


def translations(message: Message) -> list[str]:
    """Return a message's translation, or each of its plural forms."""
    strings = message.string
    return list(strings) if isinstance(strings, tuple) else [strings]


def placeholder_problem(message: Message) -> str | None:
    """Say how a translation's placeholders differ from the source's, or None."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    wanted = set().union(*(placeholders(text) for text in ids))
    for form in translations(message):
        used = placeholders(form)
        if used - wanted:
            return f"unknown {sorted(used - wanted)}"
        # A plural form may leave out the number it stands for ("un jour", "يومان").
        missing = wanted - used - ({"%(num)"} if message.pluralizable else set())
        if missing:
            return f"missing {sorted(missing)}"
    return None


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_interface_string_is_translated(language):
    held = catalog(language)
    untranslated = []
    for msgid, places in SOURCE.items():
        message = held.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        if message is None or message.fuzzy or not all(translations(message)):
            untranslated.append(f"{sorted(places)[0]}: {msgid!r}")
    total = len(SOURCE)
    assert untranslated == [], (
        f"{language}: {total - len(untranslated)} of {total} strings translated "
        f"({(total - len(untranslated)) * 100 // total}%); run `make messages`, then "
        f"translate the rest in app/translations/{language}/LC_MESSAGES/messages.po"
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_source(language):
    held = catalog(language)
    problems = [
        f"{message.id!r}: {problem}"
        for message in held
        if message.id and all(translations(message)) and (problem := placeholder_problem(message))
    ]
    # Babel's own checks: the kind of each placeholder (%(num)d stays a number).
    problems += [f"{message.id!r}: {error}" for message, errors in held.check() for error in errors]
    assert problems == []


def test_the_placeholder_check_can_fail():
    ok = Message("Revoked on %(date)s", "Révoqué le %(date)s", flags=["python-format"])
    renamed = Message("Revoked on %(date)s", "Révoqué le %(jour)s", flags=["python-format"])
    dropped = Message("%(name)s, %(number)s", "%(name)s", flags=["python-format"])
    plural = Message(
        ("%(num)d day", "%(num)d days"), ("يوم واحد", "يومان", "%(num)d أيام"), flags=[]
    )
    assert placeholder_problem(ok) is None and placeholder_problem(plural) is None
    assert placeholder_problem(renamed) == "unknown ['%(jour)']"
    assert placeholder_problem(dropped) == "missing ['%(number)']"


def test_no_file_that_asks_for_translation_is_left_out_of_the_catalogs():
    """A template that does not parse the way `make messages` reads it is skipped silently."""
    asking = re.compile(r"(?<![\w.])(_|_l|gettext|ngettext|lazy_gettext)\(")
    extracted = {place.split(":")[0] for found in SOURCE.values() for place in found}
    files = [*(ROOT / "app").rglob("*.py"), *(ROOT / "app" / "templates").rglob("*.html"),
             *(ROOT / "certificates").rglob("*.html")]  # fmt: skip
    left_out = [
        str(path.relative_to(ROOT))
        for path in files
        if "migrations" not in path.parts
        and asking.search(path.read_text())
        and str(path.relative_to(ROOT)) not in extracted
    ]
    assert left_out == []
    assert {"app/templates/base.html", "app/errors.py"} <= extracted
    assert any(place.startswith("certificates/") for place in extracted)
    assert ("%(num)d day", "%(num)d days") in SOURCE


# Pages ----------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Collect what a reader sees or hears: text, and labels read out by screen readers."""

    SKIPPED = {"script", "style"}
    # Module content is translated in the module catalogs, not the interface's.
    CONTENT = {"lesson", "toc", "quiz-content"}
    SPOKEN = ("aria-label", "alt", "title", "placeholder", "data-label")
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = bool(self.stack and self.stack[-1])
        classes = set((values.get("class") or "").split())
        hidden = hidden or tag in self.SKIPPED or bool(classes & self.CONTENT)
        if not hidden:
            self.texts += [values[name] or "" for name in self.SPOKEN if values.get(name)]
            if tag == "input" and values.get("type") in {"submit", "button"}:
                self.texts.append(values.get("value") or "")
        if tag not in self.VOID:
            self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(page: str) -> set[str]:
    parser = VisibleText()
    parser.feed(page)
    return set(parser.texts)


def data_words() -> list[str]:
    """Return what the pages show from the data, the same in every language, longest first."""
    values: set[str] = {"Blue Beret", "UTC", "CSV", "PDF", *i18n.NAMES.values()}
    for column in (User.full_name, User.username, User.service_number, Unit.name, Unit.code,
                   Unit.country, Mission.name, Certificate.code, ModuleVersion.title,
                   ModuleVersion.summary, ModuleVersion.label):  # fmt: skip
        values.update(value for value in db.session.scalars(sa.select(column)) if value)
    return sorted(values, key=len, reverse=True)


def as_pattern(text: str) -> re.Pattern[str]:
    """Return a pattern matching a format string as shown, whatever fills its placeholders."""
    parts = re.split(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", text)
    return re.compile(".+".join(re.escape(part.replace("%%", "%")) for part in parts))


def same_in_translation(language: str) -> list[re.Pattern[str]]:
    """Return the strings a translator chose to write exactly as in English (Module, Total)."""
    return [
        as_pattern(spaced(text))
        for message in catalog(language)
        if message.id and not message.fuzzy
        for text in translations(message)
        # A no-break space, as French writes "10 min", is a space on the page's text.
        if text and spaced(text) in {spaced(source) for source in sources(message)}
    ]


def sources(message: Message) -> tuple[str, ...]:
    """Return a message's English: its one text, or its singular and plural."""
    return message.id if isinstance(message.id, tuple) else (message.id,)


def spaced(text: str) -> str:
    """Return a text with its runs of white space, no-break ones included, as one space."""
    return " ".join(text.split())


def untranslated(english: str, translated: str, language: str, data: list[str]) -> list[str]:
    """Return the texts a page shows in English although it is in another language."""
    allowed = same_in_translation(language)
    left = []
    for text in sorted(visible_texts(english) & visible_texts(translated)):
        words = text
        for value in data:
            words = words.replace(value, " ")
        if not re.search(r"[^\W\d_]{2,}", words):
            continue  # data, numbers and punctuation only
        if any(pattern.fullmatch(text) for pattern in allowed):
            continue
        left.append(text)
    return left


@pytest.fixture
def staffed(db, modules, unit, make_user):
    """A unit with a learner who passed a module, its coordinator and its commander."""
    learner = make_user(full_name="Amina Haddad")
    pass_module(learner)
    return {
        "learner": learner,
        "coordinator": make_user(Role.COORDINATOR, full_name="Chen Wei", assigned_units=[unit]),
        "commander": make_user(Role.COMMANDER, full_name="Oleg Ivanov", assigned_units=[unit]),
        "unit": unit,
    }


def main_pages(staffed) -> Iterator[tuple[User, str]]:
    """Yield who opens each of the main pages of learners, coordinators and commanders."""
    learner, unit = staffed["learner"], staffed["unit"]
    yield learner, "/training/"
    yield learner, "/training/basics"
    for address in ("/coordinator/", "/coordinator/people", f"/coordinator/units/{unit.id}",
                    f"/coordinator/people/{learner.id}"):  # fmt: skip
        yield staffed["coordinator"], address
    yield staffed["commander"], "/commander/"
    yield staffed["commander"], f"/commander/units/{unit.id}"


def signed_in(app, person: User):
    """Return a browser of its own, signed in as the person."""
    client = app.test_client()
    response = post(client, "/login", {"username": person.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("language", TRANSLATED)
def test_main_pages_show_no_english_in_another_language(app, db, staffed, language):
    data = data_words()
    found = {}
    for person, address in main_pages(staffed):
        client = signed_in(app, person)
        client.set_cookie(i18n.COOKIE, "en")
        english = client.get(address)
        client.set_cookie(i18n.COOKIE, language)
        translated = client.get(address)
        assert english.status_code == translated.status_code == 200, address
        assert f'<html lang="{language}"' in translated.get_data(as_text=True)
        left = untranslated(
            english.get_data(as_text=True), translated.get_data(as_text=True), language, data
        )
        if left:
            found[address] = left
    assert found == {}


def test_the_english_check_finds_what_is_left_in_english(app, db, staffed):
    with app.test_request_context():
        data = data_words()
    english = '<h1>My training</h1><p class="lesson">Accept no gift.</p><td>Amina Haddad</td>'
    french = '<h1>My training</h1><p class="lesson">Accept no gift.</p><td>Amina Haddad</td>'
    assert untranslated(english, french, "fr", data) == ["My training"]
    assert untranslated(english, "<h1>Ma formation</h1><td>Amina Haddad</td>", "fr", data) == []
