"""Mission annexes: each mission's contacts and rules, for its personnel and for anyone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import content
from tests.fixtures import DATA

ANNEX = """\
---
mission: TEST
name: Test Mission
reviewed_on: 2026-11-30
contacts:
  - label: Conduct and Discipline Team
    phone: "+000 555 0100"
    email: cdt@example.org
  - label: Complaint boxes
    where: At every camp gate
---

## For people who live here

You can tell the United Nations if someone who works for it has harmed you.

## Mission rules

Curfew at 22:00 for uniformed personnel.
"""


FLAG = "mission_annex: true\n"


@pytest.fixture
def modules_dir(tmp_path: Path) -> Path:
    """The test modules, with the Test Mission's annex beside them."""
    directory = tmp_path / "modules"
    shutil.copytree(DATA / "modules", directory)
    (directory / "missions").mkdir()
    (directory / "missions" / "test.md").write_text(ANNEX)
    basics = directory / "basics.md"
    text = basics.read_text().replace("validity_months: 12\n", "validity_months: 12\n" + FLAG)
    basics.write_text(text)
    return directory


@pytest.fixture
def annexed(db, modules_dir: Path) -> Path:
    content.sync_modules(modules_dir)
    db.session.commit()
    return modules_dir


def annex_problems(directory: Path, text: str) -> list[str]:
    (directory / "missions" / "test.md").write_text(text)
    return [str(problem) for problem in content.check_modules(directory)]


def test_a_valid_annex_passes_the_check(modules_dir):
    assert content.check_modules(modules_dir) == []


def test_annex_mistakes_are_reported_at_their_line(modules_dir):
    text = ANNEX.replace("cdt@example.org", "cdt-at-example").replace(
        "    where: At every camp gate\n", ""
    )
    path = modules_dir / "missions" / "test.md"
    assert annex_problems(modules_dir, text) == [
        f'{path}:5: contact 1: "cdt-at-example" is not an e-mail address',
        f"{path}:5: contact 2: give a phone, an email or a where (a place)",
    ]


def test_an_annex_must_be_named_after_its_mission(modules_dir):
    path = modules_dir / "missions" / "test.md"
    assert annex_problems(modules_dir, ANNEX.replace("mission: TEST", "mission: OTHER")) == [
        f"{path}:2: the file for mission OTHER must be named other.md"
    ]


def test_personnel_see_their_missions_contacts_on_my_training_and_after_the_module(
    client, annexed, make_user, login
):
    login(make_user())
    home = client.get("/training/").get_data(as_text=True)
    assert "Where to report in Test Mission" in home
    assert "cdt@example.org" in home and 'href="/report/TEST"' in home
    module = client.get("/training/basics/all").get_data(as_text=True)
    assert "Where to report in Test Mission" in module
    # Read section by section, the annex closes the lesson's last section.
    last = client.get("/training/basics/sections/1").get_data(as_text=True)
    assert "Where to report in Test Mission" in last
    other = client.get("/training/police-only")
    assert other.status_code == 404 or "Where to report" not in other.get_data(as_text=True)


def test_a_changed_annex_is_shown_after_the_next_load_and_an_unchanged_one_keeps_the_stamp(
    client, db, annexed, make_user, login
):
    from app.models import ContentStamp

    login(make_user())
    assert "cdt@example.org" in client.get("/training/").get_data(as_text=True)
    stamp = db.session.scalar(sa.select(ContentStamp.stamp))
    content.sync_modules(annexed)
    db.session.commit()
    assert db.session.scalar(sa.select(ContentStamp.stamp)) == stamp

    annex = annexed / "missions" / "test.md"
    annex.write_text(ANNEX.replace("cdt@example.org", "conduct@example.org"))
    content.sync_modules(annexed)
    db.session.commit()
    home = client.get("/training/").get_data(as_text=True)
    assert "conduct@example.org" in home and "cdt@example.org" not in home


def test_personnel_of_a_mission_without_an_annex_see_no_box(
    client, annexed, make_user, login, other_unit, db
):
    from app.models import Mission

    elsewhere = Mission(code="ELSE", name="Elsewhere")
    other_unit.mission = elsewhere
    db.session.commit()
    login(make_user(unit=other_unit))
    assert "Where to report in" not in client.get("/training/").get_data(as_text=True)


def test_anyone_can_read_where_to_report_without_cookies_scripts_or_forms(client, annexed):
    response = client.get("/report/test")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Where to report: Test Mission" in page
    assert "Curfew at 22:00" in page and "+000 555 0100" in page
    assert "Set-Cookie" not in response.headers
    assert "<script" not in page and "<form" not in page
    assert "public" in response.headers["Cache-Control"]


def test_an_unknown_mission_has_no_report_page(client, annexed):
    assert client.get("/report/NOWHERE").status_code == 404


def test_a_deleted_annex_disappears_at_the_next_load(client, db, annexed):
    (annexed / "missions" / "test.md").unlink()
    content.sync_modules(annexed)
    db.session.commit()
    assert client.get("/report/TEST").status_code == 404


def test_the_demo_missions_annex_is_marked_as_an_example():
    root = Path(__file__).parents[2] / "modules"
    annex = (root / "missions" / "demo.md").read_text()
    assert "example: true" in annex
    assert content.check_modules(root) == []
