"""Distributions of lenalidomide latency and cumulative exposure: a dot per patient up to
`DOT_PLOT_MAX_PATIENTS`, a histogram counted in DuckDB above, each with its median."""
from __future__ import annotations

import textwrap

import altair as alt
import numpy as np
import pandas as pd

from analytics import theme
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.overview.baseline import CONTINUOUS_SQL, prepared_summary


EXPOSURE_MEASURES = {
    "latency_months": "Latency from first lenalidomide to B-ALL",
    "cumulative_months": "Cumulative lenalidomide before B-ALL",
}


def exposure_values(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient (default order): latency and cumulative lenalidomide exposure, in months."""
    data = prepared_summary(db, cohort_filter)
    return data[["patient_id", "latency_months", "cumulative_months"]].astype(
        {"latency_months": float, "cumulative_months": float})


def dot_positions(values: pd.Series, gap: float) -> np.ndarray:
    """Stack level of each value in a dot plot: dots closer than `gap` go on separate rows.

    >>> dot_positions(pd.Series([1.0, 1.2, 5.0, 1.1]), gap=0.5).tolist()
    [0, 2, 0, 1]
    """
    order = np.argsort(values.to_numpy(), kind="stable")
    levels = np.zeros(len(values), dtype=int)
    last_on_level: list[float] = []
    for index in order:
        x = float(values.iloc[index])
        for level, last in enumerate(last_on_level):
            if x - last >= gap:
                levels[index] = level
                last_on_level[level] = x
                break
        else:
            levels[index] = len(last_on_level)
            last_on_level.append(x)
    return levels


# Above this many patients one dot each is unreadable (and the stacking is quadratic): the same
# distribution is drawn as a histogram with the same median rule (bench/: a dot plot of 100,000
# patients takes 15-20 s and 7 MB of chart data).
DOT_PLOT_MAX_PATIENTS = 300
# px: the page stretches the plot to its column; a slide or a file gets this width
EXPOSURE_WIDTH = 700


def _histogram(bins: pd.DataFrame, high: float, width: int, title: alt.TitleParams,
               rule_layers: list) -> alt.LayerChart:
    """Counts per 1-month bin (months = days / 30.4375), as bars, for large cohorts."""
    x = alt.X("start:Q", title="Months (days / 30.4375)", scale=alt.Scale(domain=[0, high], nice=False),
              axis=alt.Axis(values=list(range(0, int(high) + 1, 12))))
    bars = alt.Chart(bins).mark_rect(color=theme.PALETTE[0], opacity=0.9).encode(
        x=x, x2="end:Q", y=alt.Y("patients:Q", title="Patients per month"),
        tooltip=[alt.Tooltip("start:Q", title="From month", format=".0f"),
                 alt.Tooltip("end:Q", title="To month", format=".0f"),
                 alt.Tooltip("patients:Q", title="Patients")])
    return alt.layer(bars, *rule_layers).properties(title=title, width=width, height=210)


def _upper_bound(largest: float) -> float:
    """The x axis' end: whole years, at least one."""
    return max(12.0, float(np.ceil(largest / 12.0) * 12.0))


def histogram_plot(bins: pd.DataFrame, measure: str, n: int, n_missing: int, median: float,
                   high: float, width: int = 560) -> alt.LayerChart:
    """The large-cohort exposure plot: counts per month with the median as a labelled rule."""
    title = _exposure_title(measure, f"n = {n} patients, counted per month", n_missing, median)
    return _histogram(bins, high, width, title, _median_marks(median, "start"))


def _exposure_title(measure: str, n_text: str, n_missing: int, median: float) -> alt.TitleParams:
    # wrapped: the plot sits in the overview's narrow right-hand column, where Vega truncates
    # a one-line title at the plot's width
    return alt.TitleParams(
        textwrap.wrap(EXPOSURE_MEASURES[measure], 30),
        subtitle=[n_text + (f" ({n_missing} not evaluated)" if n_missing else ""),
                  "no patient with a value" if np.isnan(median) else f"median {median:.1f} months (dashed line)"],
        subtitleFontSize=theme.BASE_FONT_SIZE, subtitleColor="#333333")


def _median_marks(median: float, field: str) -> list[alt.Chart]:
    """The dashed median rule and its label, on the x field `field` of the chart they join."""
    rule_data = pd.DataFrame({field: [median], "label": [f"median {median:.1f}"]})
    rule = alt.Chart(rule_data).mark_rule(color=theme.PALETTE[5], strokeDash=[6, 4], size=2.5).encode(
        x=f"{field}:Q")
    label = alt.Chart(rule_data).mark_text(align="left", dx=6, dy=-4, color=theme.PALETTE[5],
                                           fontSize=theme.BASE_FONT_SIZE + 1, fontWeight="bold").encode(
        x=f"{field}:Q", y=alt.value(12), text="label:N")
    return [rule, label]


def dot_plot(values: pd.DataFrame, measure: str, width: int = 560) -> alt.LayerChart:
    """A dot plot (one dot per patient at the exact value) with the median as a labelled rule.

    For up to `DOT_PLOT_MAX_PATIENTS` patients; `exposure_chart` draws larger cohorts as a
    histogram counted in DuckDB.
    """
    if measure not in EXPOSURE_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    data = values[["patient_id", measure]].dropna().rename(columns={measure: "months"})
    n_missing = int(values[measure].isna().sum())
    median = float(data["months"].median()) if len(data) else float("nan")
    high = _upper_bound(data["months"].max()) if len(data) else 12.0
    data["level"] = dot_positions(data["months"], gap=high / 45.0) + 1 if len(data) else []
    top = max(4, int(data["level"].max()) + 1) if len(data) else 4
    title = _exposure_title(measure, f"n = {len(data)} patients, one dot each", n_missing, median)
    x = alt.X("months:Q", title="Months (days / 30.4375)",
              scale=alt.Scale(domain=[0, high], nice=False), axis=alt.Axis(values=list(range(0, int(high) + 1, 12))))
    dots = alt.Chart(data).mark_circle(size=150, opacity=0.9, color=theme.PALETTE[0],
                                       stroke="white", strokeWidth=1).encode(
        x=x,
        y=alt.Y("level:Q", title=None, scale=alt.Scale(domain=[0, top]), axis=None),  # stacking only
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("months:Q", title="Months", format=".1f")])
    layers = [dots, *_median_marks(median, "months")] if len(data) else [dots]
    return alt.layer(*layers).properties(title=title, width=width, height=210)


def _months_sql(measure: str) -> str:
    if measure not in EXPOSURE_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    return f"CAST({CONTINUOUS_SQL[measure]} AS DOUBLE)"


def exposure_counts(db: CohortDatabase, cohort_filter: CohortFilter, measure: str) -> tuple[int, int]:
    """Patients of the filtered cohort with a value of `measure`, and all patients."""
    where, params = cohort_filter.where_sql()
    months = _months_sql(measure)
    n, n_all = db.query(f"SELECT count({months}), count(*) FROM patient_summary WHERE {where}",
                        params).iloc[0].tolist()
    return int(n), int(n_all)


def exposure_chart(db: CohortDatabase, cohort_filter: CohortFilter, measure: str) -> alt.LayerChart:
    """The exposure plot of the filtered cohort for one measure: a dot per patient (`dot_plot`)
    up to `DOT_PLOT_MAX_PATIENTS` patients with a value, else patients per 1-month bin.

    The histogram's bins [k, k+1) (the last one closed), median and range come from DuckDB,
    so Python never holds a row per patient.
    """
    where, params = cohort_filter.where_sql()
    months = _months_sql(measure)
    n, n_all, median, largest = db.query(
        f"SELECT count({months}), count(*), median({months}), max({months}) FROM patient_summary "
        f"WHERE {where}", params).iloc[0].tolist()
    if n <= DOT_PLOT_MAX_PATIENTS:
        return dot_plot(exposure_values(db, cohort_filter), measure, width=EXPOSURE_WIDTH)
    high = _upper_bound(largest)
    # bins [k, k+1) for k < high - 1, the last one closed; values < 0 fall outside
    bins = db.query(
        f"SELECT CAST(least(floor({months}), ? - 1) AS DOUBLE) AS start, count(*) AS patients "
        f"FROM patient_summary WHERE ({where}) AND {months} >= 0 AND {months} <= ? "
        f"GROUP BY 1 ORDER BY 1", [high, *params, high])
    bins.insert(1, "end", bins["start"] + 1.0)
    bins["patients"] = bins["patients"].astype("int64")
    return histogram_plot(bins, measure, int(n), int(n_all - n), float(median), high, width=EXPOSURE_WIDTH)
