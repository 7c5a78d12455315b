"""Render each complete translation once, when the modules are loaded, and store it.

A module version gets one row per language that has a catalog: rendered through the
same Markdown and nh3 pipeline as its source when the catalog is complete, marked not
complete otherwise. A mission annex gets a row only for a complete catalog.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import MissionAnnexTranslation, ModuleTranslation, ModuleVersion, TrainingModule
from app.models.types import utcnow
from app.services import markdown, sources
from app.services.annexes import ANNEX_DIR, AnnexSource
from app.services.content import sync as content_sync
from app.services.content.catalogue import Catalogue
from app.services.content.model import ModuleSource
from app.services.translations import catalogs
from app.services.translations.segments import (
    Document,
    annex_document,
    module_document,
    normalise,
)

HEADING_ID_RE = re.compile(r"<h[1-6] id=\"([^\"]*)\"")


def sync_translations(catalogue: Catalogue, directory: Path) -> bool:
    """Store the translations of the current versions and of the mission annexes.

    Return whether any stored translation changed.
    """
    languages = catalogs.language_directories(directory)
    current = {
        version.module.slug: version
        for version in db.session.scalars(
            sa.select(ModuleVersion)
            .join(TrainingModule)
            .where(ModuleVersion.is_current, TrainingModule.retired_at.is_(None))
        )
    }
    for module in catalogue.modules:
        version = current.get(module.slug)
        if version is not None:
            _sync_module(version, module, catalogue.registry, directory, languages)
    _sync_annexes(catalogue.annexes, directory, languages)
    kinds = (ModuleTranslation, MissionAnnexTranslation)
    changed = any(isinstance(row, kinds) for row in [*db.session.new, *db.session.deleted]) or any(
        isinstance(row, kinds) and db.session.is_modified(row) for row in db.session.dirty
    )
    db.session.flush()
    return changed


def _sync_module(
    version: ModuleVersion,
    module: ModuleSource,
    registry: sources.Registry,
    directory: Path,
    languages: list[tuple[str, Path]],
) -> None:
    document = module_document(module)
    stored = {
        row.language: row
        for row in db.session.scalars(
            sa.select(ModuleTranslation).where(ModuleTranslation.module_version_id == version.id)
        )
    }
    for language, _folder in languages:
        path = catalogs.catalog_path(directory, language, module.slug)
        if not path.exists():
            continue
        found = catalogs.status(document, module.slug, language, path)
        row = stored.pop(language, None) or ModuleTranslation(
            module_version_id=version.id, language=language
        )
        values: dict[str, Any] = {
            "complete": found.complete,
            "translated": found.translated,
            "total": found.total,
        }
        if found.complete:
            values |= render_module(module, document, found.strings, registry, version)
        else:
            values |= dict.fromkeys(
                ("title", "summary", "attestation", "body_html", "toc_html", "quiz")
            )
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.rendered_at = utcnow()
        db.session.add(row)
    # A catalog that was removed no longer translates the version.
    for row in stored.values():
        db.session.delete(row)


def render_module(
    module: ModuleSource,
    document: Document,
    strings: dict[str, str],
    registry: sources.Registry,
    version: ModuleVersion,
) -> dict[str, Any]:
    """Render a module's translation: its texts in the source's structure and answer key."""

    def translate(text: str) -> str:
        return strings[normalise(text)]

    texts = document.rebuild(translate)
    questions = [
        replace(
            question,
            title=translate(question.title),
            prompt=texts.get(("stem", number, 0), ""),
            section=translate(question.section) if question.section else None,
            options=[
                replace(
                    option,
                    text=translate(option.text),
                    feedback=texts.get(("feedback", number, position), ""),
                )
                for position, option in enumerate(question.options, start=1)
            ],
        )
        for number, question in enumerate(module.questions, start=1)
    ]
    translated = replace(module, lesson=texts.get(("lesson", 0, 0), ""), questions=questions)
    anchors = HEADING_ID_RE.findall(version.body_html)
    rendered = content_sync.rendering(translated, registry, anchors)
    meta = {name: segment.text for name, segment in document.fields.items()}
    return {
        "title": translate(meta["title"]),
        "summary": translate(meta["summary"]),
        "attestation": translate(meta["attestation"]) if "attestation" in meta else None,
        "body_html": rendered["body_html"],
        "toc_html": rendered["toc_html"],
        "quiz": {
            question["id"]: {
                "title_html": question["title_html"],
                "prompt_html": question["prompt_html"],
                "section": question["section"],
                "options": {
                    option["id"]: {
                        "text_html": option["text_html"],
                        "feedback_html": option["feedback_html"],
                    }
                    for option in question["options"]
                },
            }
            for question in rendered["quiz"]
        },
    }


def _sync_annexes(
    annexes: list[AnnexSource], directory: Path, languages: list[tuple[str, Path]]
) -> None:
    stored = {
        (row.mission_code, row.language): row
        for row in db.session.scalars(sa.select(MissionAnnexTranslation))
    }
    for annex in annexes:
        lines = (directory / ANNEX_DIR / f"{annex.code.lower()}.md").read_text("utf-8-sig")
        document = annex_document(annex.path, lines.splitlines())
        for language, _folder in languages:
            name = f"{ANNEX_DIR}/{annex.code.lower()}"
            path = catalogs.catalog_path(directory, language, name)
            if not path.exists():
                continue
            found = catalogs.status(document, name, language, path)
            if not found.complete:
                continue
            row = stored.pop((annex.code, language), None) or MissionAnnexTranslation(
                mission_code=annex.code, language=language
            )
            for field, value in render_annex(annex, document, found.strings).items():
                if getattr(row, field, None) != value:
                    setattr(row, field, value)
            db.session.add(row)
    for row in stored.values():
        db.session.delete(row)


def render_annex(annex: AnnexSource, document: Document, strings: dict[str, str]) -> dict[str, Any]:
    """Render an annex's translation: name, contacts (labels and places) and its text."""

    def translate(text: str) -> str:
        return strings[normalise(text)]

    contacts = []
    for index, contact in enumerate(annex.meta["contacts"]):
        shown = {}
        for key, value in contact.items():
            if not value:
                continue
            segment = document.fields.get(f"contacts.{index}.{key}")
            shown[key] = translate(segment.text) if segment else normalise(str(value))
        contacts.append(shown)
    body = document.rebuild(translate).get(("lesson", 0, 0), "")
    return {
        "content_hash": annex.content_hash,
        "name": translate(document.fields["name"].text),
        "contacts": contacts,
        "body_html": markdown.render(body)[0],
    }
