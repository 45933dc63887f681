"""The shape of UNHCR's Refugee Data Finder tables, as data (``data/unhcr.yaml``, read once):
which of our population groups, sexes, ages and measures meet which of UNHCR's population
types and columns, and the pure reshaping of annual figures into one row per year, origin,
asylum country, population type and measure with UNHCR's demographic columns (f_0_4 ...
m_total, total)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from standards.annual import FLAG, VALUE, YEAR
from standards.loader import DATA_DIR, read_data_file

NOT_REPORTED = "not reported"
# The row of the wide table: our columns -> UNHCR's names.
INDEX = {YEAR: "year", "CITIZENSHIP": "coo_iso", "AREA": "coa_iso", "POP_TYPE": "pop_type",
         "MEASURE": "measure", "TABLE": "unhcr_table"}


@dataclass(frozen=True)
class UnhcrShape:
    source: str
    population_types: dict[str, str]  # POP_GROUP -> UNHCR population type
    sex: dict[str, str]  # SEX -> column prefix
    age: dict[str, str]  # AGE -> column suffix
    total: str  # the column of SEX _T, AGE _T
    measures: dict[str, dict[str, str]]  # MEASURE -> {table, column}

    @property
    def value_columns(self) -> list[str]:
        """UNHCR's demographic columns in its order: f_0_4 ... f_total, m_0_4 ... m_total,
        total."""
        return [*(f"{s}_{a}" for s in self.sex.values() for a in self.age.values()),
                self.total]

    def cells(self) -> pl.DataFrame:
        """SEX, AGE -> COLUMN: which of our cells fills which UNHCR column."""
        rows = [(sex, age, f"{prefix}_{suffix}") for sex, prefix in self.sex.items()
                for age, suffix in self.age.items()]
        rows.append(("_T", "_T", self.total))
        return pl.DataFrame(rows, schema={"SEX": pl.String, "AGE": pl.String,
                                          "COLUMN": pl.String}, orient="row")


@cache
def load_unhcr() -> UnhcrShape:
    raw = read_data_file(DATA_DIR / "unhcr.yaml")
    return UnhcrShape(
        source=str(raw["source"]),
        population_types={str(k): str(v) for k, v in raw["population_types"].items()},
        sex={str(k): str(v) for k, v in raw["sex"].items()},
        age={str(k): str(v) for k, v in raw["age"].items()},
        total=str(raw["total"]),
        measures={str(k): {a: str(b) for a, b in v.items()} for k, v in raw["measures"].items()},
    )


def to_unhcr(annual: pl.DataFrame, shape: UnhcrShape) -> pl.DataFrame:
    """Annual figures (YEAR, AREA, CITIZENSHIP, POP_GROUP, MEASURE, SEX, AGE, OBS_VALUE, FLAG,
    as ``standards.annual.derive_annual`` gives them, one figure per key) in UNHCR's shape:
    year, coo_iso, coa_iso, pop_type, measure, unhcr_table, the demographic columns and
    ``flags`` (``"f_0_4: 2026-Q2 suppressed (A); m_60: not reported"``: every empty column
    and why). Groups, sexes, ages and measures UNHCR has no column for are left out."""
    columns = shape.value_columns
    types = pl.DataFrame(list(shape.population_types.items()),
                         schema={"POP_GROUP": pl.String, "POP_TYPE": pl.String}, orient="row")
    tables = pl.DataFrame([(m, t["table"]) for m, t in shape.measures.items()],
                          schema={"MEASURE": pl.String, "TABLE": pl.String}, orient="row")
    mapped = (annual.join(types, on="POP_GROUP").join(tables, on="MEASURE")
              .join(shape.cells(), on=["SEX", "AGE"]))
    index = list(INDEX)
    rows = mapped.select(index).unique()
    order = pl.DataFrame({"COLUMN": columns, "ORDER": range(len(columns))})
    full = (rows.join(order, how="cross")
            .join(mapped.select(*index, "COLUMN", VALUE, FLAG), on=[*index, "COLUMN"],
                  how="left")
            .with_columns(pl.when(pl.col(VALUE).is_null() & pl.col(FLAG).is_null())
                          .then(pl.lit(NOT_REPORTED)).otherwise(pl.col(FLAG)).alias(FLAG)))
    flags = full.sort("ORDER").group_by(index, maintain_order=True).agg(
        pl.format("{}: {}", "COLUMN", FLAG).drop_nulls().str.join("; ").alias("flags"))
    wide = full.pivot(on="COLUMN", index=index, values=VALUE, on_columns=columns)
    out = wide.join(flags, on=index, how="left").with_columns(
        pl.when(pl.col("flags") == "").then(None).otherwise(pl.col("flags")).alias("flags"))
    return (out.select(*index, *(pl.col(c).cast(pl.Int64) for c in columns), "flags")
            .rename(INDEX).sort(["year", "coa_iso", "coo_iso", "pop_type", "measure"]))
