"""Who may open what: every role against every protected page, owner and other."""

from __future__ import annotations

import pytest

from app.models import Role
from app.services import quiz, training
from tests.fixtures import pass_module

ROLES = ["anonymous", *[role.value for role in Role]]

# url template -> expected status per role
# (anonymous, peacekeeper, coordinator, commander, headquarters, admin, facilitator)
MATRIX = {
    "/training/": (302, 200, 200, 200, 200, 200, 200),
    "/training/basics": (302, 200, 200, 200, 200, 200, 200),
    "/training/record.pdf": (302, 200, 200, 200, 200, 200, 200),
    "/account": (302, 200, 200, 200, 200, 200, 200),
    "/coordinator/": (302, 403, 200, 403, 403, 200, 403),
    "/coordinator/people": (302, 403, 200, 403, 403, 200, 403),
    "/coordinator/people?status=overdue": (302, 403, 200, 403, 403, 200, 403),
    "/coordinator/export/people.csv": (302, 403, 200, 403, 403, 200, 403),
    "/coordinator/export/matrix.xlsx": (302, 403, 200, 403, 403, 200, 403),
    "/coordinator/roster": (302, 403, 200, 403, 403, 200, 403),
    "/commander/": (302, 403, 403, 200, 403, 200, 403),
    "/admin/": (302, 403, 403, 403, 403, 200, 403),
    "/admin/users": (302, 403, 403, 403, 403, 200, 403),
    "/admin/audit": (302, 403, 403, 403, 403, 200, 403),
    # The owner's unit: coordinators and commanders see it only when assigned to it,
    # and the people signing in here are not.
    "/coordinator/units/{unit}": (302, 403, 404, 403, 403, 200, 403),
    "/coordinator/people/{owner}": (302, 403, 404, 403, 403, 200, 403),
    "/commander/units/{unit}": (302, 403, 403, 404, 403, 200, 403),
    "/commander/people/{owner}/record.pdf": (302, 403, 403, 404, 403, 200, 403),
    # Objects belonging to another peacekeeper: no one else sees them here.
    "/training/attempts/{attempt}": (302, 404, 404, 404, 404, 404, 404),
    "/training/certificates/{code}.pdf": (302, 404, 404, 404, 404, 404, 404),
    # Headquarters: aggregate figures of every mission, for headquarters and administrators.
    "/headquarters/": (302, 403, 403, 403, 200, 200, 403),
    "/headquarters/?by=unit&category=military_contingent": (302, 403, 403, 403, 200, 200, 403),
    "/headquarters/export.csv": (302, 403, 403, 403, 200, 200, 403),
    "/headquarters/export.xlsx?by=category": (302, 403, 403, 403, 200, 200, 403),
    # Facilitated sessions: for coordinators, facilitators and administrators.
    "/sessions/": (302, 403, 200, 403, 403, 200, 200),
    "/sessions/?when=past": (302, 403, 200, 403, 403, 200, 200),
    # Facilitators run the sessions coordinators schedule.
    "/sessions/new": (302, 403, 200, 403, 403, 200, 403),
    # Public.
    "/verify/{code}": (200, 200, 200, 200, 200, 200, 200),
    "/verify": (200, 200, 200, 200, 200, 200, 200),
    "/login": (200, 302, 302, 302, 302, 302, 302),
}


@pytest.fixture
def others_records(db, modules, make_user):
    owner = make_user(username="owner")
    certificate = pass_module(owner)
    attempt = quiz.start_attempt(owner, training.current_version("basics"))
    db.session.commit()
    return {
        "attempt": attempt.id,
        "code": certificate.code,
        "unit": owner.unit_id,
        "owner": owner.id,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(MATRIX))
def test_access_matrix(client, make_user, login, others_records, role, url):
    if role != "anonymous":
        # Staff accounts belong to no unit and are assigned none here.
        login(make_user(Role(role), unit=None))
    response = client.get(url.format(**others_records))
    assert response.status_code == MATRIX[url][ROLES.index(role)]
    if response.status_code == 302 and role == "anonymous":
        assert response.headers["Location"].startswith("/login")


def test_owner_sees_own_attempt_and_certificate(client, db, make_user, login, others_records):
    from app.extensions import db as _db
    from app.models import User

    owner = _db.session.scalar(_db.select(User).where(User.username == "owner"))
    login(owner)
    assert client.get(f"/training/attempts/{others_records['attempt']}").status_code == 200
    assert client.get(f"/training/certificates/{others_records['code']}.pdf").status_code == 200


def test_nobody_submits_someone_elses_attempt(client, db, make_user, login, others_records):
    from tests.fixtures import post

    login(make_user())
    response = post(client, f"/training/attempts/{others_records['attempt']}", {"q1": "a"})
    assert response.status_code == 404


def test_state_changing_urls_refuse_get(client, make_user, login, others_records):
    login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/training/basics/attempts").status_code == 405
