"""Module catalogs: what they hold, how they are checked, imported, updated and served."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.models import ModuleTranslation
from app.services import content, translations
from app.services.content.sync import rendering
from app.services.sources import read_registry
from app.services.translations import catalogs, importing, store, workflow
from app.services.translations.segments import module_document
from tests.fixtures import DATA, count
from tests.fixtures.languages import TRANSLATIONS, language_names, modules_folder, shown

SHIPPED = Path(__file__).parents[2] / "modules"


def cli(app, folder: Path, *args: str):
    """Run a command of `flask modules` on a modules folder."""
    old = app.config["MODULES_DIR"]
    app.config["MODULES_DIR"] = folder
    try:
        return app.test_cli_runner().invoke(args=["modules", *args])
    finally:
        app.config["MODULES_DIR"] = old


def set_translation(path: Path, source: str, translation: str, fuzzy: bool = False) -> None:
    """Replace one translation of a catalog, as a translator would in their tool."""
    catalog = catalogs.read_catalog(path)
    message = catalog[source]
    assert message is not None, source
    message.string = translation
    if fuzzy:
        message.flags.add("fuzzy")
    catalogs.write_catalog(path, catalog)


def msgids(document) -> set[str]:
    return {segment.text for segment in document.segments()}


def test_catalogs_hold_the_texts_and_never_the_structure():
    for path in content.module_paths(SHIPPED):
        module = content.read_module(path)
        texts = msgids(module_document(module))
        question = module.questions[0]
        assert question.title in texts and question.options[0].text in texts
        assert question.options[0].feedback.split("\n")[0] not in ("", None)
        for text in texts:
            assert not re.search(r"\[[ xX]\]|^Section:|^# ?Quiz|\[(scenario|multiple)\]$", text)
            assert not text.startswith(("- ", "## ", "| ", "!!! ")), text
    basics = msgids(module_document(content.read_module(DATA / "modules" / "basics.md")))
    assert {"Question one", "Decline politely.", "Right: Ten Rules for Blue Helmets."} <= basics
    assert "Question one [scenario]" not in basics


def test_a_translation_word_for_word_renders_exactly_the_source():
    registry = read_registry(SHIPPED, [])
    for path in content.module_paths(SHIPPED):
        module = content.read_module(path)
        document = module_document(module)
        same = {text: text for text in msgids(document)}
        source = rendering(module, registry)

        class Version:
            body_html = source["body_html"]

        rendered = store.render_module(module, document, same, registry, Version)  # type: ignore[arg-type]

        def words(html: str) -> str:
            return " ".join(html.split())

        assert words(rendered["body_html"]) == words(source["body_html"])
        assert words(rendered["toc_html"]) == words(source["toc_html"])
        for question in source["quiz"]:
            texts = rendered["quiz"][question["id"]]
            assert words(texts["prompt_html"]) == words(question["prompt_html"])
            assert texts["section"] == question["section"]
            for option in question["options"]:
                shown = texts["options"][option["id"]]
                assert words(shown["feedback_html"]) == words(option["feedback_html"])
                assert shown["text_html"] == option["text_html"]


@pytest.mark.parametrize(
    "forged",
    [
        "[x] L'accepter.",  # an option mark
        "L'accepter.\n- [x] Une option de plus",  # a line that would add an option
    ],
)
def test_a_catalog_cannot_change_the_answer_key(
    app, db, tmp_path, client, make_user, login, reading, forged
):
    folder = modules_folder(tmp_path / "modules")
    set_translation(folder / "translations" / "fr" / "basics.po", "Accept it.", forged)
    check = cli(app, folder, "check", "--strict")
    assert check.exit_code == 1
    assert re.search(r"translations/fr/basics\.po:\d+: ", check.output)
    assert "basics" in check.output and "not served" in check.output
    content.sync_modules(folder)
    db.session.commit()
    version = translations.served_language(content_version("basics"), "fr")
    assert version == "en"
    login(make_user())
    reading("fr")
    page = client.get("/training/basics/all").get_data(as_text=True)
    note = (
        "The %(language)s translation of this module is not up to date: "
        "it is shown in %(source)s until it is."
    )
    assert "Accept no gift." in page and shown("fr", note, **language_names("fr")) in page


def content_version(slug):
    from app.services import training

    return training.current_version(slug)


def test_a_served_translation_keeps_the_sources_key_ids_and_tags(db, translated_modules):
    version = content_version("basics")
    for language in ("fr", "ar"):
        translated = translations.quiz_in(version, language)
        assert translated != version.quiz
        for ours, theirs in zip(version.quiz, translated, strict=True):
            assert {k: ours[k] for k in ("id", "multiple", "scenario", "categories")} == {
                k: theirs[k] for k in ("id", "multiple", "scenario", "categories")
            }
            assert [(o["id"], o["correct"]) for o in ours["options"]] == [
                (o["id"], o["correct"]) for o in theirs["options"]
            ]


def test_check_reports_coverage_stale_and_mismatched_strings(app, tmp_path):
    folder = modules_folder(tmp_path / "modules")
    french = folder / "translations" / "fr" / "basics.po"
    set_translation(french, "Decline politely.", "")
    set_translation(
        folder / "translations" / "ar" / "basics.po",
        "A trader offers a gift. What do you do?",
        "يعرض عليك تاجر هدية [@ten-rules]. ماذا تفعل؟",
    )
    set_translation(french, "Alpha", "Alpha (fr)", fuzzy=True)
    plain = cli(app, folder, "check")
    assert plain.exit_code == 0, plain.output
    lines = plain.output.splitlines()
    row = next(line for line in lines if re.match(r"\s+basics\s+fr\s", line))
    assert "23/25" in row and "1 stale, 0 mismatched, 1 missing: not served" in row
    row = next(line for line in lines if re.match(r"\s+basics\s+ar\s", line))
    assert "24/25" in row and "0 stale, 1 mismatched" in row and "not served" in row
    row = next(line for line in lines if re.match(r"\s+pledge\s+fr\s", line))
    assert "9/9" in row and ": served" in row
    assert re.search(r"translations/fr/basics\.po:\d+: warning: stale", plain.output) or re.search(
        r"translations/fr/basics\.po:\d+: stale", plain.output
    )
    assert re.search(r"translations/ar/basics\.po:\d+: its citations differ", plain.output)
    assert cli(app, folder, "check", "--strict").exit_code == 1


def test_the_shipped_translations_check_clean(app):
    result = cli(app, SHIPPED, "check")
    assert result.exit_code == 0
    assert "mismatched" in result.output
    found = workflow.statuses(SHIPPED)
    assert {status.language for status in found} == {"ar", "fr"}
    for status in found:
        assert status.complete and status.translated == status.total, status.problems[:3]


def test_one_changed_english_sentence_is_stale_in_every_language(app, db, tmp_path):
    folder = modules_folder(tmp_path / "modules")
    basics = folder / "basics.md"
    basics.write_text(basics.read_text().replace("Decline politely.", "Decline it politely."))
    check = cli(app, folder, "check", "--strict")
    assert check.exit_code == 1
    for language in ("fr", "ar"):
        assert re.search(
            rf"translations/{language}/basics\.po:\d+: stale: the source now reads "
            r'"Decline it politely\."',
            check.output,
        ), check.output
        row = re.search(rf"\s+basics\s+{language}\s.*", check.output).group(0)
        assert "24/25" in row and "1 stale" in row and "not served" in row
    content.sync_modules(folder)
    db.session.commit()
    version = content_version("basics")
    assert [translations.served_language(version, lang) for lang in ("fr", "ar")] == ["en", "en"]
    assert translations.served_language(content_version("pledge"), "fr") == "fr"
    # make messages: the stale string keeps its old translation, fuzzy, with the old text.
    assert cli(app, folder, "translations", "update").exit_code == 0
    catalog = catalogs.read_catalog(folder / "translations" / "fr" / "basics.po")
    message = catalog["Decline it politely."]
    assert message.fuzzy and message.string == "Refuser poliment."
    assert message.previous_id == ["Decline politely."]
    assert "Decline politely." not in catalog
    # Run again, the old text is still there for the translator.
    assert cli(app, folder, "translations", "update").exit_code == 0
    text = (folder / "translations" / "fr" / "basics.po").read_text()
    assert '#, fuzzy\n#| msgid "Decline politely."\nmsgid "Decline it politely."' in text, text
    assert catalog["Accept it."].string == "L'accepter." and not catalog["Accept it."].fuzzy
    # The translator checks it and removes the mark: the French module is served again.
    french = folder / "translations" / "fr" / "basics.po"
    french.write_text(french.read_text().replace("#, fuzzy\n", ""))
    content.sync_modules(folder)
    db.session.commit()
    assert translations.served_language(version, "fr") == "fr"
    assert translations.served_language(version, "ar") == "en"


def test_import_pairs_a_parallel_translation_into_the_committed_catalog(tmp_path):
    parallel = tmp_path / "basics.md"
    source = (DATA / "modules" / "basics.md").read_text()
    with (TRANSLATIONS / "fr" / "basics.po").open("rb") as file:
        committed = read_po(file)
    text = source
    for message in sorted(committed, key=lambda m: -len(m.id or "")):
        if message.id and message.id in text and message.id not in ("Alpha",):
            text = text.replace(str(message.id), str(message.string))
    parallel.write_text(text.replace("- [x] Alpha", "- [x] Alpha (fr)"))
    imported = importing.import_translation("fr", DATA / "modules" / "basics.md", parallel)
    assert imported.problems == []
    assert {m.id: m.string for m in imported.catalog if m.id} == {
        m.id: m.string for m in committed if m.id
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("- [x] Decline politely.\n  Right: Ten Rules for Blue Helmets.\n- [ ] Accept it.\n"
          "  Wrong: Ten Rules for Blue Helmets.",
          "- [ ] Accept it.\n  Wrong: Ten Rules for Blue Helmets.\n- [x] Decline politely.\n"
          "  Right: Ten Rules for Blue Helmets."),
         r":29: the source has option \[x\] here \(.*basics\.md:29\), the translation "
         r"option \[ \]"),
        (("## Question two\n", "## Question two [police]\n"),
         r":34: the source has question here \(.*basics\.md:34\), the translation question "
         r"\[police\]"),
        (("## Question five\n\n- [x] Iota\n  Right: Ten Rules for Blue Helmets.\n- [ ] Kappa\n"
          "  Wrong: Ten Rules for Blue Helmets.\n", ""),
         r":\d+: the quiz has 4 questions, the source 5"),
        (("pass_mark: 75", "pass_mark: 50"), r':7: the field "pass_mark" must stay as in the '
         r"source: 75"),
        (("Accept no gift.", "Accept no gift [@ten-rules]."), r":19: its citations differ"),
    ],
)  # fmt: skip
def test_import_refuses_a_translation_whose_structure_differs(tmp_path, change, message):
    parallel = tmp_path / "basics.md"
    source = (DATA / "modules" / "basics.md").read_text()
    assert change[0] in source
    parallel.write_text(source.replace(change[0], change[1]))
    imported = importing.import_translation("fr", DATA / "modules" / "basics.md", parallel)
    assert imported.catalog is None
    shown = "\n".join(str(problem) for problem in imported.problems)
    assert re.search(re.escape(str(parallel)) + message, shown), shown


def test_import_command_writes_the_catalog_or_nothing(app, tmp_path):
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "basics.md").write_text((DATA / "modules" / "basics.md").read_text())
    parallel = tmp_path / "fr-basics.md"
    parallel.write_text((folder / "basics.md").read_text().replace("## Question two\n", "Two\n"))
    refused = cli(app, folder, "translations", "import", "fr", str(folder / "basics.md"),
                  str(parallel))  # fmt: skip
    assert refused.exit_code == 1 and "Nothing written" in refused.output
    assert not (folder / "translations").exists()
    parallel.write_text((folder / "basics.md").read_text().replace("Alpha", "Alpha (fr)"))
    done = cli(app, folder, "translations", "import", "fr", str(folder / "basics.md"),
               str(parallel))  # fmt: skip
    assert done.exit_code == 0 and "25 strings" in done.output
    assert (folder / "translations" / "fr" / "basics.po").exists()


@pytest.mark.parametrize(("language", "title"), [("es", "Un módulo con un compromiso"),
                                                 ("zh", "一个有承诺的模块")])  # fmt: skip
def test_a_new_language_is_a_matter_of_adding_its_catalogs(
    app, db, tmp_path, client, make_user, login, reading, language, title
):
    folder = modules_folder(tmp_path / "modules")
    assert cli(app, folder, "translations", "init", language).exit_code == 0
    pledge = folder / "translations" / language / "pledge.po"
    words = {
        "A module with an undertaking": title,
        "A test module whose quiz counts only after the learner's undertaking.": f"{title}.",
        "I have read and understood this module. I will report any concern through the "
        "established channels.": f"{title}: 1.",
        "Pledge lesson.": f"{title}: 2.",
        "Only question": f"{title}: 3",
        "Report it": f"{title}: 4",
        "Right: because.": f"{title}: 5.",
        "Keep quiet": f"{title}: 6",
        "Wrong: because.": f"{title}: 7.",
    }
    for source, translation in words.items():
        set_translation(pledge, source, translation)
    content.sync_modules(folder)
    db.session.commit()
    login(make_user())
    reading(language)
    page = client.get("/training/pledge/all").get_data(as_text=True)
    assert title in page and f"{title}: 2." in page and "Pledge lesson." not in page
    # One row per catalog: fr and ar of two test modules, the new language's of all four.
    assert count(ModuleTranslation) == 2 * 2 + 4
    assert translations.served_language(content_version("basics"), language) == "en"


def test_an_annex_is_shown_in_the_readers_language_while_its_translation_is_complete(
    app, db, tmp_path, client, reading
):
    folder = modules_folder(tmp_path / "modules")
    (folder / "missions").mkdir()
    annex = folder / "missions" / "demo.md"
    annex.write_text((SHIPPED / "missions" / "demo.md").read_text())
    assert cli(app, folder, "translations", "init", "fr").exit_code == 0
    catalog_path = folder / "translations" / "fr" / "missions" / "demo.po"
    with catalog_path.open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        if message.id:
            message.string = f"FR {message.id}"
    catalogs.write_catalog(catalog_path, catalog)
    content.sync_modules(folder)
    db.session.commit()
    reading("fr")
    page = client.get("/report/DEMO").get_data(as_text=True)
    assert "FR United Nations Demonstration Mission" in page
    assert "FR Locked complaint boxes" in page and "+000 555 0100" in page
    assert "FR You can tell the United Nations" in page
    reading("en")
    assert "FR " not in client.get("/report/DEMO").get_data(as_text=True)
    annex.write_text(annex.read_text().replace("You can come with", "You may come with"))
    content.sync_modules(folder)
    db.session.commit()
    reading("fr")
    page = client.get("/report/DEMO").get_data(as_text=True)
    assert "FR " not in page and "You may come with" in page
