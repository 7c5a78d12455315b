"""Parse module files: a Markdown file, or a folder's index.md with an optional quiz.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from app.services.content.meta import check_meta, field_places
from app.services.content.model import FieldPlace, ModuleError, ModuleSource
from app.services.content.questions import find_quiz_heading, read_quiz
from app.services.frontmatter import Problem, display_path, read_front_matter


def module_paths(directory: Path) -> list[Path]:
    """List the module files of a directory: *.md (not README.md) and */index.md."""
    paths = [p for p in directory.glob("*.md") if p.name.lower() != "readme.md"]
    paths += list(directory.glob("*/index.md"))
    return sorted(paths)


def read_module(path: Path) -> ModuleSource:
    """Parse one module (a file, or a folder's index.md with an optional quiz.md)."""
    shown = display_path(path)
    problems: list[Problem] = []
    raw = path.read_bytes()
    quiz_path = path.with_name("quiz.md") if path.name == "index.md" else None
    quiz_raw = quiz_path.read_bytes() if quiz_path and quiz_path.exists() else b""
    content_hash = hashlib.sha256(raw + b"\0" + quiz_raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
        quiz_text = quiz_raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem = Problem(shown, 1, "the file is not UTF-8 text; save it as UTF-8")
        return ModuleSource(shown, {}, "", [], content_hash, [problem])

    lines = text.splitlines()
    meta, body_start = read_front_matter(shown, lines, problems)
    body = lines[body_start:]
    quiz_at = find_quiz_heading(body)
    if quiz_path is not None and quiz_raw:
        if quiz_at is not None:
            problems.append(
                Problem(shown, body_start + quiz_at + 1, "the quiz is in quiz.md; remove it here")
            )
        lesson_lines = body
        quiz_lines = quiz_text.splitlines()
        first = find_quiz_heading(quiz_lines)
        quiz_offset = 0 if first is None else first + 1
        questions = read_quiz(
            display_path(quiz_path), quiz_lines[quiz_offset:], quiz_offset, problems
        )
    elif quiz_at is None:
        lesson_lines, questions = body, []
    else:
        lesson_lines = body[:quiz_at]
        offset = body_start + quiz_at + 1
        questions = read_quiz(shown, body[quiz_at + 1 :], offset, problems)

    module = ModuleSource(
        shown, meta, "\n".join(_without_title(lesson_lines)), questions, content_hash
    )
    module.files[shown] = lines
    if quiz_path is not None and quiz_raw:
        module.files[display_path(quiz_path)] = quiz_text.splitlines()
    if meta:
        module.places = field_places(lines[1 : body_start - 1])
        check_meta(module, lines, problems)
    module.problems = problems
    return module


def _without_title(lines: list[str]) -> list[str]:
    """Drop a first-level heading that opens the lesson: the page shows the title already."""
    for index, line in enumerate(lines):
        if line.strip():
            return lines[index + 1 :] if re.match(r"^#\s", line) else lines
    return lines


def read_modules(directory: Path) -> list[ModuleSource]:
    """Parse every module of a directory, adding problems that span files."""
    if not directory.is_dir():
        raise ModuleError([Problem(str(directory), 0, "the modules folder does not exist")])
    modules = [read_module(path) for path in module_paths(directory)]
    seen: dict[str, str] = {}
    for module in modules:
        if module.slug and module.slug in seen:
            line = module.places.get("slug", FieldPlace(1)).line
            module.problems.append(
                Problem(
                    module.path,
                    line,
                    f'slug "{module.slug}" is already used by {seen[module.slug]}',
                )
            )
        seen.setdefault(module.slug, module.path)
    return modules
