"""How much of an upload the engine is willing to read: one frozen set of limits.

Hostile or broken files must end in a clear "unusable input" quickly and in bounded memory, never
in minutes of CPU or gigabytes of RAM (issue 9). The defaults fit the standard with room to spare;
the server passes its configured values through ``validate_file(..., limits=...)``,
``read_table`` and ``read_header``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on what is read. Every one of them ends in ``UnusableInput`` when exceeded.

    ``max_cell_chars``: longest value of any column of the standard. Codes are a few characters
    and counts a dozen digits, so a longer cell is a mistake or an attack (a 10 MB "code"), and
    it is refused by row and column without being quoted.

    ``max_header_bytes``: longest header line (CSV) or first row (XLSX XML) that is read.

    ``max_columns``: columns in the header (CSV) or columns spanned by the sheet (XLSX).

    ``max_rows``: data rows. CSV reading stops one row past it.

    ``max_xlsx_bytes``: the workbook's XML once decompressed, summed over its parts. Measured on
    the actual deflate streams, not taken from the zip's declared sizes (those may lie).

    ``max_xlsx_cells``: rows x columns of the first sheet's extent, which is what the XLSX reader
    allocates (a sheet with one cell in A1 and one in XFD1048576 is 17 billion cells).
    The default fits Excel's 1,048,576 rows x the 10 columns of an SDMX-CSV-shaped table.
    """

    max_cell_chars: int = 256
    max_header_bytes: int = 1 << 20
    max_columns: int = 256
    max_rows: int = 5_000_000
    max_xlsx_bytes: int = 512 << 20
    max_xlsx_cells: int = 10_500_000

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ReadLimits.{name} must be a positive integer, not {value!r}")


DEFAULT_LIMITS = ReadLimits()

__all__ = ["DEFAULT_LIMITS", "ReadLimits"]
