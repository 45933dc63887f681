"""Rule family "keys": each combination of dimension values once. The check itself runs on the
packed integer series key (``keys.py``, ``schema.py``); this module reports each repeated row
with the row it repeats.
"""

from __future__ import annotations

import polars as pl

from standards.model import Standard
from standards.validation.keys import KEY
from standards.validation.report import Issue, Report, Rule, quote
from standards.validation.schema import ROW


def report_duplicates(typed: pl.DataFrame, cases: pl.DataFrame, report: Report,
                       standard: Standard) -> None:
    """Each repeated key once per extra row, pointing at the row it repeats."""
    rows = typed.filter(pl.col(ROW).is_in(cases["row"])).select(
        ROW, KEY, pl.col(ROW).min().over(KEY).alias("first"),
        pl.concat_str(standard.dimension_ids, separator=" ").alias("key"),
    ).filter(pl.col(ROW) != pl.col("first")).sort(ROW)
    report.add_counted(
        Rule.DUPLICATE_KEY,
        [Issue(Rule.DUPLICATE_KEY, f"Same dimension values as row {first}.", row=row,
               value=quote(key),
               hint="Add the two rows up into one, or fix the dimension that differs.")
         for row, first, key in rows.head(report.max_per_rule)
         .select(ROW, "first", "key").iter_rows()],
        rows.height,
    )
