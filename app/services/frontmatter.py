"""Markdown files with YAML front matter, as modules and mission annexes are written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """Something wrong in a module file, located for its author."""

    path: str
    line: int
    message: str
    # A warning points at weak content (an easy-to-guess quiz, say); it stops nothing
    # unless the check is strict.
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}: {kind}{self.message}"


def display_path(path: Path) -> str:
    """Show a path relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_front_matter(
    path: str, lines: list[str], problems: list[Problem]
) -> tuple[dict[str, Any], int]:
    if not lines or lines[0].strip() != "---":
        problems.append(
            Problem(path, 1, "the file must start with front matter between two --- lines")
        )
        return {}, 0
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        problems.append(Problem(path, 1, "the front matter has no closing --- line"))
        return {}, 0
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except RecursionError:
        problems.append(Problem(path, 2, "broken YAML in the front matter: nested too deeply"))
        return {}, end + 1
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(error, "problem", None) or "it cannot be read"
        problems.append(Problem(path, line, f"broken YAML in the front matter: {reason}"))
        return {}, end + 1
    if not isinstance(meta, dict):
        problems.append(Problem(path, 1, "the front matter must be a list of `field: value` lines"))
        return {}, end + 1
    return meta, end + 1


def field_line(lines: list[str], name: object) -> int:
    pattern = re.compile(rf"^{re.escape(str(name))}\s*:")
    for index, line in enumerate(lines):
        if pattern.match(line):
            return index + 1
        if index > 0 and line.strip() == "---":
            break
    return 1
