"""Second edition of the module format: cited sources, category tags, lesson sections, lint."""

from __future__ import annotations

import random
from pathlib import Path

import sqlalchemy as sa

from app.models import ModuleVersion, PersonnelCategory
from app.services import content, content_lint, quiz

REGISTRY = """\
# Documents the modules cite.
sgb-2003-13:
  symbol: ST/SGB/2003/13
  title: Special measures for protection from sexual exploitation and sexual abuse
  year: 2003
  where: UN Official Document System, documents.un.org
ten-rules:
  symbol: ""
  title: "Ten Rules: Code of Personal Conduct for Blue Helmets"
  year: 1999
  where: UN peacekeeping training materials
"""

FRONT = """\
---
slug: gifts
title: Gifts
version: "2.0"
summary: Why no gift is accepted.
estimated_minutes: 10
pass_mark: 80
questions_per_attempt: {draw}
mandatory_for: [formed_police, military_contingent]
validity_months: 24
---

## The rule

Accept no reward or gift [@ten-rules].

## Exchanges for sex

Exchanging money or help for sex is prohibited [@sgb-2003-13, section 3.2 (c)].

# Quiz
"""


OPTIONS = ("Pay for it", "Accept it", "Take it home")


def question(
    title: str, tags: str = "", section: str = "The rule", right: int = 1, options=OPTIONS
) -> str:
    lines = [f"## {title} {tags}".rstrip()]
    if section:
        lines.append(f"Section: {section}")
    lines += ["", f"What do you do about {title.lower()}?", ""]
    for number, text in enumerate(options, start=1):
        mark = "x" if number == right else " "
        verdict = "Right" if number == right else "Wrong"
        lines += [f"- [{mark}] {text}", f"  {verdict}: no gift is accepted [@ten-rules]."]
    return "\n".join(lines) + "\n\n"


def folder(tmp_path: Path, quiz_text: str, draw: int = 2, registry: str = REGISTRY) -> Path:
    modules = tmp_path / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / "sources.yml").write_text(registry)
    (modules / "gifts.md").write_text(FRONT.format(draw=draw) + quiz_text)
    return modules


def messages(directory: Path) -> list[str]:
    return [str(problem) for problem in content.check_modules(directory)]


def test_a_citation_missing_from_the_registry_is_refused_at_its_line(tmp_path):
    text = question("Bread") + question("Fuel").replace("[@ten-rules].", "[@ten-rulez].", 1)
    directory = folder(tmp_path, text)
    lines = (directory / "gifts.md").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "[@ten-rulez]" in text)
    assert messages(directory) == [
        f'{directory / "gifts.md"}:{line}: "[@ten-rulez]" cites a source that is not in '
        "sources.yml: add it there or fix the key"
    ]


def test_a_registry_entry_without_its_fields_is_reported(tmp_path):
    registry = REGISTRY + "speak-up:\n  title: Speak Up helpline\n"
    directory = folder(tmp_path, question("Bread") + question("Fuel"), registry=registry)
    line = registry.splitlines().index("speak-up:") + 1
    assert messages(directory) == [
        f'{directory / "sources.yml"}:{line}: source "speak-up" is missing: year, where'
    ]


def test_citations_render_as_document_symbols_and_the_module_lists_its_sources(
    tmp_path, db, client, make_user, login
):
    content.sync_modules(folder(tmp_path, question("Bread") + question("Fuel")))
    db.session.commit()
    version = db.session.scalar(sa.select(ModuleVersion))
    assert "(ST/SGB/2003/13, section 3.2 (c))" in version.body_html
    assert "[@" not in version.body_html
    assert "(Ten Rules: Code of Personal Conduct for Blue Helmets)" in str(version.quiz)
    assert [source["key"] for source in version.sources] == ["ten-rules", "sgb-2003-13"]

    login(make_user(category=PersonnelCategory.FORMED_POLICE))
    page = client.get("/training/gifts/all").get_data(as_text=True)
    assert "Sources cited in this module" in page
    assert "ST/SGB/2003/13</bdi>: Special measures for protection" in page
    assert "Where to find it: UN Official Document System, documents.un.org" in page


def test_a_question_naming_a_missing_lesson_section_is_refused(tmp_path):
    text = question("Bread") + question("Fuel", section="The rules")
    directory = folder(tmp_path, text)
    lines = (directory / "gifts.md").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text == "Section: The rules")
    [problem] = messages(directory)
    assert problem.endswith(f':{line}: "Section: The rules" names no heading of the lesson; '
                            "use the exact text of a ## or ### heading")  # fmt: skip


def test_a_category_that_cannot_be_drawn_a_full_quiz_is_refused(tmp_path):
    text = question("Bread", "[police]") + question("Fuel", "[police]") + question("Rice")
    [problem] = messages(folder(tmp_path, text, draw=2))
    assert problem.endswith(
        ":8: a military_contingent learner can be drawn only 1 of the 2 questions per "
        "attempt: add questions for them, or untagged ones"
    )


def test_a_police_officer_draws_police_scenarios_and_never_another_categorys(
    tmp_path, db, make_user
):
    text = (
        question("Checkpoint", "[scenario] [police]")
        + question("Station", "[scenario] [police]")
        + question("Patrol", "[scenario] [police]")
        + question("Convoy", "[scenario] [contingent]")
        + question("Barracks", "[scenario] [contingent]")
        + question("Guard post", "[scenario] [contingent]")
        + "".join(question(f"General {n}") for n in range(1, 7))
    )
    content.sync_modules(folder(tmp_path, text, draw=5))
    db.session.commit()
    version = db.session.scalar(sa.select(ModuleVersion))
    titles = {q["id"]: q["title_html"] for q in version.quiz}
    officer = make_user(category=PersonnelCategory.FORMED_POLICE)
    for seed in range(20):
        attempt = quiz.start_attempt(officer, version, random.Random(seed))
        drawn = {titles[q["id"]] for q in attempt.questions}
        assert {"Checkpoint", "Station", "Patrol"} <= drawn
        assert not drawn & {"Convoy", "Barracks", "Guard post"}
        assert len(drawn) == 5


def lint_messages(tmp_path: Path, text: str) -> list[str]:
    directory = folder(tmp_path, text)
    assert messages(directory) == []
    return [problem.message for problem in content_lint.lint_modules(directory)]


def test_lint_warns_when_the_right_option_is_usually_the_longest(tmp_path):
    long = ("Pay for it as usual, and thank the person", "Accept it", "Take it home")
    text = "".join(question(f"Gift {n}", right=1, options=long) for n in range(3))
    text += question("Gift 4", right=2)
    [warning, position] = lint_messages(tmp_path, text)
    assert warning.startswith("the right option is the longest in 3 of 4 single-answer questions")
    assert position.startswith("option 1 is the right one in 3 of 4")


def test_lint_warns_when_the_same_position_is_usually_right(tmp_path):
    text = "".join(question(f"Gift {n}", right=2) for n in range(3)) + question("Gift 9", right=3)
    assert lint_messages(tmp_path, text) == [
        "option 2 is the right one in 3 of 4 single-answer questions (more than half): vary "
        "where the right option stands"
    ]


def test_lint_warns_about_all_of_the_above(tmp_path):
    options = ("Pay for it", "All of the above", "Take it home")
    text = question("Gift 1", right=1, options=options) + question("Gift 2", right=2)
    assert lint_messages(tmp_path, text) == [
        '"All of the above": avoid "all/none of the above" options; they are answered by '
        "elimination"
    ]


def test_lint_warns_when_wrong_options_rest_on_absolutes(tmp_path):
    options = ("Pay for it", "Never pay for it", "Only take it home")
    text = question("Gift 1", right=1, options=options) + question("Gift 2", right=2)
    [warning] = lint_messages(tmp_path, text)
    assert warning.startswith('2 of 4 wrong options rest on words like "only", "never"')


def test_lint_warns_when_select_all_questions_always_have_as_many_right_options(tmp_path):
    def select_all(title: str, right: int) -> str:
        lines = [f"## {title} [multiple]", "Section: The rule", ""]
        for number in range(1, 5):
            mark = "x" if number <= right else " "
            lines += [f"- [{mark}] Option {number} of {title}", "  Wrong: see [@ten-rules]."]
        return "\n".join(lines) + "\n\n"

    singles = question("Gift", right=2) + question("Food", right=1)
    same = select_all("Duties", 2) + select_all("Tasks", 2) + singles
    [warning] = lint_messages(tmp_path, same)
    assert warning.startswith("every select-all question has 2 right options")
    varied = select_all("Duties", 2) + select_all("Tasks", 1) + singles
    assert lint_messages(tmp_path / "varied", varied) == []


def test_lint_warns_about_a_question_that_names_no_section_and_uncited_feedback(tmp_path):
    text = question("Bread", section="") + question("Fuel", right=2).replace(
        "  Wrong: no gift is accepted [@ten-rules].", "  Wrong: no gift is accepted.", 1
    )
    assert lint_messages(tmp_path, text) == [
        'question "Bread" does not say which lesson section teaches its answer: add a line '
        "Section: <heading> under the heading",
        "the feedback cites no source: add [@key] from sources.yml",
    ]


def test_check_strict_fails_on_warnings_and_plain_check_does_not(tmp_path, app):
    text = "".join(question(f"Gift {n}", right=2) for n in range(4))
    directory = folder(tmp_path, text)
    old = app.config["MODULES_DIR"]
    app.config["MODULES_DIR"] = directory
    try:
        plain = app.test_cli_runner().invoke(args=["modules", "check"])
        strict = app.test_cli_runner().invoke(args=["modules", "check", "--strict"])
    finally:
        app.config["MODULES_DIR"] = old
    assert plain.exit_code == 0 and "warning: option 2 is the right one" in plain.output
    assert strict.exit_code == 1 and "warning: option 2 is the right one" in strict.output


def test_the_shipped_modules_pass_the_strict_check():
    modules = Path(__file__).parents[2] / "modules"
    assert content.check_modules(modules) == []
    assert [str(w) for w in content_lint.lint_modules(modules)] == []


def test_a_failed_question_links_to_the_lesson_section_that_teaches_it(
    tmp_path, db, client, make_user, login
):
    from tests.fixtures import post

    text = question("Bread", section="Exchanges for sex") + question("Fuel")
    content.sync_modules(folder(tmp_path, text))
    db.session.commit()
    login(make_user(category=PersonnelCategory.FORMED_POLICE))
    started = post(client, "/training/gifts/attempts")
    attempt = started.headers["Location"].rsplit("/", 1)[1]
    # The last option of each question is wrong.
    result = post(client, f"/training/attempts/{attempt}", {"q1": "c", "q2": "c"})
    page = client.get(result.headers.get("Location", f"/training/attempts/{attempt}"))
    html = page.get_data(as_text=True)
    assert (
        'href="/training/gifts/sections/2#exchanges-for-sex">Read again: Exchanges for sex</a>'
        in html
    )
    assert 'href="/training/gifts/sections/1#the-rule">Read again: The rule</a>' in html
