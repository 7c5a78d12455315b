"""One archival PDF written object by object from many PDFs, straight to a file.

Each source is read, its pages and everything they use are written out under new object
numbers, and the source is let go before the next is read. However many sources there
are, memory holds one of them and the file's index: eight bytes per object written,
a few hundred bytes per page.
"""

from __future__ import annotations

import re
import secrets
from array import array
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any, BinaryIO, cast

import weasyprint
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    read_object,
)
from weasyprint.pdf.metadata import DocumentMetadata

# What a page may inherit from the page tree above it.
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
# As the records' own metadata names them (certificates/*.html: <meta name="author">).
AUTHOR = "Blue Beret"
XMP_HEADER = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
)
XMP_FOOTER = b'</x:xmpmeta>\n<?xpacket end="r"?>'
# In an object's text: a string, a hex string or a comment (left as they are), or a
# reference to another object ("12 0 R"), whose number is group 1.
LEXEME = re.compile(
    rb"\((?:\\.|[^\\()])*\)|<[0-9A-Fa-f\s]*>|%[^\r\n]*|(\d+)\s+\d+\s+R(?![^\s()<>\[\]{}/%])",
    re.S,
)

# An object stored on its own: its number, its text, and whether a stream follows.
OWN_OBJECT = re.compile(rb"(\d+)\s+0\s+obj\s*(.*?)\s*(?:(stream)\r?\n|endobj)", re.S)
DIRECT_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
# Gives an object of the source (by its number there) its number in the file written.
NumberOf = Callable[[int], int]


class Reference(PdfObject):
    """A reference to an object of the file being written."""

    def __init__(self, number: int) -> None:
        self.number = number

    def write_to_stream(self, stream: Any, encryption_key: Any = None) -> None:
        stream.write(f"{self.number} 0 R".encode())


class SourceObjects:
    """The objects of a source PDF, read one at a time.

    An object packed in an object stream is read from its own text: asking the PDF
    library for one would have it parse every object of the stream.
    """

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.reader = PdfReader(BytesIO(pdf))
        self._catalog: DictionaryObject | None = None
        self.packed = self.reader.xref_objStm
        self.streams: dict[int, tuple[bytes, dict[int, tuple[int, int]]]] = {}

    def text(self, number: int) -> bytes | None:
        """Return a packed object's text; None for an object stored on its own."""
        place = self.packed.get(number)
        if place is None:
            return None
        if place[0] not in self.streams:
            stream = self.reader.get_object(place[0])
            assert isinstance(stream, StreamObject)
            data, first = stream.get_data(), int(cast(int, stream["/First"]))
            header = data[:first].split()
            starts = [
                (int(header[i]), first + int(header[i + 1])) for i in range(0, len(header), 2)
            ]
            ends = [start for _number, start in starts[1:]] + [len(data)]
            spans = {n: (start, end) for (n, start), end in zip(starts, ends, strict=True)}
            self.streams[place[0]] = (data, spans)
        data, spans = self.streams[place[0]]
        if number not in spans:
            return None
        start, end = spans[number]
        return data[start:end].strip()

    def own_object(self, number: int) -> tuple[bytes, bytes | None] | None:
        """Return the text of an object stored on its own, and its stream data as they are.

        None when it is not where the index says in the usual form (`N 0 obj <<…>>
        stream … endstream`, or no stream) with a direct length: then it is parsed.
        """
        offset = self.reader.xref.get(0, {}).get(number)
        if offset is None:
            return None
        found = OWN_OBJECT.match(self.pdf, offset)
        if found is None or int(found.group(1)) != number:
            return None
        if found.group(3) is None:
            return found.group(2), None
        length = DIRECT_LENGTH.search(found.group(2))
        if length is None:
            return None
        start = found.end()
        end = start + int(length.group(1))
        if not self.pdf[end : end + 12].lstrip().startswith(b"endstream"):
            return None
        return found.group(2), self.pdf[start:end]

    def get(self, value: Any) -> Any:
        """Return an object (given by reference or number), parsed; a direct value as it is."""
        if isinstance(value, IndirectObject):
            value = value.idnum
        if not isinstance(value, int) or isinstance(value, PdfObject):
            return value
        text = self.text(value)
        if text is None:
            return self.reader.get_object(value)
        return read_object(BytesIO(text), self.reader)

    def catalog(self) -> DictionaryObject:
        """Return the document catalogue."""
        if self._catalog is None:
            self._catalog = self.get(self.reader.trailer.raw_get("/Root"))
        assert self._catalog is not None
        return self._catalog

    def pages(self) -> list[tuple[int, DictionaryObject]]:
        """Return every page, in order, by number, with what it inherits written in."""
        found: list[tuple[int, DictionaryObject]] = []

        def walk(reference: Any, inherited: dict[str, Any]) -> None:
            node = self.get(reference)
            inherited = inherited | {key: node.raw_get(key) for key in INHERITED if key in node}
            if node.raw_get("/Type") == "/Pages":
                for kid in self.get(node.raw_get("/Kids")):
                    walk(kid, inherited)
                return
            page = DictionaryObject(node)
            for key, value in inherited.items():
                page.setdefault(NameObject(key), value)
            found.append((reference.idnum, page))

        walk(self.catalog().raw_get("/Pages"), {})
        return found


class PdfAppender:
    """Append the pages of PDF/A-3b files to one PDF/A-3b file, written as it goes.

    The first source gives the file its output intent (the colour profile) and language;
    the file's title is its own. The sources' attachments and outlines are left out:
    each page keeps its links and QR code.
    """

    def __init__(self, out: BinaryIO, title: str) -> None:
        self.out = out
        self.title = title
        self.start = out.tell()
        # Where each object starts, by number; object 0 heads the list of free objects.
        self.offsets = array("Q", [0])
        self.kids = array("Q")
        self.pages_number = self.reserve()
        self.intents: int | None = None
        self.lang: PdfObject | None = None
        self.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    @property
    def pages(self) -> int:
        """Return how many pages have been appended."""
        return len(self.kids)

    def write(self, data: bytes) -> None:
        """Write bytes at the end of the file."""
        self.out.write(data)

    def reserve(self) -> int:
        """Return the number of a new object, written later."""
        self.offsets.append(0)
        return len(self.offsets) - 1

    def begin_object(self, number: int) -> None:
        """Start writing a numbered object here."""
        self.offsets[number] = self.out.tell() - self.start
        self.write(f"{number} 0 obj\n".encode())

    def append(self, pdf: bytes) -> int:
        """Append every page of a PDF, in order; return how many it had."""
        source = SourceObjects(pdf)
        numbers: dict[int, int] = {}
        pending: list[tuple[int, int]] = []

        def number_of(object_number: int) -> int:
            if object_number not in numbers:
                numbers[object_number] = self.reserve()
                pending.append((object_number, numbers[object_number]))
            return numbers[object_number]

        pages = source.pages()
        # Numbered first, so that what refers back to a page (a link's /P) finds it.
        for number, _page in pages:
            numbers[number] = self.reserve()
        for number, page in pages:
            page[NameObject("/Parent")] = Reference(self.pages_number)
            self.begin_object(numbers[number])
            self.write_value(page, number_of)
            self.write(b"\nendobj\n")
        if self.intents is None:
            catalog = source.catalog()
            if "/OutputIntents" in catalog:
                self.intents = self.reserve()
                self.begin_object(self.intents)
                self.write_value(source.get(catalog.raw_get("/OutputIntents")), number_of)
                self.write(b"\nendobj\n")
                self.lang = source.get(catalog.raw_get("/Lang"))
        while pending:
            object_number, number = pending.pop()
            self.begin_object(number)
            # Renumbered as text where it can be: parsing every object costs five times more.
            text = source.text(object_number)
            own = None if text is not None else source.own_object(object_number)
            if text is not None:
                self.write(renumber(text, number_of))
            elif own is not None:
                self.write(renumber(own[0], number_of))
                if own[1] is not None:
                    self.write(b"\nstream\n" + own[1] + b"\nendstream")
            else:
                self.write_value(source.get(object_number), number_of)
            self.write(b"\nendobj\n")
        self.kids.extend(numbers[number] for number, _page in pages)
        return len(pages)

    def write_value(self, value: Any, number_of: NumberOf) -> None:
        """Write a value; a reference into the source takes its new number."""
        if value is None:
            self.write(b"null")
        elif isinstance(value, IndirectObject):
            self.write(f"{number_of(value.idnum)} 0 R".encode())
        elif isinstance(value, DictionaryObject):
            data = value._data if isinstance(value, StreamObject) else None
            self.write(b"<<")
            for key, item in value.items():
                if data is None or key != "/Length":
                    key.write_to_stream(self.out)
                    self.write(b" ")
                    self.write_value(item, number_of)
                    self.write(b"\n")
            if data is None:
                self.write(b">>")
            else:
                self.write(f"/Length {len(data)}>>\nstream\n".encode() + data + b"\nendstream")
        elif isinstance(value, ArrayObject):
            self.write(b"[")
            for item in value:
                self.write(b" ")
                self.write_value(item, number_of)
            self.write(b" ]")
        else:
            value.write_to_stream(self.out)

    def finish(self) -> None:
        """Write the page tree, the metadata, the catalogue and the index: the file is done."""
        self.begin_object(self.pages_number)
        self.write(f"<</Type /Pages /Count {len(self.kids)} /Kids [".encode())
        for kid in self.kids:
            self.write(f" {kid} 0 R".encode())
        self.write(b" ]>>\nendobj\n")

        metadata = self.reserve()
        rdf = DocumentMetadata(title=self.title, authors=[AUTHOR])
        xmp = b"\n".join((XMP_HEADER, rdf.generate_rdf_metadata("a", 3, "B"), XMP_FOOTER))
        self.begin_object(metadata)
        self.write(f"<</Type /Metadata /Subtype /XML /Length {len(xmp)}>>\nstream\n".encode())
        self.write(xmp + b"\nendstream\nendobj\n")

        # The document information says what the metadata says, as PDF/A requires.
        info = self.reserve()
        self.begin_object(info)
        self.write(b"<</Producer " + text(f"WeasyPrint {weasyprint.__version__}"))
        self.write(b" /Title " + text(self.title) + b" /Author " + text(AUTHOR) + b">>\nendobj\n")

        catalog = self.reserve()
        self.begin_object(catalog)
        self.write(f"<</Type /Catalog /Pages {self.pages_number} 0 R".encode())
        self.write(f" /Metadata {metadata} 0 R".encode())
        if self.intents is not None:
            self.write(f" /OutputIntents {self.intents} 0 R".encode())
        if self.lang is not None:
            self.write(b" /Lang ")
            self.lang.write_to_stream(self.out)
        self.write(b">>\nendobj\n")

        index = self.out.tell() - self.start
        self.write(f"xref\n0 {len(self.offsets)}\n0000000000 65535 f \n".encode())
        for offset in self.offsets[1:]:
            self.write(f"{offset:010d} 00000 n \n".encode())
        identifier = secrets.token_hex(16).upper()
        self.write(
            f"trailer\n<</Size {len(self.offsets)} /Root {catalog} 0 R /Info {info} 0 R "
            f"/ID [<{identifier}> <{identifier}>]>>\nstartxref\n{index}\n%%EOF\n".encode()
        )


def renumber(text: bytes, number_of: NumberOf) -> bytes:
    """Return an object's text with its references renumbered."""

    def replace(match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return match.group(0)
        return b"%d 0 R" % number_of(int(match.group(1)))

    return LEXEME.sub(replace, text)


def text(value: str) -> bytes:
    """Return a PDF text string: UTF-16 with its byte order mark, in hex."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"


def merge_to(out: BinaryIO, pdfs: Iterable[bytes], title: str) -> int:
    """Write the pages of every PDF, in order, to one archival PDF; return its pages."""
    appender = PdfAppender(out, title)
    for pdf in pdfs:
        appender.append(pdf)
    appender.finish()
    return appender.pages
