"""Log-rank tests from aggregated counts: k groups, pairwise with Holm or Bonferroni correction."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.stats import adjust_pvalues
from analytics.survival.km import ordered_groups
from analytics.survival.patients import km_counts
from analytics.survival.spec import SurvivalSpec


# --- log-rank ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankResult:
    statistic: float
    df: int
    p_value: float
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    groups: tuple[str, ...]


def logrank_from_counts(counts: pd.DataFrame) -> LogRankResult:
    """k-group log-rank test from aggregated counts (group, time_days, n_event, n_censored).

    Same statistic as lifelines' `multivariate_logrank_test` (and `logrank_test` for k=2):
    U = O - E over the first k-1 groups, chi2 = U' V^-1 U with hypergeometric covariance V.
    Patients "not evaluated" for the grouping attribute are drawn but never tested: an unknown
    value is not a group to compare.
    """
    counts = evaluated_only(counts)
    groups = ordered_groups(counts)
    if len(groups) < 2:
        raise ValueError("a log-rank test needs at least two groups")
    wide_d = counts.pivot_table(index="time_days", columns="group", values="n_event",
                                aggfunc="sum", fill_value=0)[groups]
    wide_c = counts.pivot_table(index="time_days", columns="group", values="n_censored",
                                aggfunc="sum", fill_value=0)[groups]
    leaving = (wide_d + wide_c).to_numpy(float)
    d = wide_d.to_numpy(float)
    # at risk at t: everyone whose time is >= t = total minus those who left strictly before t
    n = leaving[::-1].cumsum(axis=0)[::-1]
    N = n.sum(axis=1)
    D = d.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n * (D / N)[:, None]
        factor = np.where(N > 1, D * (N - D) / (N * N * (N - 1)), 0.0)
    k = len(groups)
    V = np.zeros((k, k))
    for j in range(len(N)):
        if D[j] == 0:
            continue
        nj = n[j]
        V += factor[j] * (np.diag(nj) * N[j] - np.outer(nj, nj))
    O = d.sum(axis=0)
    E = expected.sum(axis=0)
    U = (O - E)[:-1]
    Vr = V[:-1, :-1]
    statistic = float(U @ np.linalg.pinv(Vr) @ U)
    df = k - 1
    return LogRankResult(statistic, df, float(stats.chi2.sf(statistic, df)), tuple(O), tuple(E),
                         tuple(groups))


def evaluated_only(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts without the "not evaluated" group (tests compare evaluated groups only)."""
    return counts[counts["group"] != NOT_EVALUATED]


def logrank(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec) -> LogRankResult | None:
    """Log-rank test across the evaluated groups of `spec` (None when fewer than two)."""
    counts = evaluated_only(km_counts(db, cohort_filter, spec))
    if counts["group"].nunique() < 2 or counts["n_event"].sum() == 0:
        return None
    return logrank_from_counts(counts)


def pairwise_from_counts(counts: pd.DataFrame, correction: str = "holm") -> pd.DataFrame:
    counts = evaluated_only(counts)
    groups = ordered_groups(counts)
    rows = []
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            pair = counts[counts["group"].isin([a, b])]
            if pair["n_event"].sum() == 0:
                rows.append({"group A": a, "group B": b, "chi2": math.nan, "p": math.nan})
                continue
            r = logrank_from_counts(pair)
            rows.append({"group A": a, "group B": b, "chi2": r.statistic, "p": r.p_value})
    table = pd.DataFrame(rows, columns=["group A", "group B", "chi2", "p"])
    valid = table["p"].notna()
    table[f"p ({correction})"] = math.nan
    if valid.any():
        table.loc[valid, f"p ({correction})"] = adjust_pvalues(table.loc[valid, "p"].tolist(), correction)
    return table
