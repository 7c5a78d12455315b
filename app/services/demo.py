"""Demonstration data for the embedded run: one mission, two units, one account per role."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Completion,
    Mission,
    ModuleVersion,
    PersonnelCategory,
    Position,
    QuizAttempt,
    Role,
    TrainingModule,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import certificates, curriculum, records, training
from app.services.content import published

MISSION = {"code": "DEMO", "name": "United Nations Demonstration Mission"}
UNITS = [
    {"code": "DEMO-INF-1", "name": "Infantry Battalion 1", "country": "Nepal"},
    {"code": "DEMO-FPU-2", "name": "Formed Police Unit 2", "country": "Senegal"},
]
ACCOUNTS = [
    # username, full name, role, category, position, unit code, assigned unit codes
    ("peacekeeper", "Amina Haddad", Role.PEACEKEEPER, PersonnelCategory.MILITARY_CONTINGENT,
     Position.MEMBER, "DEMO-INF-1", []),
    ("coordinator", "Lucas Moreau", Role.COORDINATOR, PersonnelCategory.CIVILIAN,
     Position.MEMBER, None, ["DEMO-INF-1", "DEMO-FPU-2"]),
    ("commander", "Rajan Thapa", Role.COMMANDER, PersonnelCategory.MILITARY_CONTINGENT,
     Position.COMMANDER, "DEMO-INF-1", ["DEMO-INF-1"]),
    ("admin", "Olga Petrova", Role.ADMIN, PersonnelCategory.CIVILIAN,
     Position.MANAGER, None, []),
    ("headquarters", "Ingrid Larsen", Role.HEADQUARTERS, PersonnelCategory.CIVILIAN,
     Position.MANAGER, None, []),
    ("facilitator", "Kofi Asante", Role.FACILITATOR, PersonnelCategory.CIVILIAN,
     Position.MEMBER, None, ["DEMO-INF-1", "DEMO-FPU-2"]),
]  # fmt: skip


def random_password() -> str:
    """Return a random password to print for this run's demo accounts."""
    return secrets.token_urlsafe(12)


def seed(password: str) -> list[str]:
    """Create or refresh the demo data without duplicating it; return the usernames."""
    mission = db.session.scalar(sa.select(Mission).where(Mission.code == MISSION["code"]))
    if mission is None:
        mission = Mission(**MISSION)
        db.session.add(mission)
    units = {}
    for values in UNITS:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == values["code"]))
        if unit is None:
            unit = Unit(mission=mission, **values)
            db.session.add(unit)
        units[values["code"]] = unit
    db.session.flush()

    deployment = (utcnow() + timedelta(days=45)).date()
    for number, (username, name, role, category, position, unit_code, assigned) in enumerate(
        ACCOUNTS, start=1
    ):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = User(username=username, service_number=f"DEMO-{number:04d}")
            db.session.add(user)
        user.full_name, user.role, user.category, user.position = name, role, category, position
        user.unit = units[unit_code] if unit_code else None
        user.assigned_units = [units[code] for code in assigned]
        user.deployment_date = deployment if unit_code else None
        user.is_active = True
        user.set_password(password)
        user.end_sessions()
    db.session.flush()
    seed_unit_members(units)
    return [account[0] for account in ACCOUNTS]


# Members of the demo units, in several categories and states: name, category, unit,
# days until deployment, and how their training stands (complete, expiring, lapsed, none).
MEMBERS = [
    ("Kiran Gurung", PersonnelCategory.MILITARY_CONTINGENT, "DEMO-INF-1", 40, "complete"),
    ("Sita Rai", PersonnelCategory.MILITARY_CONTINGENT, "DEMO-INF-1", 40, "expiring"),
    ("Bishnu Tamang", PersonnelCategory.MILITARY_CONTINGENT, "DEMO-INF-1", 10, "none"),
    ("Prakash Shrestha", PersonnelCategory.MILITARY_CONTINGENT, "DEMO-INF-1", 5, "lapsed"),
    ("Maya Karki", PersonnelCategory.MILITARY_STAFF_OFFICER, "DEMO-INF-1", 90, "none"),
    ("Dawa Lama", PersonnelCategory.MILITARY_CONTINGENT, "DEMO-INF-1", 120, "complete"),
    ("Anjali Thapa", PersonnelCategory.CIVILIAN, "DEMO-INF-1", -20, "none"),
    ("Fatou Ndiaye", PersonnelCategory.FORMED_POLICE, "DEMO-FPU-2", 30, "complete"),
    ("Moussa Sow", PersonnelCategory.FORMED_POLICE, "DEMO-FPU-2", 30, "expiring"),
    ("Awa Diop", PersonnelCategory.FORMED_POLICE, "DEMO-FPU-2", -5, "none"),
    ("Cheikh Fall", PersonnelCategory.INDIVIDUAL_POLICE, "DEMO-FPU-2", 60, "none"),
    ("Mariama Ba", PersonnelCategory.UN_VOLUNTEER, "DEMO-FPU-2", 12, "lapsed"),
    ("Ibrahima Faye", PersonnelCategory.CONTRACTOR, "DEMO-FPU-2", 200, "complete"),
]


def seed_unit_members(units: dict[str, Unit]) -> None:
    """Create the demo units' members once, with completions that show every state."""
    now = utcnow()
    existing = set(
        db.session.scalars(
            sa.select(User.service_number).where(User.service_number.like("DEMO-M%"))
        )
    )
    for number, (name, category, unit_code, days, standing) in enumerate(MEMBERS, start=1):
        service_number = f"DEMO-M{number:03d}"
        if service_number in existing:
            continue
        user = User(
            username=service_number.lower(),
            full_name=name,
            service_number=service_number,
            category=category,
            unit=units[unit_code],
            deployment_date=(now + timedelta(days=days)).date(),
            created_at=now - timedelta(days=60),
        )
        db.session.add(user)
        db.session.flush()
        if standing == "none":
            continue
        # Expiring: 12 days of validity left; lapsed: expired 20 days ago.
        shift = {"complete": None, "expiring": 12, "lapsed": -20}[standing]
        for version in curriculum.required_versions(user):
            completed = (
                now - timedelta(days=30)
                if shift is None
                else training.add_months(now + timedelta(days=shift), -version.validity_months)
            )
            attempt = QuizAttempt(
                user=user,
                module_version=version,
                questions=[],
                answers={},
                score=100,
                passed=True,
                started_at=completed - timedelta(minutes=20),
                submitted_at=completed,
            )
            completion = Completion(
                user=user,
                module_id=version.module_id,
                module_version=version,
                attempt=attempt,
                completed_at=completed,
                expires_at=training.add_months(completed, version.validity_months),
            )
            db.session.add_all([attempt, completion])
            db.session.flush()
            records.extend([(user.id, version.module_id, completion.expires_at)])
            certificates.issue(completion)


# Scale data ---------------------------------------------------------------------------

SCALE_COUNTRIES = [
    "Bangladesh", "Brazil", "Egypt", "Fiji", "France", "Ghana", "India", "Indonesia",
    "Jordan", "Kenya", "Morocco", "Nepal", "Pakistan", "Peru", "Rwanda", "Senegal",
    "Tanzania", "Uruguay", "Zambia", "China",
]  # fmt: skip
FIRST_NAMES = [
    "Amina", "Ivan", "Mei", "José", "Fatima", "Olga", "Kwame", "Priya", "Ahmed", "Sofia",
    "Tenzin", "Chloé", "Yusuf", "Ana", "Dmitri", "Aïcha", "Li", "Rahul", "Nadia", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "Haddad", "Petrov", "Wang", "García", "Diallo", "Ivanova", "Mensah", "Sharma", "Hassan",
    "Silva", "Sherpa", "Dubois", "Okafor", "Pereira", "Kuznetsov", "Traoré", "Chen", "Khan",
]  # fmt: skip
BATCH = 10_000


def scale(
    users: int,
    units: int,
    modules: int,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
    seed: int = 2005,
) -> dict[str, int]:
    """Generate a realistic organisation: units, people, modules and their history.

    Rows are inserted in batches through Core, not one ORM object at a time, so
    100,000 people and two million completions take minutes, not hours.
    """
    rng = random.Random(seed)  # noqa: S311  (repeatable data, not secrets)
    now = utcnow()
    mission = Mission(code=f"SCALE-{rng.randrange(10**6):06d}", name="Scale Test Mission")
    db.session.add(mission)
    db.session.flush()
    unit_ids = _scale_units(mission, units)
    module_versions = _scale_modules(mission.code, modules)
    db.session.flush()
    curriculum.rebuild()
    published.bump()
    user_rows = _scale_people(mission, unit_ids, users, rng, now)
    user_ids = _insert_returning_ids(User, user_rows, lambda done: progress("people", done, users))
    made = _scale_history(user_ids, module_versions, rng, now, progress)
    return {"units": units, "people": len(user_ids), "completions": made}


def _scale_units(mission: Mission, units: int) -> list[int]:
    """Insert the mission's units; return their ids."""
    return _insert_returning_ids(
        Unit,
        [
            {
                "mission_id": mission.id,
                "code": f"{mission.code}-U{number:03d}",
                "name": f"Unit {number:03d}",
                "country": SCALE_COUNTRIES[number % len(SCALE_COUNTRIES)],
            }
            for number in range(units)
        ],
    )


def _scale_people(
    mission: Mission, unit_ids: list[int], users: int, rng: random.Random, now: datetime
) -> list[dict[str, Any]]:
    """Return the rows of the mission's people, shared out over its units."""
    units = len(unit_ids)
    # The first unit is a full battalion of 850; the rest share the others evenly.
    sizes = [min(850, users)] + [0] * (units - 1)
    for index in range(users - sizes[0]):
        sizes[1 + index % (units - 1) if units > 1 else 0] += 1
    categories = [c.value for c in PersonnelCategory]
    user_rows: list[dict[str, Any]] = []
    number = 0
    for unit_id, size in zip(unit_ids, sizes, strict=True):
        for _ in range(size):
            number += 1
            deployment = now.date() + timedelta(days=rng.randint(-120, 240))
            user_rows.append(
                {
                    "username": f"{mission.code.lower()}-{number:06d}",
                    "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "role": Role.PEACEKEEPER.value,
                    "category": categories[0] if rng.random() < 0.7 else rng.choice(categories),
                    "position": Position.COMMANDER.value if rng.random() < 0.03 else "member",
                    "service_number": f"{mission.code}-{number:06d}",
                    "unit_id": unit_id,
                    "deployment_date": deployment,
                    "is_active": True,
                    "session_token": secrets.token_urlsafe(24),
                    "created_at": now - timedelta(days=rng.randint(1, 400)),
                }
            )
    return user_rows


def _scale_history(
    user_ids: list[int],
    module_versions: list[tuple[int, int, int]],
    rng: random.Random,
    now: datetime,
    progress: Callable[[str, int, int], None],
) -> int:
    """Insert people's quiz attempts and completions in batches; return the completions."""
    attempts: list[dict[str, object]] = []
    completions: list[dict[str, Any]] = []
    total = len(user_ids) * len(module_versions)
    next_attempt = (db.session.scalar(sa.select(sa.func.max(QuizAttempt.id))) or 0) + 1
    made = {"completions": 0}

    def flush_history(force: bool = False) -> None:
        if len(completions) >= BATCH or (force and completions):
            db.session.execute(sa.insert(QuizAttempt), attempts)
            db.session.execute(sa.insert(Completion), completions)
            records.extend((c["user_id"], c["module_id"], c["expires_at"]) for c in completions)
            made["completions"] += len(completions)
            attempts.clear()
            completions.clear()

    for done, user_id in enumerate(user_ids, start=1):
        for version_id, module_id, validity in module_versions:
            # Most people completed most modules; some twice (an old, expired completion).
            for _ in range(rng.choices([0, 1, 2], weights=[8, 80, 12])[0]):
                completed = now - timedelta(days=rng.randint(0, 800))
                attempts.append(
                    {
                        "id": next_attempt,
                        "user_id": user_id,
                        "module_version_id": version_id,
                        "questions": [],
                        "answers": {},
                        "score": 90,
                        "passed": True,
                        "started_at": completed - timedelta(minutes=15),
                        "submitted_at": completed,
                    }
                )
                completions.append(
                    {
                        "user_id": user_id,
                        "module_id": module_id,
                        "module_version_id": version_id,
                        "attempt_id": next_attempt,
                        "completed_at": completed,
                        "expires_at": completed + timedelta(days=30 * validity),
                    }
                )
                next_attempt += 1
        flush_history()
        if done % 1000 == 0:
            progress("history", done * len(module_versions), total)
    flush_history(force=True)
    progress("history", total, total)
    flush_history(force=True)
    progress("history", total, total)
    return made["completions"]


def _scale_modules(code: str, count: int) -> list[tuple[int, int, int]]:
    versions = []
    for number in range(1, count + 1):
        module = TrainingModule(slug=f"{code.lower()}-module-{number:02d}")
        db.session.add(module)
        db.session.flush()
        validity = 24 if number % 4 else 12
        version = ModuleVersion(
            module_id=module.id,
            number=1,
            label="1.0",
            content_hash=f"{number:064d}",
            title=f"Scale module {number:02d}",
            summary="Generated for load and speed measurements.",
            body_html="<p>Generated.</p>",
            toc_html="",
            estimated_minutes=20,
            pass_mark=80,
            questions_per_attempt=1,
            validity_months=validity,
            categories=[c.value for c in PersonnelCategory],
            positions=["commander", "manager"] if number == count and count > 1 else [],
            quiz=[],
        )
        db.session.add(version)
        db.session.flush()
        versions.append((version.id, module.id, validity))
    return versions


def _insert_returning_ids(
    model: Any, rows: list[dict[str, Any]], report: Callable[[int], None] = lambda done: None
) -> list[int]:
    """Insert rows in batches and return their ids in order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        result = db.session.execute(
            sa.insert(model).returning(model.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(result.scalars().all())
        report(len(ids))
    return ids
