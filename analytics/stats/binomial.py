"""Exact (Clopper-Pearson) confidence interval of a binomial proportion."""
from __future__ import annotations

import math

from scipy.stats import beta


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval for k successes out of n.

    Returns (nan, nan) for n == 0 (no evaluable patients: no estimate).

    >>> tuple(round(x, 4) for x in clopper_pearson(9, 19))
    (0.2445, 0.7114)
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return (low, high)
