"""The translators' workflow: measure every catalog, update them all, start a new language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from app.services.annexes import ANNEX_DIR, annex_paths
from app.services.content.reader import module_paths, read_module
from app.services.frontmatter import Problem, display_path
from app.services.translations import catalogs
from app.services.translations.segments import Document, annex_document, module_document


@dataclass(frozen=True)
class Source:
    """A module or annex that catalogs translate: its catalog name and its segments."""

    name: str
    document: Document


def sources(directory: Path) -> list[Source]:
    """Return every module and mission annex of a modules folder, cut into segments."""
    found = []
    for path in module_paths(directory):
        module = read_module(path)
        if module.slug:
            found.append(Source(module.slug, module_document(module)))
    for path in annex_paths(directory):
        lines = path.read_bytes().decode("utf-8-sig", errors="replace").splitlines()
        found.append(Source(f"{ANNEX_DIR}/{path.stem}", annex_document(display_path(path), lines)))
    return found


def statuses(directory: Path) -> list[catalogs.TranslationStatus]:
    """Measure each source against its catalog in every language that has catalogs.

    A language lacking a source's catalog counts every string of it as missing.
    """
    found = []
    for language, _folder in catalogs.language_directories(directory):
        for source in sources(directory):
            path = catalogs.catalog_path(directory, language, source.name)
            if path.exists():
                found.append(catalogs.status(source.document, source.name, language, path))
            else:
                total = len(catalogs.template(source.document, language))
                found.append(
                    catalogs.TranslationStatus(
                        source.name, language, display_path(path), total, 0, total
                    )
                )
    return sorted(found, key=lambda status: (status.name, status.language))


def stray_catalogs(directory: Path) -> list[Problem]:
    """Report catalogs that translate no module or annex of the folder (a renamed slug)."""
    names = {source.name for source in sources(directory)}
    problems = []
    for language, folder in catalogs.language_directories(directory):
        for path in sorted(folder.rglob("*.po")):
            name = path.relative_to(folder).with_suffix("").as_posix()
            if name not in names:
                problems.append(
                    Problem(display_path(path), 1, _(
                        'no module or mission annex is named "%(name)s": rename or remove '
                        "this %(language)s catalog", name=name, language=language),
                        warning=True)
                )  # fmt: skip
    return problems


def update_catalogs(directory: Path) -> list[str]:
    """Bring every existing catalog in line with its source, as msgmerge does.

    Translations are kept; those whose source text changed are marked fuzzy (stale)
    with the text they translated; texts the source no longer has become obsolete.
    Returns the catalogs written.
    """
    written = []
    for language, _folder in catalogs.language_directories(directory):
        for source in sources(directory):
            path = catalogs.catalog_path(directory, language, source.name)
            if path.exists():
                catalog = catalogs.updated(catalogs.read_catalog(path), source.document)
                catalogs.write_catalog(path, catalog)
                written.append(display_path(path))
    return written


def start_language(directory: Path, language: str) -> list[str]:
    """Write an empty catalog of every module and annex that has none in `language`."""
    written = []
    for source in sources(directory):
        path = catalogs.catalog_path(directory, language, source.name)
        if not path.exists():
            catalogs.write_catalog(path, catalogs.template(source.document, language))
            written.append(display_path(path))
    return written
