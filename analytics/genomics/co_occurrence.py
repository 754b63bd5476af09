"""Co-occurrence of two alterations among patients evaluable for both: 2x2 counts, Fisher's exact
test, the all-pairs matrix with Benjamini-Hochberg adjustment, and its heatmap."""
from __future__ import annotations

from itertools import combinations

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics.features import ALTERED, feature_names, pattern_status, status_patterns
from analytics.stats import benjamini_hochberg, fisher_exact_2x2


def cooccurrence(db: CohortDatabase, cohort_filter: CohortFilter, feature_a: str, feature_b: str,
                 confidence: float = 0.95) -> dict:
    """2x2 table of two features among patients evaluable for both, with Fisher's exact test.

    Returns dict(table=DataFrame 2x2 (rows: A altered / not; columns: B altered / not),
    n_both=evaluable for both, n_excluded=not evaluable for at least one, fisher=FisherResult
    or None when nobody is evaluable for both).
    """
    patterns = status_patterns(db, cohort_filter)
    status = pattern_status(db, patterns)
    for feat in (feature_a, feature_b):
        if feat not in status.columns:
            raise ValueError(f"unknown alteration '{feat}'")
    counts, n_both = _pair_counts(status, patterns["n"].to_numpy(), feature_a, feature_b)
    table = pd.DataFrame(counts, index=[f"{feature_a} altered", f"{feature_a} not altered"],
                         columns=[f"{feature_b} altered", f"{feature_b} not altered"])
    fisher = fisher_exact_2x2(counts, confidence) if n_both else None
    return dict(table=table, n_both=n_both, n_excluded=int(patterns["n"].sum()) - n_both, fisher=fisher)


def _pair_counts(status: pd.DataFrame, weights: np.ndarray, a: str, b: str) -> tuple[list[list[int]], int]:
    """2x2 patient counts [[both, a only], [b only, neither]] among patients evaluable for a and b."""
    sa, sb = status[a].to_numpy(dtype=object), status[b].to_numpy(dtype=object)
    both = (sa != NOT_EVALUATED) & (sb != NOT_EVALUATED)
    aa, bb = sa == ALTERED, sb == ALTERED
    cell = [[both & aa & bb, both & aa & ~bb], [both & ~aa & bb, both & ~aa & ~bb]]
    return [[int(weights[c].sum()) for c in row] for row in cell], int(weights[both].sum())


def cooccurrence_matrix(db: CohortDatabase, cohort_filter: CohortFilter, min_evaluable: int = 10,
                        min_altered: int = 2) -> pd.DataFrame:
    """All pairs of features with >= `min_evaluable` patients evaluable for both and each feature
    altered in >= `min_altered` evaluable patients: counts, conditional-MLE OR with exact CI,
    Fisher p and Benjamini-Hochberg q across the pairs tested."""
    patterns = status_patterns(db, cohort_filter)
    weights = patterns["n"].to_numpy()
    status = pattern_status(db, patterns)
    feats = [f for f in feature_names(db) if f in status.columns
             and weights[status[f].to_numpy(dtype=object) == ALTERED].sum() >= min_altered]
    rows = []
    for a, b in combinations(feats, 2):
        counts, n_both = _pair_counts(status, weights, a, b)
        if n_both < min_evaluable:
            continue
        r = fisher_exact_2x2(counts)
        rows.append(dict(feature_a=a, feature_b=b, n=n_both, both=counts[0][0], a_only=counts[0][1],
                         b_only=counts[1][0], neither=counts[1][1], odds_ratio=r.conditional_odds_ratio, ci_low=r.ci_low,
                         ci_high=r.ci_high, p_value=r.p_value))
    df = pd.DataFrame(rows, columns=["feature_a", "feature_b", "n", "both", "a_only", "b_only", "neither",
                                     "odds_ratio", "ci_low", "ci_high", "p_value"])
    df["q_value"] = benjamini_hochberg(df["p_value"].tolist()) if len(df) else []
    # Direction of the estimate only; significance is read from p and q.
    df["tendency"] = np.where(df["odds_ratio"] > 1, "towards co-occurrence",
                              np.where(df["odds_ratio"] < 1, "towards exclusivity", "none"))
    return df


def cooccurrence_heatmap(pairs: pd.DataFrame) -> alt.Chart:
    """Lower-triangle heatmap of log2 odds ratio (capped at ±5), annotated with BH q."""
    if pairs.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_text()
    d = pairs.copy()
    d["log2_or"] = np.log2(d["odds_ratio"].replace(0, np.nan)).clip(-5, 5)
    d.loc[d["odds_ratio"] == 0, "log2_or"] = -5
    d.loc[np.isinf(d["odds_ratio"]), "log2_or"] = 5
    d["q_text"] = d["q_value"].map(lambda q: f"q={q:.2g}")
    d["or_text"] = d["odds_ratio"].map(lambda o: "∞" if np.isinf(o) else f"{o:.2g}")
    order = list(dict.fromkeys(d["feature_a"].tolist() + d["feature_b"].tolist()))
    tip = [alt.Tooltip("feature_a:N", title="A"), alt.Tooltip("feature_b:N", title="B"),
           alt.Tooltip("n:Q", title="Evaluable for both"), alt.Tooltip("both:Q", title="Both altered"),
           alt.Tooltip("or_text:N", title="Odds ratio (cond. MLE)"),
           alt.Tooltip("ci_low:Q", title="95% CI low", format=".3g"),
           alt.Tooltip("ci_high:Q", title="95% CI high", format=".3g"),
           alt.Tooltip("p_value:Q", title="Fisher p", format=".3g"),
           alt.Tooltip("q_value:Q", title="BH q", format=".3g")]
    base = alt.Chart(d).encode(
        x=alt.X("feature_a:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelFontSize=14, grid=False)),
        y=alt.Y("feature_b:N", sort=order, title=None, axis=alt.Axis(labelFontSize=14, grid=False)), tooltip=tip)
    rect = base.mark_rect(stroke="white").encode(color=alt.Color(
        "log2_or:Q", scale=alt.Scale(scheme="blueorange", domain=[-5, 5]),
        legend=alt.Legend(title=["log2 odds ratio", "(capped ±5)"], orient="right", gradientLength=200,
                          titleLimit=0)))
    ink = alt.condition("abs(datum.log2_or) > 2.5", alt.value("white"), alt.value("black"))
    or_label = base.mark_text(fontSize=14, dy=-9).encode(text=alt.Text("or_label:N"), color=ink).transform_calculate(
        or_label="'OR ' + datum.or_text")
    q_label = base.mark_text(fontSize=13, dy=9).encode(text="q_text:N", color=ink)
    size = 64
    return (rect + or_label + q_label).properties(width=size * len(order), height=size * len(order))
