"""Who regresses: regressors (complete or partial) against the other assessable patients, by
continuous features (Mann-Whitney U) and categorical ones (Fisher's exact test)."""
from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from analytics.units import DAYS_PER_MONTH
from analytics.withdrawal.rule import NOT_ASSESSABLE, REGRESSION_CLASSES


EXACT_MWU_MAX = 200  # patients per group up to which the Mann-Whitney U p-value is exact
CONTINUOUS = {"latency_days": ("Latency, first lenalidomide to B-ALL (months)", DAYS_PER_MONTH),
              "len_cumulative_days": ("Cumulative lenalidomide exposure (months)", DAYS_PER_MONTH),
              "marrow_blast_pct": ("Marrow blasts at B-ALL diagnosis (%)", 1.0)}
CATEGORICAL = {"tp53_status": ("TP53", "mutated", "wild-type"),
               "ploidy_category": ("Ploidy", "low hypodiploid", "other ploidy")}


def comparison_of(summary: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    assessable = table[table["classification"] != NOT_ASSESSABLE]
    summary = summary.set_index("patient_id")
    groups = {pid: ("regressors" if c in REGRESSION_CLASSES else "others")
              for pid, c in zip(assessable["patient_id"], assessable["classification"])}
    sub = summary.loc[list(groups)].copy() if groups else summary.iloc[:0].copy()
    sub["group"] = [groups[p] for p in sub.index]
    cont_rows = []
    for column, (label, divisor) in CONTINUOUS.items():
        a = (sub.loc[sub["group"] == "regressors", column].dropna().astype(float) / divisor)
        b = (sub.loc[sub["group"] == "others", column].dropna().astype(float) / divisor)
        row = {"feature": label, "n_regressors": len(a), "n_others": len(b),
               "median_regressors": a.median() if len(a) else math.nan,
               "range_regressors": _range(a), "median_others": b.median() if len(b) else math.nan,
               "range_others": _range(b), "U": math.nan, "p_value": math.nan,
               "test": "Mann-Whitney U, exact, two-sided",
               "not_evaluated": int(sub[column].isna().sum())}
        if len(a) and len(b):
            # Exact up to EXACT_MWU_MAX per group; beyond, scipy's exact null distribution takes
            # seconds to minutes (bench/: 7.5 s at 10,000 patients) while the tie-corrected
            # normal approximation is accurate at such sizes: the test column says which.
            exact = max(len(a), len(b)) <= EXACT_MWU_MAX
            res = stats.mannwhitneyu(a, b, alternative="two-sided",
                                     method="exact" if exact else "asymptotic")
            row.update(U=float(res.statistic), p_value=float(res.pvalue))
            if not exact:
                row["test"] = "Mann-Whitney U, normal approximation (tie-corrected), two-sided"
        cont_rows.append(row)
    cat_rows = []
    for column, (label, positive, other) in CATEGORICAL.items():
        ev = sub[sub[column].notna()]
        pos = ev[column] == positive
        a = int(((ev["group"] == "regressors") & pos).sum())
        b = int(((ev["group"] == "regressors") & ~pos).sum())
        c = int(((ev["group"] == "others") & pos).sum())
        d = int(((ev["group"] == "others") & ~pos).sum())
        row = {"feature": f"{label}: {positive} vs {other}", "regressors_positive": a,
               "regressors_evaluable": a + b, "others_positive": c, "others_evaluable": c + d,
               "not_evaluated": int(sub[column].isna().sum()), "sample_odds_ratio": math.nan,
               "p_value": math.nan, "test": "Fisher exact, two-sided"}
        if a + b and c + d:
            res = stats.fisher_exact([[a, b], [c, d]], alternative="two-sided")
            row.update(sample_odds_ratio=float(res.statistic), p_value=float(res.pvalue))
        cat_rows.append(row)
    return pd.DataFrame(cont_rows), pd.DataFrame(cat_rows)


SUMMARY_COLUMNS = ("patient_id", "len_stop_day", "first_treatment_day", "treated",
                   *CONTINUOUS, *CATEGORICAL)


def _range(x: pd.Series) -> str:
    return f"{x.min():.1f}–{x.max():.1f}" if len(x) else "–"
