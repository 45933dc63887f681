"""The thresholds of disclosure control, read from ``privacy.yaml`` (section ``disclosure``).

They are data, not code: the regional task force changes a threshold by editing the file, and
every figure cites the seed line that motivates it there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standards.model import Standard


@dataclass(frozen=True)
class Parameters:
    """What counts as sensitive and how well a suppressed cell must be protected.

    ``k_default``/``k_by_need``: counts 1..k-1 are small (k by SPEC_NEED code, else default).
    ``min_contributors``/``dominance_share``: the contributors and dominance rules of regional
    cells. ``dominance_protection``: an O, G, C or N cell may not be estimated closer than this
    share of its value. ``time_limit_seconds``: the budget of the exact secondary-suppression
    model over all blocks; blocks left when it is spent use the greedy fallback.
    ``release_seconds``: the whole protection (secondary suppression and its audit) must end
    within this; a release not proven safe by then is refused, never published half-proven
    (a worker is not held for hours by a table too big for the method).

    Extensions (not in privacy.yaml, tuning of the computation only):
    ``exact_audit_cells``: up to this many audited cells per release get their exact feasible
    interval from two LPs each; beyond it, cells are first proven safe by LPs that certify many
    cells at once, and only the rest get exact LPs. ``max_rounds``: rounds of audit cuts for
    which the exact model decides the touched blocks again from scratch; after them the
    pattern only grows to meet the cuts (``secondary.grow``). 0: from the first cuts on
    (synthetic 20 states of one measure: 211,284 persons in 70 s against 207,647 in 104 s
    with 2 rounds; a from-scratch round took 7-31 s, a growth 0.7-1.9 s). ``threads``: the
    solver (the audit's components, the secondary's blocks) runs on this many threads
    (``solver_threads``; 0: one per core this process may use); the release is the same on any
    number unless a block of the exact model runs out of its time.
    """

    k_default: int = 5
    k_by_need: dict[str, int] = field(default_factory=dict)
    min_contributors: int = 3
    dominance_share: float = 0.85
    dominance_protection: float = 0.20
    time_limit_seconds: float = 30.0
    release_seconds: float = 600.0
    exact_audit_cells: int = 400
    max_rounds: int = 0
    threads: int = 0

    @property
    def solver_threads(self) -> int:
        """``threads``, or one per core this process may use (its CPU affinity, where the
        system tells it: a container's or a worker's share, not the machine's)."""
        if self.threads > 0:
            return self.threads
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)

    def k(self, need: str | None) -> int:
        """The small-count threshold of a cell of this SPEC_NEED code."""
        return self.k_by_need.get(need or "", self.k_default)

    @property
    def contribution_protection(self) -> float:
        """How closely a published table may tell the figure of a state that did not consent to
        national publication: no closer than the dominance rule lets a regional total tell it.
        A state with exactly ``dominance_share`` of a regional total, known only through that
        total, lies in [0, total] = [0, v / share]: a relative margin of 1/share - 1 (17.6% at
        85%)."""
        return 1.0 / self.dominance_share - 1.0


def parameters_from(section: Mapping[str, Any]) -> Parameters:
    """Parameters from the ``disclosure`` section of privacy.yaml (defaults where absent)."""
    small = section.get("small_counts") or {}
    contributors = section.get("contributors") or {}
    protection = section.get("protection") or {}
    solver = section.get("solver") or {}
    default = Parameters()
    by_need = {str(code): int(rule["k"])
               for code, rule in (small.get("by_spec_need") or {}).items()}
    parameters = Parameters(
        k_default=int(small.get("k", default.k_default)),
        k_by_need=by_need,
        min_contributors=int(contributors.get("min_states", default.min_contributors)),
        dominance_share=float(contributors.get("dominance_share", default.dominance_share)),
        dominance_protection=float(protection.get("dominance", default.dominance_protection)),
        time_limit_seconds=float(solver.get("time_limit_seconds", default.time_limit_seconds)),
        release_seconds=float(solver.get("release_seconds", default.release_seconds)),
    )
    if parameters.k_default < 1 or any(k < 1 for k in by_need.values()):
        raise ValueError("privacy.yaml disclosure: every k must be at least 1")
    if not 0 < parameters.dominance_share <= 1:
        raise ValueError("privacy.yaml disclosure: dominance_share must be in (0, 1]")
    if min(parameters.dominance_protection, parameters.time_limit_seconds,
           parameters.release_seconds) < 0:
        raise ValueError("privacy.yaml disclosure: protection and time limit must be >= 0")
    return parameters


def load_parameters(standard: Standard | None = None) -> Parameters:
    """The parameters of ``standard`` (the current standard when None)."""
    if standard is None:
        from standards.loader import load_standard

        standard = load_standard()
    return parameters_from(standard.disclosure)
