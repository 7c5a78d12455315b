"""Build a catalog from a translation written as a parallel Markdown file.

The translated file has the source's structure: the same front-matter fields, the same
blocks in the same order, `# Quiz`, the `Section:` lines, tags, option marks and citations
as they are. Its segments are paired with the source's by position; where the structure
differs, nothing is paired and each difference is reported as `path:line: message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from flask_babel import gettext as _

from app.services.annexes import ANNEX_DIR
from app.services.content.model import ModuleSource
from app.services.content.reader import read_module
from app.services.frontmatter import Problem, display_path, read_front_matter
from app.services.translations import catalogs
from app.services.translations.segments import (
    SKIP,
    Document,
    Line,
    Segment,
    annex_document,
    module_document,
)


@dataclass
class Imported:
    """A catalog built from a parallel translation, or why it could not be."""

    name: str
    catalog: Catalog | None
    problems: list[Problem] = field(default_factory=list)
    # Texts the source repeats but the translation words differently: the first is kept.
    notes: list[Problem] = field(default_factory=list)


def is_annex(source: Path) -> bool:
    """Return whether a source file is a mission annex (modules/missions/<code>.md)."""
    return source.parent.name == ANNEX_DIR


def catalog_name(source: Path) -> str:
    """Return the catalog name of a source file: its module's slug, or missions/<code>."""
    if is_annex(source):
        return f"{ANNEX_DIR}/{source.stem.lower()}"
    return read_module(source).slug


def read_document(path: Path, annex: bool) -> tuple[Document, list[Problem]]:
    """Cut a module or annex file into segments, with the problems that stop reading it.

    A translation's own words may trip checks meant for sources; only front matter that
    cannot be read stops the pairing.
    """
    shown = display_path(path)
    if annex:
        try:
            lines = path.read_bytes().decode("utf-8-sig").splitlines()
        except UnicodeDecodeError:
            return Document(shown), [Problem(shown, 1, _("the file is not UTF-8 text"))]
        problems: list[Problem] = []
        meta, _start = read_front_matter(shown, lines, problems)
        return annex_document(shown, lines), problems if not meta else []
    module: ModuleSource = read_module(path)
    return module_document(module), module.problems if not module.meta else []


def import_translation(language: str, source: Path, translation: Path) -> Imported:
    """Pair a parallel translation with its source, segment by segment, into a catalog."""
    name = catalog_name(source)
    original, problems = read_document(source, is_annex(source))
    translated, more = read_document(translation, is_annex(source))
    problems += more
    if problems:
        return Imported(name, None, problems)
    pairs: dict[str, tuple[str, Segment]] = {}
    result = Imported(name, None)
    _pair_fields(original, translated, result, pairs)
    for ours, theirs in _regions(original, translated, result):
        _pair_region(original, translated, ours, theirs, result, pairs)
    if result.problems:
        result.problems.sort(key=lambda problem: problem.line)
        return result
    catalog = catalogs.template(original, language)
    for message in catalog:
        if message.id:
            message.string = pairs[str(message.id)][0]
    result.catalog = catalog
    return result


def _pair_fields(
    original: Document,
    translated: Document,
    result: Imported,
    pairs: dict[str, tuple[str, Segment]],
) -> None:
    """Pair the front matter: translated fields as texts, every other field unchanged."""
    path = translated.path
    for name, value in original.fixed.items():
        if name not in translated.fixed and name not in translated.fields:
            result.problems.append(
                Problem(
                    path,
                    1,
                    _('the front matter lacks the field "%(name)s" of the source', name=name),
                )
            )
        elif translated.fixed.get(name) != value:
            result.problems.append(
                Problem(path, _field_line(translated, name), _(
                    'the field "%(name)s" must stay as in the source: %(value)s',
                    name=name, value=_shown(value)))
            )  # fmt: skip
    for name in translated.fixed.keys() - original.fixed.keys() - original.fields.keys():
        result.problems.append(
            Problem(path, _field_line(translated, name), _(
                'the field "%(name)s" is not in the source', name=name))
        )  # fmt: skip
    for name, segment in original.fields.items():
        theirs = translated.fields.get(name)
        if theirs is None:
            result.problems.append(
                Problem(
                    path,
                    1,
                    _('the front matter lacks the text "%(name)s" of the source', name=name),
                )
            )
        else:
            _pair(segment, theirs, path, result, pairs)


def _field_line(document: Document, name: str) -> int:
    return document.places.get(name, 1)


def _shown(value: Any) -> str:
    return str(value) if not isinstance(value, list | dict) else repr(value)


def _regions(
    original: Document, translated: Document, result: Imported
) -> list[tuple[list[Line], list[Line]]]:
    """Split both files into the lesson and each question, to compare them one by one."""
    ours, theirs = _split(original), _split(translated)
    if len(ours) != len(theirs):
        line = theirs[-1][0].number if len(theirs) > 1 and theirs[-1] else 1
        result.problems.append(
            Problem(translated.path, line, _(
                "the quiz has %(found)s questions, the source %(expected)s: translate each "
                "question of the source, in its order", found=len(theirs) - 1,
                expected=len(ours) - 1))
        )  # fmt: skip
    return list(zip(ours, theirs, strict=False))


def _split(document: Document) -> list[list[Line]]:
    regions: list[list[Line]] = [[]]
    for line in document.lines:
        if line.shape.endswith("blank"):
            continue
        if line.role[0] == "title":
            regions.append([])
        regions[-1].append(line)
    return regions


def _pair_region(
    original: Document,
    translated: Document,
    ours: list[Line],
    theirs: list[Line],
    result: Imported,
    pairs: dict[str, tuple[str, Segment]],
) -> None:
    """Pair one region line by line; stop at its first difference of structure, saying why."""
    for mine, other in zip(ours, theirs, strict=False):
        if mine.shape != other.shape or len(mine.segments) != len(other.segments):
            result.problems.append(
                Problem(translated.path, other.number, _(
                    'the source has %(expected)s here (%(path)s:%(line)s), the translation '
                    '%(found)s: keep the blocks of the source, in their order',
                    expected=_describe(mine), path=original.path, line=mine.number,
                    found=_describe(other)))
            )  # fmt: skip
            return
        for segment, text in zip(mine.segments, other.segments, strict=True):
            _pair(segment, text, translated.path, result, pairs)
    if len(ours) > len(theirs):
        missing = ours[len(theirs)]
        line = theirs[-1].number if theirs else 1
        result.problems.append(
            Problem(translated.path, line, _(
                "the translation stops before %(expected)s (%(path)s:%(line)s)",
                expected=_describe(missing), path=original.path, line=missing.number))
        )  # fmt: skip
    elif len(theirs) > len(ours):
        extra = theirs[len(ours)]
        result.problems.append(
            Problem(translated.path, extra.number, _(
                "%(found)s has no counterpart in the source", found=_describe(extra)))
        )  # fmt: skip


def _describe(line: Line) -> str:
    shape = line.shape
    if line.role == SKIP and shape not in ("title heading", "# Quiz"):
        return f'"{shape}"'
    cells = len(line.segments)
    return _("%(shape)s (%(count)s texts)", shape=shape, count=cells) if cells > 1 else shape


def _pair(
    source: Segment,
    translation: Segment,
    path: str,
    result: Imported,
    pairs: dict[str, tuple[str, Segment]],
) -> None:
    for reason in catalogs.mismatches(source.text, translation.text, {source.kind}):
        result.problems.append(Problem(path, translation.line, reason))
    if not source.text:
        return
    if not translation.text:
        result.problems.append(Problem(path, translation.line, _("this text is not translated")))
        return
    earlier = pairs.get(source.text)
    if earlier is None:
        pairs[source.text] = (translation.text, translation)
    elif earlier[0] != translation.text:
        result.notes.append(
            Problem(path, translation.line, _(
                "the source repeats this text, translated differently at line %(line)s: "
                "the catalog keeps that one", line=earlier[1].line), warning=True)
        )  # fmt: skip
