"""The headquarters view: aggregates only, small counts hidden and never recoverable."""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
from datetime import date, timedelta

import openpyxl
import pytest

from app.models import Mission, PersonnelCategory, Role, Unit
from app.models.types import utcnow
from app.services import records, training
from app.services.reporting import headquarters
from app.services.reporting.headquarters import published
from tests.fixtures.classroom import pass_on_paper

STATES = ["complete", "expiring", "in_progress", "overdue"]
EARNED = ["valid_online", "valid_classroom"]


def basics():
    return training.current_version("basics").module_id


@pytest.fixture
def hq(db, modules, unit, make_user, make_session, facilitator):
    """Unit A: 18 people on basics, 14 complete (6 of them in a facilitated session, 8
    online) and 4 overdue; a second mission's unit."""
    far, past = date.today() + timedelta(days=200), date.today() - timedelta(days=3)
    valid = utcnow() + timedelta(days=300)
    people = []
    for number in range(18):
        person = make_user(
            full_name=f"Ngozi Okafor-{number:02d}",
            service_number=f"NG-7{number:04d}",
            deployment_date=far if number < 14 else past,
        )
        people.append(person)
        if 6 <= number < 14:
            records.extend([(person.id, basics(), valid)])
    other_mission = Mission(code="OTHER", name="Other Mission")
    far_unit = Unit(mission=other_mission, code="UNIT-Z", name="Unit Z", country="Fiji")
    db.session.add(far_unit)
    db.session.commit()
    for number in range(7):
        make_user(full_name=f"Tevita Far-{number}", service_number=f"FJ-{number:04d}",
                  unit=far_unit, category=PersonnelCategory.FORMED_POLICE)  # fmt: skip
    session = make_session(people[:6], held_on=date.today() - timedelta(days=2))
    for person in people[:6]:
        pass_on_paper(session, person, facilitator)
    officer = make_user(Role.HEADQUARTERS, full_name="Headquarters Officer", unit=None)
    return {"unit": unit, "far_unit": far_unit, "people": people, "officer": officer,
            "mission": unit.mission_id, "other_mission": other_mission}  # fmt: skip


def cells(fragment):
    return [
        re.sub(r"<[^>]+>", "", html.unescape(cell)).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", fragment, re.S)
    ]


def table_rows(page):
    """Return the rows of the page's table: a list of cell texts per row."""
    body = page[page.index("<table") : page.index("</table>")]
    return [cells(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def row_for(rows, *leading):
    found = [row for row in rows if row[: len(leading)] == list(leading)]
    assert len(found) == 1, (leading, rows)
    return found[0]


def test_counts_are_published_rounded_to_five_and_hidden_under_five():
    assert [published(n) for n in range(14)] == [
        None, None, None, None, None, 5, 5, 5, 10, 10, 10, 10, 10, 15,
    ]  # fmt: skip
    assert published(18) == 20 and published(1002) == 1000 and published(1003) == 1005


def test_small_counts_are_hidden_and_the_rest_rounded(client, login, hq):
    login(hq["officer"])
    page = client.get(f"/headquarters/?by=unit&module={basics()}").get_data(as_text=True)
    rows = table_rows(page)
    assert rows[0][:3] == ["Unit", "Mission", "Module"]
    # 18 people (20), 14 complete (15), 4 overdue: hidden, as are the empty states.
    required, complete, expiring, in_progress, overdue, percent, online, classroom = row_for(
        rows, "Unit A", "Test Mission"
    )[3:]
    assert (required, complete) == ("20", "15")
    assert expiring == in_progress == overdue == "fewer than 5"
    assert percent == "75%"  # 15 of 20, the counts shown
    # Of the 14 complete, 8 online (10) and 6 in a session (5).
    assert (online, classroom) == ("10", "5")
    assert rows[0][-2:] == ["Completed online", "Completed in a facilitated session"]
    far = row_for(rows, "Unit Z", "Other Mission")[3:]
    assert far[:2] == ["5", "fewer than 5"] and far[-2:] == ["fewer than 5", "fewer than 5"]


def published_number(text):
    return None if text == "fewer than 5" else int(text)


def consistent_values(shown, *totals):
    """Return every true count of each cell that agrees with the counts as published.

    `shown` are the published counts of the parts (None: hidden), `totals` published
    counts whose people the parts add up to: what someone subtracting counts could learn
    of each part.
    """

    def possible(value):
        return range(5) if value is None else range(max(5, value - 2), value + 3)

    sums = {sum(values) for values in itertools.product(*(possible(v) for v in totals))}
    found = [set() for _ in shown]
    for values in itertools.product(*(possible(value) for value in shown)):
        if sum(values) in sums:
            for index, value in enumerate(values):
                found[index].add(value)
    return found


def test_no_hidden_count_can_be_worked_out_by_subtraction(client, login, hq, make_user):
    # Twelve more in unit A, all complete: each hidden cell sits next to large ones.
    for number in range(12):
        person = make_user(full_name=f"Extra {number}", deployment_date=date.today())
        records.extend([(person.id, basics(), utcnow() + timedelta(days=300))])
    login(hq["officer"])
    for breakdown in ("mission", "unit", "category"):
        page = client.get(f"/headquarters/?by={breakdown}").get_data(as_text=True)
        rows = table_rows(page)[1:]
        width = len(rows[0])
        groups = {}
        for row in rows:
            # Those who must take it, the four states, then (past the percentage) those
            # holding a valid completion online and in a session.
            shown = row[width - 8 : width - 3] + row[width - 2 :]
            figures = [published_number(text) for text in shown]
            # Along the row: the people who must take it are the states added up.
            for index, values in enumerate(consistent_values(figures[1:5], figures[0])):
                if figures[1 + index] is None:
                    assert len(values) > 1, (breakdown, row)
            # And those complete or expiring earned it one way or the other.
            valid, earned = figures[1:3], figures[5:]
            for index, values in enumerate(consistent_values(earned, *valid)):
                if earned[index] is None:
                    assert len(values) > 1, (breakdown, row)
            for index, values in enumerate(consistent_values(valid, *earned)):
                if valid[index] is None:
                    assert len(values) > 1, (breakdown, row)
            groups.setdefault((row[0] == "All shown", row[width - 9]), []).append(figures)
        # Down each module: the groups add up to the module's total.
        for (is_total, module), totals in groups.items():
            if not is_total:
                continue
            parts = groups[(False, module)]
            for column in range(7):
                shown = [figures[column] for figures in parts]
                for index, values in enumerate(consistent_values(shown, totals[0][column])):
                    if shown[index] is None:
                        assert len(values) > 1, (breakdown, module, column)
    # The plain subtraction gives a wrong answer: 30 must take it, 25 shown complete.
    page = client.get(f"/headquarters/?by=unit&module={basics()}").get_data(as_text=True)
    row = row_for(table_rows(page), "Unit A", "Test Mission")
    assert row[3:5] == ["30", "25"] and row[7] == "fewer than 5"  # 4 overdue, not 5
    # 20 online and 6 in a session: 20 + 5 shown, 25 as complete, never 26.
    assert row[9:] == ["20", "5"]


def test_no_person_is_named_in_the_page_or_the_exports(client, login, hq):
    login(hq["officer"])
    names = [person.full_name for person in hq["people"]] + ["Tevita Far"]
    numbers = [person.service_number for person in hq["people"]] + ["FJ-0"]
    texts = []
    for breakdown in ("mission", "unit", "category"):
        texts.append(client.get(f"/headquarters/?by={breakdown}").get_data(as_text=True))
        csv_export = client.get(f"/headquarters/export.csv?by={breakdown}")
        assert csv_export.status_code == 200 and csv_export.mimetype == "text/csv"
        texts.append(csv_export.get_data(as_text=True))
        xlsx = client.get(f"/headquarters/export.xlsx?by={breakdown}")
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
        texts.append(" ".join(str(cell) for row in sheet.iter_rows(values_only=True)
                              for cell in row))  # fmt: skip
    for text in texts:
        assert "Unit A" in text or "Test Mission" in text or "Military" in text
        for name in names:
            assert name.split("-")[0] not in text, name
        for number in numbers:
            assert number not in text


def test_exports_hold_the_published_counts_safe_for_spreadsheets(client, login, hq, db):
    hq["far_unit"].name = '=HYPERLINK("http://x")'
    db.session.commit()
    login(hq["officer"])
    response = client.get(f"/headquarters/export.csv?by=unit&module={basics()}")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["mission", "unit", "module", "people", *STATES, "percent_valid", *EARNED]
    unit_a = next(row for row in rows if row[1] == "Unit A")
    assert unit_a[3:9] == ["20", "15", "fewer than 5", "fewer than 5", "fewer than 5", "75"]
    assert unit_a[9:] == ["10", "5"]
    xlsx = client.get(f"/headquarters/export.xlsx?by=category&module={basics()}")
    sheet = list(openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert list(sheet[0][-2:]) == EARNED
    military = next(row for row in sheet if row[0] == "Military contingent member")
    assert list(military[-2:]) == [10, 5]
    assert any(row[1] == '\'=HYPERLINK("http://x")' for row in rows)
    assert rows[-1][:2] == ["All", "All"]


def test_filters_narrow_the_table_and_unknown_values_answer_404(client, login, hq):
    login(hq["officer"])
    other = hq["other_mission"].id
    page = client.get(f"/headquarters/?by=unit&mission={other}").get_data(as_text=True)
    assert "Unit Z" in page and "Unit A" not in page
    page = client.get("/headquarters/?by=category&category=formed_police").get_data(as_text=True)
    groups = {row[0] for row in table_rows(page)[1:]}
    assert groups == {"Formed police unit member", "All shown"}
    for query in ("by=person", "mission=999999", "module=999999", "category=x", "mission=²"):
        assert client.get(f"/headquarters/?{query}").status_code == 404, query
        assert client.get(f"/headquarters/export.csv?{query}").status_code == 404, query
    assert client.get("/headquarters/export.pdf").status_code == 404


def test_headquarters_start_on_their_page_and_see_no_person(client, login, hq):
    login(hq["officer"])
    assert client.get("/").headers["Location"] == "/headquarters/"
    person = hq["people"][0]
    assert client.get(f"/coordinator/people/{person.id}").status_code == 403
    assert client.get("/coordinator/people?status=overdue").status_code == 403


def test_headquarters_reading_french_see_the_modules_french_titles(
    client, login, hq, translated_modules, reading
):
    login(hq["officer"])
    reading("fr")
    page = client.get("/headquarters/?by=mission").get_data(as_text=True)
    rows = table_rows(page)
    assert row_for(rows, "Test Mission", "Les bases de la conduite")
    assert '<th scope="row">Les bases de la conduite</th>' in page
    # Untranslated into French: the English title, marked as English.
    assert '<th scope="row" lang="en" dir="ltr">Policing with respect</th>' in page
    # The export stays in the source language.
    export = client.get("/headquarters/export.csv?by=mission").get_data(as_text=True)
    assert "Conduct basics" in export and "Les bases" not in export


def test_the_split_by_delivery_is_counted_at_most_once_in_its_time(
    client, login, hq, app, monkeypatch, make_user, make_session, facilitator
):
    """Counted for every scope at once, kept for HEADQUARTERS_DELIVERY_SECONDS, then again."""
    monkeypatch.setitem(app.config, "HEADQUARTERS_DELIVERY_SECONDS", 600)
    now = [1_000_000.0]
    monkeypatch.setattr(headquarters.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(headquarters, "_earned", {})
    login(hq["officer"])

    def classroom_cell(query=""):
        page = client.get(f"/headquarters/?by=unit&module={basics()}{query}")
        return row_for(table_rows(page.get_data(as_text=True)), "Unit A", "Test Mission")[-1]

    assert classroom_cell() == "5"  # 6 people, counted now
    more = [make_user(deployment_date=date.today() + timedelta(days=200)) for _ in range(4)]
    session = make_session(more, held_on=date.today() - timedelta(days=1))
    for person in more:
        pass_on_paper(session, person, facilitator)
    # Kept: the same count, in this scope and narrowed to the unit's mission.
    now[0] += 599
    assert classroom_cell() == "5"
    assert classroom_cell(f"&mission={hq['mission']}") == "5"
    # Its time over, counted again: 10 people.
    now[0] += 2
    assert classroom_cell() == "10"
