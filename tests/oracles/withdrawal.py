"""Per-patient references for analytics.withdrawal: the kinetics of one series in a Python pass
(`patient_kinetics`), and the analysis from a frame of every filtered patient (`analyse`,
`patient_overview`, `compare_regressors`). The app computes the same with `kinetics_of` (array
operations over every series) and `page_view` (counts in DuckDB); tests compare them."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.cohort import filtered_summary
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.withdrawal import (COMPLETE, LEUKEMIC, NONE, NOT_ASSESSABLE, PARTIAL, PROGRESSION,
                                  SUMMARY_COLUMNS, RegressionRule, kinetics_table)
from analytics.withdrawal.comparison import comparison_of as _compare
from analytics.withdrawal.kinetics import overview_of as _overview
from analytics.withdrawal.rule import _fmt


@dataclass(frozen=True)
class Kinetics:
    """Kinetics of one patient's series (days counted from the lenalidomide stop day)."""

    classification: str
    reason: str
    n_measurements: int                  # all measurements of the series
    n_assessed: int                      # baseline + later measurements before therapy
    baseline_day: float | None           # days from stop
    baseline_value: float | None
    nadir_value: float | None            # lowest level from baseline up to therapy
    nadir_below_detection: bool
    days_to_nadir_from_stop: float | None
    reduction_pct: float | None          # 100 * (baseline - nadir) / baseline, in [0, 100]
    max_rise_pct: float | None           # 100 * (max - baseline) / baseline, >= 0
    days_to_half_from_stop: float | None  # interpolated; None when not reached before therapy
    overall_nadir_value: float | None    # lowest level after baseline including after therapy
    overall_nadir_days_from_stop: float | None
    overall_nadir_after_therapy: bool    # True: the lowest level came after therapy started
    therapy_days_from_stop: float | None


def _level(row) -> float:
    """A measurement's number: the value, or the detection limit when below detection."""
    if bool(row["below_detection"]):
        lod = row["lower_limit_of_detection"]
        return float(lod) if pd.notna(lod) else 0.0
    return float(row["value"])


def interpolate_crossing(days, levels, threshold: float) -> float | None:
    """First day at which a piecewise-linear series reaches `threshold` or below.

    Linear interpolation between the last point above and the first point at/below the
    threshold. None when never reached; the first day if the first point is already at/below.

    >>> interpolate_crossing([0, 35], [22.0, 9.5], 11.0)
    30.8
    """
    days, levels = list(days), list(levels)
    for i, (d, v) in enumerate(zip(days, levels)):
        if v <= threshold:
            if i == 0:
                return float(d)
            d0, v0 = days[i - 1], levels[i - 1]
            return float(d0 + (d - d0) * (v0 - threshold) / (v0 - v))
    return None


def patient_kinetics(series: pd.DataFrame, stop_day: float | None, therapy_day: float | None,
                     rule: RegressionRule = RegressionRule()) -> Kinetics:
    """Kinetics and class of one patient's series of one analyte.

    `series` has columns day, value, lower_limit_of_detection, below_detection (days relative to
    B-ALL diagnosis); `stop_day` is the lenalidomide stop day and `therapy_day` the first B-ALL
    therapy day (None = untreated), both relative to diagnosis.
    """
    s = series.sort_values("day").reset_index(drop=True)
    n = len(s)
    therapy_rel = None if therapy_day is None or pd.isna(therapy_day) else float(therapy_day - (stop_day or 0))
    empty = dict(n_measurements=n, n_assessed=0, baseline_day=None, baseline_value=None,
                 nadir_value=None, nadir_below_detection=False, days_to_nadir_from_stop=None,
                 reduction_pct=None, max_rise_pct=None, days_to_half_from_stop=None,
                 overall_nadir_value=None, overall_nadir_days_from_stop=None,
                 overall_nadir_after_therapy=False, therapy_days_from_stop=therapy_rel)
    if stop_day is None or pd.isna(stop_day):
        return Kinetics(NOT_ASSESSABLE, "no lenalidomide stop day recorded", **empty)
    if n == 0:
        return Kinetics(NOT_ASSESSABLE, "no measurements", **empty)
    s["rel"] = s["day"].astype(float) - float(stop_day)
    s["level"] = [_level(r) for _, r in s.iterrows()]
    on_or_before = s[s["rel"] <= 0]
    after = s[(s["rel"] > 0) & (s["rel"] <= rule.baseline_window_days)]
    if len(on_or_before):
        b = on_or_before.index[-1]
    elif len(after):
        b = after.index[0]
    else:
        return Kinetics(NOT_ASSESSABLE, "no measurement at withdrawal under the baseline rule",
                        **empty)
    base = s.loc[b]
    follow = s.loc[b:]
    if therapy_rel is not None:
        window = follow[follow["rel"] < therapy_rel]
        if b not in window.index:  # therapy started before the level at withdrawal was taken
            window = follow.iloc[:0]
    else:
        window = follow
    values = dict(empty, n_assessed=len(window), baseline_day=float(base["rel"]),
                  baseline_value=float(base["level"]))
    # overall nadir (including after therapy), for the "response, not regression" flag
    later = follow.iloc[1:]
    if len(later):
        j = later["level"].idxmin()
        values.update(overall_nadir_value=float(later.at[j, "level"]),
                      overall_nadir_days_from_stop=float(later.at[j, "rel"]),
                      overall_nadir_after_therapy=bool(therapy_rel is not None
                                                       and later.at[j, "rel"] >= therapy_rel))
    if len(window):
        k = window["level"].idxmin()
        values.update(nadir_value=float(window.at[k, "level"]),
                      nadir_below_detection=bool(window.at[k, "below_detection"]),
                      days_to_nadir_from_stop=float(window.at[k, "rel"]))
    if bool(base["below_detection"]):
        return Kinetics(NOT_ASSESSABLE, "level at withdrawal already below detection", **values)
    if base["level"] <= 0:
        return Kinetics(NOT_ASSESSABLE, "level at withdrawal is zero", **values)
    if len(window) < rule.min_measurements:
        why = (f"{len(window)} measurement(s) from withdrawal to B-ALL therapy"
               if therapy_rel is not None else f"{len(window)} measurement(s) after withdrawal")
        return Kinetics(NOT_ASSESSABLE, f"{why}; {rule.min_measurements} needed", **values)
    b0 = float(base["level"])
    reduction = 100.0 * (b0 - values["nadir_value"]) / b0
    rise = 100.0 * (float(window["level"].max()) - b0) / b0
    half = interpolate_crossing(window["rel"], window["level"], b0 / 2.0)
    values.update(reduction_pct=reduction, max_rise_pct=rise, days_to_half_from_stop=half)
    if bool(window["below_detection"].iloc[1:].any()):
        return Kinetics(COMPLETE, "below detection before any B-ALL therapy", **values)
    if reduction >= rule.partial_reduction_pct:
        return Kinetics(PARTIAL, f"reduction {reduction:.0f}% ≥ {_fmt(rule.partial_reduction_pct)}%",
                        **values)
    if rise >= rule.progression_rise_pct:
        return Kinetics(PROGRESSION, f"rise {rise:.0f}% ≥ {_fmt(rule.progression_rise_pct)}%",
                        **values)
    return Kinetics(NONE, f"reduction {reduction:.0f}% < {_fmt(rule.partial_reduction_pct)}%, "
                          f"rise {rise:.0f}% < {_fmt(rule.progression_rise_pct)}%", **values)



def patient_overview(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                     specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> pd.DataFrame:
    """Every filtered patient: stop day, therapy day, class (or why there is none): the timing plot."""
    return _overview(filtered_summary(db, cohort_filter),
                     kinetics_table(db, cohort_filter, analyte, specimen, rule))



def compare_regressors(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                       specimen: str = "marrow", rule: RegressionRule = RegressionRule()
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regressors (complete/partial) against assessable non-regressors (none/progression).

    Continuous: two-sided exact Mann-Whitney U (scipy, method='exact'), medians and ranges.
    Categorical: two-sided Fisher exact test of a 2x2 table among patients evaluable for the
    feature (NULL = not evaluated, counted apart, never as negative). Not-assessable patients
    are in neither group.
    """
    return _compare(filtered_summary(db, cohort_filter), kinetics_table(db, cohort_filter, analyte, specimen, rule))



@dataclass(frozen=True)
class WithdrawalAnalysis:
    """Kinetics, timing overview and regressor comparison of one view, from one pass."""

    kinetics: pd.DataFrame      # kinetics_table
    overview: pd.DataFrame      # patient_overview
    continuous: pd.DataFrame    # compare_regressors, continuous features
    categorical: pd.DataFrame   # compare_regressors, categorical features


def analyse(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
            specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> WithdrawalAnalysis:
    """What the withdrawal page shows, computing the kinetics and the cohort summary once.

    Reads only the summary columns it uses (allow-listed constants), not every column of
    `patient_summary`: at a million patients the whole view in pandas was about 2 GB."""
    summary = _summary_columns(db, cohort_filter)
    kinetics = kinetics_table(db, cohort_filter, analyte, specimen, rule)
    continuous, categorical = _compare(summary, kinetics)
    return WithdrawalAnalysis(kinetics, _overview(summary, kinetics), continuous, categorical)


def _summary_columns(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """`filtered_summary` restricted to SUMMARY_COLUMNS (same rows, same order)."""
    where, params = cohort_filter.where_sql()
    return db.query(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM patient_summary WHERE {where} "
                    "ORDER BY patient_id", params)


