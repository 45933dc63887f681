"""Disclosure control on random hierarchical tables (2-3 states and their region, sex x age
with every margin, small counts and random consent): nothing small is published, every hidden
cell keeps its protection level (checked by an LP written in the tests, over the published
cells of one release or of two consecutive ones), published margins add up, and the result
does not depend on the run or the row order."""

from __future__ import annotations

import importlib
from unittest.mock import patch

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standards.disclosure import Parameters, Release, load_parameters, parallel, protect
from standards.disclosure.audit import Auditor, Result
from standards.disclosure.cubes import Cubes
from standards.disclosure.flows import Flows
from standards.disclosure.secondary import suppress
from standards.disclosure.table import FREE, SUPPRESSED, Table
from standards.model import Standard
from tests.disclosure_tables import (
    AGES,
    SEXES,
    assert_same_audit,
    backwards_each,
    intervals,
    release_cells,
)

STATES = ("A", "B", "C")
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
count = st.one_of(st.integers(0, 6), st.integers(0, 60))
grid = st.fixed_dictionaries({(s, a): count for s in SEXES for a in AGES})


@st.composite
def regions(draw: st.DrawFn) -> tuple[dict, dict]:
    n = draw(st.integers(2, 3))
    grids = {s: draw(grid) for s in STATES[:n]}
    consent = {s: draw(st.booleans()) for s in STATES[:n]}
    return grids, consent


@pytest.fixture(scope="module")
def parameters(standard: Standard) -> Parameters:
    return load_parameters(standard)


def check_release(cells: pl.DataFrame, audit: pl.DataFrame, parameters: Parameters) -> None:
    """Nothing small published; margins of published cells add up."""
    shown = cells.filter(pl.col("CONF_STATUS") == "F")
    assert not shown.filter(pl.col("VALUE").is_between(1, parameters.k_default - 1)).height
    assert (shown["PUBLISHED_VALUE"] == shown["VALUE"]).all()
    assert cells.filter(pl.col("CONF_STATUS") != "F")["PUBLISHED_VALUE"].null_count() == \
        cells.filter(pl.col("CONF_STATUS") != "F").height
    value = {(r["AREA"], r["SEX"], r["AGE"]): r["PUBLISHED_VALUE"]
             for r in cells.iter_rows(named=True)}
    for (area, sex, age), total in value.items():
        if total is None:
            continue
        for parts in ([(area, s, age) for s in SEXES] if sex == "_T" else [],
                      [(area, sex, a) for a in AGES] if age == "_T" else []):
            if parts and all(value.get(p) is not None for p in parts):
                assert total == sum(value[p] for p in parts)
    assert audit["OK"].all()


def check_levels(releases: list[tuple[pl.DataFrame, dict]], audits: list[pl.DataFrame]) -> None:
    """Every audited cell of every release keeps its level against all releases together."""
    wanted = {}
    for number, audit in enumerate(audits):
        for r in audit.filter(pl.col("RELEASE") == 0).iter_rows(named=True):
            wanted[(number, r["AREA"], r["SEX"], r["AGE"])] = (r["REQUIRED_LOWER"],
                                                               r["REQUIRED_UPPER"])
    found = intervals(releases, wanted)
    for key, (low, high) in found.items():
        need_low, need_high = wanted[key]
        assert low <= need_low + 1e-6 and high >= need_high - 1e-6, (key, low, high, wanted[key])


@SETTINGS
@given(regions())
def test_one_release(standard: Standard, parameters: Parameters,
                     drawn: tuple[dict, dict]) -> None:
    grids, consent = drawn
    cover = {"R": tuple(grids)}
    cells = release_cells(grids, cover)
    out = protect(cells, standard=standard, parameters=parameters, regions=cover,
                  consent=consent, bound_seconds=5)
    assert out.ok
    check_release(out.cells, out.audit, parameters)
    check_levels([(out.cells, cover)], [out.audit])
    # The pattern is safe, so it hides at least the bound on every safe pattern.
    hidden = out.cells.filter(pl.col("CONF_STATUS") == "S")["VALUE"].sum()
    assert out.persons_bound is not None and out.persons_bound <= hidden + 1e-6
    again = protect(cells.reverse(), standard=standard, parameters=parameters, regions=cover,
                    consent=consent)
    assert again.cells.equals(out.cells) and again.audit.equals(out.audit)


@SETTINGS
@given(regions(), st.booleans(), st.integers(1, 20), st.sampled_from(SEXES),
       st.sampled_from(AGES))
def test_two_releases(standard: Standard, parameters: Parameters, drawn: tuple[dict, dict],
                      join: bool, delta: int, sex: str, age: str) -> None:
    """Release 2 either adds a state to the region or revises one count of a state; audited
    together with release 1, no cell of either is recovered by differencing."""
    grids, consent = drawn
    states = tuple(grids)
    if join:
        first = {s: grids[s] for s in states[:-1]}
        second = grids
    else:
        first = grids
        second = {s: dict(g) for s, g in grids.items()}
        second[states[0]][sex, age] += delta
    cover_1, cover_2 = {"R": tuple(first)}, {"R": tuple(second)}
    release_1 = protect(release_cells(first, cover_1), standard=standard,
                        parameters=parameters, regions=cover_1, consent=consent)
    assert release_1.ok
    release_2 = protect(release_cells(second, cover_2), standard=standard,
                        parameters=parameters, regions=cover_2, consent=consent,
                        previous=[Release.from_protected(release_1, cover_1)])
    assert release_2.ok
    check_release(release_2.cells, release_2.audit, parameters)
    check_levels([(release_1.cells, cover_1), (release_2.cells, cover_2)],
                 [release_1.audit, release_2.audit])


def _table(standard: Standard, parameters: Parameters, grids: dict, consent: dict) -> Table:
    """The table ``protect`` builds for a release of ``grids`` in one region."""
    cover = {"R": tuple(grids)}
    module = importlib.import_module("standards.disclosure.protect")
    seen: list[Table] = []

    def record(table: Table, *args: object) -> object:
        seen.append(table)
        return suppress(table, *args)  # type: ignore[arg-type]

    with patch.object(module, "suppress", record):
        protect(release_cells(grids, cover), standard=standard, parameters=parameters,
                regions=cover, consent=consent)
    return seen[0]


@SETTINGS
@given(regions())
def test_lp_found_directions_are_proofs(standard: Standard, parameters: Parameters,
                                        drawn: tuple[dict, dict]) -> None:
    """Every direction ``flows`` finds for a protected cell, with all free cells suppressible,
    is a proof: the point it reaches keeps every relation, every value >= 0 and every
    inequality, moves the cell by its whole margin and no published cell; and it finds one
    wherever a cube does (the cube lies in its neighbourhood)."""
    table = _table(standard, parameters, *drawn)
    cubes = Cubes(table)
    flows = Flows(cubes)
    values = table.values
    unknown = table.array("FIXED") == SUPPRESSED
    suppressible = table.array("FIXED") == FREE
    eq = table.relations.equations.toarray()
    ub = table.relations.inequalities.toarray()
    margins = {1: np.maximum(table.array("REQ_HI") - values, 0.0),
               -1: np.maximum(values - table.array("REQ_LO"), 0.0)}
    for cell in np.flatnonzero(unknown & table.needs()).tolist():
        for side, margin in margins.items():
            need = float(margin[cell])
            if need <= 0:
                continue
            found = flows.direction(cell, side, need, unknown, suppressible)
            cube = cubes.direction(cell, unknown, need if side == 1 else 0.0,
                                   need if side == -1 else 0.0, suppressible)
            assert found is not None or not cube, (cell, side)
            if found is None:
                continue
            assert found.cells[0] == cell and found.coefs[0] == 1.0
            assert (unknown | suppressible)[found.cells].all()
            move = np.zeros(values.size)
            move[found.cells] = side * need * found.coefs
            point = values + move
            assert np.abs(eq @ move).max(initial=0.0) <= 1e-9
            assert point.min() >= -1e-7
            assert (ub @ point).max(initial=0.0) <= 1e-7
            assert point[cell] == values[cell] + side * need


@SETTINGS
@given(regions(), st.lists(st.integers(0, 10_000), max_size=6))
def test_hiding_more_never_unproves_a_cell(standard: Standard, parameters: Parameters,
                                           drawn: tuple[dict, dict], extra: list[int]) -> None:
    """The audit of a grown pattern that keeps the cells an earlier audit showed safe
    (``since``) says what a full audit says: hiding more never narrows an interval."""
    table = _table(standard, parameters, *drawn)
    auditor = Auditor(table, exact_cells=0)
    first = table.array("FIXED") == SUPPRESSED
    before = auditor.run(first)
    free = np.flatnonzero(table.array("FIXED") == FREE)
    grown = first.copy()
    if free.size:
        grown[free[[e % free.size for e in extra]]] = True
    full = Auditor(table, exact_cells=0).run(grown)
    kept = auditor.run(grown, since=(first, before))
    assert (kept.ok == full.ok).all() and kept.passed == full.passed


@SETTINGS
@given(regions(), st.integers(0, 12), st.integers(0, 8), st.lists(st.integers(0, 10_000),
                                                                   max_size=4))
def test_the_audit_does_not_depend_on_its_threads(standard: Standard, parameters: Parameters,
                                                  drawn: tuple[dict, dict], exact_cells: int,
                                                  failure_lps: int, extra: list[int]) -> None:
    """Whatever budgets of exact cells and failure LPs the components share, one thread,
    three, and the components done last to first give the same audit, a second audit of a
    grown pattern (``since``) included."""
    table = _table(standard, parameters, *drawn)
    first = table.array("FIXED") == SUPPRESSED
    free = np.flatnonzero(table.array("FIXED") == FREE)
    grown = first.copy()
    if free.size:
        grown[free[[e % free.size for e in extra]]] = True
    def audits(threads: int) -> tuple[Result, Result]:
        auditor = Auditor(table, exact_cells=exact_cells, threads=threads)
        before = auditor.run(first, failure_lps=failure_lps)
        return before, auditor.run(grown, failure_lps=failure_lps, since=(first, before))

    one, three = audits(1), audits(3)
    with patch.object(parallel, "each", backwards_each):
        backwards = audits(1)
    for reference, *others in zip(one, three, backwards, strict=True):
        for other in others:
            assert_same_audit(reference, other)

