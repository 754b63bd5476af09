"""CR/CRi rate by the groups of one feature (allow-listed in `rates.GROUP_FEATURES`), with Fisher's
exact test for two evaluable groups and Freeman-Halton for more, and its chart."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.format import percent, percent_range
from analytics.response.rates import (DEFAULT_GROUP, GROUP_FEATURES, IDS_LISTED, RESPONDER, RESPONSES,
                                      RESPONSE_LABELS)
from analytics.stats import clopper_pearson, fisher_exact_2x2, freeman_halton
from analytics.theme import NOT_EVALUATED_COLOR, PALETTE


@dataclass(frozen=True)
class GroupComparison:
    """CR/CRi rate by the groups of one feature, with the exact test on the evaluable groups."""

    feature: str
    label: str
    rates: pd.DataFrame = field(compare=False)        # group, n, responders, rate, ci_low, ci_high, evaluable
    contingency: pd.DataFrame = field(compare=False)  # group x (CR/CRi, no CR/CRi) + breakdown
    test_name: str
    p_value: float
    method: str
    odds_ratio: float | None = None
    or_ci: tuple[float, float] | None = None
    note: str = ""


def response_by_group(db: CohortDatabase, cohort_filter: CohortFilter,
                      feature: str = DEFAULT_GROUP) -> GroupComparison:
    """CR/CRi rate among treated, assessed patients by the groups of `feature` (allow-listed).

    Counted in DuckDB (GROUP BY group, best response; the first IDS_LISTED ids per group by a
    window): Python sees one row per group and response, whatever the cohort size."""
    if feature not in GROUP_FEATURES:
        raise ValueError(f"unknown grouping feature {feature!r}")
    label, expr = GROUP_FEATURES[feature]
    where, params = cohort_filter.where_sql()
    base = (f"SELECT patient_id, coalesce(CAST({expr} AS VARCHAR), ?) AS grp, best_response "
            f"FROM patient_summary WHERE {where} AND treated AND best_response IS NOT NULL")
    counts = db.query(f"SELECT grp, best_response, count(*) AS n FROM ({base}) GROUP BY grp, best_response",
                      [NOT_EVALUATED, *params])
    # the first IDS_LISTED + 1 ids per group (DuckDB's top-n min: a sorted list per group)
    firsts = db.query(f"SELECT grp, unnest(min(patient_id, {int(IDS_LISTED) + 1})) AS patient_id "
                      f"FROM ({base}) GROUP BY grp", [NOT_EVALUATED, *params])
    present = set(counts["grp"])
    groups = sorted(present - {NOT_EVALUATED})
    if NOT_EVALUATED in present:
        groups.append(NOT_EVALUATED)
    ids_by = {g: list(s) for g, s in firsts.groupby("grp", sort=False)["patient_id"]}
    rows, cont = [], []
    for g in groups:
        s = counts[counts["grp"] == g]
        by_resp = dict(zip(s["best_response"], s["n"].astype(int)))
        n = int(s["n"].sum())
        k = int(sum(by_resp.get(r, 0) for r in RESPONDER))
        low, high = clopper_pearson(k, n)
        rows.append({"group": g, "n": n, "responders": k, "rate": k / n if n else math.nan,
                     "ci_low": low, "ci_high": high, "evaluable": g != NOT_EVALUATED,
                     "patients": _list_ids_counted(ids_by.get(g, []), n)})
        c = {"group": g, "CR/CRi": k, "no CR/CRi": n - k, "total": n}
        for resp in RESPONSES:
            c[RESPONSE_LABELS[resp]] = int(by_resp.get(resp, 0))
        cont.append(c)
    rates = pd.DataFrame(rows, columns=["group", "n", "responders", "rate", "ci_low", "ci_high",
                                        "evaluable", "patients"])
    contingency = pd.DataFrame(cont, columns=["group", "CR/CRi", "no CR/CRi", "total",
                                              *RESPONSE_LABELS.values()])
    ev = rates[rates["evaluable"]]
    table = [[int(r.responders), int(r.n - r.responders)] for r in ev.itertuples()]
    n_excl = int(rates.loc[~rates["evaluable"], "n"].sum())
    note = (f"{n_excl} patient(s) with {label} not evaluated are shown but left out of the test. "
            if n_excl else "")
    if len(table) < 2:
        return GroupComparison(feature, label, rates, contingency, "no test", math.nan,
                               "fewer than two groups with evaluable patients", note=note)
    if sum(r[1] for r in table) == 0 or sum(r[0] for r in table) == 0:
        note += "All evaluable patients had the same outcome: the test is uninformative (p = 1). "
    if len(table) == 2:
        res = fisher_exact_2x2(table)
        if not math.isnan(res.conditional_odds_ratio):
            note += (f"Odds ratio of CR/CRi, {ev['group'].iloc[0]} vs {ev['group'].iloc[1]}: conditional "
                     "maximum-likelihood estimate with exact 95% CI (as R fisher.test).")
        return GroupComparison(
            feature, label, rates, contingency, "Fisher's exact test (two-sided)", res.p_value,
            "exact", odds_ratio=res.conditional_odds_ratio, or_ci=(res.ci_low, res.ci_high), note=note)
    res = freeman_halton(table)
    return GroupComparison(feature, label, rates, contingency,
                           f"Freeman-Halton exact test ({len(table)}×2, two-sided)",
                           res.p_value, res.method, note=note)


def _list_ids_counted(first_ids, n: int) -> str:
    """n ids joined, the first IDS_LISTED only and then '... and N more' (a registry's group would
    be a megabyte of text), given their first ones (at least IDS_LISTED + 1 when n is larger).

    >>> _list_ids_counted(["S01", "S02"], 2), _list_ids_counted([f"P{i:02d}" for i in range(21)], 30)[-20:]
    ('S01, S02', 'P19, ... and 10 more')
    """
    ids = list(first_ids)
    if n <= IDS_LISTED:
        return ", ".join(ids[:n])
    return ", ".join(ids[:IDS_LISTED]) + f", ... and {n - IDS_LISTED:,} more"


def group_rate_chart(comparison: GroupComparison) -> alt.LayerChart:
    """CR/CRi rate per group: point estimate with exact 95% CI, labelled k/n."""
    t = comparison.rates.copy()
    t["label"] = [f"{r.responders}/{r.n} ({percent(r.rate)})" for r in t.itertuples()]
    t["ci"] = [percent_range(r.ci_low, r.ci_high) for r in t.itertuples()]
    t["pct"], t["lo"], t["hi"] = 100 * t["rate"], 100 * t["ci_low"], 100 * t["ci_high"]
    t["kind"] = np.where(t["evaluable"], "evaluated", NOT_EVALUATED)
    y = alt.Y("group:N", sort=t["group"].tolist(), title=None, axis=alt.Axis(labelLimit=320))
    color = alt.Color("kind:N", scale=alt.Scale(domain=["evaluated", NOT_EVALUATED],
                                                range=[PALETTE[0], NOT_EVALUATED_COLOR]), legend=None)
    tooltip = [alt.Tooltip("group:N", title=comparison.label), alt.Tooltip("label:N", title="CR/CRi"),
               alt.Tooltip("ci:N", title="exact 95% CI"), alt.Tooltip("patients:N")]
    rule = alt.Chart(t).mark_rule(strokeWidth=3).encode(
        x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]),
                # two lines, ending at the axis end: in a narrow chart (a slide, half a page) the
                # title runs left under the group labels instead of past the figure's right edge
                title=["CR/CRi among treated patients, %", "(exact 95% CI)"],
                axis=alt.Axis(titleAnchor="end", titleAlign="right")), x2="hi:Q", y=y,
        color=color, tooltip=tooltip)
    point = alt.Chart(t).mark_point(filled=True, size=160).encode(x="pct:Q", y=y, color=color,
                                                                   tooltip=tooltip)
    # labels above the point, kept inside the plot: right-aligned near 100%, left-aligned otherwise
    high = alt.Chart(t[t["pct"] > 50]).mark_text(dy=-15, dx=6, align="right", fontSize=15).encode(
        x="pct:Q", y=y, text="label:N")
    low = alt.Chart(t[~(t["pct"] > 50)]).mark_text(dy=-15, dx=-6, align="left", fontSize=15).encode(
        x="pct:Q", y=y, text="label:N")
    return (rule + point + high + low).properties(height=max(120, 60 * len(t)), width="container",
                                            title=f"CR/CRi by {comparison.label}")


def group_rate_figure(db: CohortDatabase, cohort_filter: CohortFilter,
                      feature: str = DEFAULT_GROUP) -> alt.LayerChart:
    """`group_rate_chart` of `response_by_group` (a figure cached per view by the page)."""
    return group_rate_chart(response_by_group(db, cohort_filter, feature))
