"""XLSX workbooks looked at before the spreadsheet reader touches them.

The reader (calamine, through fastexcel) trusts the workbook: it inflates every part it needs and
allocates the first sheet as a dense grid from its smallest to its largest cell reference. So a
5 MB zip bomb becomes gigabytes, and a sheet holding A1 and XFD1048576 asks for 512 GiB and
aborts the process. ``check_workbook`` inflates the XML parts itself, in bounded chunks and
without trusting the sizes the zip declares, and bounds the sheet's extent from its cell and row
references; ``first_row`` streams the first sheet only as far as its first non-empty row.
"""

from __future__ import annotations

import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from standards.validation.limits import ReadLimits

READ_CHUNK = 1 << 20  # compressed bytes read at a time
INFLATE_CHUNK = 1 << 20  # largest piece of decompressed XML held at once
MAX_MEMBERS = 10_000
MAX_OPEN_TAG = 1 << 20  # a single tag longer than this is not a spreadsheet
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


class WorkbookError(Exception):
    """The workbook is refused; ``message`` and ``hint`` are for the person."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


RESAVE = "Save it again from your spreadsheet program as .xlsx, or export it as CSV UTF-8."


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


# --- the zip container ---------------------------------------------------------------------------

def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookError(f"The workbook cannot be read: it is not a valid ZIP archive ({exc}).",
                            RESAVE) from exc
    if len(archive.infolist()) > MAX_MEMBERS:
        archive.close()
        raise WorkbookError(f"The workbook has more than {MAX_MEMBERS:,} parts.", RESAVE)
    return archive


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def _check_declared(archive: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse at once what the zip itself admits is too big (a bomb that does not hide)."""
    declared = sum(i.file_size for i in archive.infolist() if _is_xml(i.filename))
    if declared > limits.max_xlsx_bytes:
        raise WorkbookError(
            f"The workbook unpacks to {_mib(declared)} of XML, more than the "
            f"{_mib(limits.max_xlsx_bytes)} the exchange reads.",
            "Split the table, or upload it as CSV UTF-8 (CSV is read in a fraction of the memory).")


def _member_stream(fh: BinaryIO, info: zipfile.ZipInfo, budget: int
                   ) -> Iterator[bytes]:
    """The decompressed bytes of one member, in pieces, raising once more than ``budget`` bytes
    come out. The deflate stream is inflated here, so a size the zip declares falsely changes
    nothing."""
    if info.flag_bits & 0x1:
        raise WorkbookError("The workbook is encrypted.", "Remove the password and save it again.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise WorkbookError(f"Part {info.filename!r} uses an unsupported compression method "
                            f"({info.compress_type}).", RESAVE)
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise WorkbookError(f"Part {info.filename!r} of the workbook is damaged.", RESAVE)
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    produced = 0
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    pending = b""
    while True:
        if not pending:
            if remaining <= 0:
                break
            pending = fh.read(min(READ_CHUNK, remaining))
            if not pending:
                break
            remaining -= len(pending)
        if inflater is None:
            out, pending = pending, b""
        else:
            try:
                out = inflater.decompress(pending, INFLATE_CHUNK)
            except zlib.error as exc:
                raise WorkbookError(f"Part {info.filename!r} of the workbook is damaged.",
                                    RESAVE) from exc
            pending = inflater.unconsumed_tail
        produced += len(out)
        if produced > budget:
            raise _OverBudget
        if out:
            yield out
        if inflater is not None and inflater.eof:
            break


class _OverBudget(Exception):
    pass


# --- which part is the first sheet ---------------------------------------------------------------

_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _small_part(archive: zipfile.ZipFile, fh: BinaryIO, name: str, limit: int) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    try:
        return b"".join(_member_stream(fh, info, limit))
    except _OverBudget as exc:
        raise WorkbookError(f"Part {name!r} of the workbook is larger than "
                            f"{_mib(limit)}.", RESAVE) from exc


def _tags(xml_text: bytes, local_name: bytes) -> Iterator[dict[bytes, bytes]]:
    """Attributes of every start tag with this local name (any namespace prefix)."""
    pattern = re.compile(rb"<(?:[\w.-]+:)?" + local_name + rb"[\s/>]([^>]*)")
    for match in pattern.finditer(xml_text):
        yield {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
               for m in _ATTR.finditer(match.group(1))}


def first_sheet_part(archive: zipfile.ZipFile, fh: BinaryIO, limits: ReadLimits) -> str:
    """The zip member holding the workbook's first sheet, as the reader resolves it."""
    workbook = _small_part(archive, fh, "xl/workbook.xml", limits.max_header_bytes)
    rels = _small_part(archive, fh, "xl/_rels/workbook.xml.rels", limits.max_header_bytes)
    if workbook is None or rels is None:
        raise WorkbookError("This ZIP archive is not an XLSX workbook (no xl/workbook.xml).",
                            RESAVE)
    sheets = list(_tags(workbook, b"sheet"))
    if not sheets:
        raise WorkbookError("The workbook has no sheet.", RESAVE)
    if len(sheets) > 1:
        # Only one sheet is read and checked; the others would be kept unread, and they are
        # where lists of persons hide. One table, one sheet.
        raise WorkbookError(
            f"The workbook has {len(sheets)} sheets; the exchange reads exactly one table.",
            "Keep only the sheet with the table (or export it as CSV UTF-8).")
    sheet = sheets[0]
    rel_id = next((v for k, v in sheet.items() if k.endswith(b":id")), None)
    target = next((r.get(b"Target") for r in _tags(rels, b"Relationship")
                   if r.get(b"Id") == rel_id), None)
    if target is None:
        raise WorkbookError("The workbook's first sheet cannot be found.", RESAVE)
    name = target.decode("utf-8", "replace").lstrip("/")
    name = name if name.startswith("xl/") else f"xl/{name}"
    if name not in archive.namelist():
        raise WorkbookError(f"The workbook's first sheet ({name}) is missing.", RESAVE)
    return name


# --- bounding the sheet's extent -----------------------------------------------------------------

def _lut(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    return table


_IS_WS = _lut(b" \t\r\n")
_IS_TAG_END = _lut(b" \t\r\n>/")
_IS_QUOTE = _lut(b"\"'")
_IS_LETTER = _lut(bytes(range(65, 91)) + bytes(range(97, 123)))
_IS_DIGIT = _lut(b"0123456789")
_IS_NAME = _lut(bytes(range(65, 91)) + bytes(range(97, 123)) + b"0123456789_.-")
_WINDOW = 16  # bytes looked at after a quote: XFD1048576 is the largest valid reference
_PAD = 32
HUGE = 1 << 40  # a reference beyond any limit


@dataclass
class Extent:
    """What the reader would allocate for a sheet, bounded from above."""

    max_row: int = 0  # largest row number referenced (1-based)
    max_col: int = 0  # largest column number referenced (A = 1)
    row_tags: int = 0
    row_refs: int = 0
    cell_tags: int = 0
    cell_refs: int = 0
    widest_row: int = 0  # most cell tags between two row tags
    since_row: int = 0  # cell tags after the last row tag seen

    @property
    def rows(self) -> int:
        """Rows spanned: rows without a reference continue from the previous one."""
        return self.max_row + max(self.row_tags - self.row_refs, 0)

    @property
    def columns(self) -> int:
        """Columns spanned: cells without a reference continue from the previous one."""
        widest = max(self.widest_row, self.since_row)
        return self.max_col + (widest if self.cell_tags > self.cell_refs else 0)


def _element_starts(a: np.ndarray, n: int, prefixed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start tags of ``row`` and ``c`` elements, as positions, with or without a prefix.

    ``a`` holds ``n`` bytes of complete tags followed by zero padding; ``prefixed`` says whether
    a ``:`` occurs in them at all (usually not: then one pass over the bytes finds every tag).
    """
    marks = np.flatnonzero((a[:n] == ord("<")) | (a[:n] == ord(":"))) if prefixed \
        else np.flatnonzero(a[:n] == ord("<"))
    first = a[marks + 1]
    found = []
    for name in (b"row", b"c"):
        at = marks[first == name[0]]
        ok = _IS_TAG_END[a[at + 1 + len(name)]]
        for k in range(1, len(name)):
            ok &= a[at + 1 + k] == name[k]
        at = at[ok]
        colon = a[at] == ord(":")
        if colon.any():  # <x:row ...>: a prefix of a start tag's name, not </x:row> or an attribute
            lts = marks[a[marks] == ord("<")]
            where = at[colon]
            k = np.searchsorted(lts, where) - 1
            lt = lts[np.maximum(k, 0)]
            span = where - lt
            prefix = a[lt[:, None] + np.arange(1, _WINDOW)]
            inside = np.arange(1, _WINDOW)[None, :] < span[:, None]
            good = (k >= 0) & (span < _WINDOW) & (prefix[:, 0] != ord("/")) & \
                np.all(_IS_NAME[prefix] | ~inside, axis=1)
            keep = np.ones(at.size, dtype=bool)
            keep[np.flatnonzero(colon)[~good]] = False
            at = at[keep]
        found.append(at)
    return found[0], found[1]


def _attribute_values(a: np.ndarray, n: int) -> np.ndarray:
    """Where the value of every ``r`` attribute starts, found as an XML parser finds it: the
    name ``r`` after white space, ``=`` and a quote, with any white space around the ``=``."""
    eq = np.flatnonzero(a[:n] == ord("="))
    eq = eq[eq >= 2]
    if eq.size == 0:
        return eq
    simple = (a[eq - 1] == ord("r")) & _IS_WS[a[eq - 2]] & _IS_QUOTE[a[eq + 1]]
    starts = eq[simple] + 2
    spaced = eq[_IS_WS[a[eq - 1]] | _IS_WS[a[eq + 1]]]
    if spaced.size:
        solid = np.flatnonzero(~_IS_WS[a[:n]])
        before = np.searchsorted(solid, spaced) - 1
        after = np.searchsorted(solid, spaced, side="right")
        ok = (before >= 1) & (after < solid.size)
        name, quote = solid[before[ok]], solid[np.minimum(after[ok], solid.size - 1)]
        ok = (a[name] == ord("r")) & _IS_WS[a[name - 1]] & _IS_QUOTE[a[quote]]
        starts = np.concatenate([starts, quote[ok] + 1])
    return starts


def _largest(a: np.ndarray, starts: np.ndarray, width: int, fold: bool) -> bytes:
    """The largest of the ``width``-byte strings at ``starts``, found column by column (each
    column keeps only the candidates holding its largest byte, so the work shrinks fast)."""
    for k in range(width):
        column = a[starts + k]
        if fold:
            column = column & 0xDF
        starts = starts[column == column.max()]
    best = a[starts[0]:starts[0] + width]
    return bytes(best & 0xDF if fold else best)


def _scan_refs(a: np.ndarray, n: int, apostrophes: bool, extent: Extent) -> None:
    """Update ``extent`` with the ``r`` references (``A1`` on cells, ``1`` on rows).

    A reference is letters then digits up to the closing quote. Only the largest is needed:
    more letters (digits) is larger, and among equally long ones the largest string is.
    Anything that is not a plain reference counts as beyond every limit.
    """
    starts = _attribute_values(a, n)
    if starts.size == 0:
        return
    quotes = np.flatnonzero((a[:n] == ord('"')) | (a[:n] == ord("'"))) if apostrophes \
        else np.flatnonzero(a[:n] == ord('"'))
    after = np.searchsorted(quotes, starts)
    close = np.where(after < quotes.size, quotes[np.minimum(after, quotes.size - 1)], n)
    letters = np.zeros(starts.size, dtype=np.int64)
    run = np.ones(starts.size, dtype=bool)
    for k in range(4):
        run &= _IS_LETTER[a[starts + k]] & (starts + k < close)
        letters += run
    n_digits = close - starts - letters
    cell = letters > 0
    extent.cell_refs += int(np.count_nonzero(cell))
    extent.row_refs += int(np.count_nonzero(~cell & (n_digits > 0)))
    if (letters > 3).any():
        extent.max_col = HUGE
    elif cell.any():
        width = int(letters.max())
        best = _largest(a, starts[letters == width], width, fold=True)
        extent.max_col = max(extent.max_col, _column_value(best))
    if (n_digits > 10).any():
        extent.max_row = HUGE
    elif n_digits.max() > 0:
        width = int(n_digits.max())
        best = _largest(a, (starts + letters)[n_digits == width], width, fold=False)
        extent.max_row = max(extent.max_row, int(best) if best.isdigit() else HUGE)


def _column_value(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - ord("A") + 1
    return number


def _scan_block(block: bytes, extent: Extent) -> None:
    n = len(block)
    a = np.frombuffer(block + bytes(_PAD), dtype=np.uint8)
    rows, cells = _element_starts(a, n, b":" in block)
    extent.row_tags += rows.size
    extent.cell_tags += cells.size
    if rows.size:
        per_row = np.diff(np.searchsorted(cells, rows), append=cells.size)
        before_first = int(np.searchsorted(cells, rows[0]))
        widest = int(per_row[:-1].max()) if per_row.size > 1 else 0
        extent.widest_row = max(extent.widest_row, extent.since_row + before_first, widest)
        extent.since_row = int(per_row[-1])
    else:
        extent.since_row += cells.size
    _scan_refs(a, n, b"'" in block, extent)


def scan_extent(chunks: Iterator[bytes]) -> Extent:
    """Bound the extent of a sheet from its XML, read as a stream of pieces.

    Pieces are cut after their last ``>``, so a tag is never split between two blocks (a ``>``
    inside an attribute value only moves the cut; nothing is dropped).
    """
    extent = Extent()
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(b">") + 1
        if cut:
            _scan_block(data[:cut], extent)
        carry = data[cut:]
        if len(carry) > MAX_OPEN_TAG:
            raise WorkbookError(f"The sheet's XML runs {_mib(MAX_OPEN_TAG)} without closing a "
                                "tag: it is not a spreadsheet.", RESAVE)
    if carry:
        _scan_block(carry, extent)
    return extent


DAMAGE = (OSError, ValueError, EOFError, LookupError, struct.error, zlib.error,
          zipfile.BadZipFile, NotImplementedError, RuntimeError)


def _damaged(exc: Exception) -> WorkbookError:
    return WorkbookError(f"The workbook is damaged ({type(exc).__name__}: {exc}).", RESAVE)


def check_workbook(path: Path, limits: ReadLimits) -> Extent:
    """Raise :class:`WorkbookError` unless the reader can open ``path`` within ``limits``."""
    try:
        return _check_workbook(path, limits)
    except DAMAGE as exc:
        raise _damaged(exc) from exc


def _check_workbook(path: Path, limits: ReadLimits) -> Extent:
    """Raise :class:`WorkbookError` unless the reader can open ``path`` within ``limits``.

    Every XML part is inflated here once, in bounded pieces, so what counts is what the parts
    really unpack to; the first sheet's pieces are scanned for its extent on the way.
    """
    with _open_zip(path) as archive, path.open("rb") as fh:
        _check_declared(archive, limits)
        sheet = first_sheet_part(archive, fh, limits)
        used = 0
        extent = Extent()
        for info in archive.infolist():
            if not _is_xml(info.filename):
                continue
            sizes: list[int] = []
            stream = _member_stream(fh, info, limits.max_xlsx_bytes - used)
            try:
                if info.filename == sheet:
                    extent = scan_extent(_counted(stream, sizes))
                else:
                    for _ in _counted(stream, sizes):
                        pass
            except _OverBudget as exc:
                raise WorkbookError(
                    f"The workbook unpacks to more than {_mib(limits.max_xlsx_bytes)} of XML "
                    "(a ZIP bomb, or a far larger table than a submission).",
                    "Split the table, or upload it as CSV UTF-8.") from exc
            used += sum(sizes)
    _check_extent(extent, limits)
    return extent


def _counted(pieces: Iterator[bytes], sizes: list[int]) -> Iterator[bytes]:
    for piece in pieces:
        sizes.append(len(piece))
        yield piece


def _check_extent(extent: Extent, limits: ReadLimits) -> None:
    rows, columns = extent.rows, extent.columns
    if rows > limits.max_rows + 1:
        raise WorkbookError(f"The first sheet spans {rows:,} rows; at most "
                            f"{limits.max_rows:,} data rows are read.",
                            "Delete stray cells far below the table, or split the table.")
    if columns > limits.max_columns:
        raise WorkbookError(f"The first sheet spans {columns:,} columns; at most "
                            f"{limits.max_columns:,} are read.",
                            "Delete stray cells to the right of the table.")
    if rows * columns > limits.max_xlsx_cells:
        raise WorkbookError(f"The first sheet spans {rows:,} rows x {columns:,} columns, more "
                            f"than the {limits.max_xlsx_cells:,} cells the exchange reads.",
                            "Delete stray cells around the table, or upload it as CSV UTF-8.")


# --- the first row, for the header check ---------------------------------------------------------

def _column_number(ref: str) -> int | None:
    letters = ""
    for ch in ref:
        if not ch.isalpha():
            break
        letters += ch.upper()
    if not letters or len(letters) > 3:
        return None
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


class _RowReader:
    """Collects the cells of the first row with a value, from the sheet XML pushed in pieces."""

    def __init__(self) -> None:
        self.cells: list[tuple[int, str, str]] = []  # (column, type, text)
        self.done = False
        self._in_data = False
        self._row: list[tuple[int, str, str]] | None = None
        self._cell: tuple[int, str] | None = None
        self._text: list[str] | None = None
        self._next_col = 1
        self.parser = _expat(self._start, self._end, self._chars)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "sheetData":
            self._in_data = True
        elif self._in_data and local == "row":
            self._row, self._next_col = [], 1
        elif self._row is not None and local == "c":
            column = _column_number(attrs.get("r", "")) or self._next_col
            self._next_col = column + 1
            self._cell = (column, attrs.get("t", "n"))
            self._text = []
        elif self._cell is not None and local in ("v", "t"):
            self._text = self._text if self._text is not None else []

    def _chars(self, data: str) -> None:
        if self._cell is not None and self._text is not None:
            self._text.append(data)

    def _end(self, name: str) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "c" and self._cell is not None and self._row is not None:
            text = "".join(self._text or [])
            if text.strip():
                self._row.append((self._cell[0], self._cell[1], text))
            self._cell, self._text = None, None
        elif local == "row" and self._row is not None:
            if self._row:
                self.cells, self.done = self._row, True
                raise _Found
            self._row = None
        elif local == "sheetData":
            self.done = True
            raise _Found


class _Found(Exception):
    pass


class _DTDRefused(Exception):
    pass


def _expat(start, end, chars) -> xml.parsers.expat.XMLParserType:  # type: ignore[no-untyped-def]
    """A namespace-aware expat parser with these handlers and no DTDs (no entity tricks)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    _forbid_dtd(parser)
    return parser


def _forbid_dtd(parser: xml.parsers.expat.XMLParserType) -> None:
    """Spreadsheet XML never has a DTD: refuse one instead of expanding its entities."""
    def refuse(*_args: object) -> None:
        raise _DTDRefused

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse


def _feed(parser: xml.parsers.expat.XMLParserType, pieces: Iterator[bytes], limit: int,
          what: str) -> None:
    fed = 0
    try:
        for piece in pieces:
            fed += len(piece)
            if fed > limit:
                raise WorkbookError(f"The {what} is longer than {_mib(limit)} of XML.",
                                    "Keep the header in the first row of the first sheet.")
            parser.Parse(piece, False)
        parser.Parse(b"", True)
    except (_Found, _Strings.Enough):
        return
    except _DTDRefused as exc:
        raise WorkbookError("The workbook's XML declares a DTD; spreadsheets never do.",
                            RESAVE) from exc
    except xml.parsers.expat.ExpatError as exc:
        raise WorkbookError(f"The workbook's XML is malformed ({exc}).", RESAVE) from exc


class _Strings:
    """Shared strings with the wanted indices, streamed: the table may be large."""

    class Enough(Exception):
        pass

    def __init__(self, wanted: set[int]) -> None:
        self.wanted = wanted
        self.found: dict[int, str] = {}
        self._index = -1
        self._depth_si = False
        self._text: list[str] = []
        self._in_t = False
        self._in_rph = 0
        self.parser = _expat(self._start, self._end, self._chars)

    def _start(self, name: str, _attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "si":
            self._index += 1
            self._depth_si, self._text = True, []
        elif local == "rPh":
            self._in_rph += 1
        elif local == "t" and self._depth_si and not self._in_rph:
            self._in_t = True

    def _chars(self, data: str) -> None:
        if self._in_t and self._index in self.wanted:
            self._text.append(data)

    def _end(self, name: str) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "t":
            self._in_t = False
        elif local == "rPh":
            self._in_rph -= 1
        elif local == "si":
            self._depth_si = False
            if self._index in self.wanted:
                self.found[self._index] = "".join(self._text)
                if len(self.found) == len(self.wanted):
                    raise _Strings.Enough


def _stream_part(archive: zipfile.ZipFile, fh: BinaryIO, name: str, budget: int
                 ) -> Iterator[bytes]:
    try:
        yield from _member_stream(fh, archive.getinfo(name), budget)
    except _OverBudget as exc:
        raise WorkbookError(f"Part {name!r} of the workbook unpacks to more than "
                            f"{_mib(budget)}.", "Upload the table as CSV UTF-8.") from exc


def _shared_strings_part(archive: zipfile.ZipFile, fh: BinaryIO, limits: ReadLimits
                         ) -> str | None:
    rels = _small_part(archive, fh, "xl/_rels/workbook.xml.rels", limits.max_header_bytes) or b""
    for rel in _tags(rels, b"Relationship"):
        if rel.get(b"Type", b"").endswith(b"/sharedStrings"):
            target = rel.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
            name = target if target.startswith("xl/") else f"xl/{target}"
            return name if name in archive.namelist() else None
    return "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in archive.namelist() else None


def first_row(path: Path, limits: ReadLimits) -> list[str]:
    """The cells of the first sheet's first non-empty row, in column order ("" for gaps)."""
    try:
        return _first_row(path, limits)
    except DAMAGE as exc:
        raise _damaged(exc) from exc


def _first_row(path: Path, limits: ReadLimits) -> list[str]:
    with _open_zip(path) as archive, path.open("rb") as fh:
        _check_declared(archive, limits)
        sheet = first_sheet_part(archive, fh, limits)
        reader = _RowReader()
        _feed(reader.parser, _stream_part(archive, fh, sheet, limits.max_xlsx_bytes),
              limits.max_header_bytes, "first row of the sheet")
        cells = reader.cells
        wanted: set[int] = set()
        for _col, kind, text in cells:
            if kind == "s":
                if not text.strip().isdigit():
                    raise WorkbookError("The workbook's first row refers to a shared string "
                                        "that does not exist.", RESAVE)
                wanted.add(int(text))
        strings: dict[int, str] = {}
        if wanted:
            part = _shared_strings_part(archive, fh, limits)
            if part is None:
                raise WorkbookError("The workbook's shared strings are missing.", RESAVE)
            table = _Strings(wanted)
            _feed(table.parser, _stream_part(archive, fh, part, limits.max_xlsx_bytes),
                  limits.max_xlsx_bytes, "shared string table")
            strings = table.found
            if len(strings) < len(wanted):
                raise WorkbookError("The workbook's first row refers to a shared string "
                                    "that does not exist.", RESAVE)
    if not cells:
        return []
    width = max(col for col, _, _ in cells)
    if width > limits.max_columns:
        raise WorkbookError(f"The first row reaches column {width:,}; at most "
                            f"{limits.max_columns:,} columns are read.",
                            "Delete stray cells to the right of the table.")
    names = [""] * width
    for col, kind, text in cells:
        names[col - 1] = strings[int(text)] if kind == "s" else text
    return names


__all__ = ["Extent", "WorkbookError", "check_workbook", "first_row", "scan_extent"]

