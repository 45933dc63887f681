"""Secondary suppression: the fewest persons (then the fewest cells) to hide so that no
primary cell can be recovered, as a 0-1 programme solved by SciPy's ``milp`` (HiGHS).

The model (``constraints``): a binary per free cell, the capacity and counting constraints of
every relation, and the audit's cuts; objective ``sum((n + 1) * value_i * s_i + s_i)``
(persons first, cells to break ties). It is solved per block (connected component of the
constraints), so a big table is many small programmes, to HiGHS's relative gap ``MIP_GAP``.
The audit (``audit``) has the last word: every cell it finds under-protected adds a cut and
the blocks it touches are solved again, for at most ``max_rounds`` rounds.

``time_limit_seconds`` is the exact model's budget over all blocks (the seconds of every block
summed, on however many threads they run), handed out in order of block size (smallest first,
so one hard block cannot starve the others): a block gets the budget left times its share of
the cells left, at least ``MIN_BLOCK_SECONDS``. A block HiGHS does not finish in its time falls
back to the LP-guided greedy (``greedy.heuristic``).

Blocks of more than ``EXACT_VARS`` free variables skip the exact model: each of their cells
that needs protection gets a protecting direction (``cubes``: the cells that move with it
without changing any published total), largest requirement first, and the direction is kept as
the cell's certificate, so the audit needs no LP for it; growth completes the block's
constraints. After ``max_rounds`` rounds of cuts, the pattern grows to meet the audit's cuts
(``grow``: the exact model with the pattern so far fixed, the cells chosen jointly for all cuts
of a block, one programme per block; the greedy when HiGHS is out of time) while the release
has used less than ``CUT_SHARE`` of ``release_seconds``: few persons, but each round re-audits
the components it touched, without certificates. What the audit still finds after that is
mended by directions (one per failing cell, certified, so the next audits are quick; the cuts
of cells without one met by growing). Both only add, so the loop ends: when the audit passes or
nothing more can be hidden; and a round that only added cells re-audits only the cells the last
audit did not show safe (``Auditor.run``'s ``since``: hiding more never narrows an interval). A
late direction is the cheaper of a cube and an LP-found one (``flows``: it can split the move
over several cells, a cube cannot; on the real three-state release the late directions cost a
quarter of the cubes' persons), while less than ``FLOW_SHARE`` of ``release_seconds`` is spent.

Directions overprotect (a whole cube per cell, GHMITER's known weakness), so a passing
pattern gets a backward pass (``_backward``, while less than ``BACKWARD_SHARE`` of the time is
spent): the cells added for directions that the constraints and cuts do not need are
published again, most persons first, and the audit runs again; its new cuts are met by
growing (late tries: every removed cell a cut names comes back), for ``BACKWARD_TRIES`` tries;
a pattern that does not pass, or hides no fewer persons, is dropped for the one that passed.

Blocks share no variable, so the exact model's blocks and a growth's blocks are solved side by
side on the auditor's threads (``parallel``; HiGHS lets go of the GIL), and each block's
choice is its own: the pattern does not depend on the number of threads (unless a block runs
out of time, as on one thread).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from standards.disclosure import greedy, parallel
from standards.disclosure.audit import Auditor, Result
from standards.disclosure.constraints import Constraints, from_relations, model
from standards.disclosure.constraints import solve as solve_model
from standards.disclosure.cubes import Cubes, Direction
from standards.disclosure.flows import ROOM_TOL, Flows
from standards.disclosure.parameters import Parameters
from standards.disclosure.table import FREE, SUPPRESSED, Table

# HiGHS's relative optimality gap: the persons hidden are within this share of the fewest.
MIP_GAP = 1e-3
MIN_BLOCK_SECONDS = 0.2
# Exact LPs for uncertified cells per audit round (beyond: mended without one), and rounds.
FAILURE_LPS = 3000
MAX_ROUNDS = 60
# Blocks with more free variables than this use directions instead of the exact model from
# scratch (growth then completes them: the exact model with the directions' cells fixed).
EXACT_VARS = 5000
# Rounds of growth on the audit's cuts while the release has used less than this share of
# ``release_seconds``; directions (certified, quick to audit, more persons) after.
CUT_SHARE = 0.3
# The exact model's growth of a pattern (``grow``) gets at most this many seconds a round
# before the greedy grows it instead (20 synthetic states of one measure: 0.7-1.9 s).
GROW_SECONDS = 10.0
# Tries of the backward pass before it gives up (and keeps the pattern that passed).
BACKWARD_TRIES = 6
# No backward pass once this share of ``release_seconds`` is spent: it only saves persons, and
# an audit cut short by the deadline would throw its work away (the passing pattern is kept).
BACKWARD_SHARE = 0.6
# Late mending compares each cube with an LP-found direction (``flows``) while the release has
# used less than this share of ``release_seconds``; cubes alone after.
FLOW_SHARE = 0.7
# ... and while a round has at most this many suspects: a direction by LP takes 0.03-1 s a
# cell, worth it for the few hard cells, not for tens of thousands (synthetic full tables of
# three states: the whole budget went to them and the release was refused all the same).
FLOW_SUSPECTS = 1000
log = logging.getLogger("mmx.disclosure")


@dataclass(frozen=True)
class Block:
    """Free variables connected through some constraint, and their constraints."""

    vars: np.ndarray
    rows: np.ndarray
    notone: np.ndarray


@dataclass
class Outcome:
    """The pattern chosen (``unknown``: every variable a reader cannot see), how, its final
    audit, and the constraints it met (with every cut the audits found)."""

    unknown: np.ndarray
    selected: np.ndarray
    solver: str
    audit: Result
    rounds: int
    seconds_secondary: float
    seconds_audit: float
    constraints: Constraints
    blocks: int = 0
    exact_blocks: int = 0
    timed_out: bool = False


def blocks(constraints: Constraints, size: int) -> list[Block]:
    """The independent blocks, in order of their smallest variable; variables in no
    constraint are left out (never worth suppressing)."""
    incidence = sparse.vstack([constraints.atleast, constraints.notone], format="csr")
    n_rows = incidence.shape[0]
    if n_rows == 0:
        return []
    graph = sparse.bmat([[None, incidence], [incidence.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    var_label = labels[n_rows:]
    used = np.unique(incidence.indices)
    row_label = labels[:n_rows]
    n_at = constraints.atleast.shape[0]
    out: list[Block] = []
    order = np.argsort(var_label[used], kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(var_label[used][order]) != 0, True])
    rows_by = _split(np.arange(n_rows), row_label)
    for a, b in itertools.pairwise(bounds):
        cells = np.sort(used[order[a:b]])
        rows = rows_by.get(int(var_label[cells[0]]), np.zeros(0, dtype=np.int64))
        out.append(Block(cells, rows[rows < n_at], rows[rows >= n_at] - n_at))
    return sorted(out, key=lambda b: int(b.vars[0]))


def _split(items: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(labels[order]) != 0, True])
    return {int(labels[order[a]]): items[order[a:b]]
            for a, b in itertools.pairwise(bounds) if b > a}


def solve_block(block: Block, constraints: Constraints, values: np.ndarray,
                time_limit: float) -> np.ndarray | None:
    """The optimal selection of the block's variables (a boolean each), or None when HiGHS
    does not finish within ``time_limit`` (or finds the block infeasible)."""
    if time_limit <= 0:
        return None
    cost, matrix, lower, upper = model(constraints, block.rows, block.notone, block.vars,
                                       values)
    res = solve_model(cost, matrix, lower, np.zeros(cost.size), upper, seconds=time_limit,
                      gap=MIP_GAP)
    if res.status != 0 or res.x is None:
        return None
    return np.asarray(res.x[:block.vars.size]) > 0.5


def grow(constraints: Constraints, selected: np.ndarray, values: np.ndarray,
         rows: np.ndarray, notone_rows: np.ndarray, time_limit: float
         ) -> tuple[np.ndarray, bool]:
    """``selected`` grown by the fewest persons that meet the constraints ``rows`` and
    ``notone_rows`` (the exact model with the pattern so far fixed), and whether HiGHS found
    it (or, out of time, a feasible addition); else the greedy's growth (``greedy.complete``).
    The cells already hidden cost nothing here, so HiGHS's gap is a share of what is added.

    Only adding keeps the audit's shortcut (``since``) and ends the loop; choosing the cells
    jointly lets one cell serve many cuts, where the greedy mends cut after cut with its
    cheapest cell (synthetic 20 states of one measure: 278,884 -> 211,284 persons)."""
    rows = np.asarray(rows, dtype=np.int64)
    notone_rows = np.asarray(notone_rows, dtype=np.int64)
    cells = np.unique(np.concatenate([constraints.atleast[rows].indices,
                                      constraints.notone[notone_rows].indices]))
    if cells.size and time_limit > 0:
        cost, matrix, lower, upper = model(constraints, rows, notone_rows, cells, values)
        fixed = np.zeros(cost.size)
        fixed[:cells.size] = selected[cells]
        cost[fixed > 0] = 0.0
        res = solve_model(cost, matrix, lower, fixed, np.maximum(upper, fixed),
                          seconds=time_limit, gap=MIP_GAP)
        if res.x is not None and res.status in (0, 1):  # optimal, or the best when out of time
            out = selected.copy()
            out[cells] = np.asarray(res.x[:cells.size]) > 0.5
            return out, True
    return greedy.complete(constraints, selected, values, rows, notone_rows), False


def _grow_seconds(auditor: Auditor) -> float:
    """A growth's time: ``GROW_SECONDS``, never past the release's deadline."""
    return min(GROW_SECONDS, auditor.deadline - time.perf_counter())


def suppress(table: Table, parameters: Parameters, auditor: Auditor) -> Outcome:
    """Choose the secondary suppressions of ``table`` and audit them, until the auditor's
    deadline: a pattern not proven by then is refused (``Outcome.timed_out``)."""
    started = time.perf_counter()
    audit_seconds = 0.0
    # What a hidden cell costs: its persons, once per published copy (``Table.costs``).
    values = table.costs
    always = table.array("FIXED") == SUPPRESSED
    constraints = from_relations(table)
    selected = np.zeros(table.size, dtype=bool)
    budget = [parameters.time_limit_seconds]
    used: set[str] = set()
    counts = [0, 0]
    mender = Mender(table, constraints,
                    flow_deadline=started + FLOW_SHARE * parameters.release_seconds)
    certificates: dict[int, list[Direction]] = {}
    for_directions = np.zeros(table.size, dtype=bool)  # hidden for a direction: may go back

    def extend(pattern: np.ndarray, todo: list[Block]) -> np.ndarray:
        """``pattern`` grown to meet the constraints of the blocks ``todo`` (``grow``), one
        programme per block (they share no variable), on the auditor's threads."""
        t = time.perf_counter()
        # One growth's time, shared by its blocks (each gets what is left when it starts).
        end = t + _grow_seconds(auditor)
        grown = pattern.copy()
        methods = parallel.each(
            lambda b: grow(constraints, pattern, values, b.rows, b.notone,
                           end - time.perf_counter()),
            todo, auditor.threads)
        for block, (own, exact) in zip(todo, methods, strict=True):
            grown[block.vars] = own[block.vars]
            used.add("milp" if exact else "greedy")
        added = grown & ~pattern
        log.debug("growth over %d blocks: %d cells (%.0f persons) added (%d by the greedy) in "
                  "%.1fs", len(todo), int(added.sum()), values[added].sum(),
                  sum(not exact for _, exact in methods), time.perf_counter() - t)
        return grown

    def solve(todo: list[Block], exact: bool, again: bool = False) -> None:
        fallback: list[Block] = []
        big = [b for b in todo if b.vars.size > EXACT_VARS]
        todo = [b for b in todo if b.vars.size <= EXACT_VARS]
        cells_left = [sum(b.vars.size for b in todo)]
        lock = threading.Lock()

        def attempt(block: Block) -> np.ndarray | None:
            # The budget is handed out as blocks start, smallest first (on several threads:
            # as they start; the same choices when no block runs out of time).
            with lock:
                share = budget[0] * block.vars.size / max(cells_left[0], 1)
                limit = min(budget[0], max(share, MIN_BLOCK_SECONDS))
                cells_left[0] -= block.vars.size
            t = time.perf_counter()
            choice = solve_block(block, constraints, values, limit) if exact else None
            with lock:
                budget[0] = max(0.0, budget[0] - (time.perf_counter() - t))
            return choice

        order = sorted(todo, key=lambda b: (b.vars.size, int(b.vars[0])))
        for block, choice in zip(order, parallel.each(attempt, order, auditor.threads),
                                 strict=True):
            counts[0] += 1
            if choice is None:
                fallback.append(block)
            else:
                counts[1] += 1
                used.add("milp")
                selected[block.vars] = choice
        log.debug("exact model: %d blocks solved, %d to the greedy (budget left %.1fs)",
                  len(todo) - len(fallback), len(fallback), budget[0])
        if fallback and again:
            # A block solved before keeps its pattern and grows to meet the new cuts: the
            # greedy's own pattern from scratch hid ~50,000 persons more on the real
            # three-state release.
            selected[:] = extend(selected, fallback)
        elif fallback:
            used.add("greedy")
            chosen = greedy.heuristic(constraints, selected, values,
                                      [(b.vars, b.rows, b.notone) for b in fallback])
            for block in fallback:
                selected[block.vars] = chosen[block.vars]
        for block in big:
            counts[0] += 1
            used.add("cubes")
            before = selected.copy()
            mender.cover(mender.targets(block.vars, always), always | selected, selected,
                         certificates)
            selected[:] = extend(selected, [block])
            for_directions[selected & ~before] = True

    solve(blocks(constraints, table.size), True)
    rounds = 0
    since: tuple[np.ndarray, Result] | None = None
    while True:
        t = time.perf_counter()
        result = auditor.run(always | selected, certificates=certificates,
                             failure_lps=FAILURE_LPS, since=since)
        since = (always | selected, result)
        audit_seconds += time.perf_counter() - t
        log.debug("round %d: audit %.1fs, %d LPs, %d suspects, %d cuts, %d selected "
                  "(%.0f persons), %.1fs in", rounds, time.perf_counter() - t, result.lps,
                  len(result.suspects), len(result.cuts), int(selected.sum()),
                  values[selected].sum(), time.perf_counter() - started)
        if not result.suspects or rounds >= MAX_ROUNDS or auditor.expired():
            break
        rounds += 1
        previous = selected.copy()
        constraints.add_cuts(result.cuts)
        touched = np.zeros(table.size, dtype=bool)
        for cut in result.cuts:
            touched[cut.vars] = True
        spent = (time.perf_counter() - started) / max(parameters.release_seconds, 1e-9)
        if result.cuts and rounds <= parameters.max_rounds and budget[0] > 0:
            # The audit's cuts join the model; the blocks they touch are solved again.
            solve([b for b in blocks(constraints, table.size) if touched[b.vars].any()], True,
                  again=True)
        elif result.cuts and spent < CUT_SHARE:
            # The pattern grows to meet the cuts (``grow``): few persons, but every round
            # re-audits the components it touches without certificates.
            todo = [b for b in blocks(constraints, table.size) if touched[b.vars].any()]
            selected |= extend(selected, todo)
        else:
            # A direction per failing cell (certified); the others' cuts met by growing.
            left = mender.mend(result.suspects, always | selected, selected, certificates,
                               neighbour=False, flows=len(result.suspects) <= FLOW_SUSPECTS)
            if (selected != previous).any():
                used.add("cubes")
                for_directions[selected & ~previous] = True
            cut_left = [c for c in result.cuts if c.target in left]
            if cut_left:
                near = np.zeros(table.size, dtype=bool)
                for cut in cut_left:
                    near[cut.vars] = True
                todo = [b for b in blocks(constraints, table.size) if near[b.vars].any()]
                selected |= extend(selected, todo)
        if (selected == previous).all():
            # No cut or direction could help: the smallest published neighbour instead.
            used.add("greedy")
            mender.mend(result.suspects, always | selected, selected, certificates)
            if (selected == previous).all():
                break  # nothing more can be hidden: what is left cannot be protected
    if (result.suspects and any(c.partial for c in auditor.cache.values())
            and not auditor.expired()):
        t = time.perf_counter()
        result = auditor.run(always | selected, certificates=certificates)
        audit_seconds += time.perf_counter() - t
    spent = (time.perf_counter() - started) / max(parameters.release_seconds, 1e-9)
    if (result.passed and (for_directions & selected).any() and spent < BACKWARD_SHARE
            and not auditor.expired()):
        t = time.perf_counter()
        selected, result = _backward(constraints, auditor, always, selected, result,
                                     for_directions, certificates, values)
        audit_seconds += time.perf_counter() - t
    solver = "+".join(s for s in ("milp", "cubes", "greedy") if s in used) or "milp"
    total = time.perf_counter() - started
    return Outcome(always | selected, selected, solver, result, rounds,
                   total - audit_seconds, audit_seconds, constraints, counts[0], counts[1],
                   timed_out=auditor.expired() and not result.passed)


def _backward(constraints: Constraints, auditor: Auditor, always: np.ndarray,
              selected: np.ndarray, passed: Result, candidates: np.ndarray,
              certificates: dict[int, list[Direction]], values: np.ndarray
              ) -> tuple[np.ndarray, Result]:
    """Publish again the cells hidden for directions that no constraint, cut or audit needs
    (see the module docstring); returns the pattern and its audit, at worst the one given.
    The cuts it finds stay in ``constraints``: they are valid whatever the pattern."""
    trial = greedy.prune(constraints, selected, ~candidates, values,
                         np.flatnonzero(candidates & selected))
    since: tuple[np.ndarray, Result] | None = None  # tries only add: see ``Auditor.run``
    for attempt in range(BACKWARD_TRIES):
        removed = selected & ~trial
        if not removed.any() or auditor.expired():
            break
        result = auditor.run(always | trial, certificates=certificates,
                             failure_lps=FAILURE_LPS, since=since)
        since = (always | trial, result)
        log.debug("backward pass: %d cells (%.0f persons) published again, %d suspects",
                  int(removed.sum()), values[removed].sum(), len(result.suspects))
        if result.passed and not result.suspects:
            if values[trial].sum() < values[selected].sum():
                return trial, result
            break
        # The audit's cuts join the constraints and the pattern grows to meet them (often
        # with a removed cell); a failing cell without a cut gets the removed cells of its
        # directions back.
        with_cut = {c.target for c in result.cuts}
        back = np.zeros(selected.size, dtype=bool)
        for cell, _ in result.suspects:
            if cell not in with_cut:
                for d in certificates.get(cell, ()):
                    back[d.cells] = True
        if attempt >= BACKWARD_TRIES // 2:
            # Late tries: every removed cell a cut names comes back (converges faster).
            for cut in result.cuts:
                back[cut.vars] = True
        first = constraints.atleast.shape[0]
        constraints.add_cuts(result.cuts)
        grown, _ = grow(constraints, trial | (back & removed), values,
                        np.arange(first, constraints.atleast.shape[0]),
                        np.zeros(0, dtype=np.int64), _grow_seconds(auditor))
        if (grown == trial).all():
            break
        trial = grown
    return selected, passed


class Mender:
    """Mends cells the audit could not show safe: a checked protecting direction
    (``cubes``, or ``flows`` where cheaper) per cell, its cells hidden; where none is found,
    the smallest published neighbour (a cell sharing a relation) is hidden instead."""

    def __init__(self, table: Table, constraints: Constraints, *,
                 flow_deadline: float = np.inf) -> None:
        self.cubes = Cubes(table)
        self.flows = Flows(self.cubes)
        self.flow_deadline = flow_deadline
        self.values = table.values
        self.costs = table.costs
        self.margin_up = np.maximum(table.array("REQ_HI") - self.values, 0.0)
        self.margin_down = np.maximum(self.values - table.array("REQ_LO"), 0.0)
        free = table.array("FIXED") == FREE
        never = np.zeros(table.size, dtype=bool)
        never[constraints.never] = True
        self.suppressible = free & ~never
        self.needs = table.needs()
        self.rows = sparse.vstack([table.relations.equations, table.relations.inequalities],
                                  format="csr")
        self.cols = self.rows.tocsc()

    def targets(self, cells: np.ndarray, unknown: np.ndarray) -> np.ndarray:
        """The unknown cells that need protection and share a relation with ``cells``."""
        mark = np.zeros(self.values.size)
        mark[cells] = 1.0
        rows = (self.rows @ mark) > 0
        near = (self.cols.T @ rows.astype(float)) > 0
        return np.flatnonzero(near & unknown & self.needs)

    def cover(self, cells: np.ndarray, unknown: np.ndarray, selected: np.ndarray,
              certificates: dict[int, list[Direction]]) -> None:
        """A direction for each of ``cells`` (both sides of its level), largest requirement
        first (its cube is the biggest; smaller ones then often fit inside it)."""
        need = np.maximum(self.margin_up[cells], self.margin_down[cells])
        order = cells[np.lexsort((cells, -need))]
        self.mend([(c, d) for c in order.tolist() for d in (1, -1)], unknown, selected,
                  certificates, neighbour=False, ordered=True)

    def mend(self, suspects: list[tuple[int, int]], unknown: np.ndarray, selected: np.ndarray,
             certificates: dict[int, list[Direction]], *, neighbour: bool = True,
             ordered: bool = False, flows: bool = False) -> set[int]:
        """Give each suspect (cell, side) a direction, else (``neighbour``) hide its smallest
        published neighbour; returns the cells left without a direction. Cells in id order
        unless ``ordered`` (then as given). ``flows``: the cube is compared with an LP-found
        direction (``flows``), the cheaper taken, until ``flow_deadline``."""
        unknown = unknown.copy()
        wanted: dict[int, set[int]] = {}
        for cell, direction in suspects:
            wanted.setdefault(cell, set()).add(direction)
        left: set[int] = set()
        for cell in (wanted if ordered else sorted(wanted)):
            up = self.margin_up[cell] if 1 in wanted[cell] else 0.0
            down = self.margin_down[cell] if -1 in wanted[cell] else 0.0
            if up <= 0 and down <= 0:
                continue
            if any(unknown[d.cells].all() and d.up >= up - ROOM_TOL and d.down >= down - ROOM_TOL
                   for d in certificates.get(cell, ())):
                continue  # an earlier direction still covers it
            found = self.cubes.direction(cell, unknown, up, down, self.suppressible)
            if flows and time.perf_counter() < self.flow_deadline:
                other = self._flows(cell, up, down, unknown)
                if other and (not found or self._cost(other, unknown)
                              < self._cost(found, unknown)):
                    found = other
            if found:
                for d in found:
                    add = d.cells[~unknown[d.cells]]
                    selected[add] = True
                    unknown[add] = True
                certificates.setdefault(cell, []).extend(found)
                continue
            left.add(cell)
            if not neighbour:
                continue
            near = self._neighbours(cell)
            near = near[self.suppressible[near] & ~unknown[near]]
            if near.size:
                pick = near[np.lexsort((near, self.costs[near]))[0]]
                selected[pick] = True
                unknown[pick] = True
        return left

    def _flows(self, cell: int, up: float, down: float, unknown: np.ndarray
               ) -> list[Direction]:
        """LP-found directions giving ``cell`` room ``up`` and ``down`` ([] if a side has
        none); the second side's LP counts the first one's cells as hidden already."""
        out: list[Direction] = []
        unknown = unknown.copy()
        for side, need in ((1, up), (-1, down)):
            if need <= 0 or any((d.up if side == 1 else d.down) >= need - ROOM_TOL
                                for d in out):
                continue
            found = self.flows.direction(cell, side, need, unknown, self.suppressible)
            if found is None:
                return []
            out.append(found)
            unknown[found.cells] = True
        return out

    def _cost(self, directions: list[Direction], unknown: np.ndarray) -> float:
        cells = np.unique(np.concatenate([d.cells for d in directions]))
        return float(self.costs[cells][~unknown[cells]].sum())

    def _neighbours(self, cell: int) -> np.ndarray:
        rows = self.cols.indices[self.cols.indptr[cell]:self.cols.indptr[cell + 1]]
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.unique(self.rows[rows].indices)
