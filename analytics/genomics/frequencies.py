"""Alteration frequencies: per feature, altered of evaluable patients with an exact CI, and the bar chart.

>>> from analytics.build import build_in_memory
>>> db = build_in_memory("data/demo_cohort")
>>> freq = alteration_frequencies(db, CohortFilter())
>>> row = freq.set_index("feature").loc["TP53"]
>>> int(row.altered), int(row.evaluable), int(row.not_evaluated)
(9, 19, 13)
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.disclosure import suppress_count, suppressed_cells, suppressed_label
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics.features import ALTERED, feature_groups, feature_names, pattern_status, status_patterns
from analytics.stats import clopper_pearson
from analytics.theme import PALETTE


def alteration_frequencies(db: CohortDatabase, cohort_filter: CohortFilter,
                           confidence: float = 0.95) -> pd.DataFrame:
    """Per feature: altered, evaluable, not evaluated, proportion and Clopper-Pearson CI.

    Counted in DuckDB (`status_patterns`); the denominator is the patients evaluable for the
    feature, never the whole selection."""
    patterns = status_patterns(db, cohort_filter)
    weights = patterns["n"].to_numpy()
    total = int(weights.sum())
    status = pattern_status(db, patterns)
    groups = feature_groups(db)
    out = []
    for feat in (feature_names(db) if total else []):
        column = status[feat].to_numpy(dtype=object)
        altered = int(weights[column == ALTERED].sum())
        evaluable = int(weights[column != NOT_EVALUATED].sum())
        low, high = clopper_pearson(altered, evaluable, confidence)
        out.append(dict(feature=feat, group=groups[feat], altered=altered, evaluable=evaluable,
                        not_evaluated=total - evaluable, total=total,
                        proportion=altered / evaluable if evaluable else np.nan,
                        ci_low=low, ci_high=high))
    df = pd.DataFrame(out, columns=["feature", "group", "altered", "evaluable", "not_evaluated", "total",
                                    "proportion", "ci_low", "ci_high"])
    df["label"] = [f"{a}/{e}" + (f" ({a / e:.0%})" if e else "") + f"; {ne} not evaluated"
                   for a, e, ne in zip(df["altered"], df["evaluable"], df["not_evaluated"])]
    return df


def frequency_chart(freq: pd.DataFrame, small_cell_k: int = 0) -> alt.Chart:
    """Point + exact CI per feature, with the 'k/n' label; features without evaluable patients omitted.

    With `small_cell_k` > 1 counts from 1 to k-1 read '<k', and a suppressed alteration count
    has no point or interval drawn (their position would give the count back)."""
    data = freq[freq["evaluable"] > 0].copy()
    data["pct"] = data["proportion"] * 100
    data["lo"] = data["ci_low"] * 100
    data["hi"] = data["ci_high"] * 100
    if small_cell_k > 1:
        small = pd.Series([suppressed_cells([a, e - a], small_cell_k)[0]
                           for a, e in zip(data["altered"], data["evaluable"])], index=data.index, dtype=bool)
        data["label"] = [
            (suppressed_label(a, e, small_cell_k) if hide else f"{a}/{e} ({a / e:.0%})")
            + f"; {suppress_count(ne, small_cell_k)} not evaluated"
            for a, e, ne, hide in zip(data["altered"], data["evaluable"], data["not_evaluated"], small)]
        data.loc[small, ["pct", "lo", "hi"]] = np.nan
        data["altered"] = [suppressed_label(a, e, small_cell_k).split("/")[0] if hide else str(a)
                           for a, e, hide in zip(data["altered"], data["evaluable"], small)]
        data["not_evaluated"] = [suppress_count(n, small_cell_k) for n in data["not_evaluated"]]
        data = data.drop(columns=["proportion", "ci_low", "ci_high"])
    data["label_x"] = data["hi"].fillna(0.0)  # beside the interval, on its own row
    order = data["feature"].tolist()
    y = alt.Y("feature:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=220))
    tooltip = [alt.Tooltip("feature:N", title="Alteration"), alt.Tooltip("altered", title="Altered"),
               alt.Tooltip("evaluable:Q", title="Evaluable"),
               alt.Tooltip("not_evaluated", title="Not evaluated"),
               alt.Tooltip("pct:Q", title="% of evaluable", format=".1f"),
               alt.Tooltip("lo:Q", title="95% CI low %", format=".1f"),
               alt.Tooltip("hi:Q", title="95% CI high %", format=".1f")]
    base = alt.Chart(data)
    rule = base.mark_rule(strokeWidth=3, color=PALETTE[0]).encode(
        y=y, x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]),
                     title="% of evaluable patients (95% Clopper-Pearson CI)"), x2="hi:Q", tooltip=tooltip)
    point = base.mark_point(filled=True, size=140, color=PALETTE[0]).encode(y=y, x="pct:Q", tooltip=tooltip)
    text = base.mark_text(align="left", dx=8, baseline="middle", fontSize=14).encode(
        y=y, x="label_x:Q", text="label:N")
    return (rule + point + text).properties(height=max(120, 36 * len(data)))
