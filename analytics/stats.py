"""Small-sample statistics shared by the pages: exact binomial CIs, Fisher's exact test, BH.

Everything here is plain arithmetic on counts (no database, no Streamlit). Choices:

* Binomial proportion: Clopper-Pearson ("exact") interval from beta quantiles.
* 2x2 tables: Fisher's exact test, two-sided p as in R's ``fisher.test`` (sum of the
  probabilities of all tables with the same margins that are no more likely than the observed
  one, relative tolerance 1e-7). The odds ratio is the **conditional maximum-likelihood
  estimate** with the exact conditional (Cornfield) confidence interval, as R's
  ``fisher.test`` reports it; the unconditional sample odds ratio ad/bc is given beside it.
* Multiple testing: Benjamini-Hochberg step-up adjusted p-values ("q-values").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.stats import beta

_REL_TOL = 1 + 1e-7  # R's fisher.test tolerance when comparing table probabilities


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


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


@dataclass(frozen=True)
class FisherResult:
    """Result of `fisher_exact_2x2` on the table [[a, b], [c, d]]."""

    table: tuple[tuple[int, int], tuple[int, int]]
    p_value: float
    odds_ratio: float           # conditional MLE (as R's fisher.test)
    ci_low: float
    ci_high: float
    sample_odds_ratio: float    # ad / bc (inf or nan with zero cells)
    confidence: float = 0.95

    @property
    def n(self) -> int:
        return sum(sum(row) for row in self.table)


def _support(table: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Possible values of cell a given the margins, and their log hypergeometric probabilities."""
    (a, b), (c, d) = table
    row1, col1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)
    xs = np.arange(lo, hi + 1)
    logp = np.array([_log_comb(row1, x) + _log_comb(n - row1, col1 - x) - _log_comb(n, col1)
                     for x in xs])
    return xs, logp


def _noncentral_pmf(xs: np.ndarray, logp: np.ndarray, log_or: float) -> np.ndarray:
    w = logp + xs * log_or
    w = w - w.max()
    p = np.exp(w)
    return p / p.sum()


def fisher_exact_2x2(table: Sequence[Sequence[int]], confidence: float = 0.95) -> FisherResult:
    """Fisher's exact test (two-sided) with the conditional MLE odds ratio and its exact CI.

    Rows: feature A present / absent; columns: feature B present / absent.

    >>> r = fisher_exact_2x2([[3, 1], [1, 3]])   # R fisher.test(TeaTasting): 0.4857, 6.408, 0.2117-626.2
    >>> round(r.p_value, 4), round(r.odds_ratio, 4), round(r.ci_low, 4), round(r.ci_high, 2)
    (0.4857, 6.4083, 0.2117, 626.24)
    """
    (a, b), (c, d) = [[int(v) for v in row] for row in table]
    if min(a, b, c, d) < 0:
        raise ValueError("counts must be non-negative")
    tab = ((a, b), (c, d))
    xs, logp = _support(tab)
    probs = np.exp(logp)
    observed = probs[xs == a][0]
    p_value = float(min(1.0, probs[probs <= observed * _REL_TOL].sum()))

    if b * c == 0:
        sample_or = math.nan if a * d == 0 else math.inf
    else:
        sample_or = a * d / (b * c)

    lo, hi = int(xs[0]), int(xs[-1])
    if lo == hi:  # a margin is zero: the table carries no information on the odds ratio
        return FisherResult(tab, p_value, math.nan, math.nan, math.nan, sample_or, confidence)

    def mean_at(log_or: float) -> float:
        return float((xs * _noncentral_pmf(xs, logp, log_or)).sum())

    def cdf_at(x: int, log_or: float) -> float:   # P(X <= x)
        return float(_noncentral_pmf(xs, logp, log_or)[xs <= x].sum())

    def sf_at(x: int, log_or: float) -> float:    # P(X >= x)
        return float(_noncentral_pmf(xs, logp, log_or)[xs >= x].sum())

    bound = 60.0  # |log OR| search range (OR from 1e-26 to 1e26)
    if a == lo:
        mle = 0.0
    elif a == hi:
        mle = math.inf
    else:
        mle = math.exp(brentq(lambda t: mean_at(t) - a, -bound, bound, xtol=1e-12))

    alpha = 1 - confidence
    if a == lo:
        ci_low = 0.0
    else:
        ci_low = math.exp(brentq(lambda t: sf_at(a, t) - alpha / 2, -bound, bound, xtol=1e-12))
    if a == hi:
        ci_high = math.inf
    else:
        ci_high = math.exp(brentq(lambda t: cdf_at(a, t) - alpha / 2, -bound, bound, xtol=1e-12))
    return FisherResult(tab, p_value, mle, ci_low, ci_high, sample_or, confidence)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q), in the input order; NaN stays NaN.

    >>> [round(q, 4) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.20])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q.tolist()
    pv = p[ok]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q.tolist()
