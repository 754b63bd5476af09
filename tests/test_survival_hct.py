"""HCT without immortal-time bias: landmark selection and time-dependent Cox, the latter checked
against an independent Efron partial-likelihood maximisation (scipy) to 1e-6."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_stanford_heart_transplants
from scipy.optimize import minimize_scalar

from analytics.filters import CohortFilter
from analytics.survival import SurvivalSpec, patient_table
from analytics.survival.hct import hct_time_varying_cox, landmark_counts, landmark_labels
from tests.oracles.survival_hct import counting_process_rows, fit_time_varying


def efron_loglik(beta, start, stop, x, event):
    """Efron partial log-likelihood for counting-process data with one covariate."""
    ll = 0.0
    for t in np.unique(stop[event == 1]):
        at_risk = (start < t) & (stop >= t)
        dying = at_risk & (stop == t) & (event == 1)
        d = dying.sum()
        risk = np.exp(beta * x[at_risk]).sum()
        tie = np.exp(beta * x[dying]).sum()
        ll += beta * x[dying].sum() - sum(math.log(risk - l / d * tie) for l in range(d))
    return ll


def independent_fit(start, stop, x, event):
    res = minimize_scalar(lambda b: -efron_loglik(b, start, stop, x, event), bounds=(-5, 5),
                          method="bounded", options={"xatol": 1e-10})
    b, h = res.x, 1e-4
    second = (efron_loglik(b + h, start, stop, x, event) - 2 * efron_loglik(b, start, stop, x, event)
              + efron_loglik(b - h, start, stop, x, event)) / h ** 2
    return b, 1 / math.sqrt(-second)


def test_time_varying_cox_matches_independent_efron_on_stanford_heart():
    heart = load_stanford_heart_transplants().rename(columns={"id": "patient_id"})
    fitted = fit_time_varying(heart, covariate="transplant")
    b, se = independent_fit(heart["start"].to_numpy(float), heart["stop"].to_numpy(float),
                            heart["transplant"].to_numpy(float), heart["event"].to_numpy(int))
    assert fitted.summary.loc["transplant", "coef"] == pytest.approx(b, abs=1e-6)
    assert fitted.summary.loc["transplant", "se(coef)"] == pytest.approx(se, abs=1e-4)


def test_counting_process_rows_split_at_hct():
    table = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "time_days": [100, 50, 80, 30],
                          "event": [1, 0, 1, 1], "hct_time": [40, np.nan, 80, 0]})
    rows = counting_process_rows(table)
    assert rows.values.tolist() == [
        ["a", 0.0, 40.0, 0, 0], ["a", 40.0, 100.0, 1, 1],
        ["b", 0.0, 50.0, 0, 0],
        ["c", 0.0, 80.0, 0, 1],   # HCT on the day of the event: not exposed before it
        ["d", 0.0, 30.0, 1, 1]]   # HCT at time zero: exposed throughout


def test_demo_time_varying_cox_matches_independent_computation(demo_db):
    spec = SurvivalSpec(population="treated")
    result = hct_time_varying_cox(demo_db, CohortFilter(), spec)
    table = patient_table(demo_db, CohortFilter(), spec)
    table = table[table["included"]].copy()
    table["hct_time"] = (table["hct_day"] - table["origin_day"]).astype(float)
    rows = counting_process_rows(table)
    b, se = independent_fit(rows["start"].to_numpy(float), rows["stop"].to_numpy(float),
                            rows["hct"].to_numpy(float), rows["event"].to_numpy(int))
    assert result.coef == pytest.approx(b, abs=1e-6)
    assert result.se == pytest.approx(se, abs=1e-4)
    assert result.hr == pytest.approx(math.exp(b), abs=1e-6)
    assert result.hr_lower == pytest.approx(math.exp(result.coef - 1.959963984540054 * result.se), abs=1e-6)
    assert (result.n_hct, result.n_patients) == (12, 28)
    # the naive "HCT ever" comparison is more favourable than the time-dependent one
    from analytics.survival.cox import fit_cox
    naive = table.assign(hct_ever=table["hct_day"].notna().astype(float))
    naive = naive[["time_days", "event", "hct_ever"]].astype(float)
    assert fit_cox(naive, ["hct_ever"]).summary.loc["hct_ever", "coef"] < result.coef


def test_time_varying_cox_not_estimable_without_hct(demo_db):
    assert hct_time_varying_cox(demo_db, CohortFilter(hct=False), SurvivalSpec()) is None
    assert hct_time_varying_cox(demo_db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",)),
                                SurvivalSpec()) is None


@pytest.mark.parametrize("landmark", [90, 180, 365])
def test_landmark_keeps_patients_at_risk_and_resets_time(demo_db, landmark):
    spec = SurvivalSpec(population="treated")
    counts = landmark_counts(demo_db, CohortFilter(), spec, landmark)
    table = patient_table(demo_db, CohortFilter(), spec)
    table = table[table["included"] & (table["time_days"] > landmark)]
    yes, no = landmark_labels(landmark)
    expected = {}
    for r in table.itertuples():
        group = yes if pd.notna(r.hct_day) and r.hct_day <= landmark else no
        key = (group, int(r.time_days) - landmark)
        e, c = expected.get(key, (0, 0))
        expected[key] = (e + int(r.event), c + 1 - int(r.event))
    got = {(r.group, int(r.time_days)): (r.n_event, r.n_censored) for r in counts.itertuples()}
    assert got == expected
    assert (counts["time_days"] > 0).all()
