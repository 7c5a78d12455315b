"""Load the checked modules into the database, adding a version only where content changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import ModuleVersion, TrainingModule
from app.models.types import utcnow
from app.services import annexes, curriculum, markdown, sources, translations
from app.services.content import published
from app.services.content.catalogue import in_order, read_catalogue
from app.services.content.meta import mandatory_categories
from app.services.content.model import ModuleError, ModuleSource, Question


def _rendered_quiz(
    questions: Iterable[Question], registry: sources.Registry, heading_ids: dict[str, str]
) -> list[dict[str, Any]]:
    def cite(text: str) -> str:
        return sources.cite(text, registry)

    return [
        {
            "id": str(number),
            "title_html": markdown.render_inline(question.title),
            "prompt_html": markdown.render(cite(question.prompt))[0] if question.prompt else "",
            "scenario": question.scenario,
            "multiple": question.multiple,
            "categories": question.categories,
            "section": (
                {"title": question.section, "anchor": heading_ids.get(question.section, "")}
                if question.section
                else None
            ),
            "options": [
                {
                    "id": chr(ord("a") + index),
                    "text_html": markdown.render_inline(cite(option.text)),
                    "correct": option.correct,
                    "feedback_html": markdown.render(cite(option.feedback))[0],
                }
                for index, option in enumerate(question.options)
            ],
        }
        for number, question in enumerate(questions, start=1)
    ]


def _cited(source: ModuleSource, registry: sources.Registry) -> list[dict[str, Any]]:
    """Return the registry entries a module cites anywhere, in order of first citation."""
    text = "\n".join("\n".join(lines) for lines in source.files.values())
    return sources.snapshot(sources.cited_keys(text), registry)


@dataclass(frozen=True)
class SyncResult:
    slug: str
    action: str  # "created", "updated", "unchanged" or "retired"
    version: int | None


def sync_modules(directory: Path) -> list[SyncResult]:
    """Load every module, adding a version only where the content changed.

    Anything learners would read differently moves the content stamp on, so that every
    instance reads the content again; a sync that changes nothing leaves it.
    """
    catalogue = read_catalogue(directory)
    if catalogue.problems:
        raise ModuleError(in_order(catalogue.problems))
    registry = catalogue.registry

    existing = {m.slug: m for m in db.session.scalars(sa.select(TrainingModule))}
    current = {
        v.module_id: v
        for v in db.session.scalars(sa.select(ModuleVersion).where(ModuleVersion.is_current))
    }
    results = []
    refreshed = False
    for source in catalogue.modules:
        module = existing.pop(source.slug, None)
        if module is None:
            module = TrainingModule(slug=source.slug)
            db.session.add(module)
            db.session.flush()
        module.retired_at = None
        latest = current.get(module.id)
        if latest is not None and latest.content_hash == source.content_hash:
            # Same content: keep the version, but refresh its HTML should rendering improve.
            refreshed = _render_into(latest, source, registry) or refreshed
            results.append(SyncResult(source.slug, "unchanged", latest.number))
            continue
        number = 1 + (
            db.session.scalar(
                sa.select(sa.func.max(ModuleVersion.number)).where(
                    ModuleVersion.module_id == module.id
                )
            )
            or 0
        )
        if latest is not None:
            latest.is_current = False
        db.session.add(_new_version(module, number, source, registry))
        results.append(SyncResult(source.slug, "updated" if latest else "created", number))

    for module in existing.values():
        if module.retired_at is None:
            module.retired_at = utcnow()
            for version in module.versions:
                version.is_current = False
            results.append(SyncResult(module.slug, "retired", None))
    db.session.flush()
    curriculum.rebuild()
    refreshed = annexes.sync_annexes(catalogue.annexes) or refreshed
    refreshed = translations.sync_translations(catalogue, directory) or refreshed
    if refreshed or any(result.action != "unchanged" for result in results):
        published.bump()
    return results


def all_modules() -> list[TrainingModule]:
    """Return every module ever loaded, retired ones included, with its versions, by slug."""
    return list(
        db.session.scalars(
            sa.select(TrainingModule)
            .options(selectinload(TrainingModule.versions))
            .order_by(TrainingModule.slug)
        )
    )


def rendering(
    source: ModuleSource, registry: sources.Registry, anchors: list[str] | None = None
) -> dict[str, Any]:
    """Render what a version stores of its source: lesson, contents, quiz, cited sources.

    `anchors` gives the headings their ids in order (a translation keeps its source's).
    """
    lesson = sources.cite(source.lesson, registry)
    body_html, toc_html = markdown.render(lesson, anchors)
    ids = markdown.heading_ids(lesson, anchors)
    return {
        "body_html": body_html,
        "toc_html": toc_html,
        "quiz": _rendered_quiz(source.questions, registry, ids),
        "sources": _cited(source, registry),
    }


def _render_into(version: ModuleVersion, source: ModuleSource, registry: sources.Registry) -> bool:
    """Store the version's content rendered afresh; return whether any of it changed."""
    changed = False
    for name, value in rendering(source, registry).items():
        if getattr(version, name) != value:
            setattr(version, name, value)
            changed = True
    return changed


def _new_version(
    module: TrainingModule, number: int, source: ModuleSource, registry: sources.Registry
) -> ModuleVersion:
    meta = source.meta
    attestation = meta.get("attestation")
    return ModuleVersion(
        module=module,
        number=number,
        label=str(meta["version"]),
        content_hash=source.content_hash,
        is_current=True,
        title=str(meta["title"]).strip(),
        summary=str(meta["summary"]).strip(),
        estimated_minutes=meta["estimated_minutes"],
        pass_mark=meta["pass_mark"],
        questions_per_attempt=meta["questions_per_attempt"],
        validity_months=meta["validity_months"],
        categories=mandatory_categories(meta),
        positions=list(meta.get("roles") or []),
        attestation=" ".join(attestation.split()) if attestation else None,
        mission_annex=bool(meta.get("mission_annex")),
        **rendering(source, registry),
    )
