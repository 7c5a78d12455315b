"""What a training module is made of as its author wrote it: front matter, lesson, quiz."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.services.frontmatter import Problem

FENCE_RE = re.compile(r"^\s*(```|~~~)")
LESSON_HEADING_RE = re.compile(r"^#{2,3}\s+(?P<title>.+?)\s*#*\s*$")


class ModuleError(Exception):
    """Modules that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class Option:
    text: str
    correct: bool
    feedback: str
    line: int


@dataclass
class Question:
    title: str
    prompt: str
    options: list[Option]
    scenario: bool
    multiple: bool
    line: int
    # The personnel categories the question is written for; empty: everyone.
    categories: list[str] = field(default_factory=list)
    # The lesson heading whose text teaches the answer, and the line naming it.
    section: str | None = None
    section_line: int = 0


@dataclass(frozen=True)
class FieldPlace:
    """Where a front-matter field is written: its own line and the lines of its list items."""

    line: int
    item_lines: tuple[int, ...] = ()


@dataclass
class ModuleSource:
    """A module as its author wrote it, checked but not yet rendered."""

    path: str
    meta: dict[str, Any]
    lesson: str
    questions: list[Question]
    content_hash: str
    problems: list[Problem] = field(default_factory=list)
    places: dict[str, FieldPlace] = field(default_factory=dict)
    # The text of each file the module was read from, by shown path, to locate citations.
    files: dict[str, list[str]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return str(self.meta.get("slug", ""))

    @property
    def lesson_headings(self) -> list[str]:
        """Return the lesson's second- and third-level headings, in order."""
        headings, in_fence = [], False
        for line in self.lesson.splitlines():
            if FENCE_RE.match(line):
                in_fence = not in_fence
            elif not in_fence and (match := LESSON_HEADING_RE.match(line)):
                headings.append(match["title"])
        return headings

    @property
    def lesson_words(self) -> int:
        """Count the words of the lesson, the basis of its reading time."""
        return len(re.findall(r"\w+", self.lesson))
