"""Every module of a directory with the sources and mission annexes, checked across files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.services import annexes, sources
from app.services.content.meta import CATEGORIES, mandatory_categories
from app.services.content.model import FieldPlace, ModuleError, ModuleSource
from app.services.content.reader import read_modules
from app.services.frontmatter import Problem


@dataclass
class Catalogue:
    """Every module of a directory with the sources registry they cite."""

    modules: list[ModuleSource]
    registry: sources.Registry
    annexes: list[annexes.AnnexSource]
    problems: list[Problem]


def read_catalogue(directory: Path) -> Catalogue:
    """Parse the modules and the sources registry, checking what spans them."""
    modules = read_modules(directory)
    problems: list[Problem] = []
    registry = sources.read_registry(directory, problems)
    for module in modules:
        module.problems.extend(_reference_problems(module, registry))
    problems += [problem for module in modules for problem in module.problems]
    mission_annexes = annexes.read_annexes(directory)
    problems += [problem for annex in mission_annexes for problem in annex.problems]
    return Catalogue(modules, registry, mission_annexes, problems)


def _reference_problems(module: ModuleSource, registry: sources.Registry) -> list[Problem]:
    """Check citations, named lesson sections, and that every learner can be drawn a quiz."""
    problems = []
    for path, lines in module.files.items():
        in_front_matter = bool(lines) and lines[0].strip() == "---"
        for number, line in enumerate(lines, start=1):
            if in_front_matter:
                in_front_matter = number == 1 or line.strip() != "---"
                continue
            for key in sources.cited_keys(line):
                if key not in registry:
                    problems.append(
                        Problem(path, number, f'"[@{key}]" cites a source that is not in '
                                f"{sources.REGISTRY_FILE}: add it there or fix the key")
                    )  # fmt: skip
    headings = module.lesson_headings
    quiz_path = next(reversed(module.files), module.path)
    for question in module.questions:
        if question.section is not None and question.section not in headings:
            problems.append(
                Problem(quiz_path, question.section_line, f'"Section: {question.section}" '
                        "names no heading of the lesson; use the exact text of a ## or ### "
                        "heading")
            )  # fmt: skip
    draw = module.meta.get("questions_per_attempt")
    # A pool smaller than the draw is reported once, in the front matter check.
    if module.meta.get("mandatory_for") and isinstance(draw, int) and draw <= len(module.questions):
        for category in mandatory_categories(module.meta):
            if category not in CATEGORIES:
                continue
            eligible = sum(
                not question.categories or category in question.categories
                for question in module.questions
            )
            if eligible < draw:
                problems.append(
                    Problem(module.path, module.places.get("questions_per_attempt",
                            FieldPlace(1)).line, f"a {category} learner can be drawn only "
                            f"{eligible} of the {draw} questions per attempt: add questions "
                            "for them, or untagged ones")
                )  # fmt: skip
    return problems


def check_modules(directory: Path) -> list[Problem]:
    """Return every problem in a modules directory, in file and line order."""
    try:
        return in_order(read_catalogue(directory).problems)
    except ModuleError as error:
        return error.problems


def in_order(problems: Iterable[Problem]) -> list[Problem]:
    """Sort problems by file, then line, keeping the order of those on one line."""
    return sorted(problems, key=lambda problem: (problem.path, problem.line))
