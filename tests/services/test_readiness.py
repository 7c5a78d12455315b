"""Readiness to deploy: the rules at their boundaries, the board, and the commander's scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.models import Mission, PersonnelCategory, Position, Role, Unit
from app.models.types import utcnow
from app.services import certificates, readiness, training
from tests.fixtures import load_revised_modules, move_expiry, pass_module

FAR = 200  # days: beyond the 30-day expiring window


def module_ids(*slugs):
    return [training.current_version(slug).module_id for slug in slugs]


def ready_person(make_user, deploy_in_days=FAR, **values):
    """A person who passed every module mandatory for everyone."""
    person = make_user(deployment_date=date.today() + timedelta(days=deploy_in_days), **values)
    for slug in ("basics", "pledge"):
        pass_module(person, slug)
    return person


def verdict(person):
    [result] = [p for p in readiness.board([person.unit_id]) if p.user_id == person.id]
    return result


def expire_all(person, when):
    for module_id in module_ids("basics", "pledge"):
        move_expiry(person, module_id, when)


def at_midday(day):
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_everything_valid_through_deployment_is_ready(db, modules, make_user):
    person = ready_person(make_user)
    result = verdict(person)
    assert result.status == readiness.Readiness.READY
    assert result.missing == [] and result.expiring == []


def test_missing_module_blocks_and_is_named(db, modules, make_user):
    person = make_user(deployment_date=date.today() + timedelta(days=FAR))
    pass_module(person, "basics")
    result = verdict(person)
    assert result.status == readiness.Readiness.BLOCKED
    assert result.missing == ["A module with an undertaking"]


def test_expired_module_blocks(db, modules, make_user):
    person = ready_person(make_user)
    move_expiry(person, module_ids("basics")[0], utcnow() - timedelta(minutes=1))
    result = verdict(person)
    assert result.status == readiness.Readiness.BLOCKED
    assert result.missing == ["Conduct basics"]


def test_revoked_module_blocks_and_is_named(db, modules, make_user):
    person = make_user(deployment_date=date.today() + timedelta(days=FAR))
    pass_module(person, "basics")
    pledge = pass_module(person, "pledge")
    assert verdict(person).status == readiness.Readiness.READY
    certificates.revoke(pledge, make_user(Role.ADMIN), "Misconduct finding, case 2026-114.")
    db.session.commit()
    result = verdict(person)
    assert result.status == readiness.Readiness.BLOCKED
    assert result.missing == ["A module with an undertaking"]


def test_expiry_on_deployment_day_is_expiring_not_ready(db, modules, make_user):
    person = ready_person(make_user)
    expire_all(person, at_midday(person.deployment_date))
    result = verdict(person)
    assert result.status == readiness.Readiness.EXPIRING
    assert [day for _, day in result.expiring] == [person.deployment_date] * 2


def test_expiry_the_day_after_deployment_is_ready(db, modules, make_user):
    person = ready_person(make_user)
    expire_all(person, at_midday(person.deployment_date + timedelta(days=1)))
    assert verdict(person).status == readiness.Readiness.READY


def test_expiry_within_thirty_days_is_expiring_even_without_deployment(db, modules, make_user):
    person = ready_person(make_user)
    person.deployment_date = None
    db.session.commit()
    expire_all(person, utcnow() + timedelta(days=20))
    assert verdict(person).status == readiness.Readiness.EXPIRING
    expire_all(person, utcnow() + timedelta(days=45))
    assert verdict(person).status == readiness.Readiness.READY


def test_role_specific_module_is_required_of_commanders_only(db, modules, make_user):
    member = ready_person(make_user)
    commander = ready_person(make_user, position=Position.COMMANDER)
    assert verdict(member).status == readiness.Readiness.READY
    result = verdict(commander)
    assert result.status == readiness.Readiness.BLOCKED
    assert result.missing == ["Leading by example"]


def test_category_specific_module_is_required_of_police_only(db, modules, make_user):
    officer = ready_person(make_user, category=PersonnelCategory.FORMED_POLICE)
    assert verdict(officer).missing == ["Policing with respect"]


@pytest.fixture
def battalion(db, unit, modules, make_user):
    mission = db.session.get(Mission, unit.mission_id)
    company = Unit(mission=mission, code="UNIT-A1", name="Company A1", country="Ghana",
                   parent=unit)  # fmt: skip
    other = Unit(mission=mission, code="UNIT-Z", name="Unit Z", country="Chile")
    db.session.add_all([company, other])
    db.session.commit()
    people = {
        "ready": ready_person(make_user, full_name="Ready Rania"),
        "blocked": make_user(full_name="Blocked Boris",
                             deployment_date=date.today() + timedelta(days=3)),
        "company": make_user(full_name="Company Chidi", unit=company),
        "other": make_user(full_name="Other Olga", unit=other),
    }  # fmt: skip
    commander = make_user(Role.COMMANDER, full_name="Commander", assigned_units=[unit])
    return {"unit": unit, "company": company, "other": other, "people": people,
            "commander": commander}  # fmt: skip


def test_board_counts_sorts_problems_first_and_filters(client, battalion, login):
    login(battalion["commander"])
    page = client.get(f"/commander/units/{battalion['unit'].id}").get_data(as_text=True)
    assert page.index("Blocked Boris") < page.index("Ready Rania")
    assert "Company Chidi" in page and "Other Olga" not in page
    assert "Missing or expired: A module with an undertaking, Conduct basics" in page
    blocked = client.get(f"/commander/units/{battalion['unit'].id}?status=blocked").get_data(
        as_text=True
    )
    assert "Blocked Boris" in blocked and "Ready Rania" not in blocked
    overview = client.get("/commander/").get_data(as_text=True)
    assert "Unit A" in overview and "Unit Z" not in overview


def test_board_exports(client, battalion, login):
    login(battalion["commander"])
    csv = client.get(f"/commander/units/{battalion['unit'].id}/readiness.csv")
    text = csv.data.decode("utf-8-sig")
    assert csv.status_code == 200 and text.splitlines()[0].startswith('"full_name",')
    assert "Blocked Boris" in text and ',"blocked",' in text and "Other Olga" not in text


def test_commander_prints_a_record_for_someone_in_the_unit(client, battalion, login):
    login(battalion["commander"])
    response = client.get(f"/commander/people/{battalion['people']['ready'].id}/record.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_every_commander_url_is_scoped(client, battalion, login):
    login(battalion["commander"])
    other = battalion["other"].id
    for url in (
        f"/commander/units/{other}",
        f"/commander/units/{other}/readiness.csv",
        f"/commander/units/{other}/readiness.xlsx",
        f"/commander/people/{battalion['people']['other'].id}/record.pdf",
        "/commander/units/999999",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", [Role.PEACEKEEPER, Role.COORDINATOR])
def test_other_roles_cannot_reach_the_board(client, battalion, login, make_user, role):
    login(make_user(role, assigned_units=[battalion["unit"]]))
    for url in ("/commander/", f"/commander/units/{battalion['unit'].id}"):
        assert client.get(url).status_code == 403, url


def test_a_completion_of_an_older_version_stays_valid_until_it_expires(
    db, modules, make_user, tmp_path
):
    person = ready_person(make_user)
    results = load_revised_modules(tmp_path / "modules")
    assert results["basics"].action == "updated"

    assert verdict(person).status == readiness.Readiness.READY
    [basics] = [s for s in training.module_statuses(person) if s.version.slug == "basics"]
    assert basics.status == training.Status.PASSED and basics.version.number == 2
    move_expiry(person, module_ids("basics")[0], utcnow() - timedelta(minutes=1))
    assert verdict(person).missing == ["Conduct basics"]


def test_the_board_names_modules_in_the_commanders_language(
    client, battalion, login, translated_modules, reading
):
    login(battalion["commander"])
    url = f"/commander/units/{battalion['unit'].id}?status=blocked"
    reading("fr")
    page = client.get(url).get_data(as_text=True)
    assert "Les bases de la conduite" in page and "Conduct basics" not in page
    # Not translated into Spanish: the English titles, marked as English.
    reading("es")
    page = client.get(url).get_data(as_text=True)
    assert '<span lang="en" dir="ltr">Conduct basics</span>' in page
    # The export stays in the source language.
    reading("fr")
    csv = client.get(f"/commander/units/{battalion['unit'].id}/readiness.csv")
    assert "Conduct basics" in csv.data.decode("utf-8-sig")
