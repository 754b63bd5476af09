"""Cox proportional hazards: univariable and multivariable HR tables, events per variable,
and the proportional-hazards check (lifelines `proportional_hazard_test`, rank time transform).

Covariates come from an allow-list. Categorical ones are dummy-coded against a stated
reference level; "not evaluated" (NULL) patients are left out of a model that uses that
covariate (complete cases, counted and reported), never coded as negative.

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> from analytics.survival import SurvivalSpec
>>> db = build_in_memory("data/demo_cohort")
>>> res = cox_analysis(db, CohortFilter(), SurvivalSpec(), ("age_at_ball_dx",))
>>> list(res.univariable["term"])
['Age at B-ALL diagnosis (years), per 1']
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import pandas as pd
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.survival import SurvivalSpec, _patient_sql

# covariate -> (label, kind, reference level for categorical)
COX_COVARIATES = {
    "age_at_ball_dx": ("Age at B-ALL diagnosis (years)", "continuous", None),
    "sex": ("Sex", "categorical", "F"),
    "institution": ("Institution", "categorical", None),
    "tp53_status": ("TP53", "categorical", "wild-type"),
    "ploidy_low_hypodiploid": ("Low hypodiploid", "categorical", "no"),
    "wbc_k_per_ul": ("WBC (K/µL)", "continuous", None),
    "marrow_blast_pct": ("Marrow blasts (%)", "continuous", None),
    "myeloma_auto_hct": ("Prior autologous HCT", "categorical", "no"),
    "cr_first_line": ("CR/CRi to first line", "categorical", "no"),
}
_SQL = {
    "ploidy_low_hypodiploid": "CASE WHEN ploidy_category IS NULL THEN NULL "
                              "WHEN ploidy_category = 'low hypodiploid' THEN 'yes' ELSE 'no' END",
    "myeloma_auto_hct": "CASE WHEN myeloma_auto_hct IS NULL THEN NULL "
                        "WHEN myeloma_auto_hct THEN 'yes' ELSE 'no' END",
    "cr_first_line": "CASE WHEN NOT treated THEN NULL WHEN induction_failure_day IS NULL THEN 'yes' "
                     "ELSE 'no' END",
}
EPV_THRESHOLD = 10


def covariate_frame(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                    covariates: tuple[str, ...]) -> pd.DataFrame:
    """Per-patient time, event and raw covariate values (NULL kept as NaN)."""
    for c in covariates:
        if c not in COX_COVARIATES:
            raise ValueError(f"{c!r} is not an allowed Cox covariate")
    sql, params = _patient_sql(cohort_filter, spec.with_(group=None, cutoff=None))
    select = ", ".join(f"{_SQL.get(c, 'ps.' + c)} AS {c}" for c in covariates) or "NULL AS _none"
    return db.query(
        f"""SELECT w.patient_id, w.time_days, w.event, {select}
            FROM ({sql}) w JOIN patient_summary ps USING (patient_id)
            WHERE w.exclusion_reason IS NULL AND w.time_days > 0 ORDER BY w.patient_id""", params)


def design(frame: pd.DataFrame, covariates: tuple[str, ...]) -> tuple[pd.DataFrame, list[str], dict]:
    """Complete cases and the model matrix; returns (data, term names, term -> label)."""
    data = frame.dropna(subset=list(covariates)).copy()
    out = data[["time_days", "event"]].astype(float)
    terms, labels = [], {}
    for c in covariates:
        label, kind, reference = COX_COVARIATES[c]
        if kind == "continuous":
            out[c] = data[c].astype(float)
            terms.append(c)
            labels[c] = f"{label}, per 1"
            continue
        levels = sorted(data[c].astype(str).unique())
        ref = reference if reference in levels else (data[c].astype(str).value_counts().idxmax()
                                                      if levels else None)
        for level in levels:
            if level == ref:
                continue
            name = f"{c}={level}"
            out[name] = (data[c].astype(str) == level).astype(float)
            terms.append(name)
            labels[name] = f"{label}: {level} vs {ref}"
    return out, terms, labels


def fit_cox(data: pd.DataFrame, terms: list[str]) -> CoxPHFitter:
    """lifelines CoxPHFitter (Efron ties) on time_days/event and the given terms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter().fit(data[["time_days", "event"] + terms], duration_col="time_days",
                                 event_col="event")


def _rows(cph: CoxPHFitter, labels: dict, n: int, events: int, model: str) -> list[dict]:
    s = cph.summary
    return [{"model": model, "term": labels[t], "hr": float(s.loc[t, "exp(coef)"]),
             "hr_lower": float(s.loc[t, "exp(coef) lower 95%"]),
             "hr_upper": float(s.loc[t, "exp(coef) upper 95%"]), "p": float(s.loc[t, "p"]),
             "coef": float(s.loc[t, "coef"]), "se": float(s.loc[t, "se(coef)"]),
             "n": n, "events": events} for t in s.index]


@dataclass
class CoxAnalysis:
    univariable: pd.DataFrame
    multivariable: pd.DataFrame
    ph_test: pd.DataFrame
    events_per_variable: float
    n_complete: int
    n_total: int
    messages: list[str] = field(default_factory=list)


def _ph_table(cph, data: pd.DataFrame, terms: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """Proportional-hazards test per term (lifelines, rank time transform)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns on small samples; the page says so
        test = proportional_hazard_test(cph, data[["time_days", "event"] + terms], time_transform="rank")
    ph = test.summary.reset_index().rename(columns={"index": "term"})
    ph["term"] = ph["term"].map(labels)
    return ph[["term", "test_statistic", "p"]]


def cox_analysis(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                 covariates: tuple[str, ...]) -> CoxAnalysis:
    """Univariable fits (each on its own complete cases), one multivariable fit (complete cases
    for all covariates), events per variable, and the PH test of the multivariable model."""
    frame = covariate_frame(db, cohort_filter, spec, covariates)
    messages: list[str] = []
    uni: list[dict] = []
    for c in covariates:
        data, terms, labels = design(frame, (c,))
        if not terms or data["event"].sum() == 0 or len(data) < 3:
            messages.append(f"{COX_COVARIATES[c][0]}: not estimable (too few patients, events or levels).")
            continue
        constant = [t for t in terms if data.loc[data["event"] == 1, t].nunique() < 2
                    and data[t].nunique() < 2]
        if constant:
            messages.append(f"{COX_COVARIATES[c][0]}: no variation, left out.")
            continue
        try:
            uni += _rows(fit_cox(data, terms), labels, len(data), int(data["event"].sum()), "univariable")
        except Exception as exc:  # lifelines convergence problems on tiny data
            messages.append(f"{COX_COVARIATES[c][0]}: model did not converge ({type(exc).__name__}).")
    columns = ["model", "term", "hr", "hr_lower", "hr_upper", "p", "coef", "se", "n", "events"]
    multi = pd.DataFrame(columns=columns)
    ph = pd.DataFrame(columns=["term", "test_statistic", "p"])
    data, terms, labels = design(frame, covariates)
    events = int(data["event"].sum())
    epv = events / len(terms) if terms else math.nan
    if len(covariates) > 1 and terms and events > 0:
        try:
            cph = fit_cox(data, terms)
            multi = pd.DataFrame(_rows(cph, labels, len(data), events, "multivariable"))
            ph = _ph_table(cph, data, terms, labels)
        except Exception as exc:
            messages.append(f"Multivariable model did not converge ({type(exc).__name__}): "
                            "too few events for this many terms.")
    elif len(covariates) == 1 and terms and events > 0 and uni:
        data1, terms1, labels1 = design(frame, covariates)
        ph = _ph_table(fit_cox(data1, terms1), data1, terms1, labels1)
    return CoxAnalysis(pd.DataFrame(uni, columns=columns), multi, ph, epv, len(data), len(frame),
                       messages)
