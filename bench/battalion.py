"""A battalion for the benchmarks: one unit of a mission and its people, in one INSERT."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Mission, Unit, User
from app.services.demo import FIRST_NAMES, LAST_NAMES

UNIT_CODE = "BENCH-BN"


def add_battalion(
    people: int, rng: random.Random, now: datetime, languages: Sequence[str] = ("en",)
) -> Unit:
    """Add one unit of `people` peacekeepers, named and deployed at random by `rng`."""
    unit = Unit(
        mission=Mission(code="BENCH", name="Bench Mission"),
        code=UNIT_CODE,
        name="Infantry Battalion 9",
        country="Nepal",
    )
    db.session.add(unit)
    db.session.flush()
    db.session.execute(
        sa.insert(User),
        [
            {
                "username": f"bench-{number:04d}",
                "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "role": "peacekeeper",
                "category": "military_contingent",
                "position": "member",
                "service_number": f"BN-{number:05d}",
                "unit_id": unit.id,
                "language": languages[number % len(languages)],
                "deployment_date": (now + timedelta(days=rng.randint(20, 200))).date(),
                "is_active": True,
                "session_token": secrets.token_urlsafe(16),
                "created_at": now,
            }
            for number in range(1, people + 1)
        ],
    )
    return unit
