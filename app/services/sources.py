"""The documents the training content cites, kept in one registry: modules/sources.yml.

Lessons and feedback cite a document by its key, `[@sgb-2003-13]` or with a locator,
`[@sgb-2003-13, section 3.2 (b)]`; the checker refuses a key the registry does not
hold, and rendering replaces the citation with the document's symbol.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from app.services.frontmatter import Problem, display_path

REGISTRY_FILE = "sources.yml"
KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CITATION_RE = re.compile(r"\[@(?P<key>[A-Za-z0-9-]+)(?:\s*,\s*(?P<locator>[^\]\n]+?))?\s*\]")
FIELDS = ("symbol", "title", "year", "where")


@dataclass(frozen=True)
class Source:
    """One citable document."""

    key: str
    symbol: str
    title: str
    year: str
    where: str

    @property
    def short(self) -> str:
        """Return how a citation names the document: its symbol, else its title."""
        return self.symbol or self.title

    def as_dict(self) -> dict[str, str]:
        """Return the source as plain data, to store with a module version."""
        return asdict(self)


Registry = dict[str, Source]


def read_registry(directory: Path, problems: list[Problem]) -> Registry:
    """Read modules/sources.yml, adding a located problem for each bad entry."""
    path = directory / REGISTRY_FILE
    shown = display_path(path)
    if not path.exists():
        return {}
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        problems.append(Problem(shown, 1, "the file is not UTF-8 text; save it as UTF-8"))
        return {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or "it cannot be read"
        problems.append(Problem(shown, mark.line + 1 if mark else 1, f"broken YAML: {reason}"))
        return {}
    if data is None:
        return {}
    lines = text.splitlines()
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, "the registry must map each source key to its fields"))
        return {}
    registry: Registry = {}
    for key, entry in data.items():
        line = _key_line(lines, key)
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append(
                Problem(shown, line, f'source key "{key}" must use lower case letters, '
                        "digits and - only")
            )  # fmt: skip
            continue
        if not isinstance(entry, dict):
            problems.append(Problem(shown, line, f'source "{key}" needs the fields ' + _FIELDS))
            continue
        missing = [name for name in ("title", "year", "where") if entry.get(name) in (None, "")]
        unknown = [str(name) for name in entry if name not in FIELDS]
        if missing:
            problems.append(
                Problem(shown, line, f'source "{key}" is missing: ' + ", ".join(missing))
            )
        if unknown:
            problems.append(
                Problem(shown, line, f'source "{key}" has unknown fields: ' + ", ".join(unknown))
            )
        if missing or unknown:
            continue
        registry[key] = Source(
            key=key,
            symbol=str(entry.get("symbol") or "").strip(),
            title=" ".join(str(entry["title"]).split()),
            year=str(entry["year"]).strip(),
            where=" ".join(str(entry["where"]).split()),
        )
    return registry


_FIELDS = "symbol (may be empty), title, year and where"


def _key_line(lines: list[str], key: object) -> int:
    pattern = re.compile(rf"^['\"]?{re.escape(str(key))}['\"]?\s*:")
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), 1)


def cited_keys(text: str) -> list[str]:
    """Return the keys a text cites, in order of first appearance."""
    return list(dict.fromkeys(match["key"] for match in CITATION_RE.finditer(text)))


def cite(text: str, registry: Registry) -> str:
    """Replace each citation by the document's symbol (and locator), in parentheses."""

    def replace(match: re.Match[str]) -> str:
        source = registry.get(match["key"])
        name = source.short if source else match["key"]
        locator = match["locator"]
        return f"({name}, {locator})" if locator else f"({name})"

    return CITATION_RE.sub(replace, text)


def snapshot(keys: list[str], registry: Registry) -> list[dict[str, Any]]:
    """Return the registry entries for cited keys, to store with what cites them."""
    return [registry[key].as_dict() for key in keys if key in registry]
