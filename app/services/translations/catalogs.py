"""The gettext catalogs of the modules: where they live, what they hold, how far they go.

One catalog per module (or mission annex) and language:
modules/translations/<language>/<slug>.po and modules/translations/<language>/missions/<code>.po.
Its msgids are the source's segments; a catalog is complete when every segment has a
translation that is neither stale (fuzzy: the source changed since) nor mismatched (its
citations, links, Markdown markers or structure differ from the source's).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po, unescape, write_po
from flask_babel import gettext as _

from app.services.content.questions import TAG_RE
from app.services.frontmatter import Problem, display_path
from app.services.sources import CITATION_RE
from app.services.translations.segments import (
    CELL,
    NOTE_TITLE,
    QUESTION_TITLE,
    Document,
    normalise,
)

TRANSLATIONS_DIR = "translations"
ANNEXES = "missions"
# The language modules are written in.
SOURCE_LANGUAGE = "en"
PROJECT = "Blue Beret modules"

LINK_RE = re.compile(r"\]\((?P<url>[^)\s]*)")
HTML_TAG_RE = re.compile(r"</?[A-Za-z][^>]*>")
BLOCK_START_RE = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|\||!!!|>|```|~~~)")
OPTION_MARK_RE = re.compile(r"\[[ xX]\]")
MARKERS = ("**", "`", "*")
PREVIOUS_RE = re.compile(r'^#\|\s*(?:msgid\s+)?"(?P<text>.*)"\s*$')


def language_directories(directory: Path) -> list[tuple[str, Path]]:
    """Return each language that has catalogs, with its folder, by language code."""
    root = directory / TRANSLATIONS_DIR
    if not root.is_dir():
        return []
    return [(path.name, path) for path in sorted(root.iterdir()) if is_language(path.name)]


def is_language(code: str) -> bool:
    """Return whether a folder name is a language code Babel knows, other than the source's."""
    if code == SOURCE_LANGUAGE or not re.fullmatch(r"[a-z]{2,3}(?:_[A-Za-z0-9]+)*", code):
        return False
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def catalog_path(directory: Path, language: str, name: str) -> Path:
    """Return where a module's (`slug`) or annex's (`missions/code`) catalog is kept."""
    return directory / TRANSLATIONS_DIR / language / f"{name}.po"


def template(document: Document, language: str) -> Catalog:
    """Return an empty catalog of a document's segments, in the order a reader meets them."""
    catalog = new_catalog(language)
    for segment in document.segments():
        if not segment.text:
            continue
        if segment.text in catalog:
            message = catalog[segment.text]
            if segment.kind not in message.auto_comments:
                message.auto_comments.append(segment.kind)
        else:
            catalog.add(segment.text, "", auto_comments=[segment.kind])
    return catalog


HEADER = """\
# A translation of a Blue Beret training module or mission annex.
# Edit it with any gettext tool (Poedit, Weblate); `flask modules check` says what is
# missing or stale. How: modules/README.md, "Translations".
#"""


def new_catalog(language: str) -> Catalog:
    """Return an empty catalog for a language, with the project's header."""
    return Catalog(
        locale=language,
        header_comment=HEADER,
        project=PROJECT,
        version="1",
        language_team=PROJECT,
        last_translator="",
        msgid_bugs_address="",
        fuzzy=False,
    )


def read_catalog(path: Path) -> Catalog:
    """Read a catalog; PoFileError or UnicodeDecodeError when it cannot be read.

    Stale entries keep the source text they translated (`#| msgid`), which Babel's
    reader drops: it is what tells their translator what changed.
    """
    raw = path.read_bytes()
    catalog = read_po(io.BytesIO(raw), abort_invalid=True)
    previous = _previous_ids(raw.decode("utf-8").splitlines())
    for message in catalog:
        if message.lineno in previous and not message.previous_id:
            message.previous_id = [previous[message.lineno]]
    return catalog


def _previous_ids(lines: list[str]) -> dict[int, str]:
    """Return the previous msgid written above each entry, by the line of its msgid."""
    found: dict[int, str] = {}
    pending: list[str] = []
    for number, line in enumerate(lines, start=1):
        if match := PREVIOUS_RE.match(line):
            pending.append(unescape(f'"{match["text"]}"'))
            continue
        if line.startswith("msgid ") and pending:
            found[number] = "".join(pending)
        if not line.startswith("#"):
            pending = []
    return found


def write_catalog(path: Path, catalog: Catalog) -> None:
    """Write a catalog, with the previous source text of each stale entry for its translator."""
    for message in catalog:
        # Module texts are not format strings, whatever their % signs look like to Babel.
        message.flags.discard("python-format")
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=88, no_location=True, include_previous=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def updated(catalog: Catalog, document: Document) -> Catalog:
    """Merge a catalog with its source as msgmerge does: keep translations, mark changed ones.

    A source text that changed keeps the old translation marked fuzzy (stale), with the
    text it translated; texts no longer in the source become obsolete.
    """
    language = str(catalog.locale) if catalog.locale else SOURCE_LANGUAGE
    source = template(document, language)
    # Babel's merge forgets the text a still-stale entry translated; keep it.
    previous = {message.id: message.previous_id for message in catalog if message.previous_id}
    catalog.update(source, update_creation_date=False)
    for message in catalog:
        if message.id and message.id in source:
            message.auto_comments = list(source[message.id].auto_comments)
        if message.fuzzy and not message.previous_id and message.id in previous:
            message.previous_id = previous[message.id]
    return catalog


@dataclass
class TranslationStatus:
    """How far one catalog translates its source, and what stops it being served."""

    name: str
    language: str
    path: str
    total: int = 0
    translated: int = 0
    missing: int = 0
    stale: list[Problem] = field(default_factory=list)
    mismatched: list[Problem] = field(default_factory=list)
    unreadable: Problem | None = None
    # msgid -> msgstr of every usable translation.
    strings: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Return whether the translation can be served: nothing missing, stale or mismatched."""
        return (
            self.unreadable is None
            and self.translated == self.total
            and not self.stale
            and not self.mismatched
        )

    @property
    def problems(self) -> list[Problem]:
        """Return every located reason the translation is not served."""
        unreadable = [self.unreadable] if self.unreadable else []
        return unreadable + self.stale + self.mismatched


def status(document: Document, name: str, language: str, path: Path) -> TranslationStatus:
    """Measure a catalog against its source: coverage, stale and mismatched strings."""
    shown = display_path(path)
    result = TranslationStatus(name, language, shown)
    source = template(document, language)
    result.total = len(source)
    try:
        catalog = read_catalog(path)
    except (PoFileError, UnicodeDecodeError, ValueError) as error:
        result.unreadable = Problem(shown, 1, _("the catalog cannot be read: %(error)s",
                                                error=str(error)))  # fmt: skip
        result.missing = result.total
        return result
    written = {message.id: message for message in catalog if message.id}
    merged = updated(read_catalog(path), document)
    for message in merged:
        if not message.id or message.id not in source:
            continue
        kinds = set(source[message.id].auto_comments)
        if message.fuzzy and message.string:
            result.stale.append(_stale(shown, message, written))
        elif not message.string or not str(message.string).strip():
            result.missing += 1
        else:
            translation = str(message.string)
            line = written[message.id].lineno if message.id in written else 1
            reasons = mismatches(str(message.id), translation, kinds)
            result.mismatched += [Problem(shown, line or 1, reason) for reason in reasons]
            if not reasons:
                result.translated += 1
                result.strings[str(message.id)] = normalise(translation)
    return result


def _stale(shown: str, message: Message, written: dict[Any, Message]) -> Problem:
    previous = message.previous_id[0] if message.previous_id else None
    old = written.get(previous) if previous else written.get(message.id)
    line = (old.lineno if old is not None else None) or 1
    text = _short(str(message.id))
    reason = _('stale: the source now reads "%(text)s"; check the translation against it',
               text=text)  # fmt: skip
    return Problem(shown, line, reason)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mismatches(source: str, translation: str, kinds: set[str]) -> list[str]:
    """Return what a translation changes of its source's citations, links and structure."""
    reasons = []
    if "\n" in translation.strip():
        reasons.append(_("it holds a line break: write the translation on one line"))
    if _citations(source) != _citations(translation):
        reasons.append(
            _("its citations differ from the source's (%(citations)s): copy each "
              "[@key, locator] exactly", citations=", ".join(_citations(source)) or "none")
        )  # fmt: skip
    if Counter(LINK_RE.findall(source)) != Counter(LINK_RE.findall(translation)):
        reasons.append(_("its links differ from the source's: keep each (address) as it is"))
    if _markers(source) != _markers(translation):
        reasons.append(
            _("its Markdown markers (** * `) differ from the source's: mark the same words "
              "bold, italic or as code")
        )  # fmt: skip
    if Counter(HTML_TAG_RE.findall(source)) != Counter(HTML_TAG_RE.findall(translation)):
        reasons.append(_("its HTML tags differ from the source's"))
    if BLOCK_START_RE.match(translation) and not BLOCK_START_RE.match(source):
        reasons.append(
            _("it starts like a heading, list item or table row (%(start)s): only the source "
              "sets the structure", start=translation.split()[0])
        )  # fmt: skip
    if len(OPTION_MARK_RE.findall(translation)) > len(OPTION_MARK_RE.findall(source)):
        reasons.append(
            _("it holds an option mark ([x] or [ ]): only the source says which options "
              "are right")
        )  # fmt: skip
    if QUESTION_TITLE in kinds and TAG_RE.search(translation) and not TAG_RE.search(source):
        reasons.append(_("it ends with a question tag: tags come only from the source"))
    if CELL in kinds and translation.count("|") != source.count("|"):
        reasons.append(_("it holds a | that would split the table cell"))
    if NOTE_TITLE in kinds and '"' in translation:
        reasons.append(_("it holds a \" that would end the note's title: use other quotes"))
    return reasons


def _citations(text: str) -> list[str]:
    found = []
    for match in CITATION_RE.finditer(text):
        locator = normalise(match["locator"] or "")
        found.append(f"[@{match['key']}, {locator}]" if locator else f"[@{match['key']}]")
    return sorted(found)


def _markers(text: str) -> dict[str, int]:
    counts = {marker: 0 for marker in MARKERS}
    rest = text
    for marker in MARKERS:
        counts[marker] = rest.count(marker)
        rest = rest.replace(marker, " ")
    return counts
