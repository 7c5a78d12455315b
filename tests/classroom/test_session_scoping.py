"""Every address of a session answers 404 to anyone who may not see that session.

The routes are read from the application's URL map, so that each page added to the
sessions blueprint is walked as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from app.models import ClassroomSession, Role, Unit, User
from tests.fixtures import csrf_token


def session_urls(app: Flask, session_id: int) -> list[tuple[str, str]]:
    """Return (method, address) for every method of every session route of a session.

    Any other part of an address (a sheet's code, a person) gets a plain value: only
    the session is another unit's.
    """
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("classroom.") or "session_id" not in rule.arguments:
            continue
        values: dict[str, object] = {
            name: 1 if isinstance(converter, IntegerConverter) else "X4Y7"
            for name, converter in rule._converters.items()
        }
        values["session_id"] = session_id
        path = rule.build(values, append_unknown=False)
        assert path is not None, rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((method, path[1]))
    return urls


@pytest.fixture
def elsewhere(
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    other_unit: Unit,
) -> ClassroomSession:
    """A session of the other unit, facilitated by someone of that unit."""
    coordinator = make_user(Role.COORDINATOR, assigned_units=[other_unit])
    facilitator = make_user(Role.FACILITATOR, assigned_units=[other_unit])
    return make_session(
        [make_user(unit=other_unit)],
        unit=other_unit,
        by=coordinator,
        facilitators=[facilitator],
    )


def test_the_walk_covers_the_session_pages(app: Flask, elsewhere: ClassroomSession) -> None:
    walked = {path for _, path in session_urls(app, elsewhere.id)}
    assert {
        f"/sessions/{elsewhere.id}",
        f"/sessions/{elsewhere.id}/cancel",
        f"/sessions/{elsewhere.id}/participants",
        f"/sessions/{elsewhere.id}/participants/remove",
    } <= walked


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "peacekeeper", "commander"])
def test_another_units_session_is_not_found(
    app: Flask,
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    coordinator: User,
    facilitator: User,
    unit: Unit,
    elsewhere: ClassroomSession,
    who: str,
) -> None:
    people = {
        "coordinator": coordinator,
        "facilitator": facilitator,
        "peacekeeper": make_user(),
        "commander": make_user(Role.COMMANDER, assigned_units=[unit]),
    }
    login(people[who])
    # Those the sessions are not for are turned away at the door, whatever the session.
    expected = 403 if who in {"peacekeeper", "commander"} else 404
    token = csrf_token(client, "/training/")
    for method, url in session_urls(app, elsewhere.id):
        data = {"csrf_token": token, "person": "1", "action": "add"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == expected, (method, url)


def test_the_sessions_own_coordinator_and_facilitator_open_it(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_session: Callable[..., ClassroomSession],
    make_user: Callable[..., User],
    coordinator: User,
    facilitator: User,
) -> None:
    session = make_session([make_user()])
    for person in (coordinator, facilitator):
        login(person)
        assert client.get(f"/sessions/{session.id}").status_code == 200
        client.post("/logout", data={"csrf_token": csrf_token(client, "/training/")})


def test_an_admin_opens_any_session(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    elsewhere: ClassroomSession,
) -> None:
    login(make_user(Role.ADMIN, unit=None))
    assert client.get(f"/sessions/{elsewhere.id}").status_code == 200
    assert client.get(f"/sessions/{elsewhere.id}/cancel").status_code == 200
