"""Lists and matrices as CSV and XLSX files that spreadsheet programs open safely.

A cell whose text starts with `=`, `+`, `-`, `@`, tab, carriage return or NUL
could run as a formula when the file is opened (CSV injection), so such text
gets a leading apostrophe and is shown as typed. Only text is changed: a
negative number is data, not a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Column widths are measured on the first rows only, so a long export is never
# held in memory just to size its columns.
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH = 8
MAX_WIDTH = 60
# XML, and so XLSX, cannot carry most control characters at all.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Excel refuses these in sheet names, and names longer than 31 characters.
SHEET_TITLE_ILLEGAL = re.compile(r"[\\/?*\[\]:]")
SHEET_TITLE_LENGTH = 31


def neutralise(value: object) -> object:
    """Return text that could run as a formula with a leading apostrophe; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Return UTF-8 CSV (with a BOM, so Excel reads non-Latin names) of the headers and rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(header) for header in headers])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value: object) -> object:
    """Return a value as CSV should show it: dates in ISO form, text neutralised."""
    if isinstance(value, datetime):
        return _naive_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str) -> bytes:
    """Return a one-sheet XLSX workbook: bold frozen header, real dates, text never a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    rows = iter(rows)
    sample = list(islice(rows, WIDTH_SAMPLE_ROWS))
    # Write-only sheets take column widths and panes only before the first row.
    for index, width in enumerate(_column_widths(headers, sample), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"

    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _xlsx_cell(sheet, header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in chain(sample, rows):
        sheet.append([_xlsx_cell(sheet, value) for value in row])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> Cell:
    """Return a cell for a value: numbers and dates typed, everything else explicit text."""
    cell = WriteOnlyCell(sheet)
    if value is None:
        return cell
    if isinstance(value, bool | int | float | Decimal):
        cell.value = value
    elif isinstance(value, datetime):
        # Excel has no time zones: timestamps are written in UTC.
        cell.value = _naive_utc(value)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        text = XML_ILLEGAL.sub("", str(neutralise(str(value))))
        # XML reads a carriage return back as a line feed; write what will be read.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        # Again, in case removing characters uncovered a formula prefix.
        cell.value = neutralise(text)
        # Explicit text: openpyxl would otherwise store "=..." as a formula and
        # "#N/A" as an error.
        cell.data_type = "s"
    return cell


def _naive_utc(moment: datetime) -> datetime:
    """Return a timestamp in UTC without its time zone (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _display_length(value: object) -> int:
    """Return roughly how many characters a value takes on screen."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2000-01-01 00:00")
    if isinstance(value, date):
        return len("2000-01-01")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _column_widths(headers: Sequence[str], sample: list[Sequence[object]]) -> Iterator[float]:
    """Yield a width per column that fits its header and the sampled values, within bounds."""
    for index, header in enumerate(headers):
        longest = max(
            [_display_length(header)]
            + [_display_length(row[index]) for row in sample if index < len(row)]
        )
        yield min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)


def _sheet_title(title: str) -> str:
    """Return a sheet name Excel accepts."""
    cleaned = " ".join(SHEET_TITLE_ILLEGAL.sub(" ", XML_ILLEGAL.sub("", title)).split())
    # Excel also refuses a name that starts or ends with an apostrophe.
    return cleaned[:SHEET_TITLE_LENGTH].strip(" '") or "Sheet1"
