"""Realistic, valid example submissions: what a correct file looks like.

Built as a cube: random counts for the finest cells (leaf measures, status groups, sexes and the
age bands of one system), groups with specific needs drawn as subsets of those cells (so a need
never exceeds its total, and children's categories exist only under 18), then every total summed
from the cells, so the example passes every rule by construction (a property test checks it).
Used by ``mmx example``, the tests and the benchmarks (which ask for a million rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from standards.bands import COARSE
from standards.model import Additivity, Standard

# Which leaf measures make sense for which population group (an example, not the standard).
MEASURES_BY_GROUP: dict[str, tuple[str, ...]] = {
    "REF": ("STOCK", "INFLOW", "OUTFLOW", "NATZ", "REPAT", "RESETTLE_DEP"),
    "ASY": ("STOCK", "ASY_APP_FIRST", "ASY_APP_SUB", "DEC_FI_REF", "DEC_FI_CP", "DEC_FI_HUM",
            "DEC_FI_TP", "DEC_FI_REJ_MER", "DEC_FI_REJ_INADM", "DEC_FI_CLOSED", "DEC_FIN_REF",
            "DEC_FIN_CP", "DEC_FIN_REJ_MER", "REFERRED_ASY"),
    "OIP": ("STOCK",),
    "ASY_REJ": ("STOCK", "ORDER_LEAVE", "RET_VOL_ASST", "RET_VOL_UNASST", "RET_ENF_UNASST"),
    "STA": ("STOCK", "NATZ"),
    "IDP": ("STOCK", "INFLOW"),
    "RET_REF": ("INFLOW",),
    "RET_IDP": ("INFLOW",),
    "ETH_RET": ("STOCK", "INFLOW", "NATZ"),
    "RET_MW": ("INFLOW",),
    "MIG_LAB": ("STOCK", "INFLOW", "OUTFLOW"),
    "MIG_IRR": ("STOCK", "REFUSED_ENTRY", "IRR_PRESENT", "ORDER_LEAVE", "DETAINED", "INTERCEPT",
                "RET_VOL_ASST", "RET_ENF_ASST", "RET_ENF_UNASST", "DEATH", "MISSING", "RESCUE",
                "IDENTIFIED"),
    "OTH": ("STOCK",),
}
# Specific needs are drawn for these groups and measures only (the others carry SPEC_NEED=_T
# alone; with ``all_measures``, for every group's stock and flows in), with the share of the cell
# each need takes on average.
NEED_PAIRS = (("REF", "STOCK"), ("ASY", "STOCK"), ("ASY", "ASY_APP_FIRST"),
              ("MIG_IRR", "IDENTIFIED"), ("MIG_IRR", "INTERCEPT"))
NEED_MEASURES = ("STOCK", "INFLOW", "ASY_APP_FIRST", "IDENTIFIED")
NEED_SHARES: dict[str, float] = {"VOT": 0.05, "UAC": 0.08, "SC": 0.04, "WGR": 0.1,
                                 "SGBV": 0.06, "TORT": 0.03, "SMUG": 0.1}

# Typical countries of origin in each region; the rest of the ISO list pads large examples.
ORIGINS: dict[str, tuple[str, ...]] = {
    "CENTRAL_ASIA": ("AFG", "UZB", "TJK", "KGZ", "RUS", "CHN", "SYR", "IRN", "PAK", "STLS", "UNK"),
}
DEFAULT_ORIGINS = ("AFG", "SYR", "SOM", "ETH", "ERI", "COD", "MMR", "PAK", "STLS", "UNK")
KEYS = ("POP_GROUP", "SPEC_NEED", "MEASURE", "CITIZENSHIP", "SEX", "AGE")


def _origins(standard: Standard, country: str, count: int | None) -> list[str]:
    preferred = next((ORIGINS[r] for r in standard.regions_of(country) if r in ORIGINS),
                     DEFAULT_ORIGINS)
    codes = [c for c in preferred if c != country]
    if count is None:
        return codes
    rest = [c for c in standard.codelists["CL_CITIZENSHIP"].ids if c not in codes and c != country]
    return (codes + rest)[:count]


def _leaves(standard: Standard, dim: str) -> list[str]:
    """Codes of a dimension that are no breakdown's total."""
    totals = {a.total for a in standard.additive_breakdowns if a.dimension == dim}
    return [c for c in standard.codelists[standard.dimension[dim].codelist.id].ids  # type: ignore[union-attr]
            if c not in totals and c != "_T"]


def _cells(standard: Standard, groups: list[str], measures_of: dict[str, tuple[str, ...]],
           origins: list[str], ages: list[str], rng: np.random.Generator, *,
           every_group: bool) -> pl.DataFrame:
    """Finest cells with SPEC_NEED=_T, then the needs drawn from them."""
    sexes = [c for c in standard.codelists["CL_SEX"].ids if c != "_T"]
    keys = pl.DataFrame([(g, m) for g in groups for m in measures_of[g]],
                        schema={"POP_GROUP": pl.String, "MEASURE": pl.String}, orient="row")
    cells = (keys.join(pl.DataFrame({"CITIZENSHIP": origins}), how="cross")
             .join(pl.DataFrame({"SEX": sexes}), how="cross")
             .join(pl.DataFrame({"AGE": ages}), how="cross"))
    # Mostly small counts with a long tail, fewer unknowns: the shape real tables have.
    scale = np.where(cells["SEX"].to_numpy() == "_U", 0.3, 1.0) * np.where(
        cells["AGE"].to_numpy() == "_U", 0.2, 1.0)
    values = np.floor(rng.pareto(1.5, cells.height) * 12 * scale).astype(np.int64)
    cells = cells.with_columns(pl.Series("OBS_VALUE", values), pl.lit("_T").alias("SPEC_NEED"))
    needs = standard.codelists["CL_SPEC_NEED"]
    adult = {c.id for c in standard.codelists["CL_AGE"].codes
             if c.properties.get("lower") is not None and int(c.properties["lower"]) >= 18}  # type: ignore[call-overload]
    if every_group:
        base = cells.filter(pl.col("MEASURE").is_in(NEED_MEASURES))
    else:
        pairs = pl.DataFrame(list(NEED_PAIRS), schema={"POP_GROUP": pl.String,
                                                       "MEASURE": pl.String}, orient="row")
        base = cells.join(pairs, on=["POP_GROUP", "MEASURE"], how="semi")
    value = base["OBS_VALUE"].to_numpy()
    drawn: dict[str, np.ndarray] = {}
    left = value.copy()
    for need, share in NEED_SHARES.items():
        if need not in needs:
            continue
        props = needs.by_id[need].properties
        allowed = np.ones(base.height, dtype=bool)
        if props.get("child_only"):
            allowed &= ~base["AGE"].is_in(sorted(adult)).to_numpy()
        if props.get("female_only"):
            allowed &= (base["SEX"] == "F").to_numpy()
        # Unaccompanied and separated children are disjoint: draw SC from what UAC left.
        source = left if need == "SC" else value
        count = np.where(allowed, rng.binomial(source, share), 0)
        if need == "UAC":
            left = value - count
        drawn[need] = np.where(allowed, count, -1)
    if "UASC" in needs and "UAC" in drawn and "SC" in drawn:
        drawn["UASC"] = np.where(drawn["UAC"] >= 0, drawn["UAC"] + drawn["SC"], -1)
    frames = [cells]
    for need, count in drawn.items():
        keep = count >= 0
        frames.append(base.filter(pl.Series(keep)).with_columns(
            pl.Series("OBS_VALUE", count[keep]), pl.lit(need).alias("SPEC_NEED")))
    return pl.concat([f.select(*KEYS, "OBS_VALUE") for f in frames])


def _measure_order(standard: Standard) -> list[Additivity]:
    """MEASURE breakdowns, those whose parts are leaves first (RET_VOL before RET)."""
    pending = [a for a in standard.additive_breakdowns if a.dimension == "MEASURE"]
    done: list[Additivity] = []
    totals = {a.total for a in pending}
    while pending:
        ready = [a for a in pending if not (set(a.parts) & totals - {d.total for d in done})]
        done.extend(ready)
        pending = [a for a in pending if a not in ready]
    return done


def _sum_up(frame: pl.DataFrame, dim: str, total: str, parts: list[str]) -> pl.DataFrame:
    """Add the ``total`` rows of ``dim`` summed from ``parts`` (where any part is present)."""
    others = [k for k in KEYS if k != dim]
    summed = (frame.filter(pl.col(dim).is_in(parts)).group_by(others)
              .agg(pl.col("OBS_VALUE").sum()).with_columns(pl.lit(total).alias(dim)))
    return pl.concat([frame, summed.select(frame.columns)])


def example_frame(
    standard: Standard,
    country: str,
    period: str,
    *,
    citizenships: int | None = None,
    all_measures: bool = False,
    bands: str = "unhcr",
    seed: int = 2026,
) -> pl.DataFrame:
    """A valid submission for ``country`` and ``period`` (a quarter, or a week for the
    emergency series), with ages in ``bands`` (base, unhcr, eurostat or coarse).

    ``citizenships`` widens the table to that many countries of origin and ``all_measures``
    reports every leaf measure for every group: together they scale an example to a million
    rows.
    """
    rng = np.random.default_rng(seed)
    pop = standard.codelists["CL_POP_GROUP"]
    groups = [c.id for c in pop.codes if c.properties.get("family") == "status"]
    measures_of = ({g: tuple(_leaves(standard, "MEASURE")) for g in groups} if all_measures
                   else {g: MEASURES_BY_GROUP.get(g, ("STOCK",)) for g in groups})
    age_codes = standard.codelists["CL_AGE"].codes
    ages = [c.id for c in age_codes if bands in (c.properties.get("systems") or ())] + ["_U"]
    cells = _cells(standard, groups, measures_of, _origins(standard, country, citizenships),
                   ages, rng, every_group=all_measures)
    frame = _sum_up(cells, "POP_GROUP", "_T", groups)
    for breakdown in _measure_order(standard):
        frame = _sum_up(frame, "MEASURE", breakdown.total, list(breakdown.parts))
    frame = _sum_up(frame, "SEX", "_T", [c for c in standard.codelists["CL_SEX"].ids
                                          if c != "_T"])
    if bands != COARSE:
        frame = _sum_up(frame, "AGE", "_T", ages)
    freq = next(c.id for c in standard.codelists["CL_FREQ"].codes
                if pl.Series([period]).str.contains(str(c.properties["period_pattern"])).item())
    measures = standard.codelists["CL_MEASURE"].by_id
    counterpart = {m: "_Z" if c.properties.get("counterpart", "none") == "none" else "_T"
                   for m, c in measures.items()}
    unit = {m: str(next(iter(c.properties.get("units") or ["PER"])))  # type: ignore[call-overload]
            for m, c in measures.items()}
    frame = frame.with_columns(
        pl.lit(freq).alias("FREQ"),
        pl.lit(country).alias("REF_AREA"),
        pl.col("MEASURE").replace_strict(counterpart).alias("COUNTERPART_AREA"),
        pl.lit(period).alias("TIME_PERIOD"),
        # Deaths and missing persons are estimates everywhere; everything else a normal value.
        pl.when(pl.col("MEASURE").is_in(["DEATH", "MISSING"])).then(pl.lit("E"))
        .otherwise(pl.lit("A")).alias("OBS_STATUS"),
        pl.col("MEASURE").replace_strict(unit).alias("UNIT_MEASURE"),
        pl.lit(None, dtype=pl.String).alias("CONF_STATUS"),
    )
    order = {code: i for i, code in enumerate(pop.ids)}
    need_order = {code: i for i, code in enumerate(standard.codelists["CL_SPEC_NEED"].ids)}
    return frame.select(standard.upload_columns).sort(
        pl.col("POP_GROUP").replace_strict(order, return_dtype=pl.Int32),
        pl.col("SPEC_NEED").replace_strict(need_order, return_dtype=pl.Int32),
        "MEASURE", "CITIZENSHIP", "SEX", "AGE",
    )


def with_dataflow(frame: pl.DataFrame, standard: Standard) -> pl.DataFrame:
    """The same table as SDMX-CSV 1.0: a leading DATAFLOW column naming the structure."""
    return frame.select(pl.lit(standard.urn).alias("DATAFLOW"), pl.all())
