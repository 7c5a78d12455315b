"""Modules in Markdown: the checker's messages, loading, versioning and sanitising."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.models import ModuleVersion, TrainingModule
from app.services import content
from tests.fixtures import DATA, TestingConfig

ROOT = Path(__file__).parents[2]
VALID = (DATA / "modules" / "police-only.md").read_text()


def write(tmp_path: Path, text: str, name: str = "module.md") -> Path:
    folder = tmp_path / "modules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def problems_of(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in content.check_modules(write(tmp_path, text))]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_shipped_modules_are_valid():
    assert content.check_modules(ROOT / "modules") == []


def test_valid_module_has_no_problem(tmp_path):
    assert problems_of(tmp_path, VALID) == []


def test_missing_field_is_reported(tmp_path):
    text = VALID.replace("pass_mark: 100\n", "")
    [problem] = problems_of(tmp_path, text)
    assert problem.endswith(':1: front matter is missing the field "pass_mark"')
    assert "modules/module.md" in problem


def test_question_without_correct_option_is_reported(tmp_path):
    text = VALID.replace("- [x] Right answer", "- [ ] Right answer")
    [problem] = problems_of(tmp_path, text)
    line = line_of(text, "## Only question")
    assert problem.endswith(
        f':{line}: question "Only question" has no correct option (mark one with [x])'
    )


def test_pool_smaller_than_draw_is_reported(tmp_path):
    text = VALID.replace("questions_per_attempt: 1", "questions_per_attempt: 3")
    [problem] = problems_of(tmp_path, text)
    line = line_of(text, "questions_per_attempt")
    assert problem.endswith(
        f":{line}: questions_per_attempt is 3 but the quiz has only 1 questions"
    )


def test_unknown_category_is_reported(tmp_path):
    text = VALID.replace("individual_police]", "soldier]")
    [problem] = problems_of(tmp_path, text)
    line = line_of(text, "mandatory_for")
    assert f':{line}: unknown personnel category "soldier"' in problem


def test_an_audience_that_is_neither_all_nor_a_list_is_reported(tmp_path):
    text = VALID.replace("mandatory_for: [formed_police, individual_police]", "mandatory_for: true")
    [problem] = problems_of(tmp_path, text)
    line = line_of(text, "mandatory_for")
    assert problem.endswith(f":{line}: mandatory_for must be `all` or a list of categories")


def test_unknown_category_is_reported_at_its_list_item(tmp_path):
    text = VALID.replace(
        "mandatory_for: [formed_police, individual_police]",
        "mandatory_for:\n  - formed_police\n  - soldier",
    )
    [problem] = problems_of(tmp_path, text)
    assert f':{line_of(text, "- soldier")}: unknown personnel category "soldier"' in problem


def test_unknown_role_is_reported_at_its_list_item(tmp_path):
    text = VALID.replace(
        "validity_months: 12", "validity_months: 12\nroles:\n  - commander\n  - chef"
    )
    [problem] = problems_of(tmp_path, text)
    assert f':{line_of(text, "- chef")}: unknown role "chef"' in problem


def test_duplicate_slug_is_reported_at_the_later_files_slug_line(tmp_path):
    folder = write(tmp_path, VALID, "a.md")
    write(tmp_path, VALID, "b.md")
    [problem] = [str(p) for p in content.check_modules(folder)]
    earlier = content.display_path(folder / "a.md")
    assert problem == (
        f"{content.display_path(folder / 'b.md')}:{line_of(VALID, 'slug:')}: "
        f'slug "police-only" is already used by {earlier}'
    )


def test_problems_are_listed_by_file_and_line(tmp_path):
    folder = write(tmp_path, VALID, "a.md")
    write(tmp_path, VALID.replace("individual_police]", "soldier]"), "b.md")
    write(
        tmp_path,
        VALID.replace("pass_mark: 100\n", "").replace("slug: police-only", "slug: c"),
        "c.md",
    )
    problems = content.check_modules(folder)
    assert [(Path(p.path).name, p.line) for p in problems] == [
        ("b.md", line_of(VALID, "slug:")),
        ("b.md", line_of(VALID, "mandatory_for")),
        ("c.md", 1),
    ]


@pytest.mark.parametrize(
    "command", [["modules", "check"], ["modules", "sync"], ["run", "--port", "0"]]
)
def test_invalid_module_prints_only_its_problems_without_traceback(tmp_path, command):
    folder = write(tmp_path, VALID, "a.md")
    write(tmp_path, VALID.replace("individual_police]", "soldier]"), "b.md")
    env = {key: value for key, value in os.environ.items() if key not in {"APP_CONFIG"}}
    env |= {
        "MODULES_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": "cli-test-secret-" + "k" * 32,
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *command],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    shown = {name: content.display_path(folder / name) for name in ("a.md", "b.md")}
    assert result.stderr.splitlines() == [
        f'{shown["b.md"]}:{line_of(VALID, "slug:")}: slug "police-only" is already used by '
        f"{shown['a.md']}",
        f"{shown['b.md']}:{line_of(VALID, 'mandatory_for')}: unknown personnel category "
        '"soldier"; use one of: ' + ", ".join(content.CATEGORIES),
    ]


def test_broken_yaml_is_reported_at_its_line(tmp_path):
    text = VALID.replace("summary: A test module", "summary: Policing: a test module")
    [problem] = problems_of(tmp_path, text)
    line = line_of(text, "summary:")
    assert f":{line}: broken YAML in the front matter: mapping values are not allowed" in problem


def test_option_without_feedback_is_reported(tmp_path):
    text = VALID.replace("  Wrong: because.\n", "")
    [problem] = problems_of(tmp_path, text)
    assert f":{line_of(text, '- [ ] Wrong answer')}: option has no feedback" in problem


def test_unknown_question_tag_and_stray_text_are_reported(tmp_path):
    text = VALID.replace("## Only question", "## Only question [scenery]")
    text = text.replace("  Wrong: because.", "  Wrong: because.\nNot indented.")
    problems = problems_of(tmp_path, text)
    assert any('unknown question tag "[scenery]"' in p for p in problems)
    assert any(
        f":{line_of(text, 'Not indented.')}: unexpected text after the options" in p
        for p in problems
    )


def test_missing_front_matter_and_duplicate_slug_are_reported(tmp_path):
    folder = write(tmp_path, VALID, "a.md")
    write(tmp_path, VALID, "b.md")
    write(tmp_path, "# Just a lesson\n", "c.md")
    problems = [str(p) for p in content.check_modules(folder)]
    assert any('b.md:2: slug "police-only" is already used by' in p for p in problems)
    assert any("c.md:1: the file must start with front matter" in p for p in problems)


def test_check_command_prints_problems_and_fails(app, tmp_path, monkeypatch):
    folder = write(tmp_path, VALID.replace("- [x] Right answer", "- [ ] Right answer"))
    monkeypatch.setitem(app.config, "MODULES_DIR", folder)
    result = app.test_cli_runner().invoke(args=["modules", "check"])
    assert result.exit_code == 1
    assert "module.md:" in result.output and "has no correct option" in result.output


def test_check_command_passes_on_valid_modules(app):
    result = app.test_cli_runner().invoke(args=["modules", "check"])
    assert result.exit_code == 0
    assert "All modules are valid." in result.output


def test_app_refuses_to_start_with_an_invalid_module(tmp_path):
    folder = write(tmp_path, VALID.replace("pass_mark: 100\n", ""))

    class Broken(TestingConfig):
        MODULES_DIR = folder

    with pytest.raises(content.ModuleError) as error:
        create_app(Broken)
    assert 'module.md:1: front matter is missing the field "pass_mark"' in str(error.value)


def test_folder_module_with_separate_quiz(tmp_path):
    lesson, quiz = VALID.split("# Quiz\n")
    folder = tmp_path / "modules"
    (folder / "policing").mkdir(parents=True)
    (folder / "policing" / "index.md").write_text(lesson)
    (folder / "policing" / "quiz.md").write_text(
        "# Quiz\n" + quiz.replace("  Right: because.\n", "")
    )
    [module] = content.read_modules(folder)
    assert len(module.questions) == 1
    [problem] = module.problems
    assert "quiz.md:" in str(problem) and "option has no feedback" in str(problem)


def test_sync_is_idempotent_and_versions_changes(db, tmp_path):
    folder = write(tmp_path, VALID)
    assert [r.action for r in content.sync_modules(folder)] == ["created"]
    assert [r.action for r in content.sync_modules(folder)] == ["unchanged"]
    write(tmp_path, VALID.replace("Police lesson.", "Police lesson, revised."))
    assert [(r.action, r.version) for r in content.sync_modules(folder)] == [("updated", 2)]
    db.session.commit()
    versions = db.session.scalars(sa.select(ModuleVersion).order_by(ModuleVersion.number)).all()
    assert [(v.number, v.is_current) for v in versions] == [(1, False), (2, True)]
    assert versions[0].content_hash != versions[1].content_hash


def test_sync_refuses_invalid_modules_and_changes_nothing(db, tmp_path):
    folder = write(tmp_path, VALID.replace("pass_mark: 100\n", ""))
    with pytest.raises(content.ModuleError):
        content.sync_modules(folder)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingModule)) == 0


def test_removed_module_is_retired_not_deleted(db, tmp_path):
    folder = write(tmp_path, VALID)
    content.sync_modules(folder)
    (folder / "module.md").unlink()
    write(tmp_path, VALID.replace("slug: police-only", "slug: other"), "other.md")
    results = {r.slug: r.action for r in content.sync_modules(folder)}
    assert results == {"other": "created", "police-only": "retired"}
    retired = db.session.scalar(
        sa.select(TrainingModule).where(TrainingModule.slug == "police-only")
    )
    assert retired.retired_at is not None and len(retired.versions) == 1


def test_markdown_is_rendered_once_and_sanitised(db, tmp_path):
    hostile = VALID.replace(
        "Police lesson.",
        "## Safety\n\nText <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [ok](https://un.org)\n\n"
        '!!! note "Remember"\n    Stay safe.\n\n| a | b |\n|---|---|\n| 1 | 2 |',
    )
    content.sync_modules(write(tmp_path, hostile))
    version = db.session.scalar(sa.select(ModuleVersion))
    html = version.body_html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert '<a href="https://un.org" rel="noopener noreferrer">ok</a>' in html
    assert '<h2 id="safety">Safety</h2>' in html
    assert '<div class="admonition note">' in html and "<table>" in html
    assert 'href="#safety"' in version.toc_html


def test_each_problem_stays_on_one_line(tmp_path):
    text = VALID.replace("[formed_police, individual_police]", '["formed\\npolice"]')
    [problem] = problems_of(tmp_path, text)
    assert "\n" not in problem and 'unknown personnel category "formed police"' in problem
