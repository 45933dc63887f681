"""Realistic, valid example submissions: what a correct quarterly file looks like.

Built as a cube: random counts for the finest cells, then every ``_T`` total summed from them, so
the example passes every additivity rule by construction. Used by ``mmx example``, the tests and
the benchmarks (which ask for a million rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from standards.model import Standard

# Which measures make sense for which population group (an example, not part of the standard).
MEASURES_BY_GROUP: dict[str, tuple[str, ...]] = {
    "REF": ("STOCK", "INFLOW", "OUTFLOW", "NATZ", "RET_VOL"),
    "ASY": ("STOCK", "ASY_APP", "DEC_POS", "DEC_NEG"),
    "ASY_REJ": ("STOCK", "RET_VOL", "RET_ASST", "RET_FORCED"),
    "STA": ("STOCK", "NATZ"),
    "IDP": ("STOCK", "INFLOW"),
    "RET_REF": ("INFLOW",),
    "ETH_RET": ("STOCK", "INFLOW", "NATZ"),
    "RET_MW": ("INFLOW",),
    "MIG_LAB": ("STOCK", "INFLOW", "OUTFLOW"),
    "MIG_IRR": ("STOCK", "INTERCEPT", "RET_FORCED", "RET_ASST", "DEATH", "MISSING", "RESCUE"),
    "OTH": ("STOCK",),
    "VOT": ("INFLOW", "RET_ASST"),
    "UASC": ("STOCK", "INFLOW"),
    "SMUG": ("INTERCEPT",),
    "SGBV": ("INFLOW",),
}

# Typical countries of origin in each region; the rest of the ISO list pads large examples.
ORIGINS: dict[str, tuple[str, ...]] = {
    "CENTRAL_ASIA": ("AFG", "UZB", "TJK", "KGZ", "RUS", "CHN", "SYR", "IRN", "PAK", "STLS", "UNK"),
}
DEFAULT_ORIGINS = ("AFG", "SYR", "SOM", "ETH", "ERI", "COD", "MMR", "PAK", "STLS", "UNK")


def _origins(standard: Standard, country: str, count: int | None) -> list[str]:
    preferred = next((ORIGINS[r] for r in standard.regions_of(country) if r in ORIGINS),
                     DEFAULT_ORIGINS)
    codes = [c for c in preferred if c != country]
    if count is None:
        return codes
    rest = [c for c in standard.codelists["CL_CITIZENSHIP"].ids if c not in codes and c != country]
    return (codes + rest)[:count]


def _cube(groups: list[str], measures_of: dict[str, tuple[str, ...]], origins: list[str],
          standard: Standard, rng: np.random.Generator) -> pl.DataFrame:
    """Finest cells for the groups, then sex and age ``_T`` totals summed from them."""
    sex_parts = [c for c in standard.codelists["CL_SEX"].ids if c != "_T"]
    age_parts = [c for c in standard.codelists["CL_AGE"].ids if c != "_T"]
    keys = pl.DataFrame(
        [(g, m) for g in groups for m in measures_of[g]],
        schema={"POP_GROUP": pl.Utf8, "MEASURE": pl.Utf8}, orient="row",
    )
    cells = (
        keys.join(pl.DataFrame({"CITIZENSHIP": origins}), how="cross")
        .join(pl.DataFrame({"SEX": sex_parts}), how="cross")
        .join(pl.DataFrame({"AGE": age_parts}), how="cross")
    )
    # Mostly small counts with a long tail, fewer unknowns: the shape real tables have.
    scale = np.where(cells["SEX"].to_numpy() == "_U", 0.3, 1.0) * np.where(
        cells["AGE"].to_numpy() == "_U", 0.2, 1.0)
    values = np.floor(rng.pareto(1.5, cells.height) * 12 * scale).astype(np.int64)
    cells = cells.with_columns(pl.Series("OBS_VALUE", values))
    by_sex = cells.group_by(["POP_GROUP", "MEASURE", "CITIZENSHIP", "AGE"]).agg(
        pl.col("OBS_VALUE").sum()).with_columns(pl.lit("_T").alias("SEX"))
    with_sex = pl.concat([cells, by_sex.select(cells.columns)])
    by_age = with_sex.group_by(["POP_GROUP", "MEASURE", "CITIZENSHIP", "SEX"]).agg(
        pl.col("OBS_VALUE").sum()).with_columns(pl.lit("_T").alias("AGE"))
    return pl.concat([with_sex, by_age.select(cells.columns)])


def example_frame(
    standard: Standard,
    country: str,
    period: str,
    *,
    citizenships: int | None = None,
    all_measures: bool = False,
    seed: int = 2026,
) -> pl.DataFrame:
    """A valid submission for ``country`` and ``period``.

    ``citizenships`` widens the table to that many countries of origin and ``all_measures``
    reports every measure for every group: together they scale an example to a million rows.
    """
    rng = np.random.default_rng(seed)
    pop = standard.codelists["CL_POP_GROUP"]
    status = [c.id for c in pop.codes if c.properties.get("family") == "status"]
    needs = [c.id for c in pop.codes if c.properties.get("family") == "specific_needs"]
    measures_of = (
        {g: standard.codelists["CL_MEASURE"].ids for g in status + needs}
        if all_measures else MEASURES_BY_GROUP
    )
    origins = _origins(standard, country, citizenships)
    status_cube = _cube(status, measures_of, origins, standard, rng)
    total = status_cube.group_by(["MEASURE", "CITIZENSHIP", "SEX", "AGE"]).agg(
        pl.col("OBS_VALUE").sum()).with_columns(pl.lit("_T").alias("POP_GROUP"))
    needs_cube = _cube(needs, measures_of, origins, standard, rng)
    frame = pl.concat([
        status_cube, total.select(status_cube.columns), needs_cube,
    ]).with_columns(
        pl.lit(country).alias("REF_AREA"),
        pl.lit(period).alias("TIME_PERIOD"),
        # Deaths and missing persons are estimates everywhere; everything else is a normal value.
        pl.when(pl.col("MEASURE").is_in(["DEATH", "MISSING"])).then(pl.lit("E"))
        .otherwise(pl.lit("A")).alias("OBS_STATUS"),
    )
    order = {code: i for i, code in enumerate(pop.ids)}
    return frame.select(standard.upload_columns).sort(
        pl.col("POP_GROUP").replace_strict(order, return_dtype=pl.Int32),
        "MEASURE", "CITIZENSHIP", "SEX", "AGE",
    )


def with_dataflow(frame: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """The same table as SDMX-CSV 1.0: a leading DATAFLOW column naming the structure."""
    return frame.select(pl.lit(standard.urn).alias("DATAFLOW"), pl.all())
