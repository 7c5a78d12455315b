"""The session pages: scheduling through the form, the list, a session's page, cancelling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.extensions import db
from app.models import (
    AnswerSheet,
    AuditAction,
    AuditEntry,
    ClassroomParticipant,
    ClassroomSession,
    PersonnelCategory,
    QuizAttempt,
    Role,
    Unit,
    User,
)
from app.models.types import utcnow
from app.services import training
from tests.fixtures import count, pass_module, post


def version_id(slug: str) -> int:
    version = training.current_version(slug)
    assert version is not None
    return version.id


def schedule_form(unit: Unit, facilitator: User, people: list[User], **values: object) -> dict:
    """What the schedule form sends when a coordinator fills it in and presses Schedule."""
    return {
        "unit": str(unit.id),
        "module": [str(version_id("basics"))],
        "held_on": (utcnow().date() + timedelta(days=10)).isoformat(),
        "place": "Peacekeeping Training Centre, Accra",
        "facilitator": [str(facilitator.id)],
        "person": [str(person.id) for person in people],
        "action": "schedule",
        **values,
    }


def test_a_coordinator_schedules_a_session_in_two_steps(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    people = [make_user(full_name=name) for name in ("Ama Owusu", "Yaw Boateng", "Efua Mensah")]
    login(coordinator)
    first = client.get("/sessions/new").get_data(as_text=True)
    assert "Conduct basics" in first and "Unit A" in first
    second = client.get(f"/sessions/new?unit={unit.id}&module={version_id('basics')}")
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "Ama Owusu" in page and "Kwame Mensah" in page
    response = post(client, "/sessions/new", schedule_form(unit, facilitator, people[:2]))
    assert response.status_code == 302
    session = db.session.scalar(sa.select(ClassroomSession))
    assert session is not None
    assert response.headers["Location"] == f"/sessions/{session.id}"
    assert {p.user_id for p in session.participants} == {people[0].id, people[1].id}
    assert session.facilitators == [facilitator]
    assert count(AnswerSheet) == 2
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Session {session.code} scheduled for 2 people." in detail
    assert "Ama Owusu" in detail and "Efua Mensah" not in detail
    for sheet in session.sheets:
        assert sheet.code in detail
    assert "Not yet recorded" in detail


def test_everyone_not_yet_complete_ticks_those_without_a_valid_completion(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    done = make_user(full_name="Already Done")
    pass_module(done)
    due = [make_user(full_name=name) for name in ("Not Started", "Also Due")]
    login(coordinator)
    # A search narrows the list, not who is ticked.
    form = schedule_form(unit, facilitator, [], action="not_complete", q="Not Started")
    page = post(client, "/sessions/new", form).get_data(as_text=True)
    # The coordinator and the facilitator serve in the unit too, and have not taken it.
    assert "4 people ticked." in page
    assert f'value="{due[0].id}" id="p{due[0].id}" checked' in page
    for person in [due[1], coordinator, facilitator]:
        assert f'<input type="hidden" name="person" value="{person.id}">' in page
    assert f'name="person" value="{done.id}"' not in page
    # The ticks travel with the form: scheduling now takes exactly those two.
    ticked = schedule_form(unit, facilitator, due)
    assert post(client, "/sessions/new", ticked).status_code == 302
    taking_part = set(db.session.scalars(sa.select(ClassroomParticipant.user_id)))
    assert taking_part == {person.id for person in due}


def test_a_group_is_ticked_at_once_and_ticks_outside_the_search_are_kept(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    platoon = Unit(
        mission_id=unit.mission_id,
        code="UNIT-A-1",
        name="First platoon",
        country="Ghana",
        parent=unit,
    )
    db.session.add(platoon)
    db.session.commit()
    in_platoon = [make_user(full_name=f"Platoon {n}", unit=platoon) for n in range(3)]
    elsewhere = make_user(full_name="Headquarters Clerk")
    login(coordinator)
    page = post(
        client,
        "/sessions/new",
        schedule_form(unit, facilitator, [], tick_group=str(platoon.id), action=""),
    ).get_data(as_text=True)
    assert "3 people ticked." in page
    # A search that hides the platoon keeps its ticks as hidden fields.
    ticked = [str(person.id) for person in in_platoon]
    searched = schedule_form(unit, facilitator, [], person=ticked, q="clerk", action="show")
    page = post(client, "/sessions/new", searched).get_data(as_text=True)
    assert "Platoon 0" not in page and "Headquarters Clerk" in page
    for person in in_platoon:
        assert f'<input type="hidden" name="person" value="{person.id}">' in page
    assert "3 people ticked." in page
    category = schedule_form(unit, facilitator, [], category="civilian", action="show")
    assert "Platoon 0" not in post(client, "/sessions/new", category).get_data(as_text=True)
    assert elsewhere.category == PersonnelCategory.MILITARY_CONTINGENT


def test_a_form_without_module_or_participant_says_what_is_missing(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    login(coordinator)
    response = client.get(f"/sessions/new?unit={unit.id}")
    assert response.status_code == 422
    assert "Choose at least one module." in response.get_data(as_text=True)
    response = post(client, "/sessions/new", schedule_form(unit, facilitator, []))
    assert response.status_code == 422
    assert "Choose at least one participant." in response.get_data(as_text=True)
    response = post(
        client,
        "/sessions/new",
        schedule_form(unit, facilitator, [make_user()], place="", held_on="12/01/2027"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say where the session is held." in page
    assert "Write the date as YYYY-MM-DD" in page
    assert count(ClassroomSession) == 0 and count(QuizAttempt) == 0


def test_a_person_of_another_unit_posted_by_hand_is_refused_and_nothing_is_created(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    unit: Unit,
    other_unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    outsider = make_user(full_name="Rosa Quispe", unit=other_unit)
    login(coordinator)
    response = post(
        client, "/sessions/new", schedule_form(unit, facilitator, [make_user(), outsider])
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Some of the people ticked are not on the roster of Unit A" in page
    # The outsider's name is not told to a coordinator who does not oversee them.
    assert "Rosa Quispe" not in page
    assert count(ClassroomSession) == 0 and count(QuizAttempt) == 0 and count(AnswerSheet) == 0
    elsewhere = make_user(Role.FACILITATOR, full_name="Li Wei", assigned_units=[other_unit])
    response = post(client, "/sessions/new", schedule_form(unit, elsewhere, [make_user()]))
    assert "Choose the facilitators among those listed." in response.get_data(as_text=True)
    assert count(ClassroomSession) == 0


def test_another_units_form_answers_404(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    modules: None,
    other_unit: Unit,
    coordinator: User,
    facilitator: User,
) -> None:
    login(coordinator)
    assert client.get(f"/sessions/new?unit={other_unit.id}").status_code == 404
    assert (
        post(client, "/sessions/new", schedule_form(other_unit, facilitator, [])).status_code == 404
    )


def test_a_facilitator_sees_their_sessions_but_does_not_schedule(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    session = make_session([make_user()])
    login(facilitator)
    listed = client.get("/sessions/").get_data(as_text=True)
    assert f"/sessions/{session.id}" in listed and "Schedule a session" not in listed
    assert client.get("/sessions/new").status_code == 403
    assert client.get(f"/sessions/{session.id}").status_code == 200
    assert client.get(f"/sessions/{session.id}/cancel").status_code == 403
    assert post(client, f"/sessions/{session.id}/cancel").status_code == 403


def test_the_list_splits_upcoming_and_past_and_says_each_state(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    coordinator: User,
    make_user: Callable[..., User],
) -> None:
    # One person holds one open sheet per module: each session has its own people.
    soon = make_session([make_user(), make_user(), make_user()], place="Camp Soon")
    later = make_session(
        [make_user()], place="Camp Later", held_on=utcnow().date() + timedelta(days=20)
    )
    past = make_session(
        [make_user()], place="Camp Past", held_on=utcnow().date() - timedelta(days=2)
    )
    gone = make_session(
        [make_user()], place="Camp Gone", held_on=utcnow().date() - timedelta(days=5)
    )
    gone.cancelled_at = utcnow()
    past.recorded_at = utcnow()
    db.session.commit()
    login(coordinator)
    upcoming = client.get("/sessions/").get_data(as_text=True)
    assert upcoming.index("Camp Soon") < upcoming.index("Camp Later")
    assert "Camp Past" not in upcoming and "Scheduled" in upcoming
    assert ">3</td>" in upcoming and "Conduct basics" in upcoming
    earlier = client.get("/sessions/?when=past").get_data(as_text=True)
    assert "Camp Soon" not in earlier
    assert earlier.index("Camp Past") < earlier.index("Camp Gone")
    assert "Results recorded" in earlier and "Cancelled" in earlier
    assert soon.id != later.id


def test_a_long_list_is_paginated(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    coordinator: User,
    make_user: Callable[..., User],
    monkeypatch,
) -> None:
    from app.classroom import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    for days in (1, 2, 3):
        held_on = utcnow().date() + timedelta(days=days)
        make_session([make_user()], place=f"Camp {days}", held_on=held_on)
    login(coordinator)
    first = client.get("/sessions/").get_data(as_text=True)
    assert "Camp 1" in first and "Camp 3" not in first and 'rel="next"' in first
    second = client.get("/sessions/?page=2").get_data(as_text=True)
    assert "Camp 3" in second and 'rel="prev"' in second


def test_cancelling_asks_first_then_cancels_and_is_audited(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    coordinator: User,
    make_user: Callable[..., User],
) -> None:
    session = make_session([make_user()])
    login(coordinator)
    confirm = client.get(f"/sessions/{session.id}/cancel")
    assert confirm.status_code == 200 and "Cancel the session of" in confirm.get_data(as_text=True)
    db.session.refresh(session)
    assert session.cancelled_at is None
    response = post(client, f"/sessions/{session.id}/cancel", follow_redirects=True)
    assert f"Session {session.code} is cancelled." in response.get_data(as_text=True)
    db.session.refresh(session)
    assert session.cancelled_at is not None and session.cancelled_by_id == coordinator.id
    assert db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.CLASSROOM_CANCELLED)
    )
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Cancelled" in page and "Add participants" not in page and "Remove" not in page


def participant_changes() -> list[tuple[str, int | None, str, dict]]:
    """Return the audit trail's entries of participants added and removed, oldest first."""
    actions = [AuditAction.CLASSROOM_PARTICIPANTS_ADDED, AuditAction.CLASSROOM_PARTICIPANT_REMOVED]
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
    )
    return [(entry.action, entry.actor_id, entry.target, entry.details) for entry in entries]


def test_participants_are_added_and_removed_before_results_and_audited(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    coordinator: User,
    make_user: Callable[..., User],
    other_unit: Unit,
) -> None:
    first = make_user(full_name="First Person", service_number="GH-1001")
    latecomer = make_user(full_name="Late Comer", service_number="GH-2001")
    session = make_session([first], slugs=("basics", "pledge"))
    login(coordinator)
    page = client.get(f"/sessions/{session.id}/participants").get_data(as_text=True)
    assert "Late Comer" in page and "First Person" not in page
    data = {"person": [str(latecomer.id)], "action": "add"}
    response = post(client, f"/sessions/{session.id}/participants", data)
    assert response.status_code == 302
    assert count(AnswerSheet) == 4
    outsider = make_user(unit=other_unit)
    data = {"person": [str(outsider.id)], "action": "add"}
    response = post(client, f"/sessions/{session.id}/participants", data)
    assert response.status_code == 422 and count(AnswerSheet) == 4
    attempts = count(QuizAttempt)
    response = post(client, f"/sessions/{session.id}/participants/remove", {"person": first.id})
    assert response.status_code == 302
    assert count(AnswerSheet) == 2
    # The attempts drawn for the withdrawn sheets stay open, for the person to use online.
    assert count(QuizAttempt) == attempts
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "First Person no longer takes part" in page and "Late Comer" in page
    # A second click removes nobody.
    post(client, f"/sessions/{session.id}/participants/remove", {"person": first.id})
    # Who added whom and who removed whom; the refused addition is not recorded.
    target = f"session {session.code}"
    assert participant_changes() == [
        (AuditAction.CLASSROOM_PARTICIPANTS_ADDED, coordinator.id, target,
         {"participants": 1, "people": ["GH-2001"]}),
        (AuditAction.CLASSROOM_PARTICIPANT_REMOVED, coordinator.id, target,
         {"service_number": "GH-1001"}),
    ]  # fmt: skip
    session.recorded_at = utcnow()
    db.session.commit()
    response = post(client, f"/sessions/{session.id}/participants/remove", {"person": latecomer.id})
    assert response.status_code == 302 and count(AnswerSheet) == 2
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "participants can no longer change" in page
    page = client.get(f"/sessions/{session.id}/participants", follow_redirects=True)
    assert "participants can no longer change" in page.get_data(as_text=True)
    assert len(participant_changes()) == 2


def test_the_page_shows_attendance_and_results_once_recorded(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    came, absent = make_user(full_name="Came Along"), make_user(full_name="Stayed Away")
    session = make_session([came, absent])
    for participant in session.participants:
        participant.attended = participant.user_id == came.id
    sheet = next(sheet for sheet in session.sheets if sheet.user_id == came.id)
    sheet.attempt.passed, sheet.attempt.score = True, 100
    sheet.attempt.submitted_at = session.recorded_at = utcnow()
    db.session.commit()
    login(facilitator)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Attended" in page and "Absent" in page and "Passed" in page
    assert "Results recorded" in page


def test_everyone_not_yet_complete_leaves_out_those_booked_in_another_session(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    unit: Unit,
    coordinator: User,
    facilitator: User,
    make_user: Callable[..., User],
) -> None:
    booked, free = make_user(full_name="Booked Already"), make_user(full_name="Still Free")
    make_session([booked, coordinator, facilitator])
    login(coordinator)
    form = schedule_form(unit, facilitator, [], action="not_complete")
    page = post(client, "/sessions/new", form).get_data(as_text=True)
    assert "1 person ticked." in page
    assert f'value="{free.id}" id="p{free.id}" checked' in page
    assert f'value="{booked.id}" id="p{booked.id}" checked' not in page
