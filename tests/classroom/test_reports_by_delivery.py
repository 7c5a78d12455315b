"""The coordinator's lists say how each completion was earned, and filter by it."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from datetime import timedelta

import openpyxl
import pytest

from app.models import ClassroomSession, User
from app.models.types import utcnow
from tests.fixtures import pass_module, shown_day
from tests.fixtures.classroom import pass_on_paper

PLACE = "Peacekeeping Training Centre, Accra"


@pytest.fixture
def earned(
    make_session: Callable[..., ClassroomSession], make_user: Callable[..., User], facilitator
) -> dict[str, object]:
    """One person passed basics online, one on paper in a session, one has not yet."""
    online = make_user(full_name="Zara Online")
    paper = make_user(full_name="Yaw Paper")
    make_user(full_name="Xena Nothing")
    session = make_session([paper], held_on=utcnow().date() - timedelta(days=3))
    pass_on_paper(session, paper, facilitator)
    pass_module(online)
    return {"online": online, "paper": paper, "session": session}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def rows(shown: str) -> list[str]:
    """Return the rows of a page's list of people."""
    body = shown[shown.index("<tbody>") : shown.index("</tbody>")]
    return body.split("<tr>")[1:]


def test_the_people_list_says_how_each_valid_module_was_earned(client, login, coordinator, earned):
    login(coordinator)
    shown = page(client, "/coordinator/people")
    session = earned["session"]
    line = f"In session {session.code}, {PLACE}, {shown_day(session.held_on)}"
    [paper] = [row for row in rows(shown) if "Yaw Paper" in row and "Conduct basics" in row]
    assert line in paper.replace("<bdi>", "").replace("</bdi>", "")
    [online] = [row for row in rows(shown) if "Zara Online" in row and "Conduct basics" in row]
    assert ">Online<" in online


@pytest.mark.parametrize(
    ("mode", "names"), [("classroom", {"Yaw Paper"}), ("online", {"Zara Online"})]
)
def test_the_people_list_filters_by_how_modules_were_earned(
    client, login, coordinator, earned, mode, names
):
    login(coordinator)
    shown = page(client, f"/coordinator/people?delivery={mode}")
    listed = rows(shown)
    assert {name for name in ("Yaw Paper", "Zara Online", "Xena Nothing") if name in shown} == (
        names
    )
    assert len(listed) == 1 and "1 person-module row" in shown
    assert f'<option value="{mode}" selected>' in shown


def test_a_delivery_filter_with_a_state_not_valid_lists_no_one(client, login, coordinator, earned):
    login(coordinator)
    shown = page(client, "/coordinator/people?delivery=classroom&status=overdue")
    assert "No one matches these filters." in shown


def test_an_unknown_delivery_mode_answers_404(client, login, coordinator, earned):
    login(coordinator)
    assert client.get("/coordinator/people?delivery=carrier-pigeon").status_code == 404


def test_the_dashboard_does_not_offer_the_delivery_filter(client, login, coordinator, earned):
    # Its counts come from the summary tables, which are not kept by delivery mode.
    login(coordinator)
    assert 'name="delivery"' not in page(client, "/coordinator/")
    assert 'name="delivery"' in page(client, "/coordinator/people")


def test_the_people_export_has_the_delivery_columns_and_filter(client, login, coordinator, earned):
    login(coordinator)
    session = earned["session"]
    response = client.get("/coordinator/export/people.csv?delivery=classroom")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header = lines[0]
    assert header[-4:] == ["delivery_mode", "session", "session_place", "session_date"]
    [row] = lines[1:]
    assert row[0] == "Yaw Paper"
    assert row[-4:] == ["classroom", session.code, PLACE, session.held_on.isoformat()]
    response = client.get("/coordinator/export/people.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    table = list(sheet.iter_rows(values_only=True))
    modes = {(line[0], line[4]): line[header.index("delivery_mode")] for line in table[1:]}
    assert modes[("Zara Online", "Conduct basics")] == "online"
    assert modes[("Yaw Paper", "Conduct basics")] == "classroom"
    assert modes[("Xena Nothing", "Conduct basics")] is None


def test_the_persons_page_names_the_session_and_facilitator(client, login, coordinator, earned):
    login(coordinator)
    session = earned["session"]
    shown = page(client, f"/coordinator/people/{earned['paper'].id}")
    shown = shown.replace("<bdi>", "").replace("</bdi>", "")
    assert f"In session {session.code}, {PLACE}, {shown_day(session.held_on)}" in shown
    assert "Facilitator: Kwame Mensah" in shown
    assert ">Online<" in page(client, f"/coordinator/people/{earned['online'].id}")


def test_the_filtered_list_makes_a_fixed_number_of_queries(
    client, login, coordinator, earned, make_user, count_queries, make_session, facilitator
):
    login(coordinator)

    def queries() -> int:
        page(client, "/coordinator/people?delivery=classroom")
        with count_queries() as statements:
            page(client, "/coordinator/people?delivery=classroom")
        return len(statements)

    few = queries()
    people = [make_user(full_name=f"Extra {number}") for number in range(12)]
    session = make_session(people, held_on=utcnow().date() - timedelta(days=1))
    for person in people:
        pass_on_paper(session, person, facilitator)
    for number in range(6):
        pass_module(make_user(full_name=f"Online {number}"))
    assert queries() == few
