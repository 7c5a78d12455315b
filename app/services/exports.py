"""Lists and matrices as CSV and XLSX files that spreadsheet programs open safely.

In CSV, text that starts with `=`, `+`, `-`, `@` (or their fullwidth forms), tab,
carriage return or NUL could run as a formula when the file is opened (CSV
injection), so it gets a leading apostrophe and is shown as typed; so does such
text after a `;`, `,`, tab or line break, where a program that splits on another
separator starts a new cell. Every text field is quoted. Only text is changed: a
negative number is data, not a formula. XLSX stores every text cell as text,
which never runs, so it keeps the text exactly as it is.

Bidirectional control characters are removed from text in both formats: they
make a name read differently from what it contains.
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

# Spreadsheet programs read the fullwidth signs (U+FF1D, U+FF0B, U+FF0D, U+FF20)
# as the ASCII ones when they parse a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\t", "\r", "\0")
# A formula prefix at the start of the text or after a separator some program may
# split cells on: the apostrophe goes where each such cell would begin.
FORMULA_START = re.compile(
    "(?:^|(?<=[;,\t\r\n]))(?=[" + re.escape("".join(FORMULA_PREFIXES)) + "])"
)
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

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
    """Return text with an apostrophe before each part that could run as a formula."""
    if isinstance(value, str):
        return FORMULA_START.sub("'", value)
    return value


def plain_text(value: str) -> str:
    """Return text without the bidirectional controls that disguise what it says."""
    return BIDI_CONTROLS.sub("", value)


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Return UTF-8 CSV (with a BOM, so Excel reads non-Latin names) of the headers and rows."""
    buffer = io.StringIO()
    # Quoted fields keep a separator inside a name from starting a new cell.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
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
    if isinstance(value, str):
        return neutralise(plain_text(value))
    return value


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
        text = XML_ILLEGAL.sub("", plain_text(str(value)))
        # XML reads a carriage return back as a line feed; write what will be read.
        cell.value = text.replace("\r\n", "\n").replace("\r", "\n")
        # Explicit text, which never runs: openpyxl would otherwise store "=..." as a
        # formula and "#N/A" as an error. No apostrophe, which Excel would show.
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
