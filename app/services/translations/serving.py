"""What a learner reads: a module version in their language when it is translated in full.

Never a mix: either every text of a version comes from its complete translation, or
every text is the source's, with a one-line note saying why. The quiz's structure and
answer key are always the source's; a translation only lends its words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _

from app.extensions import db
from app.i18n import collation_key
from app.models import MissionAnnex, MissionAnnexTranslation, ModuleTranslation, ModuleVersion
from app.services.content import published
from app.services.content.published import AnnexContent, ModuleContent
from app.services.content.sections import Section, containing, split
from app.services.translations.catalogs import SOURCE_LANGUAGE


def wanted_language() -> str:
    """Return the language the person reads the interface in (its code, without region)."""
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def language_name(code: str) -> str:
    """Return a language's name as the interface's language writes it."""
    locale = _locale(code)
    if locale is None:
        return code
    return locale.get_language_name(get_locale() or SOURCE_LANGUAGE) or code


def direction(code: str) -> str:
    """Return "rtl" or "ltr": how a language is written."""
    locale = _locale(code)
    return "rtl" if locale is not None and locale.character_order == "right-to-left" else "ltr"


@dataclass(frozen=True)
class ModuleText:
    """A version's texts in the language a learner reads them in."""

    language: str
    title: str
    summary: str
    attestation: str | None
    body_html: str
    toc_html: str
    # Why the source language is shown instead of the learner's, if it is.
    note: str | None = None
    # The lesson cut at its `##` headings: the same sections and anchors in every language.
    sections: tuple[Section, ...] = ()

    @property
    def direction(self) -> str:
        """Return how the module's language is written: "ltr" or "rtl"."""
        return direction(self.language)

    def section(self, number: int) -> Section | None:
        """Return the section of this number (from 1), if the lesson has it."""
        return self.sections[number - 1] if 1 <= number <= len(self.sections) else None

    def section_of(self, anchor: str) -> int:
        """Return the number of the section holding the heading `anchor`."""
        return containing(self.sections, anchor)

    @property
    def undertaking_digest(self) -> str:
        """Return a short fingerprint of the undertaking's words, to confirm the ones read."""
        words = (self.attestation or "").encode()
        return hashlib.sha256(words).hexdigest()[:16]


def _translation(version: ModuleVersion | ModuleContent, language: str) -> ModuleTranslation | None:
    if language == SOURCE_LANGUAGE:
        return None
    # By primary key: the session's identity map answers again without a query.
    return db.session.get(ModuleTranslation, (version.id, language))


def served_language(version: ModuleVersion | ModuleContent, language: str | None = None) -> str:
    """Return the language a version is shown in for someone who reads `language`."""
    language = language or wanted_language()
    translation = _translation(version, language)
    return language if translation is not None and translation.complete else SOURCE_LANGUAGE


def module_text(version: ModuleVersion | ModuleContent, language: str | None = None) -> ModuleText:
    """Return a version's texts in `language` (by default the interface's), or its source's."""
    language = language or wanted_language()
    translation = _translation(version, language)
    if translation is not None and translation.complete:
        return ModuleText(
            language=language,
            title=translation.title or version.title,
            summary=translation.summary or version.summary,
            attestation=translation.attestation if version.attestation else None,
            body_html=translation.body_html or "",
            toc_html=translation.toc_html or "",
            sections=_translated_sections(version, language, translation.body_html or ""),
        )
    note = None
    if language != SOURCE_LANGUAGE:
        names = {"language": language_name(language), "source": language_name(SOURCE_LANGUAGE)}
        if translation is None:
            note = _("This module is not available in %(language)s yet: it is shown in "
                     "%(source)s.", **names)  # fmt: skip
        else:
            note = _("The %(language)s translation of this module is not up to date: it is "
                     "shown in %(source)s until it is.", **names)  # fmt: skip
    return ModuleText(
        language=SOURCE_LANGUAGE,
        title=version.title,
        summary=version.summary,
        attestation=version.attestation,
        body_html=version.body_html,
        toc_html=version.toc_html,
        note=note,
        sections=version.sections
        if isinstance(version, ModuleContent)
        else split(version.body_html),
    )


def _translated_sections(
    version: ModuleVersion | ModuleContent, language: str, body_html: str
) -> tuple[Section, ...]:
    if isinstance(version, ModuleContent):
        return published.snapshot().sections(version.id, language, body_html)
    return split(body_html)


def titles(
    versions: Iterable[ModuleVersion | ModuleContent], language: str | None = None
) -> dict[int, ModuleText]:
    """Return each version's title and summary as the list of modules shows them, by id.

    One query for every version, none when the person reads the source language.
    """
    versions = list(versions)
    language = language or wanted_language()
    found: dict[int, ModuleTranslation] = {}
    if language != SOURCE_LANGUAGE and versions:
        found = {
            row.module_version_id: row
            for row in db.session.scalars(
                sa.select(ModuleTranslation).where(
                    ModuleTranslation.language == language,
                    ModuleTranslation.complete,
                    ModuleTranslation.module_version_id.in_([v.id for v in versions]),
                )
            )
        }
    shown = {}
    for version in versions:
        row = found.get(version.id)
        shown[version.id] = ModuleText(
            language=language if row else SOURCE_LANGUAGE,
            title=(row.title if row else None) or version.title,
            summary=(row.summary if row else None) or version.summary,
            attestation=None,
            body_html="",
            toc_html="",
        )
    return shown


def titles_by_module(
    versions: Iterable[ModuleVersion], language: str | None = None
) -> dict[int, ModuleText]:
    """Return titles() of modules' versions by module id, for pages that list modules.

    One query for every version, none when the person reads the source language.
    """
    versions = list(versions)
    shown = titles(versions, language)
    return {version.module_id: shown[version.id] for version in versions}


def in_title_order(
    versions: Iterable[ModuleVersion], titles: Mapping[int, ModuleText]
) -> list[ModuleVersion]:
    """Return modules' versions in the alphabetical order of the titles the reader sees.

    `titles`: those of titles_by_module(), in the reader's language.
    """
    return sorted(versions, key=lambda version: collation_key(titles[version.module_id].title))


def quiz_in(version: ModuleVersion | ModuleContent, language: str) -> list[dict[str, Any]]:
    """Return a version's quiz with its texts in `language` when translated in full.

    Everything but the words is the version's own: question and option ids, which
    options are right, the tags and whether several answers are asked for.
    """
    translation = _translation(version, language)
    if translation is None or not translation.complete or not translation.quiz:
        return [dict(question) for question in version.quiz]
    texts = translation.quiz
    quiz = []
    for question in version.quiz:
        words = texts[question["id"]]
        options = [
            {**option, "text_html": words["options"][option["id"]]["text_html"],
             "feedback_html": words["options"][option["id"]]["feedback_html"]}
            for option in question["options"]
        ]  # fmt: skip
        quiz.append(
            {**question, "title_html": words["title_html"], "prompt_html": words["prompt_html"],
             "section": words["section"], "options": options}
        )  # fmt: skip
    return quiz


@dataclass(frozen=True)
class AnnexText:
    """A mission annex as a reader sees it, in their language when translated in full."""

    mission_code: str
    name: str
    is_example: bool
    reviewed_on: Any
    contacts: Sequence[Mapping[str, str]]
    body_html: str
    language: str

    @property
    def direction(self) -> str:
        """Return how the annex's language is written: "ltr" or "rtl"."""
        return direction(self.language)


def annex_text(
    annex: MissionAnnex | AnnexContent | None, language: str | None = None
) -> AnnexText | None:
    """Return a mission annex in `language` (by default the interface's), or as written."""
    if annex is None:
        return None
    language = language or wanted_language()
    translation = None
    if language != SOURCE_LANGUAGE:
        translation = db.session.get(MissionAnnexTranslation, (annex.mission_code, language))
    if translation is not None and translation.content_hash != annex.content_hash:
        translation = None
    source = translation or annex
    return AnnexText(
        mission_code=annex.mission_code,
        name=source.name,
        is_example=annex.is_example,
        reviewed_on=annex.reviewed_on,
        contacts=source.contacts,
        body_html=source.body_html,
        language=language if translation else SOURCE_LANGUAGE,
    )
