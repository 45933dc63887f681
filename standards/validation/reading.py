"""Turn an uploaded file (CSV, SDMX-CSV 1.0, XLSX) into a frame, or one clear error.

Nothing is typed while reading: coded columns come back as categoricals (each with a dictionary
of its own distinct values, so every later check looks at a few hundred strings, not a million
cells) and the rest as text, so a bad value is reported as that value instead of hiding every
other check of its column. Everything read is bounded by :class:`ReadLimits`: the header, the
number of columns and rows, the length of any cell, and for XLSX what the workbook unpacks to.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from standards.validation.formats import FileFormat
from standards.validation.limits import DEFAULT_LIMITS, ReadLimits

SNIFF_BYTES = 64 * 1024
MAX_RAGGED_REPORTED = 100
RAGGED_CHUNK = 8 << 20  # bytes of the file looked at at once when counting fields
BOM = b"\xef\xbb\xbf"


class UnusableInput(Exception):
    """The file cannot be read as a table at all. The message is meant for the person.

    ``row`` and ``column`` locate the problem when it has a place (a cell far too long).
    """

    def __init__(self, message: str, hint: str | None = None, *, row: int | None = None,
                 column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.row = row
        self.column = column


@dataclass
class Table:
    """A file as read. ``frame`` holds the requested columns under their canonical names
    (``read_table(columns=...)``), or every column under its header name; empty cells of a
    categorical column are null."""

    frame: pl.DataFrame
    file_format: FileFormat
    header: list[str]
    # (row in file, number of fields) for rows with more or fewer fields than the header.
    ragged: list[tuple[int, int]] = field(default_factory=list)
    ragged_count: int = 0


def canonical(name: str) -> str:
    """A header name as the standard spells it: case and surrounding spaces do not matter."""
    return name.strip().upper()


# --- text and header -----------------------------------------------------------------------------

def _encoding_hint(sample: bytes) -> str:
    for name, label in (("cp1251", "Windows-1251 (Cyrillic)"), ("utf-16", "UTF-16")):
        if name == "utf-16" and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            sample.decode(name)
        except UnicodeDecodeError:
            continue
        return f"It looks like {label}; save it again as 'CSV UTF-8'."
    return "Save it again as 'CSV UTF-8' (comma or semicolon separated)."


def _check_text(sample: bytes, at_eof: bool) -> None:
    """Raise a clear error about the encoding unless the first bytes are UTF-8 text."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnusableInput("The file is UTF-16 encoded; the exchange reads UTF-8.",
                            _encoding_hint(sample))
    if b"\x00" in sample:
        raise UnusableInput("The file contains binary data (NUL bytes): it is not a text table.",
                            "Upload a CSV (UTF-8) or an XLSX workbook.")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=at_eof)
    except UnicodeDecodeError as exc:
        line = sample[: exc.start].count(b"\n") + 1
        raise UnusableInput(
            f"The file is not valid UTF-8: byte 0x{sample[exc.start]:02x} on line {line}.",
            _encoding_hint(sample),
        ) from exc


def _detect_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


@dataclass(frozen=True)
class CsvHeader:
    fields: list[str]
    separator: str
    skip: int  # records before the first data row: leading blank lines and the header
    has_rows: bool  # something follows the header line


def _kib(n: int) -> str:
    return f"{n // 1024:,} KiB" if n >= 1024 else f"{n} bytes"


class _HeaderTooLong(Exception):
    pass


class _Lines:
    """Physical lines of a byte stream, read as needed; no line longer than ``limit`` bytes is
    held (the line breaks are kept)."""

    def __init__(self, fh: BinaryIO, data: bytes, pos: int) -> None:
        self.fh, self.data, self.pos = fh, data, pos
        self.eof = False
        self.read = len(data)

    def next_line(self, limit: int) -> bytes | None:
        while True:
            newline = self.data.find(b"\n", self.pos)
            if newline >= 0:
                if newline - self.pos > limit:
                    raise _HeaderTooLong
                line, self.pos = self.data[self.pos:newline + 1], newline + 1
                return line
            if len(self.data) - self.pos > limit:
                raise _HeaderTooLong
            if self.eof:
                if self.pos >= len(self.data):
                    return None
                line, self.pos = self.data[self.pos:], len(self.data)
                return line
            more = self.fh.read(SNIFF_BYTES)
            self.read += len(more)
            self.eof = not more
            self.data = self.data[self.pos:] + more
            self.pos = 0

    def rest_is_blank(self) -> bool:
        return not self.data[self.pos:].strip(b"\r\n") and self.eof


def _read_csv_header(fh: BinaryIO, size: int, limits: ReadLimits) -> CsvHeader:
    """The whole header record of a CSV, however long, up to ``limits.max_header_bytes``.

    Reads only as far as the end of the header; the record is parsed as the csv module parses
    it (a quoted field may hold a line break). Leading blank lines are skipped, as the CSV
    reader skips them.
    """
    data = fh.read(SNIFF_BYTES)
    _check_text(data, at_eof=size <= SNIFF_BYTES)
    lines = _Lines(fh, data, len(BOM) if data.startswith(BOM) else 0)
    limit = limits.max_header_bytes
    too_long = UnusableInput(
        f"The header line is longer than {_kib(limit)}: this is not a table of this standard.",
        "A CSV file has one header line with the column names, then one line per row.", row=1)
    blank_lines = 0
    try:
        while (first := lines.next_line(limit)) is not None and not first.strip(b"\r\n"):
            blank_lines += 1
            if blank_lines * 2 > limit:
                raise _HeaderTooLong
    except _HeaderTooLong:
        if lines.read < size and lines.eof:
            raise UnusableInput(f"No line break in the first {_kib(lines.read)}: the header is "
                                "longer than what was looked at.", row=1) from None
        raise too_long from None
    if first is None or not first.strip():
        raise UnusableInput("The file is empty.", "Write a header row and at least one data row.")
    if lines.eof and not first.endswith(b"\n") and lines.read < size:
        raise UnusableInput(f"No line break in the first {_kib(lines.read)}: the header is "
                            "longer than what was looked at.", row=1)
    separator = _detect_separator(_decode_header(first).rstrip("\r\n"))
    used = len(first)

    def text() -> Iterator[str]:  # lines with their line breaks, as the csv module wants them
        nonlocal used
        yield _decode_header(first)
        while (line := lines.next_line(limit - used)) is not None:
            used += len(line)
            yield _decode_header(line)

    try:
        fields = next(csv.reader(text(), delimiter=separator), [])
    except _HeaderTooLong:
        raise too_long from None
    except csv.Error as exc:
        raise UnusableInput(f"The header line cannot be read as CSV: {exc}.",
                            "Write the column names in the first line, separated by commas.",
                            row=1) from exc
    if not any(f.strip() for f in fields):
        raise UnusableInput("The file is empty.", "Write a header row and at least one data row.")
    return CsvHeader(fields=fields, separator=separator, skip=blank_lines + 1,
                     has_rows=not lines.rest_is_blank())


def _decode_header(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnusableInput("The header line is not valid UTF-8.", _encoding_hint(line),
                            row=1) from exc


def csv_header(sample: bytes, size: int) -> tuple[list[str], str]:
    """The header fields and separator of a CSV from its first bytes (or UnusableInput).

    Kept for callers that hold only the first bytes of a file; a header longer than ``sample``
    raises. Prefer :func:`read_header`, which reads the whole header line of a file.
    """
    from io import BytesIO

    head = _read_csv_header(BytesIO(sample), size, DEFAULT_LIMITS)
    if not head.has_rows:
        raise UnusableInput("The file has a header but no data rows.",
                            "Add one row per combination of dimension values.")
    return head.fields, head.separator


def _check_header_names(header: list[str], limits: ReadLimits, *, count: bool = True) -> None:
    if count and len(header) > limits.max_columns:
        raise UnusableInput(f"The header has {len(header):,} columns; a table of this standard "
                            f"has about ten, and at most {limits.max_columns:,} are read.",
                            "Upload the table of counts only.", row=1)
    for position, name in enumerate(header, start=1):
        if len(name) > limits.max_cell_chars:
            raise UnusableInput(
                f"Row 1, column {position}: a column name of {len(name):,} characters; names "
                f"are at most {limits.max_cell_chars} characters.",
                "Write the standard's column names in the first row.", row=1,
                column=f"column {position}")


# --- sources -------------------------------------------------------------------------------------

@contextmanager
def _as_path(source: Path | str | bytes) -> Iterator[Path]:
    """Uploads arrive as bytes; polars and calamine read files, so bytes spill to a file."""
    if not isinstance(source, bytes):
        yield Path(source)
        return
    suffix = ".xlsx" if source.startswith(b"PK\x03\x04") else ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(source)
        tmp.flush()
        yield Path(tmp.name)


def _sniff(path: Path, file_format: FileFormat) -> tuple[FileFormat, int]:
    """The format to read ``path`` as (CSV or XLSX; SDMX-CSV is told from the header), and its
    size; refuses what is neither."""
    try:
        if not path.is_file():
            raise UnusableInput(f"No such file: {path}")
        size = path.stat().st_size
        with path.open("rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise UnusableInput(f"The file cannot be opened: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnusableInput("The file is empty.", "Write a header row and at least one data row.")
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableInput("This is a legacy Excel .xls workbook (or a password-protected one).",
                            "Save it as .xlsx or CSV UTF-8, without a password.")
    is_zip = magic.startswith(b"PK\x03\x04")
    wanted = file_format
    if wanted == FileFormat.AUTO:
        wanted = FileFormat.XLSX if is_zip or path.suffix.lower() == ".xlsx" else FileFormat.CSV
    if wanted == FileFormat.XLSX and not is_zip:
        raise UnusableInput("The file is not an XLSX workbook.", "Use --format csv for text.")
    if wanted != FileFormat.XLSX and is_zip:
        raise UnusableInput("The file is a ZIP archive (an XLSX workbook?), not a CSV.",
                            "Use --format xlsx, or save it as CSV UTF-8.")
    return (FileFormat.XLSX if wanted == FileFormat.XLSX else FileFormat.CSV), size


def _csv_format(header: list[str], wanted: FileFormat) -> FileFormat:
    is_sdmx = bool(header) and canonical(header[0]) == "DATAFLOW"
    found = FileFormat.SDMX_CSV if is_sdmx else FileFormat.CSV
    if wanted == FileFormat.SDMX_CSV and found != FileFormat.SDMX_CSV:
        raise UnusableInput("An SDMX-CSV file starts with a DATAFLOW column.",
                            "Use --format csv for a plain CSV.")
    return found


def read_header(source: Path | str | bytes, file_format: FileFormat | str = FileFormat.AUTO,
                limits: ReadLimits = DEFAULT_LIMITS) -> tuple[FileFormat, list[str]]:
    """The format and column names of an upload, read without reading the table.

    CSV and SDMX-CSV: the whole header line, however long, up to ``limits.max_header_bytes``.
    XLSX: the first non-empty row of the first sheet, streamed (the workbook's declared size is
    checked first, and no more of the sheet than the row is inflated). Every name is returned,
    however many (``max_columns`` is the table reader's limit); a name longer than
    ``max_cell_chars`` is not a column name. Raises :class:`UnusableInput` for anything that
    cannot be read this way. Meant for the check that refuses personal identifiers before an
    upload is stored (``identifier_columns``).
    """
    wanted = FileFormat(file_format)
    with _as_path(source) as path:
        kind, size = _sniff(path, wanted)
        if kind == FileFormat.XLSX:
            from standards.validation.xlsx import WorkbookError, first_row

            try:
                header = first_row(path, limits)
            except WorkbookError as exc:
                raise UnusableInput(exc.message, exc.hint) from exc
            if not header:
                raise UnusableInput("The workbook's first sheet is empty.")
            _check_header_names(header, limits, count=False)
            return FileFormat.XLSX, header
        with path.open("rb") as fh:
            header = _read_csv_header(fh, size, limits).fields
    _check_header_names(header, limits, count=False)
    return _csv_format(header, wanted), header


# --- the table -----------------------------------------------------------------------------------

def _projection(header: list[str], columns: Collection[str] | None) -> list[tuple[int, str]]:
    """(position, name) of the columns to read: the first column of each wanted canonical name,
    or every column under its header name when ``columns`` is None."""
    if columns is None:
        seen: dict[str, int] = {}
        out = []
        for i, name in enumerate(header):
            n = seen.get(name, 0)
            seen[name] = n + 1
            out.append((i, name if n == 0 else f"{name}_duplicated_{n - 1}"))
        return out
    wanted = set(columns)
    chosen: dict[str, int] = {}
    for i, name in enumerate(header):
        key = canonical(name)
        if key in wanted and key not in chosen:
            chosen[key] = i
    return sorted((i, name) for name, i in chosen.items())


def _dtype(name: str, categorical: Collection[str]) -> pl.DataType:
    # A fresh dictionary per column and per file: it holds exactly the column's distinct values,
    # and a long-running server does not accumulate every string it has ever seen.
    return pl.Categorical(pl.Categories.random()) if name in categorical else pl.String()


def _polars_csv(path: Path, head: CsvHeader, chosen: list[tuple[int, str]],
                categorical: Collection[str], limits: ReadLimits) -> pl.DataFrame:
    names = dict(chosen)
    schema = {f"column_{i}": _dtype(names[i], categorical) if i in names else pl.String()
              for i in range(len(head.fields))}
    # With no wanted column, the first is read anyway (and dropped): the rows still count.
    read = [i for i, _ in chosen] or [0]
    frame = pl.read_csv(
        path, has_header=False, skip_rows=head.skip, separator=head.separator, schema=schema,
        columns=read, extra_columns="ignore", missing_columns="insert",
        n_rows=limits.max_rows + 1, empty_string_is_null=False,
    )
    if not chosen:
        return pl.DataFrame(height=frame.height)
    return frame.rename({f"column_{i}": name for i, name in chosen})


def _reader_failure(exc: BaseException) -> bool:
    """An exception of a reader, not an interrupt: pyo3 turns a panic of the Rust readers into
    ``PanicException``, a BaseException that each extension module defines for itself."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _read_csv(path: Path, size: int, wanted: FileFormat, limits: ReadLimits,
              columns: Collection[str] | None, categorical: Collection[str]) -> Table:
    with path.open("rb") as fh:
        head = _read_csv_header(fh, size, limits)
        fh.seek(0)
        sample = fh.read(SNIFF_BYTES)
    _check_header_names(head.fields, limits)
    fmt = _csv_format(head.fields, wanted)
    if not head.has_rows:
        raise UnusableInput("The file has a header but no data rows.",
                            "Add one row per combination of dimension values.")
    scan = scan_bytes(path, head.separator, longest_line(limits))
    _check_lines(path, scan, head.fields, head.separator, limits)
    chosen = _projection(head.fields, columns)
    try:
        frame = _polars_csv(path, head, chosen, categorical, limits)
    except pl.exceptions.ComputeError as exc:
        message = str(exc)
        if "utf-8" in message.lower() or "utf8" in message.lower():
            raise UnusableInput("The file is not valid UTF-8 (beyond its first lines).",
                                _encoding_hint(sample)) from exc
        raise UnusableInput(f"The file cannot be read as CSV: {message.splitlines()[0]}",
                            "Check quoting: a quote inside a field must be doubled.") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnusableInput(f"The file cannot be read as CSV: {str(exc).splitlines()[0]}") from exc
    except BaseException as exc:  # a panic of the reader must not end the process
        if isinstance(exc, Exception) or not _reader_failure(exc):
            raise
        raise UnusableInput("The file cannot be read as CSV.",
                            "Save it again as CSV UTF-8 from your spreadsheet program.") from exc
    if frame.height == 0:
        raise UnusableInput("The file has a header but no data rows.",
                            "Add one row per combination of dimension values.")
    _check_rows(frame, limits)
    _check_cells(frame, limits)
    ragged, ragged_count = _find_ragged(path, head.separator, len(head.fields), frame.height,
                                        scan)
    return Table(frame=frame, file_format=fmt, header=head.fields, ragged=ragged,
                 ragged_count=ragged_count)


def _check_rows(frame: pl.DataFrame, limits: ReadLimits) -> None:
    if frame.height > limits.max_rows:
        raise UnusableInput(f"The file has more than {limits.max_rows:,} data rows.",
                            "Split the submission, or ask the exchange for a higher limit.")


def _check_cells(frame: pl.DataFrame, limits: ReadLimits) -> None:
    """Refuse a cell longer than ``limits.max_cell_chars``, by row and column, unquoted.

    Categorical columns are checked on their dictionary of distinct values; text columns by
    byte length first (cheap), characters only for the few cells that could be too long.
    """
    worst: tuple[int, int, str, int] | None = None  # (row index, column position, name, chars)
    total = 0
    for position, name in enumerate(frame.columns):
        series = frame[name]
        if isinstance(series.dtype, pl.Categorical):
            entries = series.dtype.categories.to_series()
            if not (entries.str.len_bytes() > limits.max_cell_chars).any():
                continue
            long_entry = (entries.str.len_chars() > limits.max_cell_chars).to_numpy()
            if not long_entry.any():
                continue
            ids = series.to_physical().fill_null(0xFFFFFFFF).to_numpy().view(np.int32)
            hit = np.append(long_entry, False)[ids]
        else:
            maybe = series.str.len_bytes() > limits.max_cell_chars
            if not maybe.any():
                continue
            hit = (maybe & (series.str.len_chars() > limits.max_cell_chars)).fill_null(False) \
                .to_numpy()
        rows = np.flatnonzero(hit)
        if rows.size == 0:
            continue
        total += rows.size
        first = int(rows[0])
        if worst is None or (first, position) < (worst[0], worst[1]):
            worst = (first, position, name, len(str(series[first])))
    if worst is None:
        return
    row = worst[0] + 2
    others = f" ({total:,} such cells in all)" if total > 1 else ""
    raise UnusableInput(
        f"Row {row}, column {worst[2]}: a value of {worst[3]:,} characters; no value of this "
        f"standard is longer than {limits.max_cell_chars} characters{others}.",
        "Check that this is the table of counts you meant to upload; a quote left open makes the "
        "rest of the file one cell.", row=row, column=worst[2])


@dataclass(frozen=True)
class ByteScan:
    """What one pass over a CSV's bytes found, before any parsing."""

    quoted: bool  # a double quote occurs somewhere
    separators: int  # separators counted before the first quote (all of them if unquoted)
    overlong: tuple[int, int] | None  # (line number, bytes) of the longest line over the limit


def _mapped_pieces(path: Path, stop: int | None = None
                   ) -> Iterator[tuple[int, mmap.mmap | bytes, np.ndarray]]:
    """The file (up to ``stop``) in pieces of ``RAGGED_CHUNK`` bytes: offset, the piece (an
    mmap, for memchr-speed ``find``) and a numpy view of it. Nothing is copied, and a piece is
    unmapped once the next one is taken, so resident memory stays a piece's size. (Pieces that
    are not whole pages, as tests use, are read instead.)"""
    size = path.stat().st_size if stop is None else stop
    aligned = RAGGED_CHUNK % mmap.ALLOCATIONGRANULARITY == 0
    with path.open("rb") as fh:
        for offset in range(0, size, RAGGED_CHUNK):
            length = min(RAGGED_CHUNK, size - offset)
            if aligned:
                piece: mmap.mmap | bytes = mmap.mmap(fh.fileno(), length,
                                                     access=mmap.ACCESS_READ, offset=offset)
            else:
                fh.seek(offset)
                piece = fh.read(length)
            yield offset, piece, np.frombuffer(piece, dtype=np.uint8)
            del piece


def scan_bytes(path: Path, separator: str, longest_allowed: int) -> ByteScan:
    """Count separators, spot quotes and look for overlong lines, piece by piece of the mapped
    file (see ``_mapped_pieces``).

    Lines are measured only where one could be too long: when every block of half the allowed
    length holds a line break (one ``memchr`` per block, usually a few bytes in), no line of the
    piece is longer than allowed. Only a piece that fails this is scanned byte by byte.
    """
    sep, block = ord(separator), max(longest_allowed // 2, 1)
    quoted, seps = False, 0
    run = 0  # bytes since the last line break
    worst = (0, 0)  # (bytes, offset) of the longest line measured
    for offset, mapped, data in _mapped_pieces(path):
        if not quoted:
            quoted = mapped.find(b'"') >= 0
            seps += 0 if quoted else int(np.count_nonzero(data == sep))
        size = data.size
        if run < block and all(mapped.find(b"\n", k, k + block) >= 0
                               for k in range(0, size - block + 1, block)):
            last = mapped.rfind(b"\n")
            run = size - last - 1 if last >= 0 else run + size
            continue
        ends = np.flatnonzero(data == ord("\n"))
        if ends.size:
            lengths = np.diff(ends, prepend=-1) - 1
            lengths[0] += run
            k = int(lengths.argmax())
            start = offset + int(ends[k - 1]) + 1 if k else offset - run
            worst = max(worst, (int(lengths[k]), start))
            run = size - int(ends[-1]) - 1
        else:
            run += size
        worst = max(worst, (run, offset + size - run))
    overlong = None
    if worst[0] > longest_allowed:
        breaks = sum(int(np.count_nonzero(data == ord("\n")))
                     for _, _, data in _mapped_pieces(path, stop=worst[1]))
        overlong = (1 + breaks, worst[0])
    return ByteScan(quoted=quoted, separators=seps, overlong=overlong)


def longest_line(limits: ReadLimits) -> int:
    """Bytes in the longest line a CSV may have: ``max_columns`` cells of ``max_cell_chars``
    characters of up to 4 bytes, with their separators and quotes."""
    return limits.max_columns * (4 * limits.max_cell_chars + 3)


def _check_lines(path: Path, scan: ByteScan, header: list[str], separator: str,
                 limits: ReadLimits) -> None:
    """A line longer than :func:`longest_line` holds a cell or a row no limit allows: refuse it,
    by row and column, before the CSV reader would hold it in memory."""
    if scan.overlong is None:
        return
    longest_allowed = longest_line(limits)
    row, length = scan.overlong
    hint = ("Check that this is the table of counts you meant to upload; a quote left open makes "
            "the rest of the file one cell.")
    found = None if scan.quoted else _long_field(path, row, separator, 4 * limits.max_cell_chars)
    if found is None:
        raise UnusableInput(f"Row {row} is {length:,} bytes long: a row of this standard is "
                            f"a few dozen, and no line longer than {longest_allowed:,} is read.",
                            hint, row=row)
    position, size = found
    column = canonical(header[position]) if position < len(header) else f"column {position + 1}"
    raise UnusableInput(
        f"Row {row}, column {column}: a value of {size:,} bytes; no value of this standard is "
        f"longer than {limits.max_cell_chars} characters.", hint, row=row, column=column)


def _long_field(path: Path, line: int, separator: str, longest: int) -> tuple[int, int] | None:
    """(position, bytes) of the first field of line ``line`` longer than ``longest`` bytes, read
    in pieces; None if the line has no such field (it has too many short ones)."""
    sep, newline = ord(separator), ord("\n")
    passed = 0  # line breaks passed before the line
    position, size = 0, 0  # the current field and its bytes so far
    started = line == 1
    for piece in _chunks(path):
        chunk = piece
        if not started:
            ends = np.flatnonzero(chunk == newline)
            need = line - 1 - passed
            if ends.size < need:
                passed += ends.size
                continue
            chunk = chunk[int(ends[need - 1]) + 1:]
            started = True
        stop = np.flatnonzero(chunk == newline)
        end = int(stop[0]) if stop.size else chunk.size
        cuts = np.flatnonzero(chunk[:end] == sep)
        if cuts.size:
            lengths = np.diff(cuts, prepend=-1) - 1  # the fields completed in this piece
            lengths[0] += size
            over = np.flatnonzero(lengths > longest)
            if over.size:
                return position + int(over[0]), int(lengths[over[0]])
            position += cuts.size
            size = end - int(cuts[-1]) - 1
        else:
            size += end
        if stop.size:  # the line ends here, and with it its last field
            break
    return (position, size) if size > longest else None


def _find_ragged(path: Path, separator: str, width: int, data_rows: int, scan: ByteScan
                 ) -> tuple[list[tuple[int, int]], int]:
    """Rows whose field count differs from the header's, as (line, fields), and their number.

    polars pads short rows silently, so fields are counted here: the separator count of the
    byte scan proves a file clean in the usual case; only a file that fails it (or quotes fields,
    where separators may sit inside quotes) is examined line by line, again in pieces.
    """
    if scan.quoted:
        return _find_ragged_quoted(path, separator, width)
    if scan.separators == (data_rows + 1) * (width - 1):
        return [], 0
    sep = ord(separator)
    found: list[tuple[int, int]] = []
    count = 0
    line, carried_seps, carried_len = 0, 0, 0
    for chunk in _chunks(path):
        ends = np.flatnonzero(chunk == ord("\n"))
        at = np.flatnonzero(chunk == sep)
        per_line = np.diff(np.searchsorted(at, ends, side="right"), prepend=0)
        per_line[:1] += carried_seps
        length = np.diff(ends, prepend=-1)
        length[:1] += carried_len
        fields = per_line + 1
        blank = length <= 2  # an empty line, or a lone CR (with its newline)
        bad = np.flatnonzero((fields != width) & ~blank)
        bad = bad[bad + line > 0]  # line 0 is the header
        count += int(bad.size)
        room = MAX_RAGGED_REPORTED - len(found)
        found += [(int(i) + line + 1, int(fields[i])) for i in bad[:max(room, 0)]]
        line += ends.size
        tail_start = int(ends[-1]) + 1 if ends.size else 0
        carried_seps = (carried_seps if not ends.size else 0) + \
            int(np.count_nonzero(chunk[tail_start:] == sep))
        carried_len = (carried_len if not ends.size else 0) + chunk.size - tail_start
    if carried_len > 1 and line > 0 and carried_seps + 1 != width:  # last line, no newline
        count += 1
        if len(found) < MAX_RAGGED_REPORTED:
            found.append((line + 1, carried_seps + 1))
    return found, count


def _chunks(path: Path) -> Iterator[np.ndarray]:
    for _, _, data in _mapped_pieces(path):
        yield data


def _find_ragged_quoted(path: Path, separator: str, width: int
                        ) -> tuple[list[tuple[int, int]], int]:
    found: list[tuple[int, int]] = []
    count = 0
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=separator)
        try:
            next(reader, None)
            for row in reader:
                if row and len(row) != width:
                    count += 1
                    if len(found) < MAX_RAGGED_REPORTED:
                        found.append((reader.line_num, len(row)))
        except csv.Error:
            pass  # polars read the file; a field too odd for the csv module is not a ragged row
    return found, count


def _read_xlsx(path: Path, limits: ReadLimits, columns: Collection[str] | None,
               categorical: Collection[str]) -> Table:
    from standards.validation.xlsx import WorkbookError, check_workbook

    try:
        check_workbook(path, limits)
    except WorkbookError as exc:
        raise UnusableInput(exc.message, exc.hint) from exc
    try:
        frame = pl.read_excel(path, infer_schema_length=0)
    except BaseException as exc:
        # fastexcel raises its own hierarchy, and a panic of the Rust reader arrives as a
        # BaseException (pyo3's PanicException): every failure means unusable.
        if not _reader_failure(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnusableInput(f"The workbook cannot be read: {first}",
                            "Save it again from your spreadsheet program as .xlsx.") from exc
    if frame.width == 0:
        raise UnusableInput("The workbook's first sheet is empty.")
    if frame.height == 0:
        raise UnusableInput("The workbook's first sheet has a header but no data rows.")
    header = list(frame.columns)
    _check_header_names(header, limits)
    _check_rows(frame, limits)
    chosen = _projection(header, columns)
    frame = frame.select(
        pl.col(header[i]).fill_null("").alias(name) if name not in categorical else
        pl.when(pl.col(header[i]) != "").then(pl.col(header[i])).otherwise(None)
        .cast(_dtype(name, categorical)).alias(name)
        for i, name in chosen
    )
    _check_cells(frame, limits)
    return Table(frame=frame, file_format=FileFormat.XLSX, header=header)


def read_table(source: Path | str | bytes, file_format: FileFormat | str = FileFormat.AUTO, *,
               limits: ReadLimits = DEFAULT_LIMITS, columns: Collection[str] | None = None,
               categorical: Collection[str] = ()) -> Table:
    """Read ``source`` (a path, or the bytes of an upload) as a :class:`Table`.

    ``columns``: canonical names of the columns wanted (the first column of each name is read,
    others are never parsed); None reads every column under its header name. ``categorical``:
    the wanted columns to read as categoricals. Raises :class:`UnusableInput`.
    """
    wanted = FileFormat(file_format)
    with _as_path(source) as path:
        kind, size = _sniff(path, wanted)
        if kind == FileFormat.XLSX:
            return _read_xlsx(path, limits, columns, categorical)
        return _read_csv(path, size, wanted, limits, columns, categorical)


__all__ = ["FileFormat", "ReadLimits", "Table", "UnusableInput", "canonical", "csv_header",
           "read_header", "read_table"]
