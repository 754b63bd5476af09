"""Compare page views: the current cohort beside published series (table), a forest plot of one
proportion across series with a random-effects pooled estimate, and the reproduction check of the
reference study's figures. The page, the deck and the report render these results.

Published numbers come only from data/published_series.csv (analytics.published), shown as
"published" with their series; the cohort's numbers are computed (analytics.compare).

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> spec, _ = ComparePageSpec.from_params({"forest": "tp53_mutated"})
>>> reproduction(db, CohortFilter(), spec).numbers["agree"]
12
>>> forest(db, CohortFilter(), spec).numbers["pooled"].k
3
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd

from analytics import compare
from analytics.compare import POOLING_METHODS
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.format import percent
from analytics.published import CHARACTERISTICS, PROPORTION, load_published, series_table
from analytics.theme import PALETTE
from analytics.units import patients_text
from analytics.views.page_views import PageViews
from analytics.views.methods import REFERENCES, software
from analytics.views.result import Caveat, ViewResult
from analytics.views.spec import PageSpec, option
from analytics.views.compare_text import (  # NO_TEST_*: re-exported for the reproduce scripts
    NO_TEST_COUNT, NO_TEST_MEDIAN, cohort_value, comparison_test, fisher_test_lines, is_cohort_hidden,
    published_value, series_label)

PROPORTIONS = tuple(k for k, c in CHARACTERISTICS.items() if c.kind == PROPORTION)
CURRENT = "Current cohort (computed)"
POOLED = "Pooled estimate (random effects)"
PUBLISHED = "Published series"
GROUP_COLORS = {PUBLISHED: PALETTE[0], POOLED: PALETTE[7], CURRENT: PALETTE[5]}
GROUP_SHAPES = {PUBLISHED: "circle", POOLED: "diamond", CURRENT: "square"}
META_REFERENCES = {
    "dersimonian_laird": "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials "
                         "1986;7:177-188.",
    "paule_mandel": "Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand "
                    "1982;87:377-385.",
    "i2": "Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med 2002;21:1539-1558.",
}
TABS = ("Characteristic by characteristic", "Forest plot", "Reproduction check")


@dataclass(frozen=True)
class ComparePageSpec(PageSpec):
    """The compare page's options: the proportion of the forest plot, whether the current cohort
    joins the pooled estimate, and the between-series variance estimator."""

    PAGE = "compare"
    characteristic: str = option("tp53_mutated", param="forest", choices=PROPORTIONS, label="forest plot of")
    pool_cohort: bool = option(False, param="pool_cohort", label="current cohort in the pooled estimate")
    method: str = option("dl", param="pool_method", choices=tuple(POOLING_METHODS), label="pooling method")
    tab: str = option(TABS[0], param="compare_tab", choices=TABS, label="tab")


def _methods(sentences: list[str], packages: tuple[str, ...], references: tuple[str, ...]) -> str:
    """A methods paragraph with its software and numbered references (as analytics.views.methods)."""
    known = {**REFERENCES, **META_REFERENCES}
    cited = " ".join(f"[{i}] {known[k]}" for i, k in enumerate(references, start=1))
    return " ".join(sentences) + " " + software(*packages) + "\n\nReferences: " + cited


COMPARISON_METHODS = _methods([
    "Characteristics of the current cohort were computed from the cohort database by the application (Table 1 "
    "counts with evaluable denominators, best response among treated patients, status at last contact, "
    "Kaplan-Meier median event-free survival, regression after lenalidomide withdrawal) and set beside the "
    "figures published series report, quoted from their abstracts.",
    "Proportions are given with exact (Clopper-Pearson) 95% confidence intervals [1].",
    "A proportion of the cohort was compared with the same proportion of a published series by the two-sided "
    "Fisher exact test on the 2x2 table of counts [2], without adjustment for multiple comparisons; a median "
    "published without patient-level data, or a count without its denominator, was not tested."],
    ("scipy",), ("clopper_pearson", "fisher"))


def _forest_methods(method: str) -> str:
    estimator = ("the DerSimonian-Laird method-of-moments estimator [2], truncated at zero" if method == "dl"
                 else "the Paule-Mandel iterative estimator [2]")
    return _methods([
        "Each series' proportion is shown with its exact (Clopper-Pearson) 95% confidence interval [1].",
        "Proportions of the published series were pooled on the logit scale by an inverse-variance random-effects "
        f"model, the between-series variance tau-squared estimated by {estimator}; 0.5 was added to both counts "
        "of a series with 0% or 100%.",
        "Heterogeneity is given as Cochran's Q and I-squared = max(0, (Q - df) / Q) [3].",
        "A series reporting patients included in another series was not pooled with it; the current cohort was "
        "pooled only on request.",
        "The pooled estimate and its 95% confidence interval (normal approximation on the logit scale) were "
        "back-transformed to a proportion."],
        ("scipy", "statsmodels"),
        ("clopper_pearson", "dersimonian_laird" if method == "dl" else "paule_mandel", "i2"))


# --- caveats shared by the views -----------------------------------------------------------------
def _overlap_caveats(series: pd.DataFrame) -> list[Caveat]:
    """One caveat: which series are part of another (never pooled together); no other overlap is reported."""
    labels = dict(zip(series["series_id"], series["label"]))
    parts = [f"{row.label} reports patients included in {labels[row.part_of]} (never pooled with it)"
             for row in series.itertuples() if row.part_of]
    if not parts:
        return [Caveat("Overlap unknown", "the sources do not say whether series share patients; pooling "
                       "assumes they do not.", "info")]
    return [Caveat("Overlapping series", "; ".join(parts) + ". The sources report no other overlap.")]


def reference_label(published: pd.DataFrame) -> str:
    """The series whose figures the demo reproduces (the rows numbered F1, F2, ...)."""
    labels = published.loc[published["fact"] != "", "label"].unique()
    return labels[0] if len(labels) else "the reference study"


def _cohort_caveats(db: CohortDatabase, published: pd.DataFrame) -> list[Caveat]:
    if db.synthetic:
        return [Caveat("Synthetic demo", f"invented to reproduce {reference_label(published)}: a test against "
                       "that series compares it with a copy of itself.", "info")]
    return [Caveat("Shared patients", "a cohort from a centre that published one of these series may contain "
                   "its patients; the tests assume the two sets of patients are distinct.", "info")]


def comparison(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
               small_cell_k: int = 0) -> ViewResult:
    """Every published figure beside the same characteristic of the current cohort."""
    published = load_published()
    figures = compare.cohort_figures(db, cohort_filter)
    shown, raw = [], []
    n_tests = 0
    for key, c in CHARACTERISTICS.items():
        rows = published[published["characteristic"] == key].to_dict("records")
        if not rows:
            continue
        value, ci = cohort_value(figures[key], key, small_cell_k)
        shown.append({"Characteristic": c.label, "Source": CURRENT, "Value": value, "Exact 95% CI": ci,
                      "Compared with the current cohort": ""})
        for row in rows:
            value, ci = published_value(row)
            test, p = comparison_test(row, figures[key], small_cell_k)
            n_tests += not math.isnan(p)
            shown.append({"Characteristic": "", "Source": series_label(row), "Value": value,
                          "Exact 95% CI": ci, "Compared with the current cohort": test})
            raw.append({"characteristic": key, "series_id": row["series_id"], "p_fisher": p,
                        "published_numerator": row["numerator"], "published_denominator": row["denominator"],
                        "published_median": row["median"]})
    series = series_table(published)
    n = figures["patients"].numerator
    caveats = [*_overlap_caveats(series), *_cohort_caveats(db, published),
               Caveat("Definitions differ", "e.g. CR after induction vs CR or CRi; Ph-negative read as "
                      "BCR::ABL1 negative. See the quotes.", "info"),
               Caveat("Small series", f"{series['n_patients'].min()} to {series['n_patients'].max()} patients per "
                      f"series; {n_tests} unadjusted Fisher tests: p-values are descriptive, and a large p is no "
                      "evidence of similarity.", "info")]
    if small_cell_k > 1:
        caveats.append(Caveat("Small-cell suppression", f"the cohort's counts below {small_cell_k} are shown as "
                              f"<{small_cell_k}; their intervals and tests are withheld.", "info"))
    sources = published[["label", "characteristic", "source_quote", "reference", "url"]].rename(
        columns={"label": "Series", "characteristic": "Characteristic", "source_quote": "Where it is reported",
                 "reference": "Reference", "url": "Link"})
    sources["Characteristic"] = sources["Characteristic"].map(lambda key: CHARACTERISTICS[key].label)
    return ViewResult(
        page="compare", key="compare.table", title="Current cohort beside published series",
        caption=(f"Current cohort ({patients_text(n)}; filters: {cohort_filter.describe()}), computed, beside "
                 f"{len(series)} published series (as published). Exact 95% CIs; Fisher's exact test where both "
                 "give counts."),
        caveats=tuple(caveats), n_patients=n,
        tables={"comparison": pd.DataFrame(shown), "tests": pd.DataFrame(raw), "sources": sources,
                "series": series},
        numbers={"n": n, "tests": n_tests}, lines=fisher_test_lines(pd.DataFrame(raw), n_tests),
        methods=COMPARISON_METHODS)


def _pooled_members(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Published rows that can be pooled: a series reported within another series of the same
    figure is left out. Returns (rows, labels left out)."""
    ids = {r["series_id"] for r in rows}
    kept = [r for r in rows if not (r["part_of"] and r["part_of"] in ids)]
    return kept, [r["label"] for r in rows if r not in kept]


def forest_chart(data: pd.DataFrame, title: str, subtitle: list[str], pooled: float | None) -> alt.LayerChart:
    order = list(data["row"])
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))
    x_scale = alt.Scale(domain=[0, 1])
    color = alt.Color("group:N", scale=alt.Scale(domain=list(GROUP_COLORS), range=list(GROUP_COLORS.values())),
                      legend=alt.Legend(title=None, orient="bottom", labelLimit=0))
    shape = alt.Shape("group:N", scale=alt.Scale(domain=list(GROUP_SHAPES), range=list(GROUP_SHAPES.values())),
                      legend=None)
    base = alt.Chart(data)
    bars = base.mark_rule(strokeWidth=2).encode(
        y=y, x=alt.X("ci_low:Q", scale=x_scale, title="Proportion (exact 95% CI; pooled: random-effects 95% CI)",
                     axis=alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0])),
        x2="ci_high:Q", color=color)
    points = base.mark_point(filled=True, size=110, opacity=1).encode(
        y=y, x=alt.X("estimate:Q", scale=x_scale), color=color, shape=shape,
        tooltip=[alt.Tooltip("row:N", title="Series"), alt.Tooltip("estimate:Q", format=".0%", title="Estimate"),
                 alt.Tooltip("ci_low:Q", format=".0%", title="95% CI from"),
                 alt.Tooltip("ci_high:Q", format=".0%", title="to")])
    layers = [bars, points]
    if pooled is not None:
        layers.insert(0, alt.Chart(pd.DataFrame({"x": [pooled]})).mark_rule(strokeDash=[4, 4], color="#777777")
                      .encode(x=alt.X("x:Q", scale=x_scale)))
    return alt.layer(*layers).properties(
        # a height per row (Streamlit fits a given total height to the title, labels and legend too,
        # which squeezed a short plot's rows together); the page stretches the width, slides and
        # exports scale this numeric one
        title=alt.TitleParams(title, subtitle=subtitle, anchor="start"), width=560, height=alt.Step(40))


def forest(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
           small_cell_k: int = 0) -> ViewResult:
    """One proportion across the published series, their random-effects pooled estimate, and the
    current cohort apart (in the pooled estimate only when the spec says so)."""
    key = spec.characteristic
    c = CHARACTERISTICS[key]
    published = load_published()
    rows = published[published["characteristic"] == key].to_dict("records")
    figure = compare.cohort_figures(db, cohort_filter, (key,))[key]
    pool_rows, left_out = _pooled_members(rows)
    cohort_hidden = is_cohort_hidden(figure, small_cell_k)
    cohort_usable = bool(figure.denominator) and not cohort_hidden
    counts = [(int(r["numerator"]), int(r["denominator"])) for r in pool_rows]
    with_cohort = spec.pool_cohort and cohort_usable
    if with_cohort:
        counts.append((figure.numerator, figure.denominator))
    pooled = compare.pool_proportions(counts, spec.method)
    data = []
    for r in rows:
        k_, n_ = int(r["numerator"]), int(r["denominator"])
        low, high = compare.exact_ci(k_, n_)
        data.append({"row": f"{r['label']}: {k_}/{n_} (published)", "group": PUBLISHED, "estimate": k_ / n_,
                     "ci_low": low, "ci_high": high})
    if pooled is not None:
        published_k = pooled.k - with_cohort
        data.append({"row": f"Pooled, {POOLING_METHODS[spec.method]} ({published_k} published series"
                            f"{' + the current cohort' if with_cohort else ''})",
                     "group": POOLED, "estimate": pooled.estimate, "ci_low": pooled.ci_low,
                     "ci_high": pooled.ci_high})
    if cohort_usable:
        low, high = compare.exact_ci(figure.numerator, figure.denominator)
        data.append({"row": f"Current cohort: {figure.numerator}/{figure.denominator} (computed)", "group": CURRENT,
                     "estimate": figure.numerator / figure.denominator, "ci_low": low, "ci_high": high})
    frame = pd.DataFrame(data, columns=["row", "group", "estimate", "ci_low", "ci_high"])
    caveats: list[Caveat] = []
    if left_out:
        caveats.append(Caveat("Overlapping series", f"{', '.join(left_out)} reports patients included in another "
                              "series shown here: drawn, but left out of the pooled estimate."))
    reference = reference_label(published)
    if with_cohort and db.synthetic and any(r["label"] == reference for r in pool_rows):
        caveats.append(Caveat("Counted twice", f"the synthetic demo reproduces {reference}: pooling it with "
                              "that series counts the same patients twice."))
    elif with_cohort:
        caveats.append(Caveat("Current cohort pooled", "the current cohort is in the pooled estimate: if it shares "
                              "patients with a published series, they are counted twice.", "info"))
    if spec.pool_cohort and not cohort_usable:
        caveats.append(Caveat("Current cohort not pooled", "the current cohort has no evaluable patients for this "
                              "figure" + (f" or a count below {small_cell_k}" if small_cell_k > 1 else "") + ".",
                              "info"))
    if cohort_hidden:
        caveats.append(Caveat("Small-cell suppression", f"the current cohort's count is below {small_cell_k}: "
                              "not drawn.", "info"))
    lines = []
    if pooled is None:
        lines.append(f"Fewer than two series can be pooled for {c.label}: no pooled estimate.")
    else:
        lines.append(f"{c.label}: {pooled.text()}" + ("; the current cohort is one of them." if with_cohort else "."))
        if pooled.k < 5:
            caveats.append(Caveat("Few series", f"{pooled.k} series: the between-series variance (τ²) and I² are "
                                  "very imprecise; the random-effects interval may be too narrow.", "info"))
        if pooled.corrected:
            caveats.append(Caveat("Continuity correction", f"{pooled.corrected} series with 0% or 100% entered the "
                                  "pooling with 0.5 added to both counts.", "info"))
    subtitle = [f"Exact 95% CIs. {lines[0]}"] if pooled is None else [
        f"Random effects on the logit scale ({POOLING_METHODS[spec.method]}): {percent(pooled.estimate, 0)} "
        f"(95% CI {percent(pooled.ci_low, 0)} to {percent(pooled.ci_high, 0)}), I² {percent(pooled.i2, 0)}, τ² {pooled.tau2:.3f}"]
    chart = forest_chart(frame, f"{c.label}: published series and the current cohort", subtitle,
                         pooled.estimate if pooled is not None else None) if len(frame) else None
    numbers = {"pooled": pooled, "n_series": len(rows), "cohort_numerator": None if cohort_hidden else figure.numerator,
               "cohort_denominator": figure.denominator, "with_cohort": with_cohort}
    return ViewResult(
        page="compare", key="compare.forest", title=f"Forest plot: {c.label}",
        caption=(f"{c.label} in each published series (as published) and in the current cohort (computed; "
                 f"filters: {cohort_filter.describe()}), exact 95% CIs. Pooled: inverse-variance random effects "
                 f"on logit proportions, {POOLING_METHODS[spec.method]} τ² (statsmodels)."),
        caveats=tuple(caveats), figure=chart, figure_name=f"forest_{key}", n_patients=figure.denominator or 0,
        tables={"forest": frame}, numbers=numbers, lines=tuple(lines), methods=_forest_methods(spec.method))


def reproduction(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
                 small_cell_k: int = 0) -> ViewResult:
    """Each published figure of the reference study (F1-F12) beside the value the app computes
    from the whole cohort file (the sidebar filters do not apply: the paper describes every patient)."""
    published = load_published()
    facts = published[published["fact"] != ""].copy()
    facts["number"] = facts["fact"].str[1:].astype(int)
    figures = compare.cohort_figures(db, CohortFilter())
    rows, agree, hidden_facts = [], 0, 0
    for fact, block in facts.sort_values(["number", "line"]).groupby("fact", sort=False):
        shown_published, shown_computed, ok, hidden = [], [], True, False
        for row in block.to_dict("records"):
            c = CHARACTERISTICS[row["characteristic"]]
            figure = figures[row["characteristic"]]
            value, _ = published_value(row)
            shown_published.append(f"{c.label}: {value}")
            computed, _ = cohort_value(figure, row["characteristic"], small_cell_k)
            shown_computed.append(f"{c.label}: {computed}")
            hidden |= is_cohort_hidden(figure, small_cell_k)
            ok &= compare.agrees(row, figure)
        mark = f"not shown (count below {small_cell_k})" if hidden else ("✓ agrees" if ok else "✗ differs")
        agree += ok and not hidden
        hidden_facts += hidden
        rows.append({"Figure": fact, "Agreement": mark, "Published": "; ".join(shown_published),
                     "Computed from this cohort": "; ".join(shown_computed)})
    total = len(rows)
    line = f"{agree} of {total} published figures reproduced."
    if hidden_facts:
        line += f" {hidden_facts} not shown under small-cell suppression."
    caveats = [] if db.synthetic else [Caveat("Not the demo", "this cohort is not the synthetic demo: it is not "
                                              "expected to reproduce the reference study.", "info")]
    if not cohort_filter.is_empty():
        caveats.append(Caveat("Filters not applied", "the check uses every patient of the cohort, as the paper "
                              "does; the sidebar filters apply to the other views.", "info"))
    n = figures["patients"].numerator
    return ViewResult(
        page="compare", key="compare.reproduction",
        title=f"Reproduction check: {reference_label(published)}, {rows[0]['Figure']} to {rows[-1]['Figure']}"
        if rows else "Reproduction check",
        caption=("Each figure of the reference study's abstract (as published) beside the value the app computes "
                 f"from this cohort file with its own analytics ({patients_text(n)}, no filters). Counts must be "
                 "equal; medians and ranges equal at the published precision."),
        caveats=tuple(caveats), n_patients=n, tables={"reproduction": pd.DataFrame(rows)},
        numbers={"agree": agree, "total": total, "hidden": hidden_facts}, lines=(line,),
        methods=("Each figure reported in the reference study's abstract (data/published_series.csv, with its "
                 "quote) was recomputed from the cohort file with the app's own analytics, on every patient "
                 "of the cohort: counts of the evaluable denominator, medians and ranges in months (days / "
                 "30.4375), the Kaplan-Meier median event-free survival of treated patients, and the count "
                 "of patients with regression after lenalidomide withdrawal. A figure agrees when counts are "
                 "equal and medians and ranges are equal at the published precision. " + software()))


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
           small_cell_k: int = 0) -> list[ViewResult]:
    """The comparison table and the forest plot; the reproduction check for the synthetic demo."""
    results = [comparison(db, cohort_filter, spec, small_cell_k)]
    plot = forest(db, cohort_filter, spec, small_cell_k)
    if plot.figure is not None:
        results.append(plot)
    if db.synthetic:
        results.append(reproduction(db, cohort_filter, spec, small_cell_k))
    return results


PAGE_VIEWS = PageViews(page="compare", title="Compare with published series", spec=ComparePageSpec,
                       slides=slides)
