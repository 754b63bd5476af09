"""Multiple testing: Benjamini-Hochberg (SciPy), Holm and Bonferroni adjusted p-values.

BH is SciPy's (equal to the former hand-written version to 1e-12: tests/test_genomics_stats.py).
Holm and Bonferroni are a few lines of numpy here, not statsmodels' `multipletests`: for Holm it
runs a full `gc.collect()` on every call (80 ms in a test process, more in a server holding
cached results, with every session's thread waiting). tests/test_stats_multiple.py holds both
to statsmodels and to the definitions.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import false_discovery_control

FAMILYWISE = ("holm", "bonferroni")


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q), in the input order; NaN (not tested) stays NaN
    and does not count among the tests.

    >>> [round(q, 4) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.20])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = false_discovery_control(p[tested], method="bh")
    return q.tolist()


def adjust_pvalues(p: Sequence[float], method: str) -> list[float]:
    """Holm (step-down) or Bonferroni adjusted p-values, in the input order.

    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm"), adjust_pvalues([0.01, 0.04, 0.03], "bonferroni")
    ([0.03, 0.06, 0.06], [0.03, 0.12, 0.09])
    """
    if method not in FAMILYWISE:
        raise ValueError(f"unknown correction {method!r}")
    p = np.asarray(p, dtype=float)
    m = len(p)
    if method == "bonferroni":
        return np.minimum(1.0, m * p).tolist()
    order = np.argsort(p, kind="stable")
    # Step-down: the i-th smallest times (m - i), made non-decreasing in that order, capped at 1.
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, stepped)
    return adjusted.tolist()
