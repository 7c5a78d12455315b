"""The coordinator's dashboard: counts, lists, drill-downs and scoping at every URL."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.models import Completion, Mission, PersonnelCategory, Role, Unit
from app.models.types import utcnow
from tests.fixtures import move_expiry, pass_module


@pytest.fixture
def org(db, unit, modules, make_user):
    """Unit A (assigned, with sub-unit B) and unit C (someone else's), people in each state."""
    mission = db.session.get(Mission, unit.mission_id)
    sub = Unit(mission=mission, code="UNIT-B", name="Unit B", country="Ghana", parent=unit)
    other = Unit(mission=mission, code="UNIT-C", name="Unit C", country="Peru")
    db.session.add_all([sub, other])
    db.session.commit()
    today = date.today()
    far, past = today + timedelta(days=200), today - timedelta(days=1)
    people = {
        "complete": make_user(full_name="Zara Complete", deployment_date=far),
        "expiring": make_user(full_name="Yusuf Expiring", deployment_date=far),
        "overdue": make_user(full_name="Xena Overdue", deployment_date=past),
        "pending": make_user(full_name="Walter Pending", deployment_date=far),
        "sub_overdue": make_user(full_name="Vera Sub", unit=sub, deployment_date=past),
        "other": make_user(full_name="Umar Other", unit=other, deployment_date=past),
    }
    pass_module(people["complete"])
    pass_module(people["expiring"])
    move_expiry(people["expiring"], module_id(db), utcnow() + timedelta(days=10))
    coordinator = make_user(Role.COORDINATOR, full_name="Coordinator", assigned_units=[unit])
    return {"unit": unit, "sub": sub, "other": other, "people": people, "coordinator": coordinator}


def link(page, rel):
    """Return the address of a page's link to the next or previous page."""
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    assert found, f"no {rel} link"
    return "/coordinator/people" + html.unescape(found.group(1))


def table(page):
    """Return the rows of a page's list of people."""
    return page[page.index("<tbody>") : page.index("</tbody>")]


def module_id(db, slug="basics"):
    from app.services import training

    return training.current_version(slug).module_id


def test_dashboard_counts_states_for_my_units_only(client, db, org, login):
    page = login(org["coordinator"]).get("/coordinator/").get_data(as_text=True)
    assert "Unit A" in page and "Unit B" in page and "Unit C" not in page
    # basics is mandatory for everyone: unit A has 4 people (+ the coordinator, civilian
    # with no deployment date, in progress), of whom 2 hold a valid completion.
    assert "2/5 (40%)" in page
    assert "1 overdue · 1 expiring" in page
    assert "<svg" in page and "Modules completed per month" in page


def test_matrix_service_counts_each_state(app, db, org):
    from app.services import reporting

    cutoffs = reporting.Cutoffs.at()
    matrix = reporting.matrix([org["unit"]], reporting.Filters([org["unit"].id]), cutoffs)
    cell = matrix.cell(org["unit"].id, module_id(db))
    assert cell.counts == {"complete": 1, "expiring": 1, "overdue": 1, "in_progress": 2}


def test_expired_completion_counts_as_overdue_when_due(app, db, org):
    from app.services import reporting

    move_expiry(org["people"]["complete"], module_id(db), utcnow() - timedelta(days=1))
    org["people"]["complete"].deployment_date = date.today()
    db.session.commit()
    filters = reporting.Filters([org["unit"].id], state=reporting.State.OVERDUE)
    names = {r.full_name for r in reporting.people(filters, reporting.Cutoffs.at()).rows}
    assert names == {"Xena Overdue", "Zara Complete"}


def test_due_date_uses_deployment_lead_time_or_account_age(app, db, make_user):
    from app.services import reporting

    deployed = make_user(deployment_date=date(2027, 3, 15))
    assert reporting.due_date(deployed) == date(2027, 3, 1)
    undated = make_user()
    assert reporting.due_date(undated) == (undated.created_at + timedelta(days=30)).date()


def test_overdue_list_includes_sub_units_and_links_people(client, db, org, login):
    login(org["coordinator"])
    page = client.get("/coordinator/people?status=overdue").get_data(as_text=True)
    assert "Xena Overdue" in page and "Vera Sub" in page
    assert "Umar Other" not in page and "Zara Complete" not in page
    assert f"/coordinator/people/{org['people']['overdue'].id}" in page


def test_unit_page_lists_problems_first_and_filters(client, db, org, login):
    login(org["coordinator"])
    page = client.get(f"/coordinator/units/{org['unit'].id}").get_data(as_text=True)
    assert page.index("Xena Overdue") < page.index("Yusuf Expiring") < page.index("Zara Complete")
    filtered = client.get(f"/coordinator/units/{org['unit'].id}?status=expiring").get_data(
        as_text=True
    )
    assert "Yusuf Expiring" in filtered and "Xena Overdue" not in filtered


def test_category_filter(client, db, org, login, make_user):
    make_user(full_name="Police Officer", category=PersonnelCategory.FORMED_POLICE)
    login(org["coordinator"])
    page = client.get("/coordinator/people?category=formed_police").get_data(as_text=True)
    assert "Police Officer" in page and "Xena Overdue" not in page


def test_people_list_is_paginated(client, db, org, login, make_user):
    for number in range(55):
        make_user(full_name=f"Recruit {number:02d}")
    login(org["coordinator"])
    url = f"/coordinator/people?module={module_id(db)}"
    first = client.get(url).get_data(as_text=True)
    # 55 recruits, 5 people of units A and B and the coordinator: 61 rows of 50 a page.
    assert "61 person-module rows" in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(link(first, "next")).get_data(as_text=True)
    assert "Page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert f"module={module_id(db)}" in link(second, "prev")
    back = client.get(link(second, "prev")).get_data(as_text=True)
    assert table(back) == table(first) and "Page 1 of 2" in back
    assert second.count("<tr>") == 1 + 11


def test_person_record_shows_attempts_completions_and_certificates(client, db, org, login):
    person = org["people"]["complete"]
    login(org["coordinator"])
    page = client.get(f"/coordinator/people/{person.id}").get_data(as_text=True)
    certificate = db.session.scalar(
        sa.select(Completion).where(Completion.user_id == person.id)
    ).certificate
    assert "Zara Complete" in page and certificate.code in page
    assert "100%" in page and "passed" in page


def test_other_units_are_not_found_at_every_url(client, db, org, login):
    login(org["coordinator"])
    other = org["other"].id
    person = org["people"]["other"].id
    for url in (
        f"/coordinator/units/{other}",
        f"/coordinator/people/{person}",
        f"/coordinator/?unit={other}",
        f"/coordinator/people?unit={other}",
        f"/coordinator/export/people.csv?unit={other}",
        f"/coordinator/export/matrix.xlsx?unit={other}",
    ):
        assert client.get(url).status_code == 404, url


def test_admin_sees_every_unit(client, db, org, login, make_user):
    login(make_user(Role.ADMIN, unit=None))
    page = client.get("/coordinator/").get_data(as_text=True)
    assert "Unit C" in page
    assert client.get(f"/coordinator/people/{org['people']['other'].id}").status_code == 200


@pytest.mark.parametrize("role", [Role.PEACEKEEPER, Role.COMMANDER])
def test_peacekeepers_and_commanders_cannot_reach_coordinator_pages(
    client, db, org, login, make_user, role
):
    login(make_user(role))
    for url in ("/coordinator/", f"/coordinator/units/{org['unit'].id}", "/coordinator/people",
                f"/coordinator/people/{org['people']['overdue'].id}",
                "/coordinator/export/people.csv"):  # fmt: skip
        assert client.get(url).status_code == 403, url


def test_unit_page_uses_a_fixed_number_of_queries(client, db, org, login, make_user, count_queries):
    login(org["coordinator"])
    url = f"/coordinator/units/{org['unit'].id}"

    def queries() -> int:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = queries()
    for number in range(30):
        person = make_user(full_name=f"Extra {number}")
        if number % 3 == 0:
            pass_module(person)
    # The list reads state by state until its page is full: with more people in the
    # first states, it reads fewer of them, never more.
    assert queries() <= small


def test_exports_match_the_filtered_list(client, db, org, login):
    import csv as csv_module
    import io

    import openpyxl

    login(org["coordinator"])
    csv = client.get("/coordinator/export/people.csv?status=overdue")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = list(csv_module.reader(io.StringIO(csv.data.decode("utf-8-sig"))))
    assert lines[0][:6] == ["full_name", "service_number", "category", "unit", "module", "status"]
    names = sorted(line[0] for line in lines[1:])
    assert names == ["Vera Sub", "Vera Sub", "Xena Overdue", "Xena Overdue"]
    xlsx = client.get(f"/coordinator/export/matrix.xlsx?unit={org['unit'].id}")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("unit", "country", "module")
    basics = [r for r in rows[1:] if r[0] == "Unit A" and r[2] == "Conduct basics"]
    assert basics and basics[0][4:9] == (5, 1, 1, 2, 1)


def test_completions_per_month_count_each_month_of_the_last_year(app, db, org):
    from app.services import reporting

    completion = db.session.scalar(
        sa.select(Completion).where(Completion.user_id == org["people"]["complete"].id)
    )
    completion.completed_at = utcnow().replace(day=1, hour=0) - timedelta(days=40)
    db.session.commit()
    trend = reporting.completions_by_month(None)
    assert len(trend) == 12 and trend[-1][0] == utcnow().strftime("%Y-%m")
    assert trend[-1][1] == 1  # the expiring person's completion, this month
    assert trend[-3][1] == 1 and sum(n for _, n in trend) == 2
    assert reporting.completions_by_month([org["other"].id]) == [(m, 0) for m, _ in trend]
    # Counted for units through their people, and for everyone along the dates: alike.
    every_unit = [org[name].id for name in ("unit", "sub", "other")]
    assert reporting.completions_by_month(every_unit) == trend
    completion.completed_at = utcnow().replace(day=1, hour=0) - timedelta(days=400)
    db.session.commit()
    assert sum(n for _, n in reporting.completions_by_month(None)) == 1


@pytest.fixture
def overdue_people(db, unit, modules, make_user):
    """Overdue people with shared deployment dates and shared names, and some undated."""
    from app.models import Position

    today = date.today()
    made = []
    for _ in range(9):  # the same name on the same day: only the person tells apart
        made.append(make_user(full_name="Sam Same", deployment_date=today - timedelta(days=5)))
    for number in range(4):
        made.append(
            make_user(full_name=f"Ana Early {number}", deployment_date=today - timedelta(days=40))
        )
    for number in range(3):
        made.append(
            make_user(
                full_name=f"Zed Late {number}",
                deployment_date=today + timedelta(days=4),
                position=Position.MANAGER,
            )
        )
    for number in range(3):  # no deployment date: due 30 days after their account opened
        made.append(
            make_user(full_name=f"Bo Undated {number}", created_at=utcnow() - timedelta(days=60))
        )
    trained = make_user(full_name="Sam Same", deployment_date=today - timedelta(days=5))
    pass_module(trained)
    pass_module(trained, "pledge")
    make_user(full_name="Not Due", deployment_date=today + timedelta(days=100))
    return made


def expected_overdue(people):
    """Every overdue person and module in the order lists promise: date (none last), name, id."""
    from app.services import curriculum

    pairs = [
        (person, version.module_id)
        for person in people
        for version in curriculum.required_versions(person)
    ]
    pairs.sort(
        key=lambda pair: (
            pair[0].deployment_date is None,
            pair[0].deployment_date or date.min,
            pair[0].full_name,
            pair[0].id,
            pair[1],
        )
    )
    return [(person.id, module) for person, module in pairs]


def test_overdue_pages_list_everyone_once_in_order(db, overdue_people):
    from app.services import reporting

    filters, cutoffs = reporting.Filters(state=reporting.State.OVERDUE), reporting.Cutoffs.at()
    expected = expected_overdue(overdue_people)
    pages, page = [], reporting.people(filters, cutoffs, per_page=7)
    while True:
        pages.append(page)
        if page.next_after is None:
            break
        page = reporting.people(filters, cutoffs, page.page + 1, 7, after=page.next_after)
    listed = [(row.user_id, row.module_id) for page in pages for row in page.rows]
    assert listed == expected
    assert [page.page for page in pages] == list(range(1, len(pages) + 1))
    assert {page.pages for page in pages} == {len(pages)} and pages[0].total == len(expected)
    # And back, page by page, from the last.
    back = [pages[-1]]
    while back[-1].previous_before is not None:
        back.append(reporting.people(filters, cutoffs, back[-1].page - 1, 7,
                                     before=back[-1].previous_before))  # fmt: skip
    assert [[row.place for row in page.rows] for page in back[::-1]] == [
        [row.place for row in page.rows] for page in pages
    ]
    assert [page.page for page in back] == list(range(len(pages), 0, -1))


def test_the_whole_list_runs_state_by_state_through_every_page(db, overdue_people, org):
    from app.services import reporting

    filters, cutoffs = reporting.Filters(), reporting.Cutoffs.at()
    rows, page = [], reporting.people(filters, cutoffs, per_page=4)
    while True:
        rows += page.rows
        if page.next_after is None:
            break
        page = reporting.people(filters, cutoffs, page.page + 1, 4, after=page.next_after)
    order = [reporting.STATE_ORDER.index(row.state) for row in rows]
    assert order == sorted(order) and len(rows) == page.total
    assert len({row.place for row in rows}) == len(rows)
    overdue = [(row.user_id, row.module_id) for row in rows if row.state == reporting.State.OVERDUE]
    others = [org["people"][name] for name in ("overdue", "sub_overdue", "other")]
    assert overdue == expected_overdue([*overdue_people, *others])


def test_overdue_pages_link_forward_and_back_without_script(
    client, db, overdue_people, login, make_user, unit, monkeypatch
):
    from app.coordinator import views

    monkeypatch.setattr(views, "PER_PAGE", 10)
    login(make_user(Role.COORDINATOR, unit=None, assigned_units=[unit]))
    pages = [client.get("/coordinator/people?status=overdue").get_data(as_text=True)]
    while 'rel="next"' in pages[-1]:
        address = link(pages[-1], "next")
        assert "status=overdue" in address and "after=overdue." in address
        pages.append(client.get(address).get_data(as_text=True))
    names = [re.findall(r'dir="auto">([^<]+)</a>', table(page)) for page in pages]
    expected = expected_overdue(overdue_people)
    assert sum(len(page) for page in names) == len(expected)
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert names[0][:8] == ["Ana Early 0"] * 2 + ["Ana Early 1"] * 2 + ["Ana Early 2"] * 2 + [
        "Ana Early 3"] * 2  # fmt: skip
    assert names[-1][-1] == "Bo Undated 2"
    back = client.get(link(pages[-1], "prev")).get_data(as_text=True)
    assert table(back) == table(pages[-2])


def test_page_links_to_places_not_in_the_list_answer_404(
    client, db, overdue_people, login, make_user, unit
):
    login(make_user(Role.COORDINATOR, unit=None, assigned_units=[unit]))
    person, basics = overdue_people[0].id, module_id(db)
    url = "/coordinator/people?status=overdue"
    assert client.get(f"{url}&after=overdue.{person}.{basics}&page=2").status_code == 200
    for query in (
        "after=overdue.99999999.1",  # nobody
        f"after=complete.{person}.{basics}",  # not a place of the overdue list
        f"after=overdue.{person}",
        f"after=overdue.{person}.{basics}.1",
        f"after=lost.{person}.{basics}",
        f"after=overdue.{person}.{basics}&before=overdue.{person}.{basics}",
        "page=2",
    ):
        assert client.get(f"{url}&{query}").status_code == 404, query
    # A page number past the end, with its place, still shows a page: the last one.
    page = client.get(f"{url}&after=overdue.{person}.{basics}&page=999999").get_data(as_text=True)
    assert "Page 2 of 2" in page and 'rel="prev"' in page


def test_a_coordinator_reading_french_sees_the_modules_french_titles(
    client, db, org, login, translated_modules, reading
):
    reading("fr")
    login(org["coordinator"])
    matrix = client.get("/coordinator/").get_data(as_text=True)
    # The matrix heading is in French; a module without a French translation keeps its
    # English title, marked as English.
    assert '<th scope="col">Les bases de la conduite</th>' in matrix
    assert '<th scope="col" lang="en" dir="ltr">Leading by example</th>' in matrix
    unit = client.get(f"/coordinator/units/{org['unit'].id}").get_data(as_text=True)
    assert '<th scope="row">Les bases de la conduite</th>' in unit
    overdue = client.get("/coordinator/people?status=overdue").get_data(as_text=True)
    assert ">Les bases de la conduite</td>" in table(overdue)
    assert "Conduct basics" not in table(overdue)
    # Exports stay in the source language.
    csv = client.get("/coordinator/export/people.csv?status=overdue").data.decode("utf-8-sig")
    assert "Conduct basics" in csv and "Les bases" not in csv


def test_the_coordinators_pages_read_the_translated_titles_in_one_query(
    client, db, org, login, translated_modules, reading, count_queries
):
    login(org["coordinator"])

    def queries(language: str) -> int:
        reading(language)
        client.get("/coordinator/")
        with count_queries() as statements:
            assert client.get("/coordinator/").status_code == 200
        return len(statements)

    # The source language needs no look-up; French one for every module at once.
    assert queries("fr") == queries("en") + 1


def test_a_persons_record_names_modules_and_undertakings_as_french_writes_them(
    client, db, org, login, translated_modules, reading
):
    from app.services import attestation, training

    person = org["people"]["complete"]
    attestation.attest(person, training.current_version("pledge"))
    db.session.commit()
    reading("fr")
    login(org["coordinator"])
    page = client.get(f"/coordinator/people/{person.id}").get_data(as_text=True)
    assert '<td data-label="Module">Les bases de la conduite</td>' in page
    assert '<td data-label="Module">Un module avec un engagement</td>' in page
    # The undertaking: the module in French, a non-breaking space before the colon and
    # inside the guillemets.
    assert re.search(
        r"<li><span>Un module avec un engagement</span> \(version [^)]+\), [^<]+ UTC\u00a0: "
        r'«\u00a0<span dir="auto">[^<]+</span>\u00a0»</li>',
        page,
    )


def module_choices(page: str) -> list[str]:
    """Return the modules the filter form offers, in its order."""
    select = re.search(r'<select id="f-module" name="module">(.*?)</select>', page, re.S)
    assert select
    return re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select[1])


@pytest.mark.parametrize(
    ("role", "address"),
    [
        (Role.COORDINATOR, "/coordinator/"),
        (Role.COORDINATOR, "/coordinator/people"),
        (Role.HEADQUARTERS, "/headquarters/"),
    ],
)
def test_the_module_filter_lists_the_titles_in_the_readers_alphabetical_order(
    client, db, org, make_user, login, translated_modules, reading, role, address
):
    login(make_user(role, unit=None, assigned_units=[org["unit"]]))
    assert module_choices(client.get(address).get_data(as_text=True)) == [
        "A module with an undertaking",
        "Conduct basics",
        "Leading by example",
        "Policing with respect",
    ]
    reading("fr")
    assert module_choices(client.get(address).get_data(as_text=True)) == [
        "Leading by example",
        "Les bases de la conduite",
        "Policing with respect",
        "Un module avec un engagement",
    ]
