"""The audit: what an intruder can tell about every suppressed cell from everything published.

For a suppression pattern, the published cells (of this release and of every earlier release
of the period) are constants and every other quantity a variable >= 0, tied by all relations
(``relations``). Linear programming gives the feasible interval [LOWER, UPPER] of each
suppressed cell; the cell is safe when the interval contains its required interval
(``levels``). The LPs run per connected component of the unknowns: a published cell separates
what it touches.

Each failing cell yields a cut for the optimiser (Fischetti and Salazar's capacity
constraint, from the LP's duals): for any multipliers of the relations, the intruder's best
estimate is bounded by the reduced costs times the room each unknown has to move (down to 0,
up without bound), so a pattern protects the cell only if the cells it suppresses have room
enough: ``sum(coef_j * s_j) >= rhs`` over the cells that are still published.

Exactness: components with few audited cells get two LPs per cell (the interval exactly,
``EXACT``); in big ones, cells are first shown safe by witness LPs (one feasible point per LP
that moves many cells to their required bounds at once: LOWER/UPPER are then values the cell
can take, the true interval is at least as wide), and only the cells no witness covers get
their exact LPs.

Components are independent programmes, so they run side by side on the auditor's ``threads``
(``parallel``); what they share (the budgets of exact cells and of failure LPs) is handed out
in component order between the stages, so the audit is the same on any number of threads.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Protocol

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from standards.disclosure import parallel
from standards.disclosure.primary import REQ_HI, REQ_LO
from standards.disclosure.table import CANDIDATE, FREE, HIDDEN, KNOWN, Table

TOL = 1e-6
WITNESS_ROUNDS = 6


class Proof(Protocol):
    """A checked direction (``cubes.Direction``): cells that move together, and how far."""

    cells: np.ndarray
    up: float
    down: float


def _certified(proofs: Sequence[Proof], unknown: np.ndarray, value: float
               ) -> tuple[float, float] | None:
    """(lowest, highest) values the cell is shown to take by directions lying wholly in the
    unknowns; None without any."""
    live = [p for p in proofs if unknown[p.cells].all()]
    if not live:
        return None
    return value - max(p.down for p in live), value + max(p.up for p in live)


@dataclass(frozen=True)
class Cut:
    """``sum(coefs * s[vars]) >= rhs`` over free cells: suppress enough room for ``target``.
    ``general``: every pattern the audit passes meets it (a capacity cut from the LP's duals);
    else only the patterns that contain the one it was found in do (a neighbourhood cut)."""

    target: int
    vars: np.ndarray
    coefs: np.ndarray
    rhs: float
    general: bool = True


@dataclass
class Result:
    """The audit of one pattern: per variable (NaN where not computed) and the cuts."""

    lower: np.ndarray
    upper: np.ndarray
    exact: np.ndarray
    audited: np.ndarray   # variables reported (unknown, and either protected or suppressed)
    ok: np.ndarray        # per variable: its interval meets its level (True where none)
    cuts: list[Cut] = field(default_factory=list)
    unprotectable: set[int] = field(default_factory=set)
    lps: int = 0
    # (variable, direction): not shown safe (direction 1: upwards, -1: downwards).
    suspects: list[tuple[int, int]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.ok[self.audited].all())


@dataclass
class _Component:
    lower: dict[int, float]
    upper: dict[int, float]
    exact: set[int]
    cuts: list[Cut]
    unprotectable: set[int]
    lps: int
    suspects: list[tuple[int, int]] = field(default_factory=list)
    partial: bool = False  # some cells not given their exact LP (budget)
    exact_mode: bool = False  # every target given both LPs (counts against ``exact_cells``)


@dataclass
class _Plan:
    """One component's audit in the making: filled by the stages of ``Auditor.run``."""

    members: np.ndarray
    rows: np.ndarray
    known: dict[int, tuple[float, float]]
    key: bytes
    comp: _Component | None  # from the cache, or made by ``_witnesses``
    stale: _Component | None = None  # cached but partial: stands if no LP is left for it
    fresh: bool = False  # computed in this audit (else ``comp`` came from the cache)
    use_exact: bool = False
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lp: _LP | None = None
    position: dict[int, int] = field(default_factory=dict)
    # direction -> cells that get their exact LP in it (1: upwards, -1: downwards)
    todo: dict[int, list[int]] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)  # directions beyond the failure LPs


class Auditor:
    """Audits patterns of one table; components already audited are remembered (a published
    cell's value never changes, so a component is known by its unknowns)."""

    def __init__(self, table: Table, *, exact_cells: int, seconds: float = np.inf,
                 threads: int = 1) -> None:
        self.table = table
        self.values = table.values
        self.fixed = table.array("FIXED")
        self.kind = table.array("KIND")
        self.req_lo = table.array(REQ_LO).astype(float)
        self.req_hi = table.array(REQ_HI).astype(float)
        self.needs = table.needs()
        slack = (self.kind == HIDDEN) & ~self.needs
        eq, ub = eliminate(table.relations.equations.tocsr(),
                           table.relations.inequalities.tocsr(), slack,
                           table.array("AREA"))
        self.eq, self.ub = eq, ub
        self.n_eq = eq.shape[0]
        self.all_rows = sparse.vstack([eq, ub], format="csr")
        self.all_cols = self.all_rows.tocsc()
        self.exact_cells = exact_cells
        self.threads = threads
        self.cache: dict[bytes, _Component] = {}
        # perf_counter() after which no LP is started: cells left are suspects, unproven.
        self.deadline = time.perf_counter() + seconds

    def expired(self) -> bool:
        return time.perf_counter() > self.deadline

    # -- components ------------------------------------------------------------------------

    def components(self, unknown: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(unknown variables, rows touching them) of each connected component, in order of
        their smallest variable."""
        cols = np.flatnonzero(unknown)
        if cols.size == 0:
            return
        sub = self.all_cols[:, cols].tocsr()
        n_rows = sub.shape[0]
        graph = sparse.bmat([[None, sub], [sub.T, None]], format="csr")
        _, labels = connected_components(graph, directed=False)
        var_labels = labels[n_rows:]
        row_labels = labels[:n_rows]
        touched = np.diff(sub.indptr) > 0
        order = np.argsort(var_labels, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(var_labels[order]) != 0, True])
        rows_by_label: dict[int, np.ndarray] = {}
        touched_rows = np.flatnonzero(touched)
        row_order = np.argsort(row_labels[touched_rows], kind="stable")
        rl = row_labels[touched_rows][row_order]
        rb = np.flatnonzero(np.r_[True, np.diff(rl) != 0, True])
        for a, b in itertools.pairwise(rb if rl.size else ()):
            rows_by_label[int(rl[a])] = touched_rows[row_order[a:b]]
        for a, b in itertools.pairwise(bounds):
            members = cols[order[a:b]]
            label = int(var_labels[order[a]])
            yield np.sort(members), rows_by_label.get(label, np.zeros(0, dtype=np.int64))

    # -- the audit ---------------------------------------------------------------------------

    def run(self, unknown: np.ndarray, *, certificates: Mapping[int, Sequence[Proof]] = {},
            failure_lps: int | None = None,
            since: tuple[np.ndarray, Result] | None = None) -> Result:
        """Audit the pattern whose unknown variables are ``unknown``.

        ``certificates``: directions already proven for some cells (``cubes``); a cell whose
        direction lies wholly in the unknowns is safe without an LP. Every cell no witness
        covers gets its exact LP (bounds, and a cut if it fails), up to ``failure_lps`` LPs in
        all (None: no limit); cells beyond are only listed in ``Result.suspects``.

        ``since``: an earlier pattern's unknowns and its audit. When ``unknown`` contains
        them all, every cell that audit showed safe is still safe, without an LP: hiding more
        only frees more variables (any point feasible before, the newly hidden cells at their
        true values, is feasible now), so no interval narrows. Its interval is reported (at
        least as wide now, like a witness's).

        The components' LPs run on ``threads`` threads (HiGHS lets go of the GIL while it
        solves). The result does not depend on their number: what is shared between
        components, the budgets of exact cells and of ``failure_lps``, is handed out in
        component order between the two parallel stages (witnesses, then exact LPs).
        """
        n = self.table.size
        lower = np.full(n, np.nan)
        upper = np.full(n, np.nan)
        exact = np.zeros(n, dtype=bool)
        ok = np.ones(n, dtype=bool)
        audited = unknown & (self.needs | (self.kind == CANDIDATE))
        result = Result(lower, upper, exact, audited, ok)
        budget = self.exact_cells
        failure_budget = np.inf if failure_lps is None else failure_lps
        safe = np.zeros(n, dtype=bool)
        if since is not None and not (since[0] & ~unknown).any():
            before = since[1]
            safe = before.audited & before.ok & unknown
        plans: list[_Plan] = []
        for members, rows in self.components(unknown):
            targets = members[audited[members]]
            if targets.size == 0:
                continue
            protect = members[self.needs[members]]
            known: dict[int, tuple[float, float]] = {}
            for j in protect.tolist():
                proof = _certified(certificates.get(j, ()), unknown, self.values[j])
                # A certificate counts only when it covers both required sides: one made for
                # the upward side alone must not spare the downward side its LP (the cell
                # failed without a suspect, so nothing mended it and the release was refused).
                if (proof is not None and proof[0] <= self.req_lo[j] + TOL
                        and proof[1] >= self.req_hi[j] - TOL):
                    known[j] = proof
            kept = [j for j in protect.tolist() if safe[j] and j not in known]
            for j in kept:
                known[j] = (float(since[1].lower[j]), float(since[1].upper[j]))  # type: ignore[index]
            # A component computed without the cells kept from ``since`` is remembered apart:
            # reused without ``since``, it would lack their intervals.
            key = members.tobytes() + (b"since" if kept else b"")
            comp = self.cache.get(key)
            stale = None
            if comp is not None and comp.partial and failure_budget > 0:
                # Computed with too few LPs: again, if there are more when its turn comes
                # (else the cached one stands: see the handout below).
                stale, comp = comp, None
            plan = _Plan(members, rows, known, key, comp, stale=stale, fresh=comp is None)
            if comp is None:
                plan.use_exact = targets.size <= budget
                plan.targets = targets if plan.use_exact else np.array(
                    [j for j in protect.tolist() if j not in known], dtype=np.int64)
            if (comp.exact_mode if comp is not None else plan.use_exact):
                budget -= targets.size
            plans.append(plan)
        fresh = [p for p in plans if p.comp is None]
        parallel.each(lambda p: self._witnesses(p, unknown), fresh, self.threads)
        # The failure LPs, handed out in component order as one thread would.
        for plan in fresh:
            if plan.stale is not None and failure_budget <= 0:
                plan.comp, plan.fresh, plan.lp = plan.stale, False, None
                continue
            for direction, todo in plan.todo.items():
                if not plan.use_exact and len(todo) > failure_budget:
                    plan.skipped.add(direction)
                elif not plan.use_exact:
                    failure_budget -= len(todo)
        fresh = [p for p in fresh if p.fresh]
        parallel.each(lambda p: self._exact_lps(p, unknown), fresh, self.threads)
        for plan in plans:
            comp = plan.comp
            assert comp is not None
            if plan.fresh:
                self.cache[plan.key] = comp
            result.lps += comp.lps
            for j, (lo, hi) in plan.known.items():
                lower[j], upper[j] = lo, hi
            for j, v in comp.lower.items():
                lower[j] = v
            for j, v in comp.upper.items():
                upper[j] = v
            exact[list(comp.exact)] = True
            result.cuts.extend(comp.cuts)
            result.unprotectable |= comp.unprotectable
            result.suspects.extend(s for s in comp.suspects if s[0] not in plan.known)
        value = self.values
        lo_ok = (self.req_lo >= value - TOL) | (lower <= self.req_lo + TOL)
        hi_ok = (self.req_hi <= value + TOL) | (upper >= self.req_hi - TOL)
        ok[audited] = (lo_ok & hi_ok)[audited]
        return result

    def _witnesses(self, plan: _Plan, unknown: np.ndarray) -> None:
        """The component's LP, and per direction the cells no witness covers (all of its
        targets in exact mode)."""
        lp = _LP(self, plan.members, plan.rows, unknown)
        comp = _Component({}, {}, set(), [], set(), 0, [], exact_mode=plan.use_exact)
        plan.lp, plan.comp = lp, comp
        position = {int(j): i for i, j in enumerate(plan.members)}
        plan.position = position
        for direction in (1, -1):
            # direction 1: how high can the cell go; -1: how low.
            required = self.req_hi if direction == 1 else self.req_lo
            todo = [int(j) for j in plan.targets
                    if plan.use_exact or direction * (required[j] - self.values[j]) > TOL]
            if not plan.use_exact and len(todo) > 1:
                todo = self._witness(lp, comp, todo, direction, position)
            plan.todo[direction] = todo

    def _exact_lps(self, plan: _Plan, unknown: np.ndarray) -> None:
        """Each cell's exact LP in the directions it was given, and a cut where it fails;
        the cells of a direction the budget did not reach are suspects without an LP."""
        lp, comp = plan.lp, plan.comp
        assert lp is not None and comp is not None
        plan.lp = None  # its HiGHS model is not needed past this component
        solved: dict[int, int] = {}
        for direction, todo in plan.todo.items():
            if direction in plan.skipped:
                comp.partial = True
                comp.suspects.extend((j, direction) for j in todo)
                continue
            required = self.req_hi if direction == 1 else self.req_lo
            for n_done, j in enumerate(todo):
                if self.expired():
                    comp.partial = True
                    comp.suspects.extend((k, direction) for k in todo[n_done:])
                    break
                bound, res = lp.extreme(plan.position[j], direction)
                comp.lps += 1
                solved[j] = solved.get(j, 0) + 1
                (comp.upper if direction == 1 else comp.lower)[j] = bound
                if direction * (required[j] - bound) > TOL and res is not None:
                    comp.suspects.append((j, direction))
                    cut = self._cut(lp, j, direction, res, unknown)
                    if cut is None:
                        comp.unprotectable.add(j)
                    else:
                        comp.cuts.append(cut)
        comp.exact = {j for j, count in solved.items() if count == 2}

    def _witness(self, lp: _LP, comp: _Component, todo: list[int], direction: int,
                 position: dict[int, int]) -> list[int]:
        """Certify as many cells as possible with feasible points; return the rest."""
        required = self.req_hi if direction == 1 else self.req_lo
        store = comp.upper if direction == 1 else comp.lower
        left = list(todo)
        for _ in range(WITNESS_ROUNDS):
            if len(left) <= 1:
                break
            margin = np.array([direction * (required[j] - self.values[j]) for j in left])
            point = lp.witness(np.array([position[j] for j in left]), direction, margin)
            comp.lps += 1
            if point is None:
                break
            moved = direction * (point - self.values[left])
            done = moved >= margin - TOL
            for j, y, d in zip(left, point, done, strict=True):
                if d:
                    store[j] = float(y)
            if not done.any():
                break
            left = [j for j, d in zip(left, done, strict=True) if not d]
        return left

    def _cut(self, lp: _LP, target: int, direction: int, res: object,
             unknown: np.ndarray) -> Cut | None:
        """The capacity cut from the duals of the LP that found ``target`` under-protected."""
        lam = np.asarray(res.eqlin.marginals) if lp.n_eq_rows else np.zeros(0)  # type: ignore[attr-defined]
        mu = np.asarray(res.ineqlin.marginals) if lp.n_ub_rows else np.zeros(0)  # type: ignore[attr-defined]
        n = self.table.size
        c = np.zeros(n)
        c[target] = -direction
        r = c.copy()
        if lp.eq_rows.size:
            r -= self.eq[lp.eq_rows].T @ lam
        if lp.ub_rows.size:
            r -= self.ub[lp.ub_rows].T @ mu
        g = -r
        slack = -(self.ub[lp.ub_rows] @ self.values) if lp.ub_rows.size else np.zeros(0)
        dual_const = float(np.sum(-mu * slack)) if mu.size else 0.0
        required = self.req_hi[target] if direction == 1 else self.req_lo[target]
        margin = direction * (required - self.values[target])
        touched = np.flatnonzero(np.abs(g) > 1e-7)
        room = np.where(g[touched] > 0, np.inf, -g[touched] * self.values[touched])
        free = self.fixed[touched] == FREE
        always = ~free & (self.fixed[touched] != KNOWN)
        const = float(room[always].sum())
        # Sanity: at this pattern the bound is the LP's own optimum (strong duality).
        now = dual_const + const + float(room[free & unknown[touched]].sum())
        gain = direction * (lp.last_bound - self.values[target])
        if not np.isfinite(now) or abs(now - gain) > 1e-5 * (1 + abs(gain)):
            return self._neighbourhood_cut(lp, target, unknown, margin)
        rhs = margin - dual_const - const
        if rhs <= TOL:
            return None
        vars_ = touched[free]
        coefs = np.minimum(room[free], rhs)
        keep = coefs > 1e-9
        vars_, coefs = vars_[keep], coefs[keep]
        if coefs.sum() < rhs - TOL:
            return None
        return Cut(target, vars_, coefs, rhs)

    def _neighbourhood_cut(self, lp: _LP, target: int, unknown: np.ndarray,
                           margin: float) -> Cut | None:
        """A weaker valid cut: suppress at least one published free cell next to the
        component (otherwise the component, and the bound, cannot grow)."""
        rows = self.all_rows[np.concatenate([lp.eq_rows, lp.ub_rows + self.n_eq])]
        near = np.unique(rows.indices)
        near = near[(self.fixed[near] == FREE) & ~unknown[near]]
        if near.size == 0:
            return None
        return Cut(target, near, np.ones(near.size), 1.0, general=False)


class _LP:
    """The intruder's LP over one component: unknowns as variables, published constants
    folded into the right-hand sides."""

    def __init__(self, auditor: Auditor, members: np.ndarray, rows: np.ndarray,
                 unknown: np.ndarray) -> None:
        self.n = members.size
        self.members = members
        known_values = np.where(unknown, 0.0, auditor.values)
        self.eq_rows = rows[rows < auditor.n_eq]
        self.ub_rows = rows[rows >= auditor.n_eq] - auditor.n_eq
        eq = auditor.eq[self.eq_rows]
        ub = auditor.ub[self.ub_rows]
        self.A_eq = eq[:, members].tocsr() if self.eq_rows.size else None
        self.b_eq = -(eq @ known_values) if self.eq_rows.size else None
        self.A_ub = ub[:, members].tocsr() if self.ub_rows.size else None
        self.b_ub = -(ub @ known_values) if self.ub_rows.size else None
        self.n_eq_rows = self.eq_rows.size
        self.n_ub_rows = self.ub_rows.size
        self.values = auditor.values[members]
        self.last_bound = np.nan
        self._highs: highspy.Highs | None = None
        self._target: int | None = None

    def extreme(self, i: int, direction: int) -> tuple[float, object | None]:
        """max (direction 1) or min (-1) of variable i: the bound and the solver's result
        (its row duals, in ``linprog``'s shape, for the cut).

        One HiGHS model per component, kept between calls: only the objective changes from
        one cell to the next, so the simplex starts from the last optimal basis (a few pivots
        instead of a solve from scratch: the audit's LPs are most of a release's time)."""
        h = self._model()
        if self._target is not None:
            h.changeColCost(self._target, 0.0)
        h.changeColCost(i, -float(direction))
        self._target = i
        h.run()
        status = h.getModelStatus()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded,
                          highspy.HighsModelStatus.kUnboundedOrInfeasible):
            # From the last basis HiGHS can end without a verdict ("Unknown") where a solve
            # from scratch finds one (seen on an unbounded cell of a random table): once more,
            # afresh, before calling the relations inconsistent.
            self._highs = None
            h = self._model()
            h.changeColCost(i, -float(direction))
            h.run()
            status = h.getModelStatus()
        if status in (highspy.HighsModelStatus.kUnbounded,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible) and direction == 1:
            self.last_bound = np.inf
            return np.inf, None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"audit LP failed ({h.modelStatusToString(status)}); the "
                               "relations are inconsistent with the values (an earlier release "
                               "without TRUE_VALUE whose cells were revised?)")
        solution = h.getSolution()
        bound = float(solution.col_value[i])
        duals = np.asarray(solution.row_dual)
        self.last_bound = bound
        return bound, SimpleNamespace(
            ineqlin=SimpleNamespace(marginals=duals[:self.n_ub_rows]),
            eqlin=SimpleNamespace(marginals=duals[self.n_ub_rows:]))

    def _model(self) -> highspy.Highs:
        if self._highs is not None:
            return self._highs
        parts = [m for m in (self.A_ub, self.A_eq) if m is not None]
        matrix = (sparse.vstack(parts, format="csr") if parts
                  else sparse.csr_matrix((0, self.n)))
        b_ub = self.b_ub if self.b_ub is not None else np.zeros(0)
        b_eq = self.b_eq if self.b_eq is not None else np.zeros(0)
        self._highs = _highs(matrix, cost=np.zeros(self.n), col_lower=np.zeros(self.n),
                             col_upper=np.full(self.n, highspy.kHighsInf),
                             row_lower=np.concatenate([np.full(b_ub.size, -highspy.kHighsInf),
                                                       b_eq]),
                             row_upper=np.concatenate([b_ub, b_eq]), primal=True)
        return self._highs

    def witness(self, positions: np.ndarray, direction: int, margin: np.ndarray
                ) -> np.ndarray | None:
        """A feasible point that moves as many of ``positions`` as far as their margins
        (capped): max sum(t_j / margin_j), t_j <= direction * (y_j - v_j), t_j <= margin_j."""
        m = positions.size
        scale = 1.0 / np.maximum(margin, 1.0)
        link = sparse.hstack([
            sparse.csr_matrix((np.full(m, -float(direction)), (np.arange(m), positions)),
                              shape=(m, self.n)),
            sparse.identity(m, format="csr")], format="csr")
        parts = [link]
        row_lower = [np.full(m, -highspy.kHighsInf)]
        row_upper = [-direction * self.values[positions]]
        for matrix, rhs, equal in ((self.A_ub, self.b_ub, False), (self.A_eq, self.b_eq, True)):
            if matrix is not None and rhs is not None:
                parts.append(sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], m))],
                                           format="csr"))
                row_lower.append(rhs if equal else np.full(rhs.size, -highspy.kHighsInf))
                row_upper.append(rhs)
        # HiGHS directly: scipy's ``linprog`` checks and converts its inputs on every call,
        # which cost more than the solve on these small programmes.
        h = _highs(sparse.vstack(parts, format="csr"),
                   cost=np.concatenate([np.zeros(self.n), -scale]),
                   col_lower=np.concatenate([np.zeros(self.n), np.full(m, -highspy.kHighsInf)]),
                   col_upper=np.concatenate([np.full(self.n, highspy.kHighsInf), margin]),
                   row_lower=np.concatenate(row_lower), row_upper=np.concatenate(row_upper))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)[positions]


# HiGHS's ``simplex_strategy`` for the primal simplex.
PRIMAL_SIMPLEX = 4


def _highs(matrix: sparse.csr_matrix, *, cost: np.ndarray, col_lower: np.ndarray,
           col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
           primal: bool = False) -> highspy.Highs:
    """A quiet HiGHS model of ``row_lower <= matrix @ x <= row_upper``, ``col_lower <= x <=
    col_upper``, minimising ``cost @ x``. ``primal``: for a model solved again and again with
    only its objective changed (``_LP.extreme``): the last optimal basis stays primal
    feasible, so the primal simplex goes on from it, where HiGHS's default (the dual simplex)
    does not (the audit of twenty states' naive pattern: 23.3 -> 9.1 s, the same bounds)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if primal:
        h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    lp = highspy.HighsLp()
    lp.num_col_ = matrix.shape[1]
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    h.passModel(lp)
    return h


def eliminate(eq: sparse.csr_matrix, ub: sparse.csr_matrix, slack: np.ndarray,
              area: np.ndarray) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """The relations with the ``slack`` unknowns (hidden figures nobody needs protected: a
    group of states without consent) solved away, an exact projection that keeps the LPs
    small: a slack unknown ``e`` defined by an equation ``c*e + rest = 0`` (its region's sum)
    is replaced by ``-rest/c`` everywhere else, and that equation becomes ``-rest/c >= 0``.
    Substituted equations that are sums of equations already there (a group's own totals,
    once each member area's are known) are dropped: they only said the same again."""
    n = eq.shape[1]
    if not slack.any() or eq.shape[0] == 0:
        return eq, ub
    per_row = np.asarray((eq != 0).astype(np.int64) @ slack.astype(np.int64)).ravel()
    cols = eq.tocsc()
    pivot_of: dict[int, int] = {}
    for e in np.flatnonzero(slack).tolist():
        rows = cols.indices[cols.indptr[e]:cols.indptr[e + 1]]
        rows = rows[per_row[rows] == 1]
        if rows.size:
            pivot_of[e] = int(rows.min())
    if not pivot_of:
        return eq, ub
    elim = np.array(sorted(pivot_of), dtype=np.int64)
    pivots = np.array([pivot_of[e] for e in elim.tolist()], dtype=np.int64)
    coef = np.asarray(eq[pivots, elim]).ravel()
    defs = sparse.diags(1.0 / coef) @ eq[pivots]  # e + rest/c = 0
    keep = np.ones(eq.shape[0], dtype=bool)
    keep[pivots] = False
    rest = eq[keep]
    touched = np.asarray((rest[:, elim] != 0).sum(axis=1)).ravel() > 0
    new_eq = (rest - rest[:, elim] @ defs).tocsr()
    new_ub = (ub - ub[:, elim] @ defs).tocsr()
    drop_cols = np.zeros(n, dtype=bool)
    drop_cols[elim] = True
    # e >= 0 with e = -rest/c:  rest/c <= 0.
    nonneg = defs.tocsr() @ sparse.diags((~drop_cols).astype(float))
    new_eq = _tidy(new_eq @ sparse.diags((~drop_cols).astype(float)), keep_rows=True)
    new_ub = _tidy(sparse.vstack([new_ub @ sparse.diags((~drop_cols).astype(float)),
                                  nonneg], format="csr"))
    # Drop substituted equations that are sums of unchanged ones (area by area).
    unchanged = {_canonical(new_eq, r) for r in np.flatnonzero(~touched).tolist()}
    redundant = np.zeros(new_eq.shape[0], dtype=bool)
    for r in np.flatnonzero(touched).tolist():
        cells = new_eq.indices[new_eq.indptr[r]:new_eq.indptr[r + 1]]
        data = new_eq.data[new_eq.indptr[r]:new_eq.indptr[r + 1]]
        if cells.size == 0:
            redundant[r] = True
            continue
        parts: dict[object, list[tuple[int, float]]] = {}
        for c, d in zip(cells.tolist(), data.tolist(), strict=True):
            parts.setdefault(area[c], []).append((c, d))
        redundant[r] = all(_key(p) in unchanged for p in parts.values())
    return _tidy(new_eq[~redundant]), new_ub


def _key(entries: list[tuple[int, float]]) -> tuple:
    entries = sorted(entries)
    if entries[0][1] < 0:
        entries = [(c, -d) for c, d in entries]
    return tuple((c, round(d, 9)) for c, d in entries)


def _canonical(matrix: sparse.csr_matrix, r: int) -> tuple:
    a, b = matrix.indptr[r], matrix.indptr[r + 1]
    return _key(list(zip(matrix.indices[a:b].tolist(), matrix.data[a:b].tolist(), strict=True)))


def _tidy(matrix: sparse.csr_matrix, keep_rows: bool = False) -> sparse.csr_matrix:
    matrix = matrix.tocsr()
    matrix.data[np.abs(matrix.data) < 1e-12] = 0.0
    matrix.eliminate_zeros()
    return matrix if keep_rows else matrix[np.diff(matrix.indptr) > 0]
