"""Roster import: real-world CSV files, every problem located, all or nothing, first passwords."""

from __future__ import annotations

import base64
import io
import random
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import itsdangerous
import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.models import (
    AuditAction,
    AuditEntry,
    Mission,
    PersonnelCategory,
    Position,
    Role,
    RosterUpload,
    Unit,
    User,
)
from app.services import roster
from tests.fixtures import (
    HEADER,
    PASSWORD,
    count,
    csv_file,
    ods_cell,
    ods_file,
    post,
    upload,
    upload_and_preview,
    xlsx_file,
)

LINK = re.compile(r"https://training\.example\.org(/set-password#[\w.\-]+)")
ROOT = "https://training.example.org"
EXAMPLE = Path(__file__).parents[2] / "docs" / "roster-example.csv"


def person(db, service_number):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.service_number == service_number))


def problems(content, *scope):
    return [str(problem) for problem in roster.preview(content, scope).problems]


def import_now(db, content, *scope):
    result = roster.apply(roster.preview(content, scope))
    db.session.commit()
    return result


@pytest.fixture
def coordinator(make_user, unit):
    return make_user(Role.COORDINATOR, unit=None, assigned_units=[unit])


# Reading files as real tools write them


@pytest.mark.parametrize("sep", [",", ";"])
def test_bom_delimiter_crlf_and_quoted_fields_are_read(db, unit, sep):
    header = HEADER.replace(",", sep)
    content = csv_file(
        sep.join(["SN-1", f'"Diallo{sep} Mamadou"', "civilian", "UNIT-A", "", "", ""]),
        sep.join(["SN-2", '"Mensah, Ama\r\nAkosua"', "civilian", "UNIT-A", "", "", ""]),
        sep.join(["SN-3", "Kofi Boateng", "civilian", "UNIT-A", "", "", "1 March"]),
        header=header,
        bom=True,
    )
    # Row 3 spans two lines of the file but is one row in a spreadsheet: the next is row 4.
    assert problems(content, unit) == [
        "row 4, column deployment_date: “1 March” is not a date. "
        "Write it as YYYY-MM-DD, for example 2026-03-31."
    ]

    fixed = content.replace(b"1 March", b"2026-03-01")
    import_now(db, fixed, unit)
    assert person(db, "SN-1").full_name == f"Diallo{sep} Mamadou"
    assert person(db, "SN-2").full_name == "Mensah, Ama Akosua"
    assert person(db, "SN-3").deployment_date == date(2026, 3, 1)


def test_header_names_are_forgiving_and_values_are_trimmed(db, unit):
    content = csv_file(
        " SN-7 ; Grace  Atieno ; Civilian staff ; unit-a ; MANAGER ; grace@example.org ",
        header="Service Number;FULL_NAME;Category;Unit;Position;E-mail",
    )
    import_now(db, content, unit)
    grace = person(db, "SN-7")
    assert grace.full_name == "Grace Atieno"
    assert grace.category == PersonnelCategory.CIVILIAN
    assert grace.unit_id == unit.id and grace.position == Position.MANAGER
    assert grace.email == "grace@example.org"


@pytest.mark.parametrize("language", ["ar", "fr", "zh"])
def test_a_file_imports_alike_whatever_language_the_coordinator_reads(app, db, unit, language):
    # Labels in English, as the example file and most national rosters write them.
    content = csv_file(
        "SN-8;Grace Atieno;Civilian staff;unit-a;member;grace@example.org",
        "SN-9;Ali Hassan;Military contingent member;unit-a;member;ali@example.org",
        header="service_number;full_name;category;unit;position;email",
    )
    with app.test_request_context(), force_locale(language):
        assert problems(content, unit) == []
        import_now(db, content, unit)
    assert person(db, "SN-8").category == PersonnelCategory.CIVILIAN
    assert person(db, "SN-9").category == PersonnelCategory.MILITARY_CONTINGENT


def test_names_in_any_script_are_stored_and_shown_exactly(client, db, coordinator, login):
    names = {
        "AR-1": "ليلى حداد",
        "RU-1": "Анна Кузнецова",
        "ZH-1": "王芳",
        "FR-1": "Aïssatou Ndiaye-Séné",
        "ES-1": "José Álvarez Núñez",
    }
    content = csv_file(*(f"{sn},{name},civilian,UNIT-A,,," for sn, name in names.items()))
    login(coordinator)
    url, page = upload_and_preview(client, content)
    for name in names.values():
        assert name in page
    done = post(client, url).get_data(as_text=True)
    for service_number, name in names.items():
        assert name in done
        assert person(db, service_number).full_name == name


def test_bidirectional_controls_are_removed_from_imported_names(db, unit):
    import_now(
        db, csv_file("SN-1,Amina\u202e Diallo\u202c \u2067Haddad\u2069,civilian,UNIT-A,,,"), unit
    )
    assert person(db, "SN-1").full_name == "Amina Diallo Haddad"


# Every problem, located as `row N, column X`


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("SN-1,,civilian,UNIT-A,,,",
         "row 2, column full_name: the value is missing; this column is required."),
        (",Amina Haddad,civilian,UNIT-A,,,",
         "row 2, column service_number: the value is missing; this column is required."),
        ("SN-1,Amina Haddad,soldier,UNIT-A,,,",
         "row 2, column category: “soldier” is not a personnel category. Use one of "
         "military_contingent, military_staff_officer, formed_police, individual_police, "
         "civilian, un_volunteer, contractor."),
        ("SN-1,Amina Haddad,civilian,UNIT-Z,,,",
         "row 2, column unit: there is no unit with the code “UNIT-Z”."),
        ("SN-1,Amina Haddad,civilian,UNIT-B,,,",
         "row 2, column unit: unit UNIT-B is not one of your units."),
        ("SN-1,Amina Haddad,civilian,UNIT-A,,,31/12/2026",
         "row 2, column deployment_date: “31/12/2026” is not a date. "
         "Write it as YYYY-MM-DD, for example 2026-03-31."),
        ("SN-1,Amina Haddad,civilian,UNIT-A,,,2026-02-30",
         "row 2, column deployment_date: “2026-02-30” is not a date. "
         "Write it as YYYY-MM-DD, for example 2026-03-31."),
        ("SN-1,Amina Haddad,civilian,UNIT-A,,amina@,",
         "row 2, column email: “amina@” is not an e-mail address."),
        ("SN-1,Amina Haddad,civilian,UNIT-A,captain,,",
         "row 2, column position: “captain” is not a position. Use member, manager or "
         "commander, or leave it empty for member."),
        ("SN-1,Amina Haddad,civilian,UNIT-A,,,,extra",
         "row 2: this row has 8 values but row 1 names 7 columns. "
         "Put quotes around any value that contains a comma."),
    ],
)  # fmt: skip
def test_each_problem_names_its_row_and_column(db, unit, other_unit, row, expected):
    assert problems(csv_file(row), unit) == [expected]


def test_duplicate_service_number_names_both_rows(db, unit):
    content = csv_file(
        "SN-1,Amina Haddad,civilian,UNIT-A,,,",
        "SN-2,Kofi Boateng,civilian,UNIT-A,,,",
        "sn-1,Amina Haddad,civilian,UNIT-A,,,",
    )
    assert problems(content, unit) == [
        "row 4, column service_number: service number sn-1 appears more than once in the file: "
        "rows 2 and 4."
    ]


def test_service_number_of_someone_in_another_unit_is_a_clash(db, unit, other_unit, make_user):
    make_user(service_number="SN-9", unit=other_unit, full_name="Rosa Quispe")
    content = csv_file("SN-9,Rosa Quispe,civilian,UNIT-A,,,")
    assert problems(content, unit, other_unit) == [
        "row 2, column service_number: service number SN-9 already belongs to a person who is "
        "not in unit UNIT-A. Ask an administrator to move them, or remove this row."
    ]
    assert person(db, "SN-9").unit_id == other_unit.id


def test_service_number_that_would_take_someone_elses_sign_in_name(db, unit, make_user):
    make_user(username="sn-5", service_number="OTHER-1")
    assert problems(csv_file("SN-5,Amina Haddad,civilian,UNIT-A,,,"), unit) == [
        "row 2, column service_number: service number SN-5 cannot become a sign-in name: "
        "another account already signs in as “sn-5”."
    ]


def test_header_problems_name_the_columns(db, unit):
    missing = csv_file("SN-1,Amina Haddad,UNIT-A", header="service_number,full_name,unit")
    assert problems(missing, unit) == [
        "row 1: the required column category is missing. The first row must name the columns "
        "service_number, full_name, category, unit."
    ]
    extra = csv_file(
        "SN-1,Amina Haddad,civilian,UNIT-A,Major",
        header="service_number,full_name,category,unit,rank",
    )
    assert problems(extra, unit) == [
        "row 1, column rank: unknown column. Rename it to one of service_number, full_name, "
        "category, unit, position, email, deployment_date, or remove it."
    ]


def test_header_without_people_is_explained(db, unit):
    assert problems(csv_file(), unit) == ["The file has a header row but no people below it."]


def test_preview_page_lists_every_problem_and_offers_no_import(client, coordinator, login):
    content = csv_file(
        "SN-1,,civilian,UNIT-A,,,",
        "SN-2,Kofi Boateng,civilian,UNIT-Z,,,",
        "SN-3,Ama Mensah,civilian,UNIT-A,,,tomorrow",
    )
    login(coordinator)
    url, page = upload_and_preview(client, content)
    assert "row 2, column full_name: the value is missing; this column is required." in page
    assert "row 3, column unit: there is no unit with the code “UNIT-Z”." in page
    assert "row 4, column deployment_date: “tomorrow” is not a date." in page
    assert "3 problems to fix" in page
    assert "row 1 is the header, so the first person is row 2" in page
    assert "Confirm import" not in page

    response = post(client, url)
    assert response.status_code == 302
    assert "Nothing was imported" in client.get(url).get_data(as_text=True)
    assert count(User) == 1


# All or nothing; update or unchanged


def test_one_bad_row_among_good_ones_changes_nothing(client, db, coordinator, login, make_user):
    make_user(service_number="SN-1", full_name="Old Name")
    content = csv_file(
        "SN-1,New Name,civilian,UNIT-A,,,",
        "SN-2,Kofi Boateng,civilian,UNIT-A,,,",
        "SN-3,Ama Mensah,civilian,UNIT-A,,,",
        "SN-4,Yaw Owusu,pilot,UNIT-A,,,",
    )
    people = count(User)
    with pytest.raises(roster.RosterError) as refused:
        roster.apply(roster.preview(content, [coordinator.assigned_units[0]]))
    assert str(refused.value).startswith("row 5, column category:")
    db.session.rollback()

    login(coordinator)
    url, _ = upload_and_preview(client, content)
    post(client, url)
    assert count(User) == people
    assert person(db, "SN-1").full_name == "Old Name"


def test_same_person_in_same_unit_is_updated_or_unchanged(db, unit, make_user):
    make_user(
        service_number="SN-1",
        full_name="Amina Haddad",
        category=PersonnelCategory.CIVILIAN,
        email="amina@example.org",
    )
    same = csv_file("SN-1,Amina Haddad,civilian,UNIT-A,,amina@example.org,")
    checked = roster.preview(same, [unit])
    assert [row.action for row in checked.rows] == [roster.Action.UNCHANGED]

    moved_up = csv_file("SN-1,Amina Haddad-Rahal,civilian,UNIT-A,manager,,2026-05-01")
    checked = roster.preview(moved_up, [unit])
    assert [row.action for row in checked.rows] == [roster.Action.UPDATE]
    assert checked.rows[0].changes == ("full_name", "position", "email", "deployment_date")
    result = roster.apply(checked)
    db.session.commit()
    assert (result.updated, result.unchanged, result.created) == (1, 0, [])
    amina = person(db, "SN-1")
    assert amina.full_name == "Amina Haddad-Rahal" and amina.position == Position.MANAGER
    assert amina.email is None and amina.deployment_date == date(2026, 5, 1)
    assert amina.check_password(PASSWORD)


def test_column_left_out_of_the_file_keeps_what_is_stored(db, unit, make_user):
    make_user(service_number="SN-1", full_name="Amina Haddad", email="amina@example.org")
    content = csv_file(
        "SN-1,Amina Haddad,military_contingent,UNIT-A",
        header="service_number,full_name,category,unit",
    )
    assert roster.preview(content, [unit]).rows[0].action == roster.Action.UNCHANGED
    import_now(db, content, unit)
    assert person(db, "SN-1").email == "amina@example.org"


# Units and roles


def test_sub_units_are_in_scope_other_units_are_not(client, db, coordinator, other_unit, login):
    sub_unit = Unit(
        mission_id=other_unit.mission_id, parent_id=coordinator.assigned_units[0].id,
        code="UNIT-A-1", name="Unit A, first company", country="Ghana",
    )  # fmt: skip
    db.session.add(sub_unit)
    db.session.commit()
    login(coordinator)
    _, page = upload_and_preview(
        client,
        csv_file("SN-1,Kofi Boateng,civilian,UNIT-A-1,,,", "SN-2,Ama Mensah,civilian,UNIT-B,,,"),
    )
    assert "row 3, column unit: unit UNIT-B is not one of your units." in page
    assert "row 2, column" not in page

    _, page = upload_and_preview(client, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A-1,,,"))
    assert "Confirm import" in page


def test_admin_may_import_into_any_unit(client, db, make_user, other_unit, login):
    login(make_user(Role.ADMIN, unit=None))
    url, page = upload_and_preview(client, csv_file("SN-1,Rosa Quispe,civilian,UNIT-B,,,"))
    assert "Confirm import" in page
    assert post(client, url).status_code == 200
    assert person(db, "SN-1").unit_id == other_unit.id


@pytest.mark.parametrize("role", [Role.PEACEKEEPER, Role.COMMANDER])
def test_other_roles_cannot_use_roster_import(client, db, make_user, coordinator, login, role):
    pending = roster.store_upload(
        coordinator, "roster.csv", csv_file("SN-1,A B,civilian,UNIT-A,,,")
    )
    db.session.commit()
    login(make_user(role))
    for url in ("/coordinator/roster", "/coordinator/roster/example.csv",
                f"/coordinator/roster/{pending.token}"):  # fmt: skip
        assert client.get(url).status_code == 403
    assert upload(client, csv_file("SN-1,A B,civilian,UNIT-A,,,")).status_code == 403
    assert post(client, f"/coordinator/roster/{pending.token}").status_code == 403
    assert person(db, "SN-1") is None


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/coordinator/roster")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# The web journey: upload, preview, confirm


def test_preview_then_confirm_creates_people_once(client, db, coordinator, login):
    login(coordinator)
    page = client.get("/coordinator/roster").get_data(as_text=True)
    assert "UNIT-A" in page and "military_contingent" in page and "YYYY-MM-DD" in page
    people = count(User)

    url, page = upload_and_preview(
        client,
        csv_file(
            "SN-1,Kofi Boateng,military_contingent,UNIT-A,commander,,2026-03-01",
            "SN-2,Ama Mensah,Formed police unit member,UNIT-A,,,",
        ),
    )
    assert "New people</dt><dd>2</dd>" in page.replace("\n", "")
    assert "Confirm import" in page
    # Looking, as often as one likes, changes nothing.
    client.get(url)
    assert count(User) == people and count(RosterUpload) == 1

    done = post(client, url)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "2 new people, 0 updated, 0 unchanged." in text
    assert len(set(LINK.findall(text))) == 2
    kofi = person(db, "SN-1")
    assert kofi.role == Role.PEACEKEEPER and kofi.password_hash is None
    assert kofi.username == "sn-1" and kofi.position == Position.COMMANDER
    assert person(db, "SN-2").category == PersonnelCategory.FORMED_POLICE
    assert count(RosterUpload) == 0
    # The preview is spent: a second confirmation finds nothing to import.
    assert post(client, url).status_code == 404
    assert count(User) == people + 2


def test_preview_address_holds_a_256_bit_drawn_token(
    client, db, coordinator, login, random_sources
):
    random_sources.upload_tokens.seed("upload")
    drawn = random.Random("upload").randbytes(32)
    login(coordinator)
    url, page = upload_and_preview(client, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,"))
    token = base64.urlsafe_b64encode(drawn).rstrip(b"=").decode()
    assert url.endswith(f"/coordinator/roster/{token}")
    assert "Kofi Boateng" in page


def test_post_without_csrf_token_is_refused(client, db, coordinator, login):
    login(coordinator)
    url, _ = upload_and_preview(client, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,"))
    response = client.post(url)
    assert response.status_code == 400 and "This form has expired" in response.get_data(True)
    assert person(db, "SN-1") is None


def test_another_coordinator_cannot_see_or_confirm_my_upload(
    client, app, db, coordinator, make_user, login
):
    login(coordinator)
    url, _ = upload_and_preview(client, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,"))
    colleague = make_user(Role.COORDINATOR, unit=None, assigned_units=coordinator.assigned_units)
    other = app.test_client()
    login_other = post(other, "/login", {"username": colleague.username, "password": PASSWORD})
    assert login_other.status_code == 302
    assert other.get(url).status_code == 404
    assert post(other, url).status_code == 404
    assert person(db, "SN-1") is None
    assert client.get(url).status_code == 200


def test_upload_without_a_file_says_what_to_do(client, coordinator, login):
    login(coordinator)
    response = post(client, "/coordinator/roster", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose the roster file to upload." in response.get_data(as_text=True)


NOT_A_ROSTER = "The file is not a roster that can be read."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml", NOT_A_ROSTER),
        (b"%PDF-1.7\n\x01\x02\x03\x04", NOT_A_ROSTER),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "This is an Excel 97-2003 workbook (.xls), which cannot be read.",
        ),
    ],
    ids=["damaged-zip", "pdf", "xls"],
)
def test_file_that_is_not_a_roster_is_refused(client, db, coordinator, login, content, message):
    login(coordinator)
    # The name says CSV; the content decides.
    response = upload(client, content, "roster.csv")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(RosterUpload) == 0


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_8_bit_csv_is_refused_with_how_to_save_it_as_utf8(client, db, coordinator, login, encoding):
    login(coordinator)
    content = csv_file("SN-1,José Núñez Ñandú,civilian,UNIT-A,,,").decode().encode(encoding)
    response = upload(client, content, "roster.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The file is saved in an 8-bit encoding" in page
    # Both programs, with the exact names of their menu entries.
    assert "In Excel: choose File, Save As" in page
    assert "“CSV UTF-8 (Comma delimited) (*.csv)”" in page
    assert "In LibreOffice Calc: choose File, Save As" in page
    assert "“Edit filter settings”" in page and "“Unicode (UTF-8)”" in page
    assert count(RosterUpload) == 0


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-16", ","), ("utf-16", "\t"), ("utf-16-le", ","), ("utf-16-be", ";")],
    ids=["utf-16-bom", "excel-unicode-text", "utf-16-le-no-bom", "utf-16-be-no-bom"],
)
def test_utf16_csv_is_read(db, unit, encoding, sep):
    text = csv_file(
        sep.join(["SN-1", "Анна Кузнецова", "civilian", "UNIT-A", "", "", "2026-03-01"]),
        sep.join(["SN-2", "ليلى حداد", "civilian", "UNIT-A", "", "", ""]),
        header=HEADER.replace(",", sep),
    ).decode()
    import_now(db, text.encode(encoding), unit)
    assert person(db, "SN-1").full_name == "Анна Кузнецова"
    assert person(db, "SN-1").deployment_date == date(2026, 3, 1)
    assert person(db, "SN-2").full_name == "ليلى حداد"


# Spreadsheets as Excel and LibreOffice save them


@pytest.mark.parametrize("make", [xlsx_file, ods_file], ids=["xlsx", "ods"])
def test_spreadsheet_with_date_and_number_cells_imports(client, db, coordinator, login, make):
    content = make(
        (41028, "Bishnu Prasad Adhikari", "military_contingent", "UNIT-A", "commander",
         "b.adhikari@example.org", date(2026, 3, 1)),
        ("SN-77310", "Diop, Aïssatou", "Formed police unit member", "UNIT-A", "manager",
         None, date(2026, 4, 15)),
        ("CIV-20931", "ليلى حداد", "civilian", "UNIT-A", None, "layla.haddad@example.org",
         None),
    )  # fmt: skip
    login(coordinator)
    response = upload(client, content, "roster.bin")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirm import" in page
    assert "<dt>New people</dt><dd>3</dd>" in page
    post(client, response.headers["Location"])
    bishnu = person(db, "41028")
    assert bishnu.full_name == "Bishnu Prasad Adhikari"
    assert bishnu.deployment_date == date(2026, 3, 1)
    assert bishnu.position == Position.COMMANDER
    assert person(db, "SN-77310").category == PersonnelCategory.FORMED_POLICE
    assert person(db, "SN-77310").deployment_date == date(2026, 4, 15)
    assert person(db, "CIV-20931").full_name == "ليلى حداد"
    assert person(db, "CIV-20931").deployment_date is None


def test_xlsx_datetime_cells_and_text_dates_are_told_apart(db, unit):
    content = xlsx_file(
        ("SN-1", "Kofi Boateng", "civilian", "UNIT-A", "", "", datetime(2026, 3, 1, 0, 0)),
        ("SN-2", "Ama Mensah", "civilian", "UNIT-A", "", "", "31/12/2026"),
    )
    assert problems(content, unit) == [
        "row 3, column deployment_date: “31/12/2026” is not a date. "
        "Write it as YYYY-MM-DD, for example 2026-03-31."
    ]


def test_xlsx_declaring_a_smaller_size_than_it_has_is_read_to_the_end(db, unit):
    content = xlsx_file(*[(f"SN-{n}", "Kofi Boateng", "civilian", "UNIT-A") for n in range(5)])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data, replaced = re.subn(
                    rb'<dimension ref="[^"]+"', b'<dimension ref="A1:B2"', data
                )
                assert replaced == 1
            target.writestr(info, data)
    checked = roster.preview(buffer.getvalue(), [unit])
    assert checked.is_valid and checked.count(roster.Action.CREATE) == 5


def test_only_the_first_sheet_of_an_ods_is_read(db, unit):
    content = ods_file(("SN-1", "Kofi Boateng", "civilian", "UNIT-A"), sheets_after=2)
    checked = roster.preview(content, [unit])
    assert checked.is_valid and [row.service_number for row in checked.rows] == ["SN-1"]


def test_value_in_a_spreadsheet_column_without_a_name_is_located(db, unit):
    content = xlsx_file(("SN-1", "Kofi Boateng", "civilian", "UNIT-A", "", "", "", "stray"))
    assert problems(content, unit) == [
        "row 2: column 8 has a value but no name in row 1. Name the column or empty it."
    ]


def test_spreadsheet_that_unpacks_to_gigabytes_is_refused(client, db, coordinator, login):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1024 * 1024)
            for _ in range(80):
                member.write(chunk)
    assert len(buffer.getvalue()) < 200_000
    login(coordinator)
    response = upload(client, buffer.getvalue(), "roster.xlsx")
    assert response.status_code == 422
    assert "The spreadsheet unpacks to more than 32 MB" in response.get_data(as_text=True)
    assert count(RosterUpload) == 0


def test_ods_row_repeated_a_million_times_is_refused_quickly(db, unit):
    header = "".join(ods_cell(name) for name in HEADER.split(","))
    row = "".join(ods_cell(v) for v in ("SN-1", "Kofi Boateng", "civilian", "UNIT-A"))
    content = ods_file()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml":
                data = re.sub(
                    rb"<table:table-row>.*</table:table-row>(?=<table:table-row table:number-rows)",
                    f"<table:table-row>{header}</table:table-row>"
                    f'<table:table-row table:number-rows-repeated="1000000">{row}'
                    "</table:table-row>".encode(),
                    data,
                )
            target.writestr(info, data)
    [problem] = problems(buffer.getvalue(), unit)
    assert problem.startswith("The spreadsheet is too large to import: it has more than 100,000")


def test_xlsx_with_a_cell_far_down_is_refused_not_read_for_ever(db, unit):
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER.split(","))
    workbook.active.cell(row=200_000, column=1, value="SN-1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    [problem] = problems(buffer.getvalue(), unit)
    assert problem.startswith("The spreadsheet is too large to import")


def test_damaged_xlsx_says_to_save_it_again(db, unit):
    content = xlsx_file(("SN-1", "Kofi Boateng", "civilian", "UNIT-A"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = b"<worksheet><sheetData><row><c"  # cut short
            target.writestr(info, data)
    assert problems(buffer.getvalue(), unit) == [
        "The spreadsheet cannot be opened: it is damaged or not really an XLSX or ODS file. "
        "Open it in your spreadsheet program, save it again as .xlsx or .ods, and upload "
        "that file."
    ]


def test_spreadsheet_xml_with_entities_is_refused(db, unit):
    content = ods_file(("SN-1", "Kofi Boateng", "civilian", "UNIT-A"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml":
                data = data.replace(
                    b"?>",
                    b'?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
                    1,
                ).replace(b"Kofi Boateng", b"&b;")
            target.writestr(info, data)
    assert problems(buffer.getvalue(), unit)[0].startswith("The spreadsheet cannot be opened")


# What the preview counts


def test_preview_counts_every_row_by_what_it_would_do(client, db, coordinator, login, make_user):
    make_user(service_number="SN-5", full_name="Yaw Owusu")
    make_user(service_number="SN-6", full_name="Efua Asante")
    make_user(Role.COMMANDER, service_number="SN-7", full_name="Ama Mensah")
    content = csv_file(
        "SN-1,Kofi Boateng,civilian,UNIT-A,,,31/03/2026",
        "SN-2,Ama Owusu,civilian,UNIT-A,,,31/03/2026",
        "SN-3,Kwame Mensah,civilian,UNIT-A,,,31/03/2026",
        "SN-4,Abena Boateng,civilian,UNIT-A,,,2026-03-31",
        "SN-5,Yaw Owusu,military_contingent,UNIT-A,,,31/03/2026",
        "SN-6,Efua Asante,military_contingent,UNIT-A,,,",
        "SN-7,Someone Else,civilian,UNIT-A,,,",
    )
    checked = roster.preview(content, [coordinator.assigned_units[0]])
    assert checked.count(roster.Action.CREATE) == 4
    assert checked.count(roster.Action.UPDATE) == 1
    assert checked.count(roster.Action.UNCHANGED) == 1
    assert checked.count(None) == 1
    assert checked.rows_with_problems == 5
    login(coordinator)
    _url, page = upload_and_preview(client, content)
    assert "<dt>New people</dt><dd>4</dd>" in page
    assert "<dt>People updated</dt><dd>1</dd>" in page
    assert "<dt>People unchanged</dt><dd>1</dd>" in page
    assert "<dt>Rows that cannot be imported as written</dt><dd>1</dd>" in page
    assert "<dt>Rows with a problem to fix</dt><dd>5</dd>" in page


def test_too_large_upload_gets_a_clear_413(client, app, coordinator, login, monkeypatch):
    login(coordinator)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    row = "SN-{},Kofi Boateng,civilian,UNIT-A,,,"
    response = upload(client, csv_file(*(row.format(n) for n in range(40_000))))
    assert response.status_code == 413
    assert "The file is too large. The limit is 1 MB." in response.get_data(as_text=True)
    assert count(RosterUpload) == 0


def test_example_file_is_served_and_imports_cleanly(client, db, coordinator, login):
    mission = db.session.get(Mission, coordinator.assigned_units[0].mission_id)
    demo_units = [
        Unit(mission=mission, code="DEMO-INF-1", name="Infantry Battalion 1", country="Nepal"),
        Unit(mission=mission, code="DEMO-FPU-2", name="Formed Police Unit 2", country="Senegal"),
    ]
    db.session.add_all(demo_units)
    coordinator.assigned_units.extend(demo_units)
    db.session.commit()
    login(coordinator)
    response = client.get("/coordinator/roster/example.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    _, page = upload_and_preview(client, response.data)
    assert "ليلى حداد" in page and "Diop, Aïssatou" in page
    assert "Confirm import" in page and "problem" not in page


SAVED_BY_LIBREOFFICE = Path(__file__).parents[1] / "data" / "rosters"


@pytest.fixture
def demo_units(db, unit):
    mission = db.session.get(Mission, unit.mission_id)
    units = [
        Unit(mission=mission, code="DEMO-INF-1", name="Infantry Battalion 1", country="Nepal"),
        Unit(mission=mission, code="DEMO-FPU-2", name="Formed Police Unit 2", country="Senegal"),
    ]
    db.session.add_all(units)
    db.session.commit()
    return units


@pytest.mark.parametrize("name", ["roster-example.ods", "roster-example.xlsx"])
def test_example_saved_by_libreoffice_as_a_spreadsheet_reads_like_the_csv(db, demo_units, name):
    # LibreOffice Calc opened docs/roster-example.csv and saved it in each format.
    saved = roster.preview((SAVED_BY_LIBREOFFICE / name).read_bytes(), demo_units)
    expected = roster.preview(EXAMPLE.read_bytes(), demo_units)
    assert saved.is_valid, saved.problems
    assert [row.person for row in saved.rows] == [row.person for row in expected.rows]
    assert any(row.person.deployment_date for row in saved.rows)


def test_example_saved_by_libreoffice_in_windows_1252_says_how_to_save_utf8(db, demo_units):
    content = (SAVED_BY_LIBREOFFICE / "roster-example-windows-1252.csv").read_bytes()
    [problem] = problems(content, *demo_units)
    assert problem.startswith("The file is saved in an 8-bit encoding")


# Set-password links


@pytest.fixture
def newcomer_link(db, unit):
    result = import_now(db, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,"), unit)
    link = result.created[0].link
    assert link.startswith(ROOT + "/set-password#")
    return link


def open_link(client, link):
    """Open a set-password link as a browser does: its page posts the token after the #."""
    return post(client, "/set-password", {"token": urlsplit(link).fragment})


def submit_link(client, link, data):
    """Submit the set-password form that a link opened."""
    return post(client, "/set-password", {"token": urlsplit(link).fragment, **data})


def test_set_password_link_works_once_then_sign_in(client, db, newcomer_link):
    page = open_link(client, newcomer_link).get_data(as_text=True)
    assert "Kofi Boateng" in page and "SN-1" in page
    response = submit_link(
        client, newcomer_link, {"password": "blue helmets", "confirm": "blue helmets"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your password is set." in client.get("/login").get_data(as_text=True)

    again = open_link(client, newcomer_link)
    assert again.status_code == 400
    assert "Ask your training coordinator for a new link." in again.get_data(as_text=True)
    replay = submit_link(
        client, newcomer_link, {"password": "taken over!", "confirm": "taken over!"}
    )
    assert replay.status_code == 400

    signed_in = post(client, "/login", {"username": "SN-1", "password": "blue helmets"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/training/"
    assert not person(db, "SN-1").check_password("taken over!")


def test_set_password_form_explains_what_is_wrong(client, db, newcomer_link):
    short = submit_link(client, newcomer_link, {"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert "Use at least 8 characters." in short.get_data(as_text=True)
    different = submit_link(
        client, newcomer_link, {"password": "blue helmets", "confirm": "blue helmet"}
    )
    assert "The two passwords are not the same." in different.get_data(as_text=True)
    assert person(db, "SN-1").password_hash is None
    assert open_link(client, newcomer_link).status_code == 200


def test_set_password_link_expires(client, newcomer_link, monkeypatch):
    issued = itsdangerous.timed.TimestampSigner.get_timestamp

    def days_later(days):
        monkeypatch.setattr(
            itsdangerous.timed.TimestampSigner,
            "get_timestamp",
            lambda self: issued(self) + days * 24 * 60 * 60,
        )

    days_later(13)
    assert open_link(client, newcomer_link).status_code == 200
    days_later(15)
    response = open_link(client, newcomer_link)
    assert response.status_code == 400
    assert "it has expired" in response.get_data(as_text=True)


def test_tampered_link_is_refused(client, newcomer_link):
    response = open_link(client, newcomer_link[:-3] + "abc")
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"


def test_reimport_gives_new_links_only_to_peacekeepers_without_password(
    client, db, unit, make_user
):
    waiting = make_user(service_number="SN-1", full_name="Kofi Boateng")
    make_user(service_number="SN-3", full_name="Yaw Owusu")
    waiting.password_hash = None
    db.session.commit()
    result = import_now(
        db,
        csv_file(
            "SN-1,Kofi Boateng,military_contingent,UNIT-A,,,",
            "SN-3,Yaw Owusu,military_contingent,UNIT-A,,,",
        ),
        unit,
    )
    assert [account.service_number for account in result.awaiting_password] == ["SN-1"]
    page = open_link(client, result.awaiting_password[0].link).get_data(as_text=True)
    # Each value keeps its own direction inside the sentence (<bdi>), as in Arabic.
    assert (
        "This sets the password of <bdi>Kofi Boateng</bdi>, service number <bdi>SN-1</bdi>." in page
    )


# Peacekeepers only


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (Role.COMMANDER, "commander"),
        (Role.COORDINATOR, "coordinator"),
        (Role.ADMIN, "administrator"),
        (Role.FACILITATOR, "facilitator"),
    ],
)
def test_import_cannot_rewrite_commanders_coordinators_or_admins(
    client, db, unit, coordinator, make_user, login, role, name
):
    officer = make_user(
        role,
        service_number="SN-9",
        full_name="Ama Mensah",
        email="ama@example.org",
        position=Position.COMMANDER,
    )
    officer.password_hash = None
    db.session.commit()
    row = "SN-9,Someone Else,civilian,UNIT-A,member,attacker@example.org,"
    message = (
        f"row 2, column service_number: service number SN-9 belongs to a {name} account. "
        "A roster import creates and updates peacekeepers only: remove this row, and ask "
        "an administrator to change that account."
    )
    assert problems(csv_file(row), unit) == [message]
    with pytest.raises(roster.RosterError):
        roster.apply(roster.preview(csv_file(row), [unit]))

    login(coordinator)
    url, page = upload_and_preview(client, csv_file(row))
    assert message in page and "Confirm import" not in page
    post(client, url)
    kept = person(db, "SN-9")
    assert (kept.full_name, kept.email, kept.position) == (
        "Ama Mensah",
        "ama@example.org",
        Position.COMMANDER,
    )
    assert kept.category == PersonnelCategory.MILITARY_CONTINGENT
    assert "/set-password/" not in page


def test_import_audit_records_each_changed_field_before_and_after(db, unit, make_user):
    make_user(
        service_number="SN-1",
        full_name="Kofi Boateng",
        email="kofi@example.org",
        deployment_date=date(2026, 3, 1),
    )
    make_user(service_number="SN-2", full_name="Yaw Owusu")
    import_now(
        db,
        csv_file(
            "SN-1,Kofi A. Boateng,military_contingent,UNIT-A,manager,,2026-04-15",
            "SN-2,Yaw Owusu,military_contingent,UNIT-A,,,",
            "SN-3,Ama Mensah,civilian,UNIT-A,,,",
        ),
        unit,
    )
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_IMPORTED)
    )
    assert entry.details["created"] == ["SN-3"]
    assert entry.details["updated"] == {
        "SN-1": {
            "full_name": ["Kofi Boateng", "Kofi A. Boateng"],
            "position": ["member", "manager"],
            "email": ["kofi@example.org", None],
            "deployment_date": ["2026-03-01", "2026-04-15"],
        }
    }
    assert entry.details["unchanged"] == 1


# E-mail


def test_a_link_is_mailed_in_the_platforms_language_not_the_coordinators(
    client, db, coordinator, login, inbox
):
    coordinator.language = "ar"
    db.session.commit()
    login(coordinator)
    url, _ = upload_and_preview(
        client, csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,k@example.org,")
    )
    page = post(client, url)
    assert '<html lang="ar" dir="rtl">' in page.get_data(as_text=True)
    [message] = inbox.messages
    assert message["Content-Language"] == "en"
    assert '<html lang="en" dir="ltr">' in message.get_body(("html",)).get_content()
    assert message["Subject"] == "Set your Blue Beret password"


def test_new_people_with_an_address_get_their_link_by_email(client, db, coordinator, login, inbox):
    login(coordinator)
    url, _ = upload_and_preview(
        client,
        csv_file(
            "SN-1,Анна Кузнецова,civilian,UNIT-A,,anna@example.org,",
            "SN-2,Kofi Boateng,civilian,UNIT-A,,,",
        ),
    )
    page = post(client, url).get_data(as_text=True)
    assert "Sent to <bdi>anna@example.org</bdi>" in page and "No address" in page

    assert [message["To"].addresses[0].addr_spec for message in inbox.messages] == [
        "anna@example.org"
    ]
    message = inbox.messages[0]
    assert message["To"].addresses[0].display_name == "Анна Кузнецова"
    body = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Set your Blue Beret password" and "Анна Кузнецова" in body
    emailed_link = LINK.search(body).group(1)
    assert emailed_link in page
    assert open_link(client, emailed_link).status_code == 200


def test_mail_failure_keeps_the_import_and_says_who_to_tell(
    client, db, coordinator, login, mail_down
):
    login(coordinator)
    url, _ = upload_and_preview(
        client,
        csv_file(
            "SN-1,Kofi Boateng,civilian,UNIT-A,,kofi@example.org,",
            "SN-2,Ama Mensah,civilian,UNIT-A,,ama@example.org,",
        ),
    )
    page = post(client, url).get_data(as_text=True)
    assert (
        "Some links could not be sent by e-mail: <bdi>kofi@example.org, ama@example.org</bdi>."
        in page
    )
    assert len(set(LINK.findall(page))) == 2
    assert person(db, "SN-1") is not None and person(db, "SN-2") is not None


def test_refused_address_does_not_stop_the_others(client, db, coordinator, login, inbox):
    login(coordinator)
    url, _ = upload_and_preview(
        client,
        csv_file(
            "SN-1,Kofi Boateng,civilian,UNIT-A,,nobody@example.org,",
            "SN-2,Ama Mensah,civilian,UNIT-A,,ama@example.org,",
        ),
    )
    page = post(client, url).get_data(as_text=True)
    assert "Could not be sent to <bdi>nobody@example.org</bdi>" in page
    assert "Sent to <bdi>ama@example.org</bdi>" in page
    assert [message["To"].addresses[0].addr_spec for message in inbox.messages] == [
        "ama@example.org"
    ]


def test_unreachable_mail_server_is_not_waited_on_for_everyone(
    client, db, app, coordinator, login, monkeypatch
):
    attempts = []

    def unreachable(*args, **kwargs):
        attempts.append(args)
        raise TimeoutError("timed out")

    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example.org")
    monkeypatch.setattr("app.services.mail.smtplib.SMTP", unreachable)
    login(coordinator)
    rows = [f"SN-{n},Person {n},civilian,UNIT-A,,p{n}@example.org," for n in range(3)]
    url, _ = upload_and_preview(client, csv_file(*rows))
    page = post(client, url).get_data(as_text=True)
    assert len(attempts) == 1
    assert "p0@example.org, p1@example.org, p2@example.org" in page
    assert count(User) == 4


# Command line


def test_cli_reports_every_problem_and_changes_nothing(app, db, unit, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,", "SN-2,Ama Mensah,civilian,UNIT-Q,,,")
    )
    result = app.test_cli_runner().invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "row 3, column unit: there is no unit with the code “UNIT-Q”." in result.output
    assert count(User) == 0


def test_cli_dry_run_then_import_prints_links(app, db, unit, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,", "SN-2,王芳,civilian,UNIT-A,,,", bom=True)
    )
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["roster", "import", "--dry-run", str(path)])
    assert dry.exit_code == 0, dry.output
    assert "Dry run, nothing changed: 2 to create, 0 to update, 0 unchanged." in dry.output
    assert count(User) == 0

    done = runner.invoke(args=["roster", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "Imported: 2 created, 0 updated, 0 unchanged." in done.output
    assert "SN-2\t王芳\thttps://training.example.org/set-password#" in done.output
    assert count(User) == 2


def test_cli_import_that_issues_new_links_is_audited(app, db, unit, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_file("SN-1,Kofi Boateng,civilian,UNIT-A,,,"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["roster", "import", str(path)]).exit_code == 0
    again = runner.invoke(args=["roster", "import", str(path)])
    assert again.exit_code == 0 and "New links for people who have not set a password yet" in (
        again.output
    )
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.SET_PASSWORD_LINKS_REISSUED)
    ).all()
    assert [entry.details for entry in entries] == [{"people": ["SN-1"]}]


def test_cli_imports_an_ods_roster_with_date_cells(app, db, unit, tmp_path):
    path = tmp_path / "roster.ods"
    path.write_bytes(
        ods_file(("SN-1", "Kofi Boateng", "civilian", "UNIT-A", "", "", date(2026, 5, 2)))
    )
    done = app.test_cli_runner().invoke(args=["roster", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "Imported: 1 created, 0 updated, 0 unchanged." in done.output
    assert person(db, "SN-1").deployment_date == date(2026, 5, 2)


# Scale


def test_five_thousand_rows_import_in_bulk(db, unit):
    rows = [
        f"PK-{n:05d},Person {n},military_contingent,UNIT-A,,p{n}@example.org," for n in range(5000)
    ]
    result = import_now(db, csv_file(*rows), unit)
    assert len(result.created) == 5000
    assert db.session.scalar(sa.select(sa.func.count()).where(User.unit_id == unit.id)) == 5000
    assert len({account.link for account in result.created}) == 5000


# Counts every statement, which in a rolled-back test includes the session's SAVEPOINT.
@pytest.mark.committing
def test_import_takes_a_few_queries_not_one_per_person(db, unit, make_user, count_queries):
    make_user(service_number="PK-00000", full_name="Someone Else")
    rows = [f"PK-{n:05d},Person {n},military_contingent,UNIT-A,,," for n in range(1200)]
    with count_queries() as statements:
        result = import_now(db, csv_file(*rows), unit)
    assert (len(result.created), result.updated) == (1199, 1)
    assert len(statements) <= 12, statements
