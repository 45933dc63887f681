"""Disclosure control of published tables: pure (no web, database or queue code).

``protect`` takes a release's cells (national cells and the regional cells built from them),
suppresses the sensitive ones (``primary``), hides enough others that none of them can be
recovered from published totals, margins and earlier releases (``secondary``: SciPy's
``milp``, greedy fallback), and proves it (``audit``: an LP per suppressed cell). The
thresholds are data (privacy.yaml, ``parameters``).
"""

from standards.disclosure.parameters import Parameters, load_parameters
from standards.disclosure.protect import protect
from standards.disclosure.release import Protected, Release, key_columns

__all__ = ["Parameters", "Protected", "Release", "key_columns", "load_parameters", "protect"]
