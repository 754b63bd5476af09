"""Cox PH wrapper: coefficients vs published Rossi results and an independent Efron fit; EPV,
complete cases, PH test."""
from __future__ import annotations

import numpy as np
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import proportional_hazard_test

from analytics.filters import CohortFilter
from analytics.survival import SurvivalSpec
from analytics.survival.cox import COX_COVARIATES, covariate_frame, cox_analysis, design, fit_cox
from tests.test_survival_hct import independent_fit


def test_fit_cox_reproduces_published_rossi_coefficients():
    r = load_rossi().rename(columns={"week": "time_days", "arrest": "event"})
    terms = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    cph = fit_cox(r, terms)
    # Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R" (2018), Rossi model
    published = {"fin": -0.37942, "age": -0.05744, "race": 0.31390, "wexp": -0.14980,
                 "mar": -0.43372, "paro": -0.08487, "prio": 0.09150}
    for term, coef in published.items():
        assert cph.summary.loc[term, "coef"] == pytest.approx(coef, abs=6e-5)


def test_univariable_cox_matches_independent_efron_fit():
    r = load_rossi()
    b, se = independent_fit(np.zeros(len(r)), r["week"].to_numpy(float), r["fin"].to_numpy(float),
                            r["arrest"].to_numpy(int))
    cph = fit_cox(r.rename(columns={"week": "time_days", "arrest": "event"}), ["fin"])
    assert cph.summary.loc["fin", "coef"] == pytest.approx(b, abs=1e-6)
    assert cph.summary.loc["fin", "se(coef)"] == pytest.approx(se, abs=1e-4)


def test_demo_cox_table_matches_lifelines_on_complete_cases(demo_db):
    spec = SurvivalSpec()
    res = cox_analysis(demo_db, CohortFilter(), spec, ("age_at_ball_dx", "tp53_status"))
    frame = covariate_frame(demo_db, CohortFilter(), spec, ("age_at_ball_dx", "tp53_status"))
    complete = frame.dropna()
    assert res.n_complete == len(complete) == 19  # TP53 evaluable patients only, never "negative"
    data = complete.assign(mut=(complete["tp53_status"] == "mutated").astype(float))
    ref = CoxPHFitter().fit(data[["time_days", "event", "age_at_ball_dx", "mut"]].astype(float),
                            "time_days", "event")
    row = res.multivariable.set_index("term").loc["TP53: mutated vs wild-type"]
    assert row["coef"] == pytest.approx(ref.summary.loc["mut", "coef"], abs=1e-6)
    assert row["p"] == pytest.approx(ref.summary.loc["mut", "p"], abs=1e-6)
    assert res.events_per_variable == pytest.approx(complete["event"].sum() / 2)
    ph = proportional_hazard_test(ref, data[["time_days", "event", "age_at_ball_dx", "mut"]].astype(float),
                                  time_transform="rank").summary
    got = res.ph_test.set_index("term")
    assert got.loc["TP53: mutated vs wild-type", "p"] == pytest.approx(ph.loc["mut", "p"], abs=1e-6)
    # univariable TP53 uses its own complete cases (19), age all 32
    uni = res.univariable.set_index("term")
    assert uni.loc["TP53: mutated vs wild-type", "n"] == 19
    assert uni.loc["Age at B-ALL diagnosis (years), per 1", "n"] == 32


def test_reference_levels_and_allow_list(demo_db):
    frame = covariate_frame(demo_db, CohortFilter(), SurvivalSpec(), ("sex",))
    _, terms, labels = design(frame, ("sex",))
    assert labels[terms[0]] == "Sex: M vs F"
    with pytest.raises(ValueError):
        covariate_frame(demo_db, CohortFilter(), SurvivalSpec(), ("patient_id",))
    assert "tp53_status" in COX_COVARIATES


def test_cox_reports_unestimable_covariates_instead_of_raising(demo_db):
    res = cox_analysis(demo_db, CohortFilter(age=(48, 48)), SurvivalSpec(), ("age_at_ball_dx", "sex"))
    assert res.univariable.empty and res.multivariable.empty and res.messages
