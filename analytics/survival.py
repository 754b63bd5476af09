"""Survival endpoints, Kaplan-Meier from DuckDB-aggregated counts, log-rank tests, risk tables.

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
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from scipy import stats

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.stats import adjust_pvalues
from analytics.units import DAYS_PER_MONTH

# --- allow-lists ---------------------------------------------------------------------------
ENDPOINTS = {"OS": "Overall survival", "EFS": "Event-free survival"}
# EFS event -> patient_summary column holding its (first) day
EFS_EVENT_COLUMNS = {"induction_failure": "induction_failure_day", "relapse": "relapse_day",
                     "death": "death_day"}
EFS_EVENT_LABELS = {"induction_failure": "induction failure", "relapse": "relapse", "death": "death"}
ALL_EFS_EVENTS = tuple(EFS_EVENT_COLUMNS)
ORIGINS = {"diagnosis": "B-ALL diagnosis", "first_treatment": "start of first B-ALL treatment"}
POPULATIONS = {"all": "All patients", "treated": "Treated patients"}

# group key -> label. Categorical: patient_summary columns; NULL is "not evaluated", its own group.
CATEGORICAL_GROUPS = {
    "institution": "Institution", "sex": "Sex", "tp53_status": "TP53",
    "ploidy_category": "Ploidy category", "bcr_abl1": "BCR::ABL1", "cns_status": "CNS status",
    "best_response": "Best response", "first_line_regimen_category": "First-line regimen",
    "cd20": "CD20", "myeloma_auto_hct": "Prior autologous HCT (myeloma)",
    "treated": "B-ALL treatment", "hct": "Allogeneic HCT (ever)",
}
CONTINUOUS_GROUPS = {
    "age_at_ball_dx": "Age at B-ALL diagnosis (years)", "wbc_k_per_ul": "WBC (K/µL)",
    "marrow_blast_pct": "Marrow blasts (%)", "latency_days": "Latency from lenalidomide (days)",
    "len_cumulative_days": "Cumulative lenalidomide (days)",
    "modal_chromosome_number": "Modal chromosome number",
}
BOOLEAN_GROUPS = {"myeloma_auto_hct", "treated", "hct"}
# Groups defined by something that happens after time zero: naive comparison is biased.
POST_BASELINE_GROUPS = {"hct", "best_response"}

MIN_GROUP_SIZE = 5  # below this a group's estimates are flagged as unreliable


@dataclass(frozen=True)
class SurvivalSpec:
    """What is being estimated. Hashable: it keys the page cache directly.

    endpoint: "OS" or "EFS"; efs_events: which events end EFS; origin: time zero;
    population: "all" or "treated"; group: a key of CATEGORICAL_GROUPS or CONTINUOUS_GROUPS
    (None = whole cohort); cutoff: split value for a continuous group (< cutoff vs >= cutoff).
    """

    endpoint: str = "EFS"
    efs_events: tuple[str, ...] = ALL_EFS_EVENTS
    origin: str = "diagnosis"
    population: str = "all"
    group: str | None = None
    cutoff: float | None = None

    def validate(self) -> "SurvivalSpec":
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown time origin {self.origin!r}")
        if self.population not in POPULATIONS:
            raise ValueError(f"unknown population {self.population!r}")
        if self.endpoint == "EFS":
            if not self.efs_events:
                raise ValueError("EFS needs at least one event type")
            unknown = set(self.efs_events) - set(EFS_EVENT_COLUMNS)
            if unknown:
                raise ValueError(f"unknown EFS events {sorted(unknown)}")
        if self.group is not None and self.group not in CATEGORICAL_GROUPS \
                and self.group not in CONTINUOUS_GROUPS:
            raise ValueError(f"{self.group!r} is not an allowed grouping attribute")
        if self.group in CONTINUOUS_GROUPS and (self.cutoff is None or not math.isfinite(self.cutoff)):
            raise ValueError(f"grouping by {self.group} needs a numeric cutoff")
        return self

    def with_(self, **changes: Any) -> "SurvivalSpec":
        return replace(self, **changes)

    @property
    def event_columns(self) -> list[str]:
        if self.endpoint == "OS":
            return ["death_day"]
        return [EFS_EVENT_COLUMNS[e] for e in ALL_EFS_EVENTS if e in self.efs_events]

    @property
    def event_names(self) -> list[str]:
        if self.endpoint == "OS":
            return ["death"]
        return [e for e in ALL_EFS_EVENTS if e in self.efs_events]

    def endpoint_label(self) -> str:
        if self.endpoint == "OS":
            return ENDPOINTS["OS"]
        if set(self.efs_events) == set(ALL_EFS_EVENTS):
            return ENDPOINTS["EFS"]
        return f"{ENDPOINTS['EFS']} ({', '.join(EFS_EVENT_LABELS[e] for e in self.event_names)})"

    def group_label(self) -> str:
        if self.group is None:
            return "All"
        if self.group in CATEGORICAL_GROUPS:
            return CATEGORICAL_GROUPS[self.group]
        return f"{CONTINUOUS_GROUPS[self.group]} split at {format_number(self.cutoff)}"


def format_number(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"


def _group_expression(spec: SurvivalSpec) -> tuple[str, list[Any]]:
    """SQL for the group label of each patient (column names only from the allow-lists)."""
    if spec.group is None:
        return "'All'", []
    column = spec.group
    if column in BOOLEAN_GROUPS:
        return (f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} THEN 'yes' "
                f"ELSE 'no' END"), []
    if column in CATEGORICAL_GROUPS:
        return f"coalesce(CAST({column} AS VARCHAR), '{NOT_EVALUATED}')", []
    cut = format_number(spec.cutoff)
    return (f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} < ? THEN ? "
            f"ELSE ? END"), [spec.cutoff, f"< {cut}", f"≥ {cut}"]


def _patient_sql(cohort_filter: CohortFilter, spec: SurvivalSpec) -> tuple[str, list[Any]]:
    """The working table as SQL: one row per filtered patient, with `included` and a reason."""
    spec.validate()
    where, params = cohort_filter.where_sql()
    group_sql, group_params = _group_expression(spec)
    columns = spec.event_columns
    event_day = columns[0] if len(columns) == 1 else f"least({', '.join(columns)})"
    event_type = "CASE " + " ".join(
        f"WHEN event_day = {c} THEN '{EFS_EVENT_LABELS[n]}'" for c, n in zip(columns, spec.event_names)
    ) + " END"
    origin = "0" if spec.origin == "diagnosis" else "first_treatment_day"
    population = "TRUE" if spec.population == "all" else "treated"
    sql = f"""
    WITH base AS (
        SELECT patient_id, {group_sql} AS grp, treated, {origin} AS origin_day,
               first_treatment_day, induction_failure_day, relapse_day, hct_day, first_cr_day, death_day,
               last_contact_day, {event_day} AS event_day
        FROM patient_summary WHERE ({where}) AND ({population})
    ), derived AS (
        SELECT *, {event_type} AS event_type,
               coalesce(event_day, last_contact_day) AS end_day,
               coalesce(event_day, last_contact_day) - origin_day AS time_days,
               CAST(event_day IS NOT NULL AS INTEGER) AS event
        FROM base
    )
    SELECT *,
           CASE WHEN origin_day IS NULL THEN 'no time origin (never treated)'
                WHEN end_day IS NULL THEN 'no follow-up recorded'
                WHEN time_days < 0 THEN 'event or last contact before time origin'
           END AS exclusion_reason
    FROM derived"""
    return sql, group_params + params


def patient_table(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                  limit: int | None = None) -> pd.DataFrame:
    """Per-patient working table: derived time/status beside the source event days.

    Columns: patient_id, group, origin_day, the source days, event_day, event_type, end_day,
    time_days, time_months, event (1/0), status (text), included, exclusion_reason.
    `limit`: only the first rows (patient id order), e.g. for the screen.
    """
    sql, params = _patient_sql(cohort_filter, spec)
    if limit is not None:
        table = db.query(f"SELECT * FROM ({sql}) ORDER BY patient_id LIMIT ?", [*params, int(limit)])
    else:
        table = db.query(f"SELECT * FROM ({sql}) ORDER BY patient_id", params)
    table = table.rename(columns={"grp": "group"})
    table["included"] = table["exclusion_reason"].isna()
    table["time_months"] = table["time_days"] / DAYS_PER_MONTH
    table["status"] = np.where(
        table["event"] == 1, "event: " + table["event_type"].fillna(""), "censored at last contact")
    table.loc[~table["included"], "status"] = "excluded"
    order = ["patient_id", "group", "included", "time_days", "time_months", "event", "status",
             "origin_day", "first_treatment_day", "induction_failure_day", "relapse_day", "hct_day",
             "death_day", "last_contact_day", "event_day", "event_type", "end_day", "exclusion_reason"]
    return table[order]


def inclusion_summary(db: CohortDatabase, cohort_filter: CohortFilter,
                      spec: SurvivalSpec) -> tuple[int, int, tuple[str, ...]]:
    """(patients included, patients excluded, sorted exclusion reasons) of the working table,
    aggregated in DuckDB (the same numbers as `patient_table`, without a row per patient).

    >>> from analytics.build import build_in_memory
    >>> inclusion_summary(build_in_memory("data/demo_cohort"), CohortFilter(), SurvivalSpec())
    (32, 0, ())
    """
    sql, params = _patient_sql(cohort_filter, spec)
    row = db.query(
        f"""SELECT count(*) FILTER (WHERE exclusion_reason IS NULL) AS included,
                   count(*) FILTER (WHERE exclusion_reason IS NOT NULL) AS excluded,
                   list(DISTINCT exclusion_reason ORDER BY exclusion_reason)
                       FILTER (WHERE exclusion_reason IS NOT NULL) AS reasons
            FROM ({sql})""", params).iloc[0]
    reasons = row["reasons"]
    reasons = tuple(reasons) if isinstance(reasons, (list, tuple, np.ndarray)) else ()
    return int(row["included"]), int(row["excluded"]), tuple(sorted(str(r) for r in reasons))


def km_counts(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec) -> pd.DataFrame:
    """DuckDB-aggregated counts: one row per (group, exact day) with n_event and n_censored."""
    sql, params = _patient_sql(cohort_filter, spec)
    return db.query(
        f"""SELECT grp AS "group", time_days, CAST(sum(event) AS INTEGER) AS n_event,
                   CAST(sum(1 - event) AS INTEGER) AS n_censored
            FROM ({sql}) WHERE exclusion_reason IS NULL
            GROUP BY grp, time_days ORDER BY grp, time_days""", params)


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


def _groups(counts: pd.DataFrame) -> list[str]:
    groups = sorted(counts["group"].unique(), key=lambda g: (g == NOT_EVALUATED, str(g)))
    return [str(g) for g in groups]


def km_curves(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
              alpha: float = 0.05) -> pd.DataFrame:
    """Curve data per group: one row per distinct day (plus day 0) with S, CI and counts."""
    counts = km_counts(db, cohort_filter, spec)
    return curves_from_counts(counts, alpha)


def curves_from_counts(counts: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    frames = []
    for group in _groups(counts):
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
    for group in _groups(counts):
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


# --- log-rank ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankResult:
    statistic: float
    df: int
    p_value: float
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    groups: tuple[str, ...]


def logrank_from_counts(counts: pd.DataFrame) -> LogRankResult:
    """k-group log-rank test from aggregated counts (group, time_days, n_event, n_censored).

    Same statistic as lifelines' `multivariate_logrank_test` (and `logrank_test` for k=2):
    U = O - E over the first k-1 groups, chi2 = U' V^-1 U with hypergeometric covariance V.
    Patients "not evaluated" for the grouping attribute are drawn but never tested: an unknown
    value is not a group to compare.
    """
    counts = evaluated_only(counts)
    groups = _groups(counts)
    if len(groups) < 2:
        raise ValueError("a log-rank test needs at least two groups")
    wide_d = counts.pivot_table(index="time_days", columns="group", values="n_event",
                                aggfunc="sum", fill_value=0)[groups]
    wide_c = counts.pivot_table(index="time_days", columns="group", values="n_censored",
                                aggfunc="sum", fill_value=0)[groups]
    leaving = (wide_d + wide_c).to_numpy(float)
    d = wide_d.to_numpy(float)
    # at risk at t: everyone whose time is >= t = total minus those who left strictly before t
    n = leaving[::-1].cumsum(axis=0)[::-1]
    N = n.sum(axis=1)
    D = d.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n * (D / N)[:, None]
        factor = np.where(N > 1, D * (N - D) / (N * N * (N - 1)), 0.0)
    k = len(groups)
    V = np.zeros((k, k))
    for j in range(len(N)):
        if D[j] == 0:
            continue
        nj = n[j]
        V += factor[j] * (np.diag(nj) * N[j] - np.outer(nj, nj))
    O = d.sum(axis=0)
    E = expected.sum(axis=0)
    U = (O - E)[:-1]
    Vr = V[:-1, :-1]
    statistic = float(U @ np.linalg.pinv(Vr) @ U)
    df = k - 1
    return LogRankResult(statistic, df, float(stats.chi2.sf(statistic, df)), tuple(O), tuple(E),
                         tuple(groups))


def evaluated_only(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts without the "not evaluated" group (tests compare evaluated groups only)."""
    return counts[counts["group"] != NOT_EVALUATED]


def logrank(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec) -> LogRankResult | None:
    """Log-rank test across the evaluated groups of `spec` (None when fewer than two)."""
    counts = evaluated_only(km_counts(db, cohort_filter, spec))
    if counts["group"].nunique() < 2 or counts["n_event"].sum() == 0:
        return None
    return logrank_from_counts(counts)


def pairwise_from_counts(counts: pd.DataFrame, correction: str = "holm") -> pd.DataFrame:
    counts = evaluated_only(counts)
    groups = _groups(counts)
    rows = []
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            pair = counts[counts["group"].isin([a, b])]
            if pair["n_event"].sum() == 0:
                rows.append({"group A": a, "group B": b, "chi2": math.nan, "p": math.nan})
                continue
            r = logrank_from_counts(pair)
            rows.append({"group A": a, "group B": b, "chi2": r.statistic, "p": r.p_value})
    table = pd.DataFrame(rows, columns=["group A", "group B", "chi2", "p"])
    valid = table["p"].notna()
    table[f"p ({correction})"] = math.nan
    if valid.any():
        table.loc[valid, f"p ({correction})"] = adjust_pvalues(table.loc[valid, "p"].tolist(), correction)
    return table


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
    for group in _groups(counts):
        c = counts[counts["group"] == group]
        leaving = c["n_event"] + c["n_censored"]
        for tick in ticks_months:
            rows.append({"group": group, "time_months": float(tick),
                         "at_risk": int(leaving[c["time_days"] >= tick * DAYS_PER_MONTH].sum())})
    return pd.DataFrame(rows, columns=["group", "time_months", "at_risk"])


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


def continuous_median(db: CohortDatabase, column: str) -> float:
    """Whole-cohort median of an allowed continuous attribute (default cutoff, stable in URLs)."""
    if column not in CONTINUOUS_GROUPS:
        raise ValueError(f"{column!r} is not an allowed continuous attribute")
    value = db.scalar(f"SELECT median({column}) FROM patient_summary")
    return float(value) if value is not None else 0.0


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
    from analytics.disclosure import suppress_count
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
