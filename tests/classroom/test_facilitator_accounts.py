"""Facilitator accounts: an administrator gives the role, for the units they facilitate in."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role, Unit, User
from app.services import classroom
from tests.fixtures import post


def test_an_administrator_makes_someone_a_facilitator_of_a_unit(
    client: FlaskClient,
    login: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    unit: Unit,
    other_unit: Unit,
) -> None:
    person = make_user(full_name="Kofi Asante")
    login(make_user(Role.ADMIN, unit=None))
    form = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Facilitator (runs classroom sessions)" in form
    response = post(
        client,
        f"/admin/users/{person.id}",
        {
            "role": "facilitator",
            "category": person.category.value,
            "position": person.position.value,
            "unit": str(unit.id),
            "assigned_units": [str(unit.id)],
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.role == Role.FACILITATOR
    # Assigned to the unit, they may facilitate its sessions and those of no other unit.
    assert person in classroom.facilitator_choices(unit)
    assert person not in classroom.facilitator_choices(other_unit)
