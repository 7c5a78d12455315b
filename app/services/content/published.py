"""The published content, read once per process and shared by every request and thread.

Pages read module versions, their quizzes, who must take which module and the missions'
annexes from here, not from the database: each is decoded once into an immutable object.
Whether the copy is still current is the content stamp, which `flask modules sync`
changes (`bump`) in the transaction that changes the content, read once per request: in
the query that loads the signed-in person (`read_along`), else on its own. Every instance
sees a sync as soon as it commits, without a restart; a sync that changes nothing leaves
every copy in place.

Only content lives here, never anything about a person: their completions, attempts and
undertakings are read by each request. A view derived from a version (its sections, say)
belongs on its `ModuleContent`, computed once per version, never per request; a piece of
page showing only content is rendered once per language (`Snapshot.fragment`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from markupsafe import Markup

from app.extensions import db
from app.models import ContentStamp, MissionAnnex, ModuleVersion, TrainingModule, User
from app.models.types import utcnow
from app.services import curriculum
from app.services.content.sections import Section, split

# The one row of content_stamp, and what reads it: on its own, or along another query.
STAMP_ID = 1
STAMP_QUERY = sa.select(ContentStamp.stamp).where(ContentStamp.id == STAMP_ID)
STAMP = STAMP_QUERY.scalar_subquery()


def frozen(value: Any) -> Any:
    """Return decoded JSON made read-only: objects as mapping proxies, arrays as tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value


@dataclass(frozen=True)
class ModuleContent:
    """One version of a module as learners read it: rendered at sync, decoded here once."""

    id: int
    module_id: int
    slug: str
    number: int
    label: str
    content_hash: str
    title: str
    summary: str
    body_html: str
    toc_html: str
    estimated_minutes: int
    pass_mark: int
    questions_per_attempt: int
    validity_months: int
    attestation: str | None
    mission_annex: bool
    # The question pool and the sources cited, in the shape sync stores them.
    quiz: tuple[Mapping[str, Any], ...]
    sources: tuple[Mapping[str, Any], ...]
    # The lesson cut at its `##` headings, to read one section at a time.
    sections: tuple[Section, ...] = ()

    @classmethod
    def of(cls, version: ModuleVersion, slug: str) -> ModuleContent:
        """Copy a stored version, its JSON decoded and frozen."""
        return cls(
            id=version.id,
            module_id=version.module_id,
            slug=slug,
            number=version.number,
            label=version.label,
            content_hash=version.content_hash,
            title=version.title,
            summary=version.summary,
            body_html=version.body_html,
            toc_html=version.toc_html,
            estimated_minutes=version.estimated_minutes,
            pass_mark=version.pass_mark,
            questions_per_attempt=version.questions_per_attempt,
            validity_months=version.validity_months,
            attestation=version.attestation,
            mission_annex=version.mission_annex,
            quiz=frozen(version.quiz),
            sources=frozen(version.sources),
            sections=split(version.body_html),
        )


@dataclass(frozen=True)
class AnnexContent:
    """A mission's annex as its personnel read it: contacts and rules, decoded once."""

    mission_code: str
    name: str
    is_example: bool
    reviewed_on: date
    contacts: tuple[Mapping[str, str], ...]
    body_html: str
    content_hash: str

    @classmethod
    def of(cls, annex: MissionAnnex) -> AnnexContent:
        """Copy a stored annex, its contacts frozen."""
        return cls(
            mission_code=annex.mission_code,
            name=annex.name,
            is_example=annex.is_example,
            reviewed_on=annex.reviewed_on,
            contacts=frozen(annex.contacts),
            body_html=annex.body_html,
            content_hash=annex.content_hash,
        )


def _versions(*conditions: sa.ColumnExpressionArgument[bool]) -> list[ModuleContent]:
    rows = db.session.execute(
        sa.select(ModuleVersion, TrainingModule.slug).join(TrainingModule).where(*conditions)
    )
    return [ModuleContent.of(version, slug) for version, slug in rows]


class Snapshot:
    """The content as of one stamp: the current versions, and what was asked of it since.

    Older versions (those of past attempts) and each curriculum are read the first time a
    request asks for them, then kept with the rest; all of it goes with the stamp.
    """

    def __init__(self, stamp: str | None) -> None:
        self.stamp = stamp
        current = _versions(ModuleVersion.is_current, TrainingModule.retired_at.is_(None))
        self.current = {version.slug: version for version in current}
        self._by_id = {version.id: version for version in current}
        self._required: dict[tuple[str, str], tuple[ModuleContent, ...]] = {}
        self._fragments: dict[Hashable, Markup] = {}
        self._annexes: dict[str, AnnexContent] | None = None
        self._sections: dict[tuple[int, str], tuple[Section, ...]] = {}

    def version(self, version_id: int) -> ModuleContent | None:
        """Return any version, current or not, by id."""
        found = self._by_id.get(version_id)
        if found is None:
            read = _versions(ModuleVersion.id == version_id)
            if not read:
                return None
            # setdefault: of two threads reading it at once, both keep the first.
            found = self._by_id.setdefault(version_id, read[0])
        return found

    def required(self, category: str, position: str) -> tuple[ModuleContent, ...]:
        """Return the current version of each module mandatory for people of this kind."""
        key = (category, position)
        found = self._required.get(key)
        if found is None:
            module_ids = set(db.session.scalars(curriculum.required_modules(category, position)))
            versions = [v for v in self.current.values() if v.module_id in module_ids]
            found = self._required.setdefault(
                key, tuple(sorted(versions, key=lambda version: version.title))
            )
        return found

    def annex(self, mission_code: str) -> AnnexContent | None:
        """Return a mission's annex; every annex is read the first time one is asked for."""
        if self._annexes is None:
            annexes = db.session.scalars(sa.select(MissionAnnex))
            self._annexes = {annex.mission_code: AnnexContent.of(annex) for annex in annexes}
        return self._annexes.get(mission_code)

    def sections(self, version_id: int, language: str, body_html: str) -> tuple[Section, ...]:
        """Return a translation's lesson cut into sections, cut the first time asked.

        A translation changes only with a sync, which moves the stamp on: a snapshot's
        copy stays that of the translation it was cut from.
        """
        key = (version_id, language)
        found = self._sections.get(key)
        if found is None:
            found = self._sections.setdefault(key, split(body_html))
        return found

    def fragment(self, key: Hashable, render: Callable[[], Markup]) -> Markup:
        """Return a piece of page made only of this content, rendered the first time asked."""
        found = self._fragments.get(key)
        if found is None:
            found = self._fragments.setdefault(key, render())
        return found


class Published:
    """An application's copy of the content, replaced when the stamp moves on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def at(self, stamp: str | None) -> Snapshot:
        """Return the copy for this stamp, reading the content again if it is another's."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        # One thread reads; the others waiting for it then take what it read.
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.stamp != stamp:
                snapshot = self._snapshot = Snapshot(stamp)
            return snapshot


def read_along(stamp: str | None) -> None:
    """Keep the stamp another query of this request read (`STAMP`), to check the copy with."""
    if has_request_context() and "published_content" not in g:
        g.published_stamp = stamp


def snapshot() -> Snapshot:
    """Return the content current for this request, checked once per request.

    Outside a request (a command, a job) the stamp is read at every call: a worker's
    context can outlive many syncs.
    """
    in_request = has_request_context()
    held: Snapshot | None = g.get("published_content") if in_request else None
    if held is None:
        if in_request and "published_stamp" in g:
            stamp = g.pop("published_stamp")
        else:
            stamp = db.session.scalar(STAMP_QUERY)
        published = current_app.extensions.setdefault("published_content", Published())
        held = published.at(stamp)
        if in_request:
            g.published_content = held
    return held


def current_version(slug: str) -> ModuleContent | None:
    """Return the published version of a module, unless it is retired."""
    return snapshot().current.get(slug)


def version(version_id: int) -> ModuleContent:
    """Return a version by id, current or not (such as the one an attempt was drawn from)."""
    found = snapshot().version(version_id)
    if found is None:
        raise LookupError(f"no module version {version_id}")
    return found


def annex(mission_code: str) -> AnnexContent | None:
    """Return the annex of a mission, if it has one."""
    return snapshot().annex(mission_code)


def required_versions(user: User) -> tuple[ModuleContent, ...]:
    """Return the current version of every module mandatory for the person, by title."""
    return snapshot().required(user.category, user.position)


def bump() -> None:
    """Record that the published content changed, in the caller's transaction."""
    stamp = secrets.token_hex(16)
    changed = db.session.execute(
        sa.update(ContentStamp)
        .where(ContentStamp.id == STAMP_ID)
        .values(stamp=stamp, changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):
        db.session.add(ContentStamp(id=STAMP_ID, stamp=stamp))
        db.session.flush()
    # The caller reads the new content from now on, not what it held before.
    g.pop("published_content", None)
    g.pop("published_stamp", None)
