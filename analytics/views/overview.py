"""The Overview page as views: Table 1, the two exposure plots, and the headline numbers.

The page has no options of its own (only the cohort filters), so `OverviewSpec` is empty; it
still exists so that the page, its link and the deck treat every page alike.

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> numbers = headline(db, CohortFilter(institution=("Site B",)), OverviewSpec()).numbers
>>> numbers["n_patients"], numbers["tp53_altered"]["display"], numbers["low_hypodiploid"]["display"]
(10, '1/5 (20%)', '0/7 (0%)')
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics import cohort, overview, stats
from analytics.overview import by_group
from analytics.db import CohortDatabase
from analytics.disclosure import SUPPRESSED, hidden_count, is_small, suppress_count, suppress_table_one
from analytics.filters import CohortFilter
from analytics.format import p_text, percent_range
from analytics.units import patients_text
from analytics.views.page_views import PageViews
from analytics.views.result import Caveat, ViewResult, withheld_caveat
from analytics.views.methods import describes, paragraph
from analytics.views.spec import PageSpec, option

PAGE = "overview"


@dataclass(frozen=True)
class OverviewSpec(PageSpec):
    """The overview's one option: the grouping of "Table 1 by group" ("" = none)."""

    PAGE = PAGE
    t1_group: str = option("", param="t1_group", choices=("", *by_group.GROUPINGS), label="Table 1 by")


def _table_one_methods(spec) -> str:
    return paragraph(["Continuous characteristics are summarised by median and range, categorical ones by "
                      "n / evaluable (%) with exact (Clopper-Pearson) 95% confidence intervals [1]; patients not "
                      "evaluated for a characteristic are counted separately and never enter its denominator. "
                      "Latency is the time from the first lenalidomide exposure to B-ALL diagnosis; cumulative "
                      "exposure is the sum of days on lenalidomide over all recorded courses before diagnosis "
                      "(overlaps counted once), derived from the course dates. Months = days / 30.4375."],
                     ("scipy",), ("clopper_pearson",))


# --- Table 1 ------------------------------------------------------------------------------------
TABLE_ONE_CAPTION = ("Continuous: median (range). Categorical: n / evaluable (%), with an exact "
                     "(Clopper-Pearson) 95% CI. Not evaluated is counted separately and never enters "
                     "a denominator.")


@describes(_table_one_methods)
def table_one(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec = OverviewSpec(),
              small_cell_k: int = 0) -> ViewResult:
    """Table 1 (small cells suppressed when k > 1): tables["Table 1"] is the long table of
    `analytics.overview.table_one` after `suppress_table_one`."""
    t1 = suppress_table_one(overview.table_one(db, cohort_filter), small_cell_k)
    n = int(t1.loc[t1["kind"] == "count", "n"].iloc[0])
    caveats = ()
    if small_cell_k > 1:
        caveats = (Caveat("Small cells", f"Counts below {small_cell_k} are shown as <{small_cell_k}; "
                                         "their percentages and intervals are not shown.", level="info"),)
    return ViewResult(PAGE, "overview.table_one", "Table 1", caption=TABLE_ONE_CAPTION, caveats=caveats,
                      n_patients=n, tables={"Table 1": t1}, figure_name="table1")


# --- exposure plots -------------------------------------------------------------------------------
def _exposure(db: CohortDatabase, cohort_filter: CohortFilter, measure: str, small_cell_k: int) -> ViewResult:
    label = overview.EXPOSURE_MEASURES[measure]
    key = f"overview.{measure}"
    title = f"Overview: {label[0].lower()}{label[1:]}"
    name = measure.replace("_months", "")
    if small_cell_k > 1:  # one mark per patient (or small bins): cannot honour suppression
        return ViewResult(PAGE, key, title, caveats=(withheld_caveat("the exposure plots", small_cell_k),),
                          figure_name=name)
    chart = overview.exposure_chart(db, cohort_filter, measure)
    n_with_value, n_all = overview.exposure_counts(db, cohort_filter, measure)
    per_patient = n_with_value <= overview.DOT_PLOT_MAX_PATIENTS
    caption = ("One dot per patient at the exact value" if per_patient else "Patients per 1-month bin") + \
        "; dashed line: median. Months = days / 30.4375."
    caveats = ()
    if n_all > n_with_value:
        caveats = (Caveat("Not evaluated", f"{patients_text(n_all - n_with_value)} without a value "
                                           f"{'is' if n_all - n_with_value == 1 else 'are'} not in the plot "
                                           "or the median.", level="info"),)
    return ViewResult(PAGE, key, title, caption=caption, caveats=caveats, figure=chart, figure_name=name,
                      n_patients=n_with_value)


@describes(_table_one_methods)
def latency(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec = OverviewSpec(),
            small_cell_k: int = 0) -> ViewResult:
    """Latency from first lenalidomide exposure to B-ALL: one dot per patient (or a histogram)."""
    return _exposure(db, cohort_filter, "latency_months", small_cell_k)


@describes(_table_one_methods)
def cumulative_exposure(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec = OverviewSpec(),
                        small_cell_k: int = 0) -> ViewResult:
    """Cumulative lenalidomide exposure before B-ALL: one dot per patient (or a histogram)."""
    return _exposure(db, cohort_filter, "cumulative_months", small_cell_k)


EXPOSURE_VIEWS = (latency, cumulative_exposure)


# --- headline numbers (the deck's summary slide) ----------------------------------------------
# Table 1 rows of the headline proportions: (characteristic, level). Low hypodiploidy is the
# ploidy category the reference study reports (not near-haploid).
HEADLINE_PROPORTIONS = {"tp53_altered": ("TP53", "mutated"),
                        "low_hypodiploid": ("Ploidy category", "low hypodiploid")}
HEADLINE_LABELS = {"tp53_altered": "TP53 mutated", "low_hypodiploid": "Low hypodiploid"}


def _proportion(t1: pd.DataFrame, characteristic: str, level: str, k: int) -> dict:
    """n / evaluable with its exact CI from a (suppressed) Table 1 row. Under suppression a
    hidden count is its display text ('<5', 'suppressed') and the CI is None."""
    rows = t1[(t1["characteristic"] == characteristic) & (t1["level"] == level)]
    if rows.empty:  # no patient of the cohort has the characteristic recorded at all
        return {"n": 0, "evaluable": 0, "ci_low": None, "ci_high": None, "display": "0/0"}
    row = rows.iloc[0]
    n, evaluable = int(row["n"]), int(row["evaluable"])
    hidden = bool(row.get(SUPPRESSED, False))
    shown_evaluable = suppress_count(evaluable, k) if is_small(evaluable, k) else evaluable
    if hidden:
        shown_n = hidden_count(n, k)
        return {"n": shown_n, "evaluable": shown_evaluable, "ci_low": None, "ci_high": None,
                "display": str(row["display"])}
    ci = (None, None) if pd.isna(row["ci_low"]) else (float(row["ci_low"]), float(row["ci_high"]))
    return {"n": n, "evaluable": shown_evaluable, "ci_low": ci[0], "ci_high": ci[1],
            "display": str(row["display"])}


def _proportion_line(label: str, value: dict) -> str:
    text = f"{label}: {value['display']} of evaluable patients"
    if value["ci_low"] is not None:
        text += f" (95% CI {percent_range(value['ci_low'], value['ci_high'], 0)})"
    return text + "."


@describes(_table_one_methods)
def headline(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec = OverviewSpec(),
             small_cell_k: int = 0) -> ViewResult:
    """Headline numbers of the filtered cohort for the summary slide, from Table 1.

    numbers: n_patients; tp53_altered and low_hypodiploid as {n, evaluable, ci_low, ci_high,
    display} (exact 95% CI; the denominator is the patients evaluable, never all patients).
    With small-cell suppression (k > 1) a count from 1 to k-1 (and a cell that would give one
    back) is a display string, never a number, and its CI is None.
    """
    t1 = suppress_table_one(overview.table_one(db, cohort_filter), small_cell_k)
    n = int(t1.loc[t1["kind"] == "count", "n"].iloc[0])
    numbers: dict = {"n_patients": suppress_count(n, small_cell_k) if is_small(n, small_cell_k) else n}
    for name, (characteristic, level) in HEADLINE_PROPORTIONS.items():
        numbers[name] = _proportion(t1, characteristic, level, small_cell_k)
    lines = (f"n = {patients_text(n) if not is_small(n, small_cell_k) else suppress_count(n, small_cell_k) + ' patients'}.",
             *(_proportion_line(HEADLINE_LABELS[name], numbers[name]) for name in HEADLINE_PROPORTIONS))
    return ViewResult(PAGE, "overview.headline", "Cohort summary",
                      caption="n / evaluable (%); not evaluated is never counted as negative.",
                      n_patients=n, numbers=numbers, lines=tuple(lines))


# --- Table 1 by group ------------------------------------------------------------------------------
def table_one_by_group(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                       small_cell_k: int = 0) -> ViewResult:
    """Table 1 with a column per group of `spec.t1_group` and a test per characteristic
    (`analytics.overview.by_group`); withheld under small-cell suppression (the columns'
    margins would give small cells back)."""
    label = by_group.GROUPINGS[spec.t1_group][0]
    key, title = "overview.table_one_by_group", f"Table 1 by {label}"
    if small_cell_k > 1:
        return ViewResult(PAGE, key, title, caveats=(withheld_caveat("Table 1 by group", small_cell_k),))
    result = by_group.table_one_by_group(db, cohort_filter, spec.t1_group)
    shown = by_group.display(result)
    tested = result.table[result.table["p"].notna()]
    low = tested[tested["p"] < 0.05]
    lines = (f"{len(tested)} characteristics tested; p < 0.05 (unadjusted): "
             + ("; ".join(f"{c} ({t}, {p_text(p)})" for c, t, p in
                          zip(low["characteristic"], low["test"], low["p"])) or "none") + ".",)
    caveats = tuple(Caveat("Post-baseline grouping" if "after treatment" in note else
                           "Small groups" if note.startswith("Small") else
                           "Multiple comparisons" if "correction" in note else "Not evaluated",
                           note, "warning" if "after treatment" in note else "info")
                    for note in result.notes)
    return ViewResult(
        PAGE, key, title, caption="Columns: the whole filtered cohort, then each group; cells as in Table 1. "
                                  "p: exact tests for categories, rank tests for continuous values.",
        caveats=caveats, n_patients=result.n_by_column["Overall"], lines=lines,
        tables={"table": shown, "long": result.table}, numbers={"n_by_column": result.n_by_column},
        methods=paragraph([
            f"Baseline characteristics were compared between groups defined by {label}; patients not "
            "evaluated for the grouping were shown in their own column and not tested, and not-evaluated "
            "values of a characteristic never entered its test. Categorical characteristics were compared "
            "with Fisher's exact test [1] (2 x 2) or its Freeman-Halton extension [2] (larger tables), "
            "two-sided, by exact enumeration of the tables with the observed margins (where there would be "
            f"more than {stats.MAX_ENUMERATED_TABLES:,}, a Monte Carlo estimate from "
            f"{stats.MONTE_CARLO_DRAWS:,} random tables with a fixed seed, named in the table); continuous "
            "characteristics with the Wilcoxon rank-sum (Mann-Whitney) test for two groups (exact when one "
            "group has at most 8 values and there are no ties, otherwise the normal approximation with tie "
            "and continuity corrections) or the Kruskal-Wallis test (chi-square approximation, corrected for "
            "ties) for more. Proportions have exact Clopper-Pearson 95% "
            "CIs [3]. p-values are not adjusted for multiple comparisons."],
            ("scipy",), ("fisher", "freeman_halton", "clopper_pearson")))


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec = OverviewSpec(),
           small_cell_k: int = 0) -> list[ViewResult]:
    """The latency plot, as on the page, and Table 1 by group's test summary when a grouping is
    chosen (both withheld under small-cell suppression)."""
    if small_cell_k > 1 or cohort.count_patients(db, cohort_filter) == 0:
        return []
    results = [latency(db, cohort_filter, spec, small_cell_k)]
    if spec.t1_group:
        results.append(table_one_by_group(db, cohort_filter, spec, small_cell_k))
    return results


PAGE_VIEWS = PageViews(PAGE, "Overview", OverviewSpec, slides)
