"""Seed the load-test database: one unit of peacekeepers who share a known password.

Writes a JSON file with their usernames and the answer key of every current module,
which the simulated peacekeepers use to answer their quizzes. Run with DATABASE_URL set
and LOAD_PASSWORD in the environment, after `flask db upgrade` and `flask modules sync`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import Mission, ModuleVersion, PersonnelCategory, Position, Role, Unit, User


def seed_people(count: int, password: str, first: int = 1) -> list[str]:
    """Create `count` peacekeepers numbered from `first`; return their usernames.

    They join the load unit, which is created (with its mission) on first use.
    """
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == "LOAD-INF-1"))
    if unit is None:
        mission = Mission(code="LOAD", name="Load Test Mission")
        unit = Unit(
            mission=mission, code="LOAD-INF-1", name="Load Infantry Battalion", country="Ghana"
        )
    # One hash for everyone: hashing is slow by design, and the password is the same.
    password_hash = generate_password_hash(password)
    people = [
        User(
            username=f"load-{number:03d}",
            service_number=f"LOAD-{number:03d}",
            full_name=f"Load Peacekeeper {number:03d}",
            role=Role.PEACEKEEPER,
            category=PersonnelCategory.MILITARY_CONTINGENT,
            position=Position.MEMBER,
            unit=unit,
            password_hash=password_hash,
        )
        for number in range(first, first + count)
    ]
    db.session.add_all(people)
    db.session.flush()
    return [person.username for person in people]


def answer_key() -> dict[str, dict[str, list[str]]]:
    """Return, per module slug and question id, the ids of the correct options."""
    versions = db.session.scalars(sa.select(ModuleVersion).where(ModuleVersion.is_current))
    return {
        version.slug: {
            question["id"]: [option["id"] for option in question["options"] if option["correct"]]
            for question in version.quiz
        }
        for version in versions
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="peacekeepers to create")
    parser.add_argument("--output", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        usernames = seed_people(args.users, os.environ["LOAD_PASSWORD"])
        key = answer_key()
        db.session.commit()
    if not key:
        raise SystemExit("No module is loaded: run `flask modules sync` first.")
    args.output.write_text(json.dumps({"usernames": usernames, "answers": key}, indent=1))
    print(f"Seeded {len(usernames)} peacekeepers; answer key of {len(key)} modules.")


if __name__ == "__main__":
    main()
