"""Turn an uploaded file (CSV, SDMX-CSV 1.0, XLSX) into a frame of strings, or one clear error.

Everything is read as text first; types are decided later by the engine, so a bad value in a
column is reported as that value instead of hiding every other check of the column.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from standards.validation.formats import FileFormat

SNIFF_BYTES = 64 * 1024
MAX_RAGGED_REPORTED = 100


class UnusableInput(Exception):
    """The file cannot be read as a table at all. The message is meant for the person."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class Table:
    """A file read as strings. ``frame`` keeps empty cells as ``""`` and missing fields as null."""

    frame: pl.DataFrame
    file_format: FileFormat
    header: list[str]
    # (row in file, number of fields) for rows with more or fewer fields than the header.
    ragged: list[tuple[int, int]] = field(default_factory=list)
    ragged_count: int = 0


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


def _check_text(sample: bytes, at_eof: bool) -> str:
    """Decode the first bytes as UTF-8 or raise a clear error about the encoding."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnusableInput("The file is UTF-16 encoded; the exchange reads UTF-8.",
                            _encoding_hint(sample))
    if b"\x00" in sample:
        raise UnusableInput("The file contains binary data (NUL bytes): it is not a text table.",
                            "Upload a CSV (UTF-8) or an XLSX workbook.")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(sample, final=at_eof)
    except UnicodeDecodeError as exc:
        line = sample[: exc.start].count(b"\n") + 1
        raise UnusableInput(
            f"The file is not valid UTF-8: byte 0x{sample[exc.start]:02x} on line {line}.",
            _encoding_hint(sample),
        ) from exc
    return text.removeprefix("\ufeff")


def _detect_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _header_of(text: str, size: int) -> str:
    stripped = text.lstrip("\r\n")
    if not stripped.strip():
        raise UnusableInput("The file is empty.", "Write a header row and at least one data row.")
    newline = stripped.find("\n")
    if newline == -1:
        if size > SNIFF_BYTES:
            raise UnusableInput(
                f"No line break in the first {SNIFF_BYTES // 1024} KiB: this is not a CSV table.",
                "A CSV file has one header line and one line per row.",
            )
        raise UnusableInput("The file has a header but no data rows.",
                            "Add one row per combination of dimension values.")
    return stripped[:newline].rstrip("\r")


def _find_ragged(path: Path, separator: str, width: int, data_rows: int
                 ) -> tuple[list[tuple[int, int]], int]:
    """Rows whose field count differs from the header's, as (line, fields), and their number.

    polars pads short rows silently, so fields are counted here: one vectorised pass over the
    bytes proves a file clean in the usual case; only a file that fails it (or quotes fields,
    where separators may sit inside quotes) is examined line by line.
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    sep = ord(separator)
    quoted = bool(np.count_nonzero(data == ord('"')))
    if not quoted and np.count_nonzero(data == sep) == (data_rows + 1) * (width - 1):
        return [], 0
    if quoted:
        return _find_ragged_quoted(path, separator, width)
    ends = np.flatnonzero(data == ord("\n"))
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    seps = np.flatnonzero(data == sep)
    fields = np.searchsorted(seps, ends) - np.searchsorted(seps, starts) + 1
    blank = (ends - starts) <= 1  # an empty line, or a lone CR
    bad = np.flatnonzero((fields != width) & ~blank)
    bad = bad[bad > 0]  # line 0 is the header
    found = [(int(i) + 1, int(fields[i])) for i in bad[:MAX_RAGGED_REPORTED]]
    return found, int(bad.size)


def _find_ragged_quoted(path: Path, separator: str, width: int
                        ) -> tuple[list[tuple[int, int]], int]:
    found: list[tuple[int, int]] = []
    count = 0
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=separator)
        next(reader, None)
        for row in reader:
            if row and len(row) != width:
                count += 1
                if len(found) < MAX_RAGGED_REPORTED:
                    found.append((reader.line_num, len(row)))
    return found, count


def csv_header(sample: bytes, size: int) -> tuple[list[str], str]:
    """The header fields and separator of a CSV from its first bytes (or UnusableInput)."""
    text = _check_text(sample[:SNIFF_BYTES], at_eof=size <= SNIFF_BYTES)
    header_line = _header_of(text, size)
    separator = _detect_separator(header_line)
    return next(csv.reader([header_line], delimiter=separator)), separator


def _read_csv(path: Path, size: int) -> Table:
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    header, separator = csv_header(sample, size)
    options = {"separator": separator, "infer_schema": False, "empty_string_is_null": False}
    try:
        frame = pl.read_csv(path, **options)
    except pl.exceptions.ComputeError as exc:
        message = str(exc)
        if "more fields" in message:
            frame = pl.read_csv(path, truncate_ragged_lines=True, **options)
        elif "utf-8" in message.lower() or "utf8" in message.lower():
            raise UnusableInput("The file is not valid UTF-8 (beyond its first lines).",
                                _encoding_hint(sample)) from exc
        else:
            raise UnusableInput(f"The file cannot be read as CSV: {message.splitlines()[0]}",
                                "Check quoting: a quote inside a field must be doubled.") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnusableInput(f"The file cannot be read as CSV: {str(exc).splitlines()[0]}") from exc
    if frame.height == 0:
        raise UnusableInput("The file has a header but no data rows.",
                            "Add one row per combination of dimension values.")
    ragged, ragged_count = _find_ragged(path, separator, len(header), frame.height)
    is_sdmx = bool(header) and header[0].strip().upper() == "DATAFLOW"
    fmt = FileFormat.SDMX_CSV if is_sdmx else FileFormat.CSV
    return Table(frame=frame, file_format=fmt, header=header, ragged=ragged,
                 ragged_count=ragged_count)


def _read_xlsx(path: Path) -> Table:
    try:
        frame = pl.read_excel(path, infer_schema_length=0)
    except Exception as exc:  # fastexcel raises its own hierarchy; every failure means unusable.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnusableInput(f"The workbook cannot be read: {first}",
                            "Save it again from your spreadsheet program as .xlsx.") from exc
    if frame.width == 0:
        raise UnusableInput("The workbook's first sheet is empty.")
    if frame.height == 0:
        raise UnusableInput("The workbook's first sheet has a header but no data rows.")
    frame = frame.with_columns(pl.all().fill_null(""))
    return Table(frame=frame, file_format=FileFormat.XLSX, header=list(frame.columns))


def read_table(source: Path | str | bytes, file_format: FileFormat = FileFormat.AUTO) -> Table:
    """Read ``source`` (a path, or the bytes of an upload) as a :class:`Table`."""
    if isinstance(source, bytes):
        return _read_bytes(source, file_format)
    path = Path(source)
    if not path.is_file():
        raise UnusableInput(f"No such file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise UnusableInput("The file is empty.", "Write a header row and at least one data row.")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableInput("This is a legacy Excel .xls workbook.",
                            "Save it as .xlsx or CSV UTF-8.")
    is_zip = magic.startswith(b"PK\x03\x04")
    wanted = file_format
    if wanted == FileFormat.AUTO:
        wanted = FileFormat.XLSX if is_zip or path.suffix.lower() == ".xlsx" else FileFormat.CSV
    if wanted == FileFormat.XLSX:
        if not is_zip:
            raise UnusableInput("The file is not an XLSX workbook.", "Use --format csv for text.")
        return _read_xlsx(path)
    if is_zip:
        raise UnusableInput("The file is a ZIP archive (an XLSX workbook?), not a CSV.",
                            "Use --format xlsx, or save it as CSV UTF-8.")
    table = _read_csv(path, size)
    if wanted == FileFormat.SDMX_CSV and table.file_format != FileFormat.SDMX_CSV:
        raise UnusableInput("An SDMX-CSV file starts with a DATAFLOW column.",
                            "Use --format csv for a plain CSV.")
    return table


def _read_bytes(data: bytes, file_format: FileFormat) -> Table:
    """Uploads arrive as bytes; polars and calamine read files, so spill to a temporary file."""
    import tempfile

    suffix = ".xlsx" if data.startswith(b"PK\x03\x04") else ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return read_table(Path(tmp.name), file_format)


__all__ = ["FileFormat", "Table", "UnusableInput", "csv_header", "read_table"]
