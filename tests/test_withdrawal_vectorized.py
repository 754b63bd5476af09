"""The kinetics of every series at once (array operations, `kinetics_of`) equal the per-series
reference (tests/oracles/withdrawal.patient_kinetics),
value for value: on the demo, on a synthetic cohort under several rules and analytes, and on
random series with every edge case (no stop day, therapy before baseline, undetectable or zero
baseline, single measurements, ties in level)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from analytics import withdrawal as w
from analytics.cohort import patient_order
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles.withdrawal import patient_kinetics

def _kinetics_per_series(data: pd.DataFrame, order: list[str], rule: w.RegressionRule) -> pd.DataFrame:
    """The reference: `patient_kinetics` per series, a Python pass per patient."""
    from dataclasses import asdict
    series = dict(tuple(data.groupby("patient_id", sort=False))) if len(data) else {}
    rows = []
    for pid in order:
        s = series[pid]
        stop, therapy = s["len_stop_day"].iloc[0], s["first_treatment_day"].iloc[0]
        k = patient_kinetics(s, None if pd.isna(stop) else float(stop),
                             None if pd.isna(therapy) else float(therapy), rule)
        rows.append({"patient_id": pid, "analyte": w.ANALYTES[s["analyte"].iloc[0]], **asdict(k)})
    return pd.DataFrame(rows, columns=w.KINETICS_COLUMNS)


RULES = [w.RegressionRule(), w.RegressionRule(30.0, 10.0, 0), w.RegressionRule(80.0, 100.0, 90, 3)]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal cell for cell (None and NaN both mean "none"), floats exactly."""
    def norm(df):
        df = df.astype(object)
        return df.where(df.notna(), None)
    pd.testing.assert_frame_equal(norm(a), norm(b), check_dtype=False, check_exact=True)


@pytest.fixture(scope="module")
def synthetic():
    return build_synthetic_in_memory(3000, seed=3)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("analyte", list(w.ANALYTE_OPTIONS))
@pytest.mark.parametrize("which", ["demo", "synthetic"])
def test_vectorized_equals_per_series(which, analyte, rule, demo_db, synthetic):
    db = demo_db if which == "demo" else synthetic
    for specimen in w.SPECIMENS:
        f = CohortFilter()
        data = w.measurements(db, f, analyte, specimen)
        with_data = set(data["patient_id"])
        order = [p for p in patient_order(db, f) if p in with_data]
        _same(_kinetics_per_series(data, order, rule), w.kinetics_of(data, order, rule))


def test_the_table_uses_the_vectorized_way_and_keeps_the_demo_classes(demo_db):
    table = w.kinetics_table(demo_db, CohortFilter(), w.LEUKEMIC, "marrow", w.RegressionRule())
    data = w.measurements(demo_db, CohortFilter())
    order = [p for p in patient_order(demo_db, CohortFilter()) if p in set(data["patient_id"])]
    _same(table, _kinetics_per_series(data, order, w.RegressionRule()))


@st.composite
def cohorts(draw):
    rows = []
    n_patients = draw(st.integers(1, 6))
    for i in range(n_patients):
        stop = draw(st.one_of(st.none(), st.integers(-60, 60)))
        therapy = draw(st.one_of(st.none(), st.integers(-60, 200)))
        days = sorted(draw(st.sets(st.integers(-100, 300), min_size=1, max_size=7)))
        for day in days:
            below = draw(st.booleans()) if draw(st.integers(0, 3)) == 0 else False
            value = None if below else draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 22.0, 40.0]))
            rows.append({"patient_id": f"P{i:02d}", "day": day, "analyte": "immature_b_pct",
                         "value": value, "lower_limit_of_detection": draw(st.sampled_from([0.01, None])),
                         "below_detection": below, "len_stop_day": stop, "first_treatment_day": therapy})
    return pd.DataFrame(rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), st.sampled_from(RULES))
def test_vectorized_equals_per_series_on_random_series(data, rule):
    data = data.assign(len_stop_day=data["len_stop_day"].astype(float),
                       first_treatment_day=data["first_treatment_day"].astype(float))
    order = list(dict.fromkeys(data["patient_id"]))
    _same(_kinetics_per_series(data, order, rule), w.kinetics_of(data, order, rule))


def test_empty_order_gives_an_empty_table():
    empty = w.kinetics_of(pd.DataFrame(columns=["patient_id"]), [], w.RegressionRule())
    assert list(empty.columns) == w.KINETICS_COLUMNS and empty.empty
