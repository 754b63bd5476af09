"""The tables of the Genomics page's views as shown (display text, suppressed small cells, readable
headers) and the sentences they print, built for the view functions in `analytics.views.genomics`."""
from __future__ import annotations

import pandas as pd

from analytics.disclosure import suppress_count, suppressed_cells, suppressed_label
from analytics.format import p_text, percent_range, round_half_up, significant


def frequency_display(freq: pd.DataFrame, k: int, headline: tuple[str, ...]) -> tuple[pd.DataFrame, dict]:
    """The alteration-frequency table as shown and the display numbers of the `headline` features
    ({value, not_evaluated, ci, total}), small cells suppressed for k > 1."""
    # a proportion a/e is the distribution [a, e - a]: hidden when either part is small
    hidden = [suppressed_cells([a, e - a], k)[0] for a, e in zip(freq["altered"], freq["evaluable"])]
    shown_altered = [suppressed_label(a, e, k).split("/")[0] if hide else str(a)
                     for a, e, hide in zip(freq["altered"], freq["evaluable"], hidden)]
    numbers: dict = {}
    for name in headline:
        if name in set(freq["feature"]):
            i = freq.index[freq["feature"] == name][0]
            r = freq.loc[i]
            numbers[name] = {
                "value": f"{shown_altered[i]}/{int(r.evaluable)}" if r.evaluable else "not evaluable",
                "not_evaluated": suppress_count(r.not_evaluated, k), "total": int(r.total),
                "ci": "suppressed" if hidden[i] else percent_range(r.ci_low, r.ci_high, 0)}
    table = freq.assign(altered=shown_altered,
                        not_evaluated=[suppress_count(x, k) for x in freq["not_evaluated"]],
                        percent=[None if hide else round_half_up(p * 100, 1) for p, hide in zip(freq["proportion"], hidden)],
                        ci=["suppressed" if hide else percent_range(lo, hi, 0)
                            for lo, hi, hide in zip(freq["ci_low"], freq["ci_high"], hidden)])
    table = table[["feature", "group", "altered", "evaluable", "not_evaluated", "percent", "ci"]].rename(
        columns={"feature": "Alteration", "group": "Kind", "altered": "Altered", "evaluable": "Evaluable",
                 "not_evaluated": "Not evaluated", "percent": "% of evaluable", "ci": "95% CI (Clopper-Pearson)"})
    return table, numbers


def pairs_display(pairs: pd.DataFrame) -> pd.DataFrame:
    """The table of all tested pairs as shown (odds ratio and CI as text, readable headers)."""
    shown = pairs.assign(
        odds_ratio=pairs["odds_ratio"].map(significant),
        ci=[f"{significant(lo)}–{significant(hi)}" for lo, hi in zip(pairs["ci_low"], pairs["ci_high"])])
    shown = shown[["feature_a", "feature_b", "n", "both", "a_only", "b_only", "neither", "odds_ratio", "ci",
                   "p_value", "q_value", "tendency"]].rename(columns={
        "feature_a": "A", "feature_b": "B", "n": "Evaluable for both", "both": "Both", "a_only": "A only",
        "b_only": "B only", "neither": "Neither", "odds_ratio": "OR (cond. MLE)", "ci": "95% CI",
        "p_value": "Fisher p", "q_value": "BH q", "tendency": "Direction of OR"})
    return shown


def fisher_sentence(fisher) -> str:
    """Fisher's exact test of one pair in words (p, conditional MLE odds ratio and exact CI, sample OR)."""
    return (f"Fisher's exact test (two-sided) {p_text(fisher.p_value)}; odds ratio (conditional MLE) "
            f"{significant(fisher.conditional_odds_ratio)}, exact 95% CI {significant(fisher.ci_low)}–{significant(fisher.ci_high)}; "
            f"sample odds ratio ad/bc = {significant(fisher.sample_odds_ratio)}.")


def some_ids(items: list[str], most: int) -> str:
    """The first `most` items, and how many more."""
    shown = "; ".join(items[:most])
    return shown if len(items) <= most else f"{shown}; and {len(items) - most:,} more"
