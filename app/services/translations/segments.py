"""Cut a module or mission annex into the texts a translator translates, and put them back.

A file is read as logical lines. Each paragraph, list item, heading, table row, note
title, question title, option and feedback paragraph is one line of parts: literal
structure (markers, indentation, question tags, option marks, `Section:` lines, the
`# Quiz` keyword) and segments, the texts to translate. Filling the segments with their
translations keeps every literal, so a translation has the source's structure, and its
quiz the source's answer key, by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.services.content.meta import field_places
from app.services.content.model import FENCE_RE, ModuleSource
from app.services.content.questions import (
    OPTION_RE,
    QUESTION_RE,
    SECTION_RE,
    TAG_RE,
    find_quiz_heading,
)
from app.services.frontmatter import read_front_matter

HEADING_RE = re.compile(r"^(?P<mark>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
NOTE_RE = re.compile(r'^!!!\s*(?P<type>[\w-]+)(?:\s+"(?P<title>[^"]*)")?\s*$')
ITEM_RE = re.compile(r"^(?P<marker>\s*(?:[-*+]|\d+[.)])\s+)(?P<text>\S.*)$")
TABLE_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
RULE_RE = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")

# What each kind of text is, as the catalog tells the translator.
TITLE = "title"
SUMMARY = "summary"
UNDERTAKING = "undertaking"
HEADING = "heading"
PARAGRAPH = "paragraph"
ITEM = "list item"
CELL = "table cell"
NOTE_TITLE = "note title"
QUESTION_TITLE = "question title"
QUESTION = "question"
OPTION = "option"
FEEDBACK = "feedback"
MISSION_NAME = "mission name"
CONTACT = "contact"

# Front-matter fields a translator translates; every other field stays as in the source.
MODULE_FIELDS = {"title": TITLE, "summary": SUMMARY, "attestation": UNDERTAKING}
CONTACT_FIELDS = ("label", "where")

# Where a line's text goes: ("lesson", 0, 0), ("title", question, 0), ("stem", question, 0),
# ("option", question, option), ("feedback", question, option); ("skip", 0, 0): nowhere.
Role = tuple[str, int, int]
LESSON: Role = ("lesson", 0, 0)
SKIP: Role = ("skip", 0, 0)


def normalise(text: str) -> str:
    """Return a text with its runs of white space, line breaks included, as one space."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Segment:
    """One text to translate, whitespace-normalised (the catalog's msgid), and its line."""

    text: str
    kind: str
    line: int


@dataclass
class Line:
    """A logical line: literal structure and segments, with where its text goes."""

    number: int
    role: Role
    # The structure alone, compared with a translation's: "heading 2", "option x" ...
    shape: str
    parts: list[str | Segment]

    @property
    def segments(self) -> list[Segment]:
        return [part for part in self.parts if isinstance(part, Segment)]

    def text(self, translate: Callable[[str], str]) -> str:
        """Return the line with each segment replaced by its translation."""
        return "".join(
            part if isinstance(part, str) else translate(part.text) for part in self.parts
        )


@dataclass
class Document:
    """A module or annex file as segments: its front-matter texts and its logical lines."""

    path: str
    # Front-matter texts by field ("title", "contacts.2.where"), in order.
    fields: dict[str, Segment] = field(default_factory=dict)
    # Front-matter values that are not text to translate, which a translation must keep.
    fixed: dict[str, Any] = field(default_factory=dict)
    # The line of each front-matter field, by the names of `fields` and `fixed`.
    places: dict[str, int] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    # How many questions the quiz has.
    questions: int = 0

    def segments(self) -> Iterator[Segment]:
        """Yield every text to translate, in the order a reader meets them."""
        yield from self.fields.values()
        for line in self.lines:
            yield from line.segments

    def rebuild(self, translate: Callable[[str], str]) -> dict[Role, str]:
        """Return the Markdown of each role (the lesson, each stem and feedback) translated."""
        texts: dict[Role, list[str]] = {}
        for line in self.lines:
            if line.role != SKIP:
                texts.setdefault(line.role, []).append(line.text(translate))
        return {role: "\n".join(lines).strip() for role, lines in texts.items()}


def module_document(module: ModuleSource) -> Document:
    """Cut a parsed module (one file, or index.md and quiz.md) into segments."""
    document = Document(module.path)
    first = True
    for path, lines in module.files.items():
        body, start = lines, 0
        if first:
            _, start = read_front_matter(path, lines, [])
            _front_matter(document, module.meta, lines[1 : start - 1], MODULE_FIELDS)
            body = lines[start:]
        numbered = list(enumerate(body, start=start + 1))
        quiz_at = find_quiz_heading(body)
        if first:
            lesson = numbered if quiz_at is None else numbered[:quiz_at]
            document.lines += _without_title(_blocks(lesson, LESSON, PARAGRAPH))
        if quiz_at is not None:
            number, line = numbered[quiz_at]
            document.lines.append(Line(number, SKIP, "# Quiz", [line]))
            _quiz(document, numbered[quiz_at + 1 :])
        elif not first:
            _quiz(document, numbered)
        first = False
    return document


def annex_document(path: str, lines: list[str]) -> Document:
    """Cut a mission annex into segments: name, contact labels and places, and its text."""
    document = Document(path)
    meta, start = read_front_matter(path, lines, [])
    places = field_places(lines[1 : start - 1]) if meta else {}
    for name, value in meta.items():
        if name == "name":
            line = places[name].line if name in places else 1
            document.fields[name] = Segment(normalise(str(value)), MISSION_NAME, line)
        elif name == "contacts" and isinstance(value, list):
            item_lines = places[name].item_lines if name in places else ()
            for index, contact in enumerate(value):
                line = item_lines[index] if index < len(item_lines) else 1
                for key, text in contact.items() if isinstance(contact, dict) else ():
                    if key in CONTACT_FIELDS and str(text or "").strip():
                        segment = Segment(normalise(str(text)), CONTACT, line)
                        document.fields[f"contacts.{index}.{key}"] = segment
                    else:
                        document.fixed[f"contacts.{index}.{key}"] = text
        else:
            document.fixed[name] = value
    document.lines = _blocks(list(enumerate(lines[start:], start=start + 1)), LESSON, PARAGRAPH)
    return document


def _front_matter(
    document: Document, meta: dict[str, Any], lines: list[str], fields: dict[str, str]
) -> None:
    places = field_places(lines) if meta else {}
    for name, value in meta.items():
        line = document.places[name] = places[name].line if name in places else 1
        if name in fields and isinstance(value, str) and value.strip():
            document.fields[name] = Segment(normalise(value), fields[name], line)
        else:
            document.fixed[name] = value


def _without_title(lines: list[Line]) -> list[Line]:
    """Skip a first-level heading that opens the lesson: the page shows the title instead."""
    for line in lines:
        if line.shape == "blank":
            continue
        if line.shape == "heading 1":
            line.role, line.shape, line.parts = SKIP, "title heading", []
        break
    return lines


def _quiz(document: Document, numbered: list[tuple[int, str]]) -> None:
    """Cut the questions: title and tags, Section line, stem, options and feedback."""
    questions: list[list[tuple[int, str]]] = []
    for number, line in numbered:
        if QUESTION_RE.match(line):
            questions.append([])
        if questions:
            questions[-1].append((number, line))
        elif line.strip():
            document.lines.append(Line(number, SKIP, "text before the first question", [line]))
    for question in questions:
        document.questions += 1
        _question(document, document.questions, question)


def _question(document: Document, index: int, numbered: list[tuple[int, str]]) -> None:
    (number, heading), body = numbered[0], numbered[1:]
    title = QUESTION_RE.match(heading)["title"]  # type: ignore[index]
    text = title
    while match := TAG_RE.search(text):
        text = text[: match.start()].rstrip()
    tags = " ".join(title[len(text) :].split())
    parts: list[str | Segment] = ["## ", Segment(normalise(text), QUESTION_TITLE, number)]
    parts += [" " + tags] if tags else []
    document.lines.append(Line(number, ("title", index, 0), f"question {tags}".strip(), parts))
    stem: list[tuple[int, str]] = []
    options: list[list[tuple[int, str]]] = []
    for number, line in body:
        if OPTION_RE.match(line):
            options.append([(number, line)])
        elif options:
            options[-1].append((number, line))
        elif not "".join(text for _, text in stem).strip() and SECTION_RE.match(line):
            document.lines.append(Line(number, SKIP, line.strip(), [line]))
        else:
            stem.append((number, line))
    document.lines += _blocks(stem, ("stem", index, 0), QUESTION)
    for position, option in enumerate(options, start=1):
        (number, line), feedback = option[0], option[1:]
        match = OPTION_RE.match(line)
        assert match is not None
        mark = "x" if match["mark"] != " " else " "
        parts = [line[: match.start("text")], Segment(normalise(match["text"]), OPTION, number)]
        role: Role = ("option", index, position)
        document.lines.append(Line(number, role, f"option [{mark}]", parts))
        # Feedback lines are read without their indentation, as the quiz reader reads them.
        stripped = [(number, text.strip()) for number, text in feedback]
        document.lines += _blocks(stripped, ("feedback", index, position), FEEDBACK)


def _blocks(numbered: list[tuple[int, str]], role: Role, kind: str) -> list[Line]:
    """Cut Markdown blocks into logical lines: headings, notes, tables, items, paragraphs."""
    out: list[Line] = []
    index = 0
    while index < len(numbered):
        number, line = numbered[index]
        index += 1
        heading = HEADING_RE.match(line)
        note = NOTE_RE.match(line)
        if not line.strip():
            out.append(Line(number, role, "blank", [line]))
        elif FENCE_RE.match(line):
            out.append(Line(number, role, f"code {line.strip()}", [line]))
            while index < len(numbered):
                number, line = numbered[index]
                index += 1
                out.append(Line(number, role, f"code {line.strip()}", [line]))
                if FENCE_RE.match(line):
                    break
        elif heading:
            level = len(heading["mark"])
            parts: list[str | Segment] = [line[: heading.start("text")]]
            parts += [Segment(normalise(heading["text"]), HEADING, number)]
            out.append(Line(number, role, f"heading {level}", parts))
        elif note:
            index = _note(out, numbered, index, note, role, kind)
        elif _table_starts(numbered, index - 1):
            out.append(_table_row(number, line, role))
            while index < len(numbered) and numbered[index][1].lstrip().startswith("|"):
                out.append(_table_row(*numbered[index], role))
                index += 1
        elif RULE_RE.match(line):
            out.append(Line(number, role, "rule", [line]))
        else:
            item = ITEM_RE.match(line)
            prefix = item["marker"] if item else line[: len(line) - len(line.lstrip())]
            text = [item["text"] if item else line.strip()]
            while index < len(numbered) and _continues(numbered, index):
                text.append(numbered[index][1].strip())
                index += 1
            shape = _item_shape(prefix) if item else "paragraph"
            segment = Segment(normalise(" ".join(text)), ITEM if item else kind, number)
            out.append(Line(number, role, shape, [prefix, segment]))
    return out


def _continues(numbered: list[tuple[int, str]], index: int) -> bool:
    """Return whether a line carries on the paragraph or list item above it."""
    line = numbered[index][1]
    return bool(
        line.strip()
        and not HEADING_RE.match(line)
        and not NOTE_RE.match(line)
        and not FENCE_RE.match(line)
        and not ITEM_RE.match(line)
        and not RULE_RE.match(line)
        and not _table_starts(numbered, index)
    )


def _note(
    out: list[Line],
    numbered: list[tuple[int, str]],
    index: int,
    note: re.Match[str],
    role: Role,
    kind: str,
) -> int:
    """Cut a note (`!!! note "Title"`): its title, then its indented body as blocks."""
    number, line = numbered[index - 1]
    title = note["title"]
    shape = f"note {note['type']}" + (" with a title" if title and title.strip() else "")
    if title and title.strip():
        start, end = note.span("title")
        segment = Segment(normalise(title), NOTE_TITLE, number)
        out.append(Line(number, role, shape, [line[:start], segment, line[end:]]))
    else:
        out.append(Line(number, role, shape, [line]))
    body: list[tuple[int, str]] = []
    while index < len(numbered):
        number, line = numbered[index]
        if line.strip() and not line.startswith(("    ", "\t")):
            break
        body.append((number, line[4:] if line.startswith("    ") else line[1:]))
        index += 1
    while body and not body[-1][1].strip():
        body.pop()
        index -= 1
    for inner in _blocks(body, role, kind):
        if inner.shape != "blank":
            inner.parts = ["    ", *inner.parts]
        inner.shape = f"in the note: {inner.shape}"
        out.append(inner)
    return index


def _item_shape(marker: str) -> str:
    """Describe a list item's marker: ordered items keep their number, nesting its depth."""
    sign = marker.strip()
    indent = len(marker) - len(marker.lstrip())
    return f"item {sign if sign[0].isdigit() else '-'} at {indent}"


def _table_starts(numbered: list[tuple[int, str]], index: int) -> bool:
    return (
        numbered[index][1].lstrip().startswith("|")
        and index + 1 < len(numbered)
        and bool(TABLE_SEPARATOR_RE.match(numbered[index + 1][1]))
        and "-" in numbered[index + 1][1]
    )


def _table_row(number: int, line: str, role: Role) -> Line:
    cells = CELL_SPLIT_RE.split(line.strip().strip("|"))
    if TABLE_SEPARATOR_RE.match(line):
        return Line(number, role, f"table separator of {len(cells)} cells", [line])
    parts: list[str | Segment] = ["|"]
    for cell in cells:
        text = normalise(cell)
        parts += [" ", Segment(text, CELL, number), " |"] if text else [" |"]
    return Line(number, role, f"table row of {len(cells)} cells", parts)
