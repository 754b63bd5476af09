"""HCT (and other post-baseline events) without immortal-time bias.

Patients who received an allogeneic HCT had to survive, event-free, until the transplant: a
naive "HCT yes vs no" comparison from diagnosis credits that guaranteed time to HCT. Two honest
alternatives live here:

* `landmark_counts`: patients still at risk (alive and event-free) at a landmark day, grouped by
  HCT status *by* that day, with time reset to the landmark (then KM/log-rank as usual);
* `hct_time_varying_cox`: a Cox model with HCT as a time-dependent covariate, fitted by the
  app's Efron fitter (`cox.fit_efron`) on counting-process rows (start, stop] collapsed
  in DuckDB; equal to lifelines' `CoxTimeVaryingFitter` on per-patient rows (tests).

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> from analytics.survival import SurvivalSpec
>>> db = build_in_memory("data/demo_cohort")
>>> result = hct_time_varying_cox(db, CohortFilter(), SurvivalSpec(population="treated"))
>>> result.hr > 0 and 0 <= result.p_value <= 1
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.format import p_text
from analytics.survival.cox import fit_efron, not_estimable
from analytics.survival.patients import patient_sql
from analytics.survival.spec import SurvivalSpec
from analytics.survival.summary import view_from_counts

# Plain sentences: shown on the page and carried into every export of a view grouped by HCT.
HCT_BIAS_TEXT = (
    "allogeneic HCT happens after diagnosis: to receive it, a patient had to stay alive and "
    "event-free until the transplant. Grouping by \"HCT ever\" from time zero credits that "
    "guaranteed pre-transplant time to the HCT group and moves early deaths and failures into the "
    "no-HCT group, so naive curves overstate any benefit of HCT. Read the landmark analysis and the "
    "time-dependent Cox model instead.")
POST_BASELINE_TEXT = (
    "{label} is known only after treatment has started, so patients who die early cannot reach the "
    "better categories. The naive curves are descriptive, not a causal comparison.")


def landmark_labels(landmark_day: int) -> tuple[str, str]:
    return (f"HCT by day {landmark_day}", f"no HCT by day {landmark_day}")


def landmark_counts(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                    landmark_day: int) -> pd.DataFrame:
    """Aggregated counts (group, time_days, n_event, n_censored) for the landmark analysis.

    Keeps patients whose endpoint time exceeds the landmark (at risk there), groups them by
    HCT on or before the landmark day (both measured from the chosen time origin), and resets
    time to the landmark.
    """
    sql, params = patient_sql(cohort_filter, spec.with_(group=None, cutoff=None))
    yes, no = landmark_labels(int(landmark_day))
    return db.query(
        f"""SELECT CASE WHEN hct_day IS NOT NULL AND hct_day - origin_day <= ? THEN ? ELSE ? END
                       AS "group",
                   time_days - ? AS time_days,
                   CAST(sum(event) AS INTEGER) AS n_event,
                   CAST(sum(1 - event) AS INTEGER) AS n_censored
            FROM ({sql}) WHERE exclusion_reason IS NULL AND time_days > ?
            GROUP BY 1, 2 ORDER BY 1, 2""",
        [int(landmark_day), yes, no] + [int(landmark_day)] + params + [int(landmark_day)])


@dataclass(frozen=True)
class TimeVaryingResult:
    hr: float
    hr_lower: float
    hr_upper: float
    p_value: float
    coef: float
    se: float
    n_patients: int
    n_events: int
    n_events_after_hct: int
    n_hct: int


@dataclass(frozen=True)
class Exposure:
    """An event after time zero that changes a patient's state for good (HCT, first CR/CRi)."""

    column: str      # patient_summary column: day of the event (days from B-ALL diagnosis)
    label: str       # what it is, for titles
    before: str      # the group's name before it
    after: str       # and after it


EXPOSURES = {"hct": Exposure("hct_day", "allogeneic HCT", "no HCT (yet)", "after HCT"),
             "cr": Exposure("first_cr_day", "first CR/CRi", "before CR/CRi", "after CR/CRi")}


def counting_process_counts(db: CohortDatabase, cohort_filter: CohortFilter,
                            spec: SurvivalSpec, exposure: str = "hct") -> pd.DataFrame:
    """Counting-process rows of the analysed patients, collapsed in DuckDB: distinct (start,
    stop, exposed, event, switch) with `weight` = number of patients, plus per-patient totals as
    columns of every row (n_patients, n_exposed: patients with a row under exposure).

    A patient's follow-up (0, time] is split at the exposure day when it falls strictly inside
    it (unexposed before, exposed after; `switch` = 1 marks the unexposed part that ends by the
    switch, not by censoring); exposure at or before time zero makes the patient exposed
    throughout; exposure on or after the end of follow-up is ignored. Patients without
    follow-up time contribute nothing. (tests/oracles/survival_hct.py builds the same rows per
    patient, and lifelines fits them: the tests compare.)"""
    column = EXPOSURES[exposure].column  # from the allow-list only
    sql, params = patient_sql(cohort_filter, spec.with_(group=None, cutoff=None))
    return db.query(
        f"""WITH p AS (
                SELECT CAST(time_days AS DOUBLE) AS t, event,
                       CAST({column} - origin_day AS DOUBLE) AS h
                FROM ({sql}) WHERE exclusion_reason IS NULL AND time_days > 0
            ), r AS (
                SELECT 0.0 AS start, h AS stop, 0 AS exposed, 0 AS event, 1 AS switch
                FROM p WHERE h > 0 AND h < t
                UNION ALL
                SELECT h, t, 1, event, 0 FROM p WHERE h > 0 AND h < t
                UNION ALL
                SELECT 0.0, t, CAST(h IS NOT NULL AND h <= 0 AS INTEGER), event, 0 FROM p
                WHERE NOT (h IS NOT NULL AND h > 0 AND h < t)
            )
            SELECT start, stop, exposed, event, switch, CAST(count(*) AS DOUBLE) AS weight,
                   (SELECT count(*) FROM p) AS n_patients,
                   (SELECT count(*) FROM p WHERE h IS NOT NULL AND h < t) AS n_exposed
            FROM r GROUP BY ALL ORDER BY stop, start, exposed, event""", params)


@dataclass(frozen=True)
class HazardRatio:
    hr: float
    lower: float
    upper: float
    p_value: float

    def text(self) -> str:
        return f"HR {self.hr:.2f} (95% CI {self.lower:.2f} to {self.upper:.2f}), {p_text(self.p_value, missing='n/a')}"


def _one_term_fit(rows: pd.DataFrame, term: str, entry_col: str | None = None):
    """(HazardRatio, coef, se) of a one-term Cox model (Efron ties, Wald CI) on weighted rows
    (time_days, event, `term`, weight), or None when not estimable (the fit fails, or a monotone
    likelihood sends the estimate to 0 or infinity)."""
    try:
        fit = fit_efron(rows, [term], entry_col=entry_col)
    except (RuntimeError, np.linalg.LinAlgError):
        return None
    if not_estimable(fit):
        return None
    coef, se = float(fit.params_[0]), float(fit.standard_errors_[0])
    q = norm.ppf(0.975)
    return (HazardRatio(math.exp(coef), math.exp(coef - q * se), math.exp(coef + q * se),
                        float(2 * norm.sf(abs(coef / se)))), coef, se)


def hct_time_varying_cox(db: CohortDatabase, cohort_filter: CohortFilter,
                         spec: SurvivalSpec) -> TimeVaryingResult | None:
    """HR of the chosen endpoint for HCT as a time-dependent covariate (None if not estimable:
    nobody or everybody transplanted during follow-up, no events, or no events in one of the
    two states, where the likelihood is monotone and the HR runs off to 0 or infinity).

    Fitted on collapsed counting-process rows (`counting_process_counts`) by
    `cox.fit_efron` with entry times: the same estimate and SE as lifelines'
    CoxTimeVaryingFitter on one row per patient interval (tests: 1e-6)."""
    rows = counting_process_counts(db, cohort_filter, spec)
    if rows.empty or (rows["event"] * rows["weight"]).sum() == 0 or rows["exposed"].nunique() < 2:
        return None
    fitted = _one_term_fit(rows.rename(columns={"stop": "time_days"}), "exposed", entry_col="start")
    if fitted is None:
        return None
    hr, coef, se = fitted
    events = rows["event"] * rows["weight"]
    return TimeVaryingResult(
        hr=hr.hr, hr_lower=hr.lower, hr_upper=hr.upper, p_value=hr.p_value, coef=coef, se=se,
        n_patients=int(rows["n_patients"].iloc[0]), n_events=int(events.sum()),
        n_events_after_hct=int(events[rows["exposed"] == 1].sum()), n_hct=int(rows["n_exposed"].iloc[0]))


def group_hazard_ratio(counts: pd.DataFrame, exposed: str, reference: str) -> HazardRatio | None:
    """Cox hazard ratio (Efron ties, Wald CI) of group `exposed` vs `reference` from aggregated
    counts (group, time_days, n_event, n_censored); None when not estimable (a group missing,
    no events, or a monotone likelihood)."""
    part = counts[counts["group"].isin([exposed, reference])]
    if part["group"].nunique() < 2 or part["n_event"].sum() == 0:
        return None
    rows = pd.concat([
        part.assign(event=1, weight=part["n_event"].astype(float)),
        part.assign(event=0, weight=part["n_censored"].astype(float))], ignore_index=True)
    rows = rows[rows["weight"] > 0].assign(x=(rows["group"] == exposed).astype(float))
    fitted = _one_term_fit(rows[["time_days", "event", "x", "weight"]], "x")
    return None if fitted is None else fitted[0]


def landmark_view(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                  landmark_day: int, milestones_months: tuple[float, ...] = (12, 24, 36)):
    """The landmark analysis's numbers (`summary.KMView`: n, events, summary per HCT group,
    log-rank when both groups are present and there are events), aggregate-sized."""
    return view_from_counts(landmark_counts(db, cohort_filter, spec, landmark_day), milestones_months)
