"""Rows of cell text from the spreadsheets people upload: XLSX and ODS, read safely.

Both formats are zip archives of XML, so a small upload can unpack to gigabytes
or claim millions of cells. Every archive is checked before it is read (member
count, total uncompressed size), XML is parsed with defusedxml (no entities, no
external references), and reading stops at a row and cell limit.

ODS is read with the standard library rather than a package: the readers on PyPI
(odfpy, ezodf, pyexcel-ods3) are no longer maintained and build the whole
document in memory, expanding LibreOffice's repeated empty rows and columns (a
saved sheet routinely declares a million of them). Streaming content.xml and
expanding repeats only in front of a value is short and bounded.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from flask_babel import gettext as _

from app import i18n

# A 20,000-person XLSX unpacks to about 10 MB; the shared strings are held in memory.
MAX_UNCOMPRESSED = 32 * 1024 * 1024
MAX_MEMBERS = 2000
# Far more than a roster needs (20,000 people of 7 columns), far less than a bomb.
MAX_ROWS = 100_000
MAX_CELLS = 500_000
MAX_COLUMNS = 64
# Whole numbers below this are written without a decimal point; larger ones as they are,
# so that converting "1E999999999" never builds a billion-digit integer.
MAX_WHOLE_NUMBER = 10**15

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODS_TABLE = f"{{{TABLE}}}table"
ODS_ROW = f"{{{TABLE}}}table-row"
ODS_CELLS = (f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell")
ODS_PARAGRAPH = f"{{{TEXT}}}p"


class Kind(StrEnum):
    """What an uploaded file is, judged by its content rather than its name."""

    TEXT = "text"
    XLSX = "xlsx"
    ODS = "ods"
    XLS = "xls"
    ARCHIVE = "archive"


class TableError(ValueError):
    """A spreadsheet that cannot be read; the message says what to do."""


def kind(content: bytes) -> Kind:
    """Return what a file is from its first bytes and, for an archive, its members."""
    if content.startswith(OLE2_SIGNATURE):
        return Kind.XLS
    if not content.startswith(b"PK\x03\x04"):
        return Kind.TEXT
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return Kind.XLSX
            if "mimetype" in names and "content.xml" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 100 and archive.read(info).strip() == ODS_MIMETYPE:
                    return Kind.ODS
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        pass
    return Kind.ARCHIVE


def read_rows(content: bytes, file_kind: Kind) -> list[list[str]]:
    """Return the first sheet's rows as lists of cell text, row 1 first; raise TableError."""
    _check_archive(content)
    reader = _xlsx_rows if file_kind == Kind.XLSX else _ods_rows
    rows: list[list[str]] = []
    cells = 0
    try:
        for values in reader(content):
            while values and not values[-1].strip():
                values.pop()
            cells += len(values)
            rows.append(values)
            if len(rows) > MAX_ROWS or cells > MAX_CELLS:
                raise TableError(
                    _(
                        "The spreadsheet is too large to import: it has more than %(rows)s "
                        "rows or %(cells)s cells. Split it into smaller files, or delete "
                        "the empty rows and columns below and beside the people.",
                        rows=i18n.format_number(MAX_ROWS),
                        cells=i18n.format_number(MAX_CELLS),
                    )
                )
    except TableError:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        EOFError,
        ValueError,
        TypeError,
        IndexError,
        ParseError,
        DefusedXmlException,
    ) as error:
        raise TableError(unreadable()) from error
    while rows and not any(value.strip() for value in rows[-1]):
        rows.pop()
    return rows


def unreadable() -> str:
    """Return what to do with a spreadsheet that cannot be opened."""
    return str(
        _(
            "The spreadsheet cannot be opened: it is damaged or not really an XLSX or ODS "
            "file. Open it in your spreadsheet program, save it again as .xlsx or .ods, "
            "and upload that file."
        )
    )


def cell_text(value: object) -> str:
    """Return a cell's value as the text a person would type: dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | Decimal):
        number = float(value)
        if math.isfinite(number) and abs(number) < MAX_WHOLE_NUMBER and number == int(number):
            # A service number typed into a number cell reads back as 41028.0.
            return str(int(number))
    return str(value)


def _check_archive(content: bytes) -> None:
    """Refuse an archive whose members would unpack beyond the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise TableError(unreadable()) from error
    # Declared sizes are a true bound: zipfile never inflates a member beyond its size.
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
        raise TableError(
            _(
                "The spreadsheet unpacks to more than %(size)s MB, far more than a roster "
                "needs. Save only the sheet of people in a new file and upload that.",
                size=MAX_UNCOMPRESSED // (1024 * 1024),
            )
        )


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    # Imported here: loading openpyxl's reader costs time that CSV uploads need not pay.
    from openpyxl import load_workbook

    # Read-only streams the sheet; data_only gives a formula's saved value, never the formula.
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # The size a file declares may be stale, and openpyxl would stop reading there.
        sheet.reset_dimensions()
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield [cell_text(value) for value in values]
    finally:
        workbook.close()


def _ods_rows(content: bytes) -> Iterator[list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("content.xml") as stream:
        in_table = False
        # Empty rows are only counted, and produced only when a row with values follows:
        # LibreOffice ends every sheet with a million repeated empty rows.
        empty_rows = 0
        for event, element in iterparse(stream, events=("start", "end")):
            if element.tag == ODS_TABLE:
                if event == "end":
                    return  # the first sheet is the roster
                in_table = True
                continue
            if event != "end" or element.tag != ODS_ROW or not in_table:
                continue
            values = _ods_cells(element)
            repeat = _repeat(element, "number-rows-repeated")
            element.clear()
            if not any(value.strip() for value in values):
                empty_rows += repeat
                continue
            # Beyond MAX_ROWS the caller stops reading: no need to produce more.
            for _skipped in range(min(empty_rows, MAX_ROWS + 1)):
                yield []
            empty_rows = 0
            for _copy in range(min(repeat, MAX_ROWS + 1)):
                yield list(values)


def _ods_cells(row: Element) -> list[str]:
    values: list[str] = []
    pending_empty = 0
    for cell in row:
        if cell.tag not in ODS_CELLS:
            continue
        text = _ods_value(cell)
        repeat = _repeat(cell, "number-columns-repeated")
        if not text.strip():
            pending_empty += repeat
            continue
        if len(values) + pending_empty >= MAX_COLUMNS:
            break
        values.extend([""] * pending_empty)
        pending_empty = 0
        values.extend([text] * min(repeat, MAX_COLUMNS - len(values)))
    return values


def _ods_value(cell: Element) -> str:
    kind_ = cell.get(f"{{{OFFICE}}}value-type")
    if kind_ == "date":
        # 2026-03-31 or 2026-03-31T00:00:00: the date is the first ten characters.
        return (cell.get(f"{{{OFFICE}}}date-value") or "")[:10]
    if kind_ in {"float", "percentage", "currency"}:
        number = cell.get(f"{{{OFFICE}}}value") or ""
        try:
            return cell_text(Decimal(number))
        except ArithmeticError:
            return number
    if kind_ == "boolean":
        return "TRUE" if cell.get(f"{{{OFFICE}}}boolean-value") == "true" else "FALSE"
    # Only the cell's own paragraphs: a comment on the cell holds paragraphs too.
    return "\n".join("".join(p.itertext()) for p in cell.findall(ODS_PARAGRAPH))


def _repeat(element: Element, attribute: str) -> int:
    try:
        return max(1, int(element.get(f"{{{TABLE}}}{attribute}") or 1))
    except ValueError:
        return 1
