"""Kinetics after lenalidomide withdrawal: hand calculations, edge cases, invariants."""
from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analytics import withdrawal as w
from analytics.filters import CohortFilter
from tests.oracles import withdrawal as oracle


def kinetics(series_frame, stop_day, therapy_day, rule=w.RegressionRule()):
    """The app's kinetics (`withdrawal.kinetics_of`) of one series, with attribute access and
    None where a value is missing, as the per-series reference gives it."""
    data = series_frame.assign(patient_id="P", analyte="b_lymphoblasts_pct",
                               len_stop_day=math.nan if stop_day is None else float(stop_day),
                               first_treatment_day=math.nan if therapy_day is None else float(therapy_day))
    row = w.kinetics_of(data, ["P"], rule).iloc[0]
    return SimpleNamespace(**{name: None if isinstance(v, float) and math.isnan(v) else v
                              for name, v in row.items()})


def series(days, values, lod=0.01):
    """values: a number, or None for below detection."""
    return pd.DataFrame({"day": days, "value": values,
                         "lower_limit_of_detection": [lod] * len(days),
                         "below_detection": [v is None for v in values]})


# --- interpolation ---------------------------------------------------------------------------
def test_interpolation_by_hand():
    # 22 -> 9.5 over days 0..35; half of 22 = 11 reached at 35 * (22 - 11) / (22 - 9.5) = 30.8
    assert oracle.interpolate_crossing([0, 35], [22.0, 9.5], 11.0) == pytest.approx(30.8, abs=1e-9)
    assert oracle.interpolate_crossing([0, 10, 20], [10.0, 8.0, 2.0], 5.0) == pytest.approx(15.0)
    assert oracle.interpolate_crossing([0, 10], [10.0, 6.0], 5.0) is None
    assert oracle.interpolate_crossing([0, 10], [4.0, 6.0], 5.0) == 0.0


def test_days_to_half_is_counted_from_the_stop_day():
    # stop 14 days before the first sample (day 0): 14 + 30.8
    k = kinetics(series([0, 35, 84], [22.0, 9.5, 2.1]), stop_day=-14, therapy_day=None)
    assert k.baseline_day == 14 and k.baseline_value == 22.0
    assert k.days_to_half_from_stop == pytest.approx(44.8, abs=1e-9)
    assert k.classification == w.PARTIAL
    assert k.reduction_pct == pytest.approx(100 * (22 - 2.1) / 22, abs=1e-9)
    assert k.days_to_nadir_from_stop == 98


def test_below_detection_is_taken_at_the_limit():
    # 10 -> below detection (limit 1) over 10 days: half (5) at 10 * (10 - 5) / (10 - 1)
    k = kinetics(series([0, 10], [10.0, None], lod=1.0), stop_day=0, therapy_day=None)
    assert k.classification == w.COMPLETE
    assert k.nadir_value == 1.0 and k.nadir_below_detection
    assert k.reduction_pct == pytest.approx(90.0)
    assert k.days_to_half_from_stop == pytest.approx(50 / 9, abs=1e-9)


def test_therapy_before_nadir_is_response_not_regression():
    # falls 41 -> 30 before therapy (27%), reaches below detection only after therapy (day 95)
    k = kinetics(series([0, 30, 130], [41.0, 30.0, None]), stop_day=2, therapy_day=95)
    assert k.classification == w.NONE
    assert k.nadir_value == 30.0 and k.n_assessed == 2
    assert k.overall_nadir_after_therapy and k.overall_nadir_days_from_stop == 128
    assert k.days_to_half_from_stop is None
    untreated = kinetics(series([0, 30, 130], [41.0, 30.0, None]), stop_day=2, therapy_day=None)
    assert untreated.classification == w.COMPLETE and not untreated.overall_nadir_after_therapy


def test_sample_on_the_day_therapy_starts_counts_as_after_therapy():
    k = kinetics(series([0, 30], [40.0, 10.0]), stop_day=0, therapy_day=30)
    assert k.classification == w.NOT_ASSESSABLE and k.n_assessed == 1
    k = kinetics(series([0, 30], [40.0, 10.0]), stop_day=0, therapy_day=31)
    assert k.classification == w.PARTIAL


def test_single_measurement_is_not_assessable():
    k = kinetics(series([0], [66.0]), stop_day=42, therapy_day=10)
    assert k.classification == w.NOT_ASSESSABLE
    assert k.reduction_pct is None and k.n_measurements == 1
    assert "2 needed" in k.reason


def test_baseline_rule_window_and_order():
    s = series([-20, -3, 10], [50.0, 40.0, 10.0])
    assert kinetics(s, stop_day=0, therapy_day=None).baseline_value == 40.0
    # nothing on/before the stop day: first within the window after it, else not assessable
    s2 = series([20, 60], [40.0, 10.0])
    assert kinetics(s2, 0, None, w.RegressionRule(baseline_window_days=30)).baseline_day == 20
    k = kinetics(s2, 0, None, w.RegressionRule(baseline_window_days=10))
    assert k.classification == w.NOT_ASSESSABLE and "baseline rule" in k.reason


def test_progression_threshold_is_adjustable():
    s = series([0, 14], [30.0, 40.0])  # +33 %
    assert kinetics(s, 0, None).classification == w.PROGRESSION
    rule = w.RegressionRule(progression_rise_pct=50.0)
    assert kinetics(s, 0, None, rule).classification == w.NONE
    assert "50%" in rule.describe()


def test_undetectable_baseline_is_not_assessable():
    k = kinetics(series([0, 14], [None, None]), 0, None)
    assert k.classification == w.NOT_ASSESSABLE and "already below" in k.reason


# --- invariants -----------------------------------------------------------------------------
levels = st.one_of(st.none(), st.floats(min_value=0.02, max_value=100, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(values=st.lists(levels, min_size=1, max_size=7),
       gaps=st.lists(st.integers(1, 90), min_size=7, max_size=7),
       stop=st.integers(-30, 30), therapy=st.one_of(st.none(), st.integers(-20, 400)),
       partial=st.floats(1, 99), rise=st.floats(1, 200))
def test_invariants(values, gaps, stop, therapy, partial, rise):
    days = list(itertools.accumulate(gaps[: len(values)]))
    rule = w.RegressionRule(partial_reduction_pct=partial, progression_rise_pct=rise)
    k = kinetics(series(days, values), stop, therapy, rule)
    assert k.classification in w.CLASSES
    if k.nadir_value is not None and k.baseline_value is not None:
        assert k.nadir_value <= k.baseline_value
    if k.reduction_pct is not None:
        assert -math.inf < k.reduction_pct <= 100 and k.reduction_pct >= 0
        assert k.max_rise_pct >= 0
    if k.days_to_half_from_stop is not None:
        assert k.baseline_day <= k.days_to_half_from_stop <= k.days_to_nadir_from_stop + 1e-9
        if therapy is not None:
            assert k.days_to_half_from_stop < therapy - stop
    if k.classification == w.COMPLETE:
        assert k.nadir_below_detection
    if k.classification == w.PARTIAL:
        assert k.reduction_pct >= partial
    if k.classification != w.NOT_ASSESSABLE:
        assert k.n_assessed >= 2
    # a stricter partial threshold never turns a non-regressor into a regressor
    stricter = kinetics(series(days, values), stop, therapy,
                                  w.RegressionRule(partial_reduction_pct=min(100, partial + 10),
                                                   progression_rise_pct=rise))
    if k.classification not in w.REGRESSION_CLASSES:
        assert stricter.classification not in w.REGRESSION_CLASSES


# --- the demo cohort ------------------------------------------------------------------------
def test_demo_classes(demo_db):
    t = w.kinetics_table(demo_db, CohortFilter()).set_index("patient_id")["classification"].to_dict()
    assert t == {"S04": "partial", "S06": "progression", "S08": "none", "S12": "complete",
                 "S15": "not assessable", "S16": "partial", "S22": "none", "S25": "complete",
                 "S29": "progression", "S31": "partial"}


def test_analyte_choice_and_filters(demo_db):
    leuk = w.measurements(demo_db, CohortFilter())
    assert set(leuk.loc[leuk.patient_id == "S25", "analyte"]) == {"immature_b_pct"}
    only_b = w.measurements(demo_db, CohortFilter(), "b_lymphoblasts_pct")
    assert "S25" not in set(only_b.patient_id) and "S12" in set(only_b.patient_id)
    below = leuk[leuk.below_detection]
    assert (below.level == below.lower_limit_of_detection).all() and below.value.isna().all()
    assert w.measurements(demo_db, CohortFilter(age=(68, 68))).patient_id.unique().tolist() == ["S15"]
    assert w.kinetics_table(demo_db, CohortFilter(age=(48, 48))).empty
    with pytest.raises(ValueError):
        w.measurements(demo_db, CohortFilter(), "value; DROP TABLE measurements")
    with pytest.raises(ValueError):
        w.measurements(demo_db, CohortFilter(), specimen="csf")


def test_overview_counts_every_filtered_patient(demo_db):
    o = oracle.patient_overview(demo_db, CohortFilter())
    assert len(o) == 32
    assert (o.n_measurements > 0).sum() == 10
    assert set(o.loc[o.n_measurements == 0, "followed"]) <= {w.NO_SERIES_TREATED, w.NO_SERIES_UNTREATED}


# --- statistics against independent computations ------------------------------------------------
def _exact_mwu_by_enumeration(a, b):
    """U of a and the two-sided exact p by enumerating every split (no ties in the demo)."""
    pooled = list(a) + list(b)
    u_obs = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    n, m = len(a), len(b)
    mean = n * m / 2
    count = total = 0
    for idx in itertools.combinations(range(len(pooled)), n):
        xa = [pooled[i] for i in idx]
        xb = [pooled[i] for i in range(len(pooled)) if i not in idx]
        u = sum((x > y) + 0.5 * (x == y) for x in xa for y in xb)
        total += 1
        count += abs(u - mean) >= abs(u_obs - mean) - 1e-12
    return u_obs, count / total


def test_regressor_comparison_matches_independent_computation(demo_db):
    cont, cat = oracle.compare_regressors(demo_db, CohortFilter())
    t = w.kinetics_table(demo_db, CohortFilter())
    s = demo_db.query("SELECT * FROM patient_summary").set_index("patient_id")
    reg = t.loc[t.classification.isin(w.REGRESSION_CLASSES), "patient_id"]
    oth = t.loc[t.classification.isin([w.NONE, w.PROGRESSION]), "patient_id"]
    for column, row in zip(w.CONTINUOUS, cont.itertuples()):
        a = s.loc[reg, column].astype(float) / w.CONTINUOUS[column][1]
        b = s.loc[oth, column].astype(float) / w.CONTINUOUS[column][1]
        u, p = _exact_mwu_by_enumeration(a.tolist(), b.tolist())
        assert row.U == pytest.approx(u, abs=1e-6) and row.p_value == pytest.approx(p, abs=1e-6)
        assert row.n_regressors == len(reg) and row.n_others == len(oth)
        assert row.median_regressors == pytest.approx(a.median(), abs=1e-6)
    tp53 = cat.iloc[0]
    ev = s.loc[list(reg) + list(oth), "tp53_status"]
    assert tp53.not_evaluated == int(ev.isna().sum())  # not evaluated never counted as wild-type
    assert tp53.regressors_evaluable == int(s.loc[reg, "tp53_status"].notna().sum())
    # Fisher two-sided by hand: sum of hypergeometric probabilities <= the observed one
    a, b = tp53.regressors_positive, tp53.regressors_evaluable - tp53.regressors_positive
    c, d = tp53.others_positive, tp53.others_evaluable - tp53.others_positive
    hg = stats.hypergeom(a + b + c + d, a + c, a + b)
    lo, hi = max(0, (a + b) - (b + d)), min(a + b, a + c)
    p_obs = hg.pmf(a)
    p = sum(hg.pmf(k) for k in range(lo, hi + 1) if hg.pmf(k) <= p_obs * (1 + 1e-7))
    assert tp53.p_value == pytest.approx(min(1.0, p), abs=1e-6)


def test_fisher_matches_hand_calculation_on_a_nontrivial_table():
    # fisher_exact is what compare_regressors calls; pin it against a textbook table
    # (Fisher's tea tasting, 3/1 vs 1/3: two-sided p = 34/70)
    assert stats.fisher_exact([[3, 1], [1, 3]]).pvalue == pytest.approx(34 / 70, abs=1e-9)


def test_charts_build_in_every_view(demo_db):
    data = w.measurements(demo_db, CohortFilter())
    classes = w.kinetics_table(demo_db, CohortFilter()).set_index("patient_id")["classification"].to_dict()
    for axis in w.TIME_AXES:
        for scale in w.SCALES:
            for facet in (False, True):
                spec = w.trajectory_chart(data, classes, axis, scale, facet).to_dict()
                assert "layer" in spec or "spec" in spec
    overlay = w.trajectory_chart(data, classes).to_dict()
    shapes = [l["encoding"]["shape"]["scale"]["range"] for l in overlay["layer"]
              if "shape" in l.get("encoding", {})]
    # measured / below detection (at the limit) / therapy start: one shape scale, two layers
    assert shapes == [["circle", "triangle-down", "diamond"]] * 2
    facet = w.trajectory_chart(data, classes, facet=True, order=sorted(classes)).to_dict()
    assert facet["facet"]["field"] == "patient_id"
    zero_rows = [r for r in facet["datasets"][facet["data"]["name"]] if r["_layer"] == "zero"]
    assert sorted(r["patient_id"] for r in zero_rows) == sorted(classes)  # day-0 rule in every panel
    # one therapy marker per treated patient with a series (S04 S06 S08 S15 S16 S22 S29)
    therapy = w.charts._therapy_marks(data, "days_since_stop")
    assert sorted(therapy.patient_id) == ["S04", "S06", "S08", "S15", "S16", "S22", "S29"]
    o = oracle.patient_overview(demo_db, CohortFilter())
    w.timing_chart(o, list(o.patient_id)).to_dict()
