"""Mission annexes: each mission's own rules and reporting contacts, in modules/missions/.

An annex is Markdown with front matter, like a module: who to contact (the Conduct and
Discipline Team, hotline, e-mail, complaint boxes) and the mission's own rules (curfew,
out-of-bounds areas, non-fraternisation). It is checked with the modules, rendered and
sanitised once when they are loaded, and shown to the mission's personnel and, without
signing in, to anyone at /report/<mission code>.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from app.extensions import db
from app.models import Mission, MissionAnnex, Unit, User
from app.services import markdown
from app.services.content import published
from app.services.frontmatter import Problem, display_path, field_line, read_front_matter

ANNEX_DIR = "missions"
CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{3,30}$")
FIELDS = {"mission", "name", "example", "reviewed_on", "contacts"}
CONTACT_FIELDS = {"label", "phone", "email", "where"}


@dataclass
class AnnexSource:
    """A mission annex as written, checked but not yet rendered."""

    path: str
    meta: dict[str, Any]
    body: str
    content_hash: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.meta.get("mission", ""))


def annex_paths(directory: Path) -> list[Path]:
    """List the annex files of a modules directory."""
    return sorted((directory / ANNEX_DIR).glob("*.md"))


def read_annex(path: Path) -> AnnexSource:
    """Parse and check one annex file."""
    shown = display_path(path)
    raw = path.read_bytes()
    content_hash = hashlib.sha256(raw).hexdigest()
    problems: list[Problem] = []
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        problem = Problem(shown, 1, "the file is not UTF-8 text; save it as UTF-8")
        return AnnexSource(shown, {}, "", content_hash, [problem])
    meta, body_start = read_front_matter(shown, lines, problems)
    annex = AnnexSource(shown, meta, "\n".join(lines[body_start:]).strip(), content_hash)
    if meta:
        _check(annex, path, lines, problems)
    annex.problems = problems
    return annex


def _check(annex: AnnexSource, path: Path, lines: list[str], problems: list[Problem]) -> None:
    meta = annex.meta

    def report(name: str, message: str) -> None:
        problems.append(Problem(annex.path, field_line(lines, name), message))

    for name in sorted(set(meta) - FIELDS):
        report(name, f'unknown field "{name}"; use: ' + ", ".join(sorted(FIELDS)))
    for name in ("mission", "name", "reviewed_on", "contacts"):
        if meta.get(name) in (None, "", []):
            report(name, f'the annex is missing the field "{name}"')
    code = meta.get("mission")
    if code not in (None, ""):
        if not (isinstance(code, str) and CODE_RE.match(code)):
            report("mission", "mission must be the mission's code: capitals, digits and -")
        elif path.stem != code.lower():
            report("mission", f"the file for mission {code} must be named {code.lower()}.md")
    if "example" in meta and not isinstance(meta["example"], bool):
        report("example", "example must be true or false")
    if meta.get("reviewed_on") not in (None, "") and not isinstance(meta["reviewed_on"], date):
        report("reviewed_on", "reviewed_on must be a date written 2026-11-30")
    contacts = meta.get("contacts")
    if contacts not in (None, "", []):
        if not isinstance(contacts, list):
            report("contacts", "contacts must be a list, each with a label and a phone, "
                   "e-mail or place")  # fmt: skip
        else:
            for number, contact in enumerate(contacts, start=1):
                for message in _contact_problems(contact):
                    report("contacts", f"contact {number}: {message}")
    if not annex.body:
        problems.append(
            Problem(annex.path, len(lines) or 1, "the annex has no text: say where to report "
                    "and which mission rules apply")
        )  # fmt: skip


def _contact_problems(contact: object) -> list[str]:
    if not isinstance(contact, dict):
        return ["write it as label: ... with a phone:, email: or where: line"]
    problems = [f'unknown field "{name}"' for name in sorted(set(contact) - CONTACT_FIELDS)]
    if not str(contact.get("label") or "").strip():
        problems.append("it needs a label (who or what it is)")
    if not any(str(contact.get(name) or "").strip() for name in ("phone", "email", "where")):
        problems.append("give a phone, an email or a where (a place)")
    email, phone = contact.get("email"), contact.get("phone")
    if email and not EMAIL_RE.match(str(email)):
        problems.append(f'"{email}" is not an e-mail address')
    if phone and not PHONE_RE.match(str(phone)):
        problems.append(f'"{phone}" is not a phone number (digits, spaces, + and - only)')
    return problems


def read_annexes(directory: Path) -> list[AnnexSource]:
    """Parse every annex, adding a problem for a mission described twice."""
    annexes = [read_annex(path) for path in annex_paths(directory)]
    seen: dict[str, str] = {}
    for annex in annexes:
        if annex.code and annex.code in seen:
            annex.problems.append(
                Problem(annex.path, 1, f"mission {annex.code} already has an annex: "
                        f"{seen[annex.code]}")
            )  # fmt: skip
        seen.setdefault(annex.code, annex.path)
    return annexes


def sync_annexes(annexes: list[AnnexSource]) -> bool:
    """Store the checked annexes, replacing changed ones and removing those deleted.

    Return whether anything changed.
    """
    changed = False
    existing = {a.mission_code: a for a in db.session.scalars(sa.select(MissionAnnex))}
    for source in annexes:
        annex = existing.pop(source.code, None) or MissionAnnex(mission_code=source.code)
        contacts = [
            {name: " ".join(str(value).split()) for name, value in contact.items() if value}
            for contact in source.meta["contacts"]
        ]
        values = {
            "name": " ".join(str(source.meta["name"]).split()),
            "is_example": bool(source.meta.get("example")),
            "reviewed_on": source.meta["reviewed_on"],
            "contacts": contacts,
            "body_html": markdown.render(source.body)[0],
            "content_hash": source.content_hash,
        }
        for name, value in values.items():
            if getattr(annex, name, None) != value:
                setattr(annex, name, value)
                changed = True
        db.session.add(annex)
    for annex in existing.values():
        db.session.delete(annex)
        changed = True
    db.session.flush()
    return changed


def annex_for(mission_code: str | None) -> MissionAnnex | None:
    """Return a mission's annex, if it has one."""
    if not mission_code:
        return None
    return db.session.scalar(
        sa.select(MissionAnnex).where(MissionAnnex.mission_code == mission_code)
    )


# Built once: My training asks it on every view.
MISSION_OF_UNIT = (
    sa.select(Mission.code)
    .join(Unit, Unit.mission_id == Mission.id)
    .where(Unit.id == sa.bindparam("unit_id"))
)


# The signed-in person's mission, read along with the person (app.auth.ACCOUNT).
MISSION_OF_PERSON = (
    sa.select(Mission.code)
    .join(Unit, Unit.mission_id == Mission.id)
    .where(Unit.id == User.unit_id)
    .correlate(User)
    .scalar_subquery()
)


def read_along(user: User, mission_code: str | None) -> None:
    """Keep the mission code read with the signed-in person, for `annex_for_person`."""
    if has_request_context():
        g.person_mission = (user.id, user.unit_id, mission_code)


def annex_for_person(user: User) -> published.AnnexContent | None:
    """Return the annex of the mission a person's unit serves in, if it has one."""
    if user.unit_id is None:
        return None
    held = g.get("person_mission") if has_request_context() else None
    if held is not None and held[:2] == (user.id, user.unit_id):
        code = held[2]
    else:
        code = db.session.scalar(MISSION_OF_UNIT, {"unit_id": user.unit_id})
    return published.annex(code) if code else None
