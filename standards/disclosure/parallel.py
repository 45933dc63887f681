"""The one way the disclosure package runs work on several threads.

HiGHS lets go of the GIL while it solves (``highspy`` and SciPy's ``milp`` alike), and each
thread that calls it gets its own HiGHS scheduler, so independent programmes (the audit's
components, the secondary's blocks) solve side by side. Results come back in the order of
the items: what the callers do with them does not depend on which thread finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def each(work: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``work`` on every item, on up to ``threads`` threads (inline for one thread or one
    item); the first exception of any item is raised here."""
    if threads <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(work, items))
