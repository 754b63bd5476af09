"""One Kaplan-Meier view (what the page's Kaplan-Meier tab shows besides the figure), all
aggregate-sized: numbers per group, tests, display tables and the caption."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from analytics.db import CohortDatabase
from analytics.disclosure import suppress_count
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.survival.km import curves_from_counts, followup_from_counts, months_text, percent_text, summary_from_counts
from analytics.survival.comparisons import LogRankResult, logrank_from_counts, pairwise_from_counts
from analytics.survival.patients import km_counts
from analytics.survival.spec import ORIGINS, POPULATIONS, SurvivalSpec, format_number


# --- CSV export -------------------------------------------------------------------------------
# --- display helpers (plain text tables for the page and its CSV) ----------------------------
def summary_display(summary: pd.DataFrame, milestones_months: Sequence[float]) -> pd.DataFrame:
    """Human-readable per-group table: medians in months with 95% CI, milestones in %."""
    rows = []
    for r in summary.to_dict("records"):
        median = r["median_days"]
        row = {"Group": r["group"], "N": r["n"], "Events": r["events"],
               "Median, months": "not reached" if math.isinf(median) else months_text(median),
               "95% CI": f"{months_text(r['median_ci_lower_days'])} to {months_text(r['median_ci_upper_days'])}"}
        for m in milestones_months:
            key = f"S({format_number(m)} mo)"
            s = r[key]
            row[f"{format_number(m)} months, % (95% CI)"] = "beyond follow-up" if math.isnan(s) else (
                f"{100 * s:.1f} ({percent_text(r[key + ' lower'])[:-1]} to {percent_text(r[key + ' upper'])[:-1]})")
        fu = r["followup_median_months"]
        row["Median follow-up, months"] = "n/a" if math.isnan(fu) else (
            "not reached" if math.isinf(fu) else f"{fu:.1f}")
        row["Note"] = r["note"]
        rows.append(row)
    return pd.DataFrame(rows)


def parse_milestones(text: str) -> tuple[float, ...]:
    """'12, 24, 36' -> (12.0, 24.0, 36.0); raises ValueError on anything else.

    >>> parse_milestones("6; 12 24")
    (6.0, 12.0, 24.0)
    """
    parts = [p for p in text.replace(";", " ").replace(",", " ").split() if p]
    values = tuple(float(p) for p in parts)
    if not values or any(not math.isfinite(v) or v <= 0 for v in values) or len(values) > 8:
        raise ValueError("milestones must be 1 to 8 positive numbers of months")
    return tuple(sorted(set(values)))


# --- one KM view (what the page's Kaplan-Meier tab shows), chart-sized ------------------------
def suppress_small_groups(counts: pd.DataFrame, small_cell_k: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Counts without the groups of fewer than k patients (small-cell suppression, k > 1)
    and the names of the withheld groups."""
    if small_cell_k <= 1 or counts.empty:
        return counts, ()
    sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1)
    withheld = tuple(sorted(str(g) for g, size in sizes.items() if 0 < size < small_cell_k))
    return counts[~counts["group"].isin(withheld)], withheld


def view_caption(cohort_filter: CohortFilter, spec: SurvivalSpec, n_included: int, events: int,
                 small_cell_k: int = 0) -> str:
    """The one-line description of a view (population, origin, filters, n and events) shown under
    the options and as the KM figure's subtitle; counts read "<k" under suppression.

    >>> view_caption(CohortFilter(), SurvivalSpec(), 32, 16)
    'All patients, time from B-ALL diagnosis; filters: no filters; n = 32, 16 events'
    """
    return (f"{POPULATIONS[spec.population]}, time from {ORIGINS[spec.origin]}; "
            f"filters: {cohort_filter.describe()}; n = {suppress_count(n_included, small_cell_k)}, "
            f"{suppress_count(events, small_cell_k)} events")


@dataclass(frozen=True)
class KMView:
    """What the Kaplan-Meier tab shows besides the figure: all aggregate-sized (no patient rows).

    `n` and `events` count every analysed patient (before suppression); `summary` has one row
    per drawn group; `logrank` is None when no test applies (`logrank_reason` says why)."""
    n: int
    events: int
    withheld_groups: tuple[str, ...]
    summary: pd.DataFrame
    logrank: LogRankResult | None
    logrank_reason: str
    pairwise: pd.DataFrame | None
    median_followup_months: float = math.nan  # reverse KM of all analysed patients


def km_view(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
            milestones_months: tuple[float, ...] = (12, 24, 36), small_cell_k: int = 0,
            correction: str = "none") -> KMView:
    """The KM tab's numbers for one view, from one DuckDB aggregation (`km_counts`).

    >>> from analytics.build import build_in_memory
    >>> v = km_view(build_in_memory("data/demo_cohort"), CohortFilter(), SurvivalSpec())
    >>> (v.n, v.events, v.logrank_reason)
    (32, 16, 'no groups')
    """
    return view_from_counts(km_counts(db, cohort_filter, spec), milestones_months, small_cell_k,
                            correction, grouped=spec.group is not None)


def view_from_counts(counts: pd.DataFrame, milestones_months: Sequence[float] = (12, 24, 36),
                     small_cell_k: int = 0, correction: str = "none", grouped: bool = True) -> KMView:
    """`KMView` of aggregated counts (group, time_days, n_event, n_censored)."""
    n = int(counts["n_event"].sum() + counts["n_censored"].sum())
    events = int(counts["n_event"].sum())
    followup = followup_from_counts(counts)  # all analysed patients, before suppression
    counts, withheld = suppress_small_groups(counts, small_cell_k)
    summary = summary_from_counts(counts, milestones_months)
    lr, reason, pairs = None, "no groups", None
    if grouped and not summary.empty:
        evaluated = summary[(summary["n"] > 0) & (summary["group"] != NOT_EVALUATED)]
        if len(evaluated) < 2:
            reason = "one group"
        elif evaluated["events"].sum() == 0:
            reason = "no events"
        else:
            lr, reason = logrank_from_counts(counts), ""
            if correction != "none" and len(lr.groups) > 2:
                pairs = pairwise_from_counts(counts, correction)
    return KMView(n, events, withheld, summary, lr, reason, pairs, followup)


def curve_table(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                small_cell_k: int = 0) -> pd.DataFrame:
    """The drawn curves as a table (the curve-data CSV); under suppression without counts."""
    counts, _ = suppress_small_groups(km_counts(db, cohort_filter, spec), small_cell_k)
    curves = curves_from_counts(counts)
    if small_cell_k > 1:
        curves = curves.drop(columns=["at_risk", "n_event", "n_censored"])
    return curves
