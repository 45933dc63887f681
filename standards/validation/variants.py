"""National variants mapped to standard codes before the rules run (aliases, nested age bands,
codes of older versions), decided on the distinct values of each column, never per row."""

from __future__ import annotations

import polars as pl

from standards.mappings import MappingLog, Mappings, load_mappings, value_map
from standards.model import Standard
from standards.validation.keys import dictionary_encode
from standards.validation.report import Report
from standards.validation.schema import ROW


def map_variants(typed: pl.DataFrame, vocabulary: pl.Series, coded: list[str], report: Report,
                  standard: Standard, mappings: Mappings | None, version: str
                  ) -> tuple[pl.DataFrame, pl.Series]:
    """Rewrite national variants to standard codes (decided on the distinct values only), and sum
    rows whose nested age bands now share a key. Unmapped values stay for the code-list rule."""
    mappings = mappings or load_mappings()
    distinct = vocabulary.to_list()
    plans = {dim: plan for dim in coded
             if (plan := value_map(distinct, dim, standard, mappings, version))}
    if not plans:
        return typed, vocabulary
    log = MappingLog()
    rewritten = []
    for dim, plan in plans.items():
        counts = typed[dim].cast(pl.Utf8).value_counts()
        for value, n in counts.filter(pl.col(dim).is_in(list(plan))).iter_rows():
            log.add(plan[value][1], dim, value, plan[value][0], n)
        rewritten.append(pl.col(dim).cast(pl.Utf8)
                         .replace({v: code for v, (code, _) in plan.items()}).alias(dim))
    nested = [v for v, (_, kind) in plans.get("AGE", {}).items() if kind == "nested band"]
    typed = typed.with_columns(
        (pl.col("AGE").cast(pl.Utf8).is_in(nested) if nested else pl.lit(False)).alias("__nested"),
        *rewritten,
    ).with_columns(pl.col(c).cast(pl.Utf8) for c in coded)
    if nested:
        typed = _sum_nested(typed, standard)
    report.notes.extend(log.notes())
    return dictionary_encode(typed.drop("__nested"), coded)


def _sum_nested(typed: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """Rows that came from finer national age bands are summed per key (first row kept)."""
    keys = list(standard.dimension_ids)
    fine = typed.filter(pl.col("__nested"))
    summed = fine.group_by(keys).agg(
        pl.col(standard.measure).sum(), pl.col(ROW).min(), pl.all().exclude(
            [*keys, standard.measure, ROW]).first())
    return pl.concat([typed.filter(~pl.col("__nested")), summed.select(typed.columns)]
                     ).sort(ROW)
