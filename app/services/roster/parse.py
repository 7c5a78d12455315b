"""Read a roster file (XLSX, ODS or CSV) into numbered rows of values by column.

Rows are numbered as a spreadsheet shows them: row 1 is the header, so the first
person is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from app.services import exports, tables
from app.services.roster.model import COLUMNS, REQUIRED_COLUMNS, Problem

# Control characters never appear in a text file; they mean a binary file of some kind.
BINARY_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Excel may write this first line to name the delimiter, and does not show it as a row.
SEP_LINE_RE = re.compile(r"^sep=([,;\t])\r?\n", re.IGNORECASE)
DELIMITERS = (",", ";", "\t")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
HEADER_SPACING_RE = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class Header:
    """The columns row 1 names, by their position in a row."""

    columns: dict[int, str]  # position in the row -> column
    names: list[str]  # as written in row 1, for messages

    def label(self, column: str) -> str:
        """Return how row 1 writes a column's name, for messages."""
        for index, name in self.columns.items():
            if name == column:
                return self.names[index]
        return column


@dataclass(frozen=True)
class Source:
    """The rows of a roster file, as lists of cell text."""

    rows: Iterator[list[str]]
    # None for a spreadsheet, whose cells need no separator.
    delimiter: str | None


def file_problem(content: bytes) -> Problem | None:
    """Return why the content cannot be read as a roster (XLSX, ODS or CSV), or None."""
    return open_file(content)[1]


def open_file(content: bytes) -> tuple[Source | None, Problem | None]:
    """Return the rows of a roster file, whatever it is, or why it cannot be read."""
    if not content.strip():
        return None, Problem(
            _(
                "The file is empty. Upload a spreadsheet or CSV file with a header row "
                "and one row per person."
            )
        )
    kind = tables.kind(content)
    if kind in {tables.Kind.XLSX, tables.Kind.ODS}:
        try:
            rows = tables.read_rows(content, kind)
        except tables.TableError as error:
            return None, Problem(str(error))
        if not rows:
            return None, Problem(
                _(
                    "The first sheet of the spreadsheet is empty. Put the header row and "
                    "the people on the first sheet."
                )
            )
        return Source(iter(rows), None), None
    if kind == tables.Kind.XLS:
        return None, Problem(
            _(
                "This is an Excel 97-2003 workbook (.xls), which cannot be read. In Excel, "
                "choose File, Save As, pick “Excel Workbook (*.xlsx)”, and upload that file."
            )
        )
    if kind == tables.Kind.ARCHIVE:
        return None, Problem(_not_a_roster())
    text, problem = _decode(content)
    if problem is not None:
        return None, problem
    sep = SEP_LINE_RE.match(text)
    if sep:
        delimiter, text = sep.group(1), text[sep.end() :]
    else:
        first_line = text.split("\n", 1)[0]
        # The most frequent wins; a tie, as in a one-column file, means a comma.
        delimiter = max(DELIMITERS, key=first_line.count)
    return Source(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), delimiter), None


def _decode(content: bytes) -> tuple[str, Problem | None]:
    """Return the text of a CSV file in UTF-8 (with or without BOM) or UTF-16."""
    if content.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif content.startswith(UTF16_BOMS):
        encoding = "utf-16"
    else:
        encoding = _utf16_without_bom(content) or "utf-8"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            return "", Problem(_not_a_roster())
        return "", Problem(
            _(
                "The file is saved in an 8-bit encoding (such as Windows-1252 or Latin-1, "
                "which Excel and LibreOffice use by default for CSV), so names in other "
                "scripts would be lost. Save it as UTF-8 and upload it again. In Excel: "
                "choose File, Save As, and in “Save as type” pick “CSV UTF-8 (Comma "
                "delimited) (*.csv)”. In LibreOffice Calc: choose File, Save As, pick the "
                "file type “Text CSV (.csv)”, tick “Edit filter settings”, choose Save "
                "and “Use Text CSV Format”, then set “Character set” to “Unicode "
                "(UTF-8)” and choose OK. Or upload the spreadsheet itself, as .xlsx or .ods."
            )
        )
    if BINARY_RE.search(text):
        return "", Problem(_not_a_roster())
    return text.removeprefix("\ufeff"), None


def _utf16_without_bom(content: bytes) -> str | None:
    """Return the UTF-16 byte order of text whose every other byte is NUL, if it is such."""
    sample = content[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # Roster text is mostly ASCII: in UTF-16 one byte of each such character is NUL.
    if odd > half * 0.6 and even == 0:
        return "utf-16-le"
    if even > half * 0.6 and odd == 0:
        return "utf-16-be"
    return None


def _not_a_roster() -> str:
    return str(
        _(
            "The file is not a roster that can be read. Upload the spreadsheet saved as "
            ".xlsx (Excel) or .ods (LibreOffice), or a CSV file saved as UTF-8."
        )
    )


def read_table(
    source: Source,
) -> tuple[Header | None, list[tuple[int, dict[str, str]]], list[int], list[Problem]]:
    """Return the header, the numbered rows of values by column, the numbers of rows that
    cannot be read, and the problems met.

    The header is None when a required column is missing: no row can be read without it.
    """
    reader = source.rows
    header: Header | None = None
    problems: list[Problem] = []
    records: list[tuple[int, dict[str, str]]] = []
    unreadable: list[int] = []
    number = 1
    try:
        header, problems = _check_header([_clean(name) for name in next(reader, [])])
        if header is None:
            return None, [], [], problems
        for number, values in enumerate(reader, start=2):
            if any(value.strip() for value in values):
                record = _record(number, values, header, source.delimiter, problems)
                if record is None:
                    unreadable.append(number)
                else:
                    records.append((number, record))
    except csv.Error as error:
        problems.append(
            Problem(
                _(
                    "the file cannot be read as CSV from here on (%(error)s). Check the "
                    "quotes around the values of this row.",
                    error=str(error),
                ),
                row=number + 1 if header else 1,
            )
        )
    return header, records, unreadable, problems


def _check_header(names: list[str]) -> tuple[Header | None, list[Problem]]:
    known = {HEADER_SPACING_RE.sub("", column): column for column in COLUMNS}
    columns: dict[int, str] = {}
    problems: list[Problem] = []
    for index, name in enumerate(names):
        if not name:
            continue
        column = known.get(HEADER_SPACING_RE.sub("", name.casefold()))
        if column is None:
            problems.append(
                Problem(
                    _(
                        "unknown column. Rename it to one of %(columns)s, or remove it.",
                        columns=", ".join(COLUMNS),
                    ),
                    row=1,
                    column=name,
                )
            )
        elif column in columns.values():
            problems.append(Problem(_("this column appears twice."), row=1, column=name))
        else:
            columns[index] = column
    missing = [column for column in REQUIRED_COLUMNS if column not in columns.values()]
    for column in missing:
        problems.append(
            Problem(
                _(
                    "the required column %(column)s is missing. The first row must name "
                    "the columns %(required)s.",
                    column=column,
                    required=", ".join(REQUIRED_COLUMNS),
                ),
                row=1,
            )
        )
    return (None if missing else Header(columns, names)), problems


def _record(
    number: int,
    values: list[str],
    header: Header,
    delimiter: str | None,
    problems: list[Problem],
) -> dict[str, str] | None:
    """Return a row's values by column, or None after noting why they cannot be read."""
    width = len(header.names)
    # In CSV, more values than columns mostly means a separator inside an unquoted value;
    # a spreadsheet has no such thing, only a column without a name.
    if delimiter is not None and any(value.strip() for value in values[width:]):
        problems.append(
            Problem(
                _(
                    "this row has %(found)s values but row 1 names %(expected)s columns. "
                    "Put quotes around any value that contains a %(delimiter)s.",
                    found=len(values),
                    expected=width,
                    delimiter=_("semicolon") if delimiter == ";" else _("comma"),
                ),
                row=number,
            )
        )
        return None
    for index, value in enumerate(values):
        if (index >= width or not header.names[index]) and value.strip():
            problems.append(
                Problem(
                    _(
                        "column %(position)s has a value but no name in row 1. "
                        "Name the column or empty it.",
                        position=index + 1,
                    ),
                    row=number,
                )
            )
            return None
    return {
        column: _clean(values[index]) if index < len(values) else ""
        for index, column in header.columns.items()
    }


def _clean(value: str) -> str:
    """Strip a value and turn each run of spaces or line breaks inside it into one space."""
    # Bidirectional controls would make a stored name display as something else.
    return " ".join(exports.plain_text(value).split())
