"""Kaplan-Meier from DuckDB-aggregated counts: curves, medians, milestones, follow-up, risk tables.

Everything starts from one per-patient working table (`patient_table`): each patient's derived
time and status for the chosen endpoint, beside the source events, so anyone can check the
working. The estimators never see patient rows: DuckDB aggregates the working table to
(group, exact day) -> (n events, n censored) and lifelines fits with those counts as weights.
Days are integers, so this is exact, not binned; cost grows with distinct days, not patients.

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> spec = SurvivalSpec(endpoint="EFS", population="treated")
>>> summary = km_summary(db, CohortFilter(), spec)
>>> round(float(summary.loc[0, "median_months"]), 1) > 0
True
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.survival.patients import km_counts
from analytics.survival.spec import MIN_GROUP_SIZE, SurvivalSpec, format_number
from analytics.units import DAYS_PER_MONTH


# --- estimation from counts ------------------------------------------------------------------
def _expand(counts: pd.DataFrame, reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts -> (durations, event flags, weights) with one weighted row per (day, status)."""
    event_col, censor_col = ("n_censored", "n_event") if reverse else ("n_event", "n_censored")
    t = counts["time_days"].to_numpy(dtype=float)
    durations = np.concatenate([t, t])
    events = np.concatenate([np.ones(len(t), dtype=int), np.zeros(len(t), dtype=int)])
    weights = np.concatenate([counts[event_col].to_numpy(float), counts[censor_col].to_numpy(float)])
    keep = weights > 0
    return durations[keep], events[keep], weights[keep]


def fit_km(counts: pd.DataFrame, alpha: float = 0.05, reverse: bool = False,
           label: str = "KM") -> KaplanMeierFitter:
    """Fit lifelines' Kaplan-Meier on aggregated counts (time_days, n_event, n_censored).

    `reverse=True` swaps events and censorings (reverse KM, for median follow-up).

    >>> c = pd.DataFrame({"time_days": [1, 2, 3], "n_event": [1, 0, 1], "n_censored": [0, 1, 0]})
    >>> float(fit_km(c).survival_function_.iloc[-1, 0])
    0.0
    """
    durations, events, weights = _expand(counts, reverse)
    return KaplanMeierFitter(alpha=alpha).fit(durations, events, weights=weights, label=label)


def step_value_at(frame: pd.DataFrame, t: float) -> pd.Series:
    """Value of a right-continuous step function (indexed by time) at time t."""
    upto = frame.loc[frame.index <= t]
    return upto.iloc[-1] if len(upto) else frame.iloc[0] * np.nan


def survival_at(kmf: KaplanMeierFitter, t_days: float) -> tuple[float, float, float]:
    """S(t) with its 95% CI; NaN beyond the last observation unless the curve reached 0."""
    last = float(kmf.timeline.max())
    s = float(kmf.survival_function_at_times(t_days).iloc[0])
    if t_days > last and s > 0:
        return (math.nan, math.nan, math.nan)
    ci = step_value_at(kmf.confidence_interval_, t_days)
    return (s, float(ci.iloc[0]), float(ci.iloc[1]))


def median_with_ci(kmf: KaplanMeierFitter) -> tuple[float, float, float]:
    """Median survival (days) with lifelines' 95% CI; inf means not reached."""
    median = float(kmf.median_survival_time_)
    ci = median_survival_times(kmf.confidence_interval_)
    return median, float(ci.iloc[0, 0]), float(ci.iloc[0, 1])


def months_text(days: float) -> str:
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return "n/a"
    if math.isinf(days):
        return "NR"
    return f"{days / DAYS_PER_MONTH:.1f}"


def percent_text(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def ordered_groups(counts: pd.DataFrame) -> list[str]:
    groups = sorted(counts["group"].unique(), key=lambda g: (g == NOT_EVALUATED, str(g)))
    return [str(g) for g in groups]


def km_curves(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
              alpha: float = 0.05) -> pd.DataFrame:
    """Curve data per group: one row per distinct day (plus day 0) with S, CI and counts."""
    counts = km_counts(db, cohort_filter, spec)
    return curves_from_counts(counts, alpha)


def curves_from_counts(counts: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    frames = []
    for group in ordered_groups(counts):
        c = counts[counts["group"] == group]
        kmf = fit_km(c, alpha=alpha, label=group)
        table = kmf.event_table
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_
        frame = pd.DataFrame({
            "group": group, "time_days": sf.index.to_numpy(float),
            "survival": sf.to_numpy(), "ci_lower": ci.iloc[:, 0].to_numpy(),
            "ci_upper": ci.iloc[:, 1].to_numpy(),
            "at_risk": table["at_risk"].reindex(sf.index).to_numpy(),
            "n_event": table["observed"].reindex(sf.index).to_numpy(),
            "n_censored": table["censored"].reindex(sf.index).to_numpy()})
        if frame["time_days"].iloc[0] > 0:  # the curve starts at 100% at time zero
            start = frame.iloc[[0]].copy()
            start[["time_days", "survival", "ci_lower", "ci_upper", "n_event", "n_censored"]] = \
                [0.0, 1.0, 1.0, 1.0, 0, 0]
            start["at_risk"] = int(c[["n_event", "n_censored"]].to_numpy().sum())
            frame = pd.concat([start, frame], ignore_index=True)
        frames.append(frame)
    cols = ["group", "time_days", "time_months", "survival", "ci_lower", "ci_upper", "at_risk",
            "n_event", "n_censored"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    out["time_months"] = out["time_days"] / DAYS_PER_MONTH
    out[["at_risk", "n_event", "n_censored"]] = out[["at_risk", "n_event", "n_censored"]].astype(int)
    return out[cols]


def km_summary(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
               milestones_months: tuple[float, ...] = (12, 24, 36), alpha: float = 0.05) -> pd.DataFrame:
    """Per group: n, events, median (months) with CI, survival at milestones with CI, follow-up.

    Median follow-up is the median of the reverse Kaplan-Meier (censoring as the event).
    `note` says when a group is too small or has no events.
    """
    counts = km_counts(db, cohort_filter, spec)
    return summary_from_counts(counts, milestones_months, alpha)


def summary_from_counts(counts: pd.DataFrame, milestones_months: Sequence[float] = (12, 24, 36),
                        alpha: float = 0.05) -> pd.DataFrame:
    rows = []
    for group in ordered_groups(counts):
        c = counts[counts["group"] == group]
        kmf = fit_km(c, alpha=alpha, label=group)
        n = int(c["n_event"].sum() + c["n_censored"].sum())
        events = int(c["n_event"].sum())
        median, lo, hi = median_with_ci(kmf)
        fu = fit_km(c, alpha=alpha, reverse=True) if c["n_censored"].sum() else None
        fu_median = float(fu.median_survival_time_) if fu is not None else math.nan
        notes = []
        if events == 0:
            notes.append("no events: median not reached, no survival drop to estimate")
        if n < MIN_GROUP_SIZE:
            notes.append(f"only {n} patient{'s' if n != 1 else ''}: estimates unreliable")
        row = {"group": group, "n": n, "events": events,
               "median_days": median, "median_ci_lower_days": lo, "median_ci_upper_days": hi,
               "median_months": median / DAYS_PER_MONTH, "median_ci_lower_months": lo / DAYS_PER_MONTH,
               "median_ci_upper_months": hi / DAYS_PER_MONTH,
               "followup_median_months": fu_median / DAYS_PER_MONTH, "note": "; ".join(notes)}
        for m in milestones_months:
            s, slo, shi = survival_at(kmf, m * DAYS_PER_MONTH)
            row[f"S({format_number(m)} mo)"] = s
            row[f"S({format_number(m)} mo) lower"] = slo
            row[f"S({format_number(m)} mo) upper"] = shi
        rows.append(row)
    return pd.DataFrame(rows)


def median_followup(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec) -> float:
    """Median follow-up (months) of the whole analysed population by reverse Kaplan-Meier."""
    return followup_from_counts(km_counts(db, cohort_filter, spec))


def followup_from_counts(counts: pd.DataFrame) -> float:
    """`median_followup` of aggregated counts (group, time_days, n_event, n_censored)."""
    if counts.empty or counts["n_censored"].sum() == 0:
        return math.nan
    pooled = counts.groupby("time_days", as_index=False)[["n_event", "n_censored"]].sum()
    return float(fit_km(pooled, reverse=True).median_survival_time_) / DAYS_PER_MONTH


# --- number at risk ---------------------------------------------------------------------------
def month_ticks(max_months: float) -> list[float]:
    """Shared x ticks (months) for the curve and the number-at-risk table: at most about ten,
    at 3, 6, 12, 24, 36 or 60 months, or at a multiple of 60 beyond 50 years of follow-up
    (imported days are bounded, but a database built elsewhere may hold any day).

    >>> month_ticks(30)[-2:], len(month_ticks(32854.2)), month_ticks(float("nan"))
    ([27.0, 30.0], 10, [0.0])
    """
    span = max_months if math.isfinite(max_months) and max_months > 1.0 else 1.0
    step = next((s for s in (3, 6, 12, 24, 36, 60) if span / s <= 10), 60 * math.ceil(span / 600))
    return [float(x) for x in np.arange(0, span + 1e-9, step)]


def risk_table(counts: pd.DataFrame, ticks_months: Sequence[float]) -> pd.DataFrame:
    """Number at risk (time >= tick) per group at each tick, from the aggregated counts."""
    rows = []
    for group in ordered_groups(counts):
        c = counts[counts["group"] == group]
        leaving = c["n_event"] + c["n_censored"]
        for tick in ticks_months:
            rows.append({"group": group, "time_months": float(tick),
                         "at_risk": int(leaving[c["time_days"] >= tick * DAYS_PER_MONTH].sum())})
    return pd.DataFrame(rows, columns=["group", "time_months", "at_risk"])


