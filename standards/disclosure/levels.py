"""Protection levels: the interval an intruder's best estimate of a suppressed cell must span.

The audit computes, from everything published, the feasible interval [LOWER, UPPER] of each
suppressed cell's true value v, and requires it to contain [REQUIRED_LOWER, REQUIRED_UPPER]:

* small count (A, 1 <= v < k): [0, k]. Nobody can tell the cell from an empty one, nor from a
  count large enough to publish, so nobody learns that "a few persons" are in it.
* dominance or too few contributors (O, G): [floor(v - p*h), ceil(v + p*h)], p =
  ``dominance_protection``, h the part of the regional figure that comes from states without
  consent (all of it when none consented): that part cannot be told within p%, so neither can
  the figure of a state that dominates it. (The figures of states that consented are
  published anyway: the regional cell can never be estimated below their sum.)
* sender's flag (C, N): as dominance, with at least one person on each side (a flagged zero
  must not be exactly known either).
* a national figure of a state that did not consent to national publication (never published,
  but the regional sums and other releases constrain it): [floor(v(1-q)), ceil(v(1+q))], q =
  ``Parameters.contribution_protection``.

Where several rules apply the hull of their intervals is required. Intervals are integers
(people come whole), so an estimate within the required interval is never "exact up to
rounding".
"""

from __future__ import annotations

import numpy as np

# Tolerance of float arithmetic in the levels (12 * 1.2 is 14.399999999999999).
_EPS = 1e-9


def _floor(x: np.ndarray) -> np.ndarray:
    return np.floor(x + _EPS)


def _ceil(x: np.ndarray) -> np.ndarray:
    return np.ceil(x - _EPS)


def none(value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """No requirement: the interval only has to contain the value itself."""
    v = value.astype(float)
    return v.copy(), v.copy()


def small_count(value: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[0, k] for counts 1..k-1, none otherwise."""
    v = value.astype(float)
    small = (v >= 1) & (v < k)
    return np.where(small, 0.0, v), np.where(small, k.astype(float), v)


def relative(value: np.ndarray, share: float, at_least: float = 0.0,
             of: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[v - w, v + w], w = max(share * of, at_least) (``of``: the value itself unless given),
    rounded outwards, >= 0."""
    v = value.astype(float)
    width = np.maximum((v if of is None else of.astype(float)) * share, at_least)
    return np.maximum(_floor(v - width), 0.0), _ceil(v + width)


def hull(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
         where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``first`` widened by ``second`` where ``where`` holds."""
    return (np.where(where, np.minimum(first[0], second[0]), first[0]),
            np.where(where, np.maximum(first[1], second[1]), first[1]))
