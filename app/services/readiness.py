"""Readiness to deploy: whether each person holds every mandatory module through deployment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import CurriculumRequirement, ModuleVersion, TrainingRecord, Unit, User
from app.models.types import utcnow
from app.services import curriculum, reporting


class Readiness(StrEnum):
    """A person's readiness, worst first."""

    BLOCKED = "blocked"
    EXPIRING = "expiring"
    READY = "ready"


ORDER = [Readiness.BLOCKED, Readiness.EXPIRING, Readiness.READY]


@dataclass
class PersonReadiness:
    """One person's readiness and what stands in the way."""

    user_id: int
    full_name: str
    service_number: str
    category: str
    unit_id: int
    unit_name: str
    deployment_date: date | None
    status: Readiness = Readiness.READY
    # Titles of modules never completed or expired: what blocks deployment.
    missing: list[str] = field(default_factory=list)
    # Titles and expiry dates of modules that lapse before deployment or soon.
    expiring: list[tuple[str, date]] = field(default_factory=list)


def must_hold_until(deployment: date | None, now: datetime) -> date:
    """Return the last day a module must still be valid on to count as ready.

    A completion must stay valid through the deployment day, and in any case for the
    next EXPIRING_WITHIN_DAYS days.
    """
    soon = (now + timedelta(days=current_app.config["EXPIRING_WITHIN_DAYS"])).date()
    return max(deployment, soon) if deployment else soon


def board(
    unit_ids: Sequence[int],
    now: datetime | None = None,
    modules: Sequence[ModuleVersion] | None = None,
) -> list[PersonReadiness]:
    """Return every active person of the units with their readiness, problems first.

    One query: each person joined to the modules they must take and their training
    records; the verdict per person is made here. `modules`, the current versions, if the
    caller has read them already.
    """
    now = now or utcnow()
    if modules is None:
        modules = reporting.current_modules()
    titles = {version.module_id: version.title for version in modules}
    rows = db.session.execute(_board_query(unit_ids))
    people: dict[int, PersonReadiness] = {}
    for user_id, name, number, category, unit_id, unit_name, deployment, module_id, valid in rows:
        person = people.get(user_id)
        if person is None:
            person = PersonReadiness(
                user_id, name, number, category, unit_id, unit_name, deployment
            )
            people[user_id] = person
        if module_id is None or module_id not in titles:
            continue
        valid_until = reporting.aware(valid)
        title = titles[module_id]
        if valid_until is None or valid_until <= now:
            person.missing.append(title)
        elif valid_until.date() <= must_hold_until(deployment, now):
            person.expiring.append((title, valid_until.date()))
    for person in people.values():
        _decide(person)
    return sorted(
        people.values(),
        key=lambda p: (ORDER.index(p.status), p.deployment_date or date.max, p.full_name),
    )


def _board_query(unit_ids: Sequence[int]) -> sa.Select[*tuple[Any, ...]]:
    """Select each active person of the units with each module they must take and its record."""
    return (
        sa.select(
            User.id,
            User.full_name,
            User.service_number,
            User.category,
            Unit.id,
            Unit.name,
            User.deployment_date,
            CurriculumRequirement.module_id,
            TrainingRecord.valid_until,
        )
        .join(Unit, Unit.id == User.unit_id)
        .outerjoin(CurriculumRequirement, curriculum.applies_to_people())
        .outerjoin(TrainingRecord, reporting.record_of_requirement())
        .where(User.unit_id.in_(unit_ids), User.is_active)
    )


def _decide(person: PersonReadiness) -> None:
    """Sort a person's missing and expiring modules and give the verdict they lead to."""
    person.missing.sort()
    person.expiring.sort(key=lambda item: item[1])
    if person.missing:
        person.status = Readiness.BLOCKED
    elif person.expiring:
        person.status = Readiness.EXPIRING


def counts(people: Sequence[PersonReadiness]) -> dict[Readiness, int]:
    """Count people per readiness status."""
    totals = dict.fromkeys(ORDER, 0)
    for person in people:
        totals[person.status] += 1
    return totals
