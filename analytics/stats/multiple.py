"""Multiple testing: Benjamini-Hochberg adjusted p-values (SciPy's), keeping untested pairs NaN."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import false_discovery_control


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
