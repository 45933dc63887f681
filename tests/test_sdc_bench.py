"""The disclosure-control benchmark keeps working: its release generator and its naive baseline
on a tiny release (not timed; ``benchmarks/sdc_bench.py`` is the measurement)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from standards.disclosure import load_parameters, parallel, protect
from standards.disclosure import table as tables
from standards.disclosure.audit import Auditor
from standards.model import Standard
from tests.disclosure_tables import assert_same_audit, backwards_each

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import sdc_bench


def tiny(standard: Standard, states: int = 2, citizenships: int = 1) -> sdc_bench.ReleaseInput:
    """``states`` states with one country of origin: stocks of refugees and asylum-seekers,
    all persons and victims of trafficking, every sex and age, and their totals: a slice of a
    real release that keeps its relations (the population-group total becomes "at least the
    groups shown")."""
    given = sdc_bench.release_input(standard, states, seed=7, citizenships=citizenships)
    cells = given.cells.filter((pl.col("MEASURE") == "STOCK")
                               & pl.col("POP_GROUP").is_in(["REF", "ASY", "_T"])
                               & pl.col("SPEC_NEED").is_in(["_T", "VOT"]))
    return sdc_bench.ReleaseInput(cells, given.regions, given.consent)


def test_the_release_is_a_region_of_harmonized_states(standard: Standard) -> None:
    given = sdc_bench.release_input(standard, 3, seed=7, citizenships=1)
    assert given.regions == {"AMERICAS": ("ATG", "BHS", "BLZ")}
    assert set(given.consent) == {"ATG", "BHS", "BLZ"}
    again = sdc_bench.release_input(standard, 3, seed=7, citizenships=1)
    assert again.cells.equals(given.cells) and again.consent == given.consent
    key = [c for c in given.cells.columns if c not in ("AREA", "VALUE", "SENDER_FLAG")]
    national = given.cells.filter(pl.col("AREA") != "AMERICAS")
    regional = given.cells.filter(pl.col("AREA") == "AMERICAS")
    # Regional = sum of the states, on the age bands all of them have (UNHCR and Eurostat
    # states meet on under-18, 18+, unknown and total).
    assert set(regional["AGE"]) == {"Y_LT18", "Y_GE18", "_U", "_T"}
    summed = (national.filter(pl.col("AGE").is_in(["Y_LT18", "Y_GE18", "_U", "_T"]))
              .group_by(key).agg(pl.col("VALUE").sum()))
    joined = regional.join(summed, on=key, suffix="_SUM")
    assert joined.height == regional.height
    assert (joined["VALUE"] == joined["VALUE_SUM"]).all()
    # Harmonized: the sex total of every state's cells is the sum of its sexes.
    by_sex = (national.filter(pl.col("SEX") != "_T").group_by("AREA", *(k for k in key
                                                                          if k != "SEX"))
              .agg(pl.col("VALUE").sum()))
    totals = national.filter(pl.col("SEX") == "_T").join(
        by_sex, on=["AREA", *(k for k in key if k != "SEX")], suffix="_SUM")
    assert (totals["VALUE"] == totals["VALUE_SUM"]).all()
    # Small counts are common.
    assert national.filter(pl.col("VALUE").is_between(1, 4)).height > national.height / 10


def test_naive_baseline_leaves_no_cell_alone_and_is_audited(standard: Standard) -> None:
    given = tiny(standard)
    parameters = load_parameters(standard)
    row, unknown, table = sdc_bench.run_naive(given, standard, parameters)
    assert row.primary_cells > 0 and row.secondary_cells > 0 and row.secondary_persons > 0
    assert row.audited >= row.primary_cells
    assert 0 <= row.failures <= row.audited
    assert set(row.seconds) == {"primary", "secondary", "audit", "total"}
    # The fixpoint: no equation has exactly one unknown that must be protected, unless none
    # of its other cells could be suppressed.
    eq = table.relations.equations.tocsr()
    protected = table.needs() | (table.array("KIND") == tables.CANDIDATE)
    free = table.array("FIXED") == tables.FREE
    for r in range(eq.shape[0]):
        cells = eq.indices[eq.indptr[r]:eq.indptr[r + 1]]
        if unknown[cells].sum() == 1 and (unknown & protected)[cells].sum() == 1:
            assert not (free[cells] & ~unknown[cells]).any()
    # Secondary cells come only from free cells, and the primaries stay unknown.
    assert not (unknown & (table.array("FIXED") == tables.KNOWN)).any()
    assert unknown[table.array("FIXED") == tables.SUPPRESSED].all()
    assert np.isfinite(row.secondary_persons)


def test_the_naive_pattern_repaired_until_safe_passes_the_audit(standard: Standard) -> None:
    """The second baseline only adds to the naive pattern, and adds until the same LP audit
    passes; the tiny release's naive pattern fails it, so something is added."""
    given = tiny(standard, states=3)
    parameters = load_parameters(standard)
    naive, unknown, table = sdc_bench.run_naive(given, standard, parameters)
    repaired = sdc_bench.run_repaired(naive, unknown, table, parameters)
    assert naive.failures > 0
    assert repaired.failures == 0 and repaired.rounds > 0
    assert repaired.secondary_persons > naive.secondary_persons
    assert repaired.seconds["total"] >= naive.seconds["total"]


def test_the_audit_gives_the_same_result_in_any_order_of_its_components(
        standard: Standard, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four countries of origin are four components of the naive pattern, each with cells
    to mend. With fewer failure LPs than they need, the components are given LPs in their
    order, whichever finishes first: on two threads, or done last to first, the bounds, cuts
    and suspects are those of one thread."""
    parameters = load_parameters(standard)
    _, unknown, table = sdc_bench.run_naive(tiny(standard, citizenships=4), standard,
                                            parameters)

    def audits(threads: int) -> list:
        return [Auditor(table, exact_cells=exact, threads=threads).run(unknown, failure_lps=40)
                for exact in (0, 600)]

    one, two = audits(1), audits(2)
    monkeypatch.setattr(parallel, "each", backwards_each)
    backwards = audits(1)
    unlimited = Auditor(table, exact_cells=0).run(unknown)
    assert len(list(Auditor(table, exact_cells=0).components(unknown))) == 4
    assert one[0].lps < unlimited.lps  # the budget runs out part of the way
    for reference, *others in zip(one, two, backwards, strict=True):
        for other in others:
            assert_same_audit(reference, other)
    assert one[1].exact.sum() > one[0].exact.sum()  # two components in exact mode


def test_a_release_is_the_same_on_one_thread_and_on_two(standard: Standard) -> None:
    """The secondary's blocks (the exact model, each growth) and the audit's components run
    side by side on two threads; the release, its audit and its rounds are those of one."""
    given = tiny(standard, citizenships=4)
    out = [protect(given.cells, standard=standard, regions=given.regions,
                   consent=given.consent,
                   parameters=replace(load_parameters(standard), threads=threads))
           for threads in (1, 2)]
    assert out[0].ok and out[0].rounds > 0
    assert out[0].cells.equals(out[1].cells) and out[0].audit.equals(out[1].audit)
    assert out[0].rounds == out[1].rounds


def test_the_bound_line_says_whether_the_target_is_reachable() -> None:
    """20% below a naive 100,000 is 80,000: a bound above it rules the target out."""
    assert sdc_bench.bound_line(120_000, 90_000, 100_000).endswith(
        "below it: no safe pattern reaches it")
    assert "optimised 33% above it" in sdc_bench.bound_line(120_000, 90_000, 100_000)
    assert sdc_bench.bound_line(120_000, 70_000, 100_000).endswith("above it: not ruled out")
    assert "no cut or capacity row" in sdc_bench.bound_line(10, 0.0, 100)
    assert "not found" in sdc_bench.bound_line(10, float("nan"), 100)
