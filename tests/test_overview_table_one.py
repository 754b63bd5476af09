"""Table 1, distributions and patient table of analytics/overview.py, checked independently."""
import math
import statistics
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import beta

from analytics import overview
from analytics.format import number
from analytics.cohort import patient_order
from analytics.filters import CohortFilter
from analytics.stats import clopper_pearson
from analytics.units import DAYS_PER_MONTH
from tests.oracles.overview import summarise_continuous


@pytest.fixture(scope="module")
def raw(demo_db):
    return demo_db.query("SELECT * FROM patient_summary ORDER BY patient_id")


@pytest.fixture(scope="module")
def t1(demo_db):
    return overview.table_one(demo_db, CohortFilter())


def row(t1, characteristic, level):
    hit = t1[(t1.characteristic == characteristic) & (t1.level == level)]
    assert len(hit) == 1, (characteristic, level)
    return hit.iloc[0]


def test_patient_count(t1, raw):
    assert row(t1, "Patients", "").n == len(raw)


@pytest.mark.parametrize("spec", overview.CATEGORICAL, ids=lambda s: s.column)
def test_categorical_counts_use_evaluable_denominators(t1, raw, spec):
    values = raw[spec.column]
    evaluable = int(values.notna().sum())
    names = dict(zip(spec.levels, spec.names)) if spec.names else {}
    block = t1[(t1.characteristic == spec.label) & (t1.kind == "categorical")]
    assert set(block.evaluable) == {evaluable}
    assert block.n.sum() == evaluable  # levels partition the evaluable patients
    for level, count in values.dropna().value_counts().items():
        r = row(t1, spec.label, names.get(level, str(level)))
        assert r.n == count
        assert r.percent == pytest.approx(100 * count / evaluable, abs=1e-9)
        assert r.display.startswith(f"{count}/{evaluable} (")
    missing = int(values.isna().sum())
    not_eval = t1[(t1.characteristic == spec.label) & (t1.kind == "not evaluated")]
    if missing:
        assert not_eval.n.tolist() == [missing]
    else:
        assert not_eval.empty


def test_tp53_not_evaluated_is_not_negative(t1, raw):
    sequenced = raw.sequencing_assay.notna()
    mutated = row(t1, "TP53", "mutated")
    assert mutated.evaluable == sequenced.sum() < len(raw)
    assert row(t1, "TP53", "not evaluated").n == (~sequenced).sum()


def test_continuous_median_and_range_match_statistics_module(t1, raw):
    expected = {
        "Age at B-ALL diagnosis, years": raw.age_at_ball_dx,
        "Latency, first lenalidomide exposure to B-ALL, months": raw.latency_days / DAYS_PER_MONTH,
        "Cumulative lenalidomide exposure before B-ALL, months": raw.len_cumulative_days / DAYS_PER_MONTH,
        "WBC at diagnosis, ×10³/µL": raw.wbc_k_per_ul,
    }
    for label, series in expected.items():
        values = [float(v) for v in series.dropna()]
        r = t1[(t1.characteristic == label) & (t1.kind == "continuous")].iloc[0]
        assert r["median"] == pytest.approx(statistics.median(values), abs=1e-9)
        assert r["min"] == pytest.approx(min(values)) and r["max"] == pytest.approx(max(values))
        assert r.evaluable == len(values)


@given(k_n=st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=60, deadline=None)
def test_clopper_pearson_matches_beta_quantiles(k_n):
    k, n = k_n
    low, high = clopper_pearson(k, n)
    if n == 0:
        assert math.isnan(low) and math.isnan(high)
        return
    expected_low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    expected_high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    assert low == pytest.approx(expected_low, abs=1e-6)
    assert high == pytest.approx(expected_high, abs=1e-6)


@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=40))
def test_summarise_continuous_ignores_missing(values):
    stats = summarise_continuous(pd.Series(values, dtype="Float64"))
    present = [v for v in values if v is not None]
    assert stats["not_evaluated"] == len(values) - len(present)
    if present:
        assert stats["median"] == pytest.approx(statistics.median(present), rel=1e-12, abs=1e-9)
    else:
        assert stats["display"] == "no evaluable patients"


def test_rounding_is_half_up_for_readers():
    assert number(12.5, 0) == "13" and number(87.5, 0) == "88"
    assert number(54.0123, 1) == "54.0"


def test_filter_restricts_table_one(demo_db, raw):
    f = CohortFilter(tp53=("mutated",))
    t = overview.table_one(demo_db, f)
    assert row(t, "Patients", "").n == (raw.tp53_status == "mutated").sum()
    assert row(t, "TP53", "mutated").display.endswith("(100%)")


def test_empty_cohort_gives_zeros_not_errors(demo_db):
    t = overview.table_one(demo_db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",)))
    assert row(t, "Patients", "").n == 0
    assert (t[t.kind == "continuous"].display == "no evaluable patients").all()
    assert row(t, "TP53", "mutated").display == "0/0"
    overview.table_one_display(t)  # formats without raising


def test_display_names_characteristic_once_per_block(t1):
    shown = overview.table_one_display(t1)
    named = shown[shown.Characteristic != ""].Characteristic.tolist()
    assert len(named) == len(set(named)) == t1.characteristic.nunique()


# --- distributions --------------------------------------------------------------------------
@given(st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=60), st.floats(0.1, 20))
def test_dots_on_one_level_never_overlap(values, gap):
    series = pd.Series(values)
    levels = overview.dot_positions(series, gap)
    by_level = defaultdict(list)
    for v, level in zip(values, levels):
        by_level[level].append(v)
    for xs in by_level.values():
        xs.sort()
        assert all(b - a >= gap - 1e-12 for a, b in zip(xs, xs[1:]))
    assert set(levels) == set(range(max(levels) + 1))  # no empty levels


def test_exposure_values_in_months(demo_db, raw):
    values = overview.exposure_values(demo_db, CohortFilter())
    assert values.patient_id.tolist() == patient_order(demo_db)
    np.testing.assert_allclose(values.latency_months, raw.latency_days / 30.4375, atol=1e-9)


@pytest.mark.parametrize("measure", list(overview.EXPOSURE_MEASURES))
def test_dot_plot_shows_every_patient_and_the_median(demo_db, measure):
    values = overview.exposure_values(demo_db, CohortFilter())
    spec = overview.dot_plot(values, measure).to_dict()
    dots = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert len(dots) == len(values)
    median = float(values[measure].median())
    assert f"median {median:.1f}" in spec["title"]["subtitle"][1]
    assert f"n = {len(values)}" in spec["title"]["subtitle"][0]


def test_dot_plot_of_nobody_renders(demo_db):
    empty = overview.exposure_values(demo_db, CohortFilter(age=(0, 1)))
    overview.dot_plot(empty, "latency_months").to_dict()


# --- patient table and link ----------------------------------------------------------------
def test_patient_table_default_order_and_not_evaluated(demo_db, raw):
    table = overview.patient_table(demo_db, CohortFilter())
    assert table.Patient.tolist() == patient_order(demo_db)
    assert (table.TP53 == "not evaluated").sum() == raw.tp53_status.isna().sum()
    assert (table["First-line regimen"] == "untreated").sum() == (~raw.treated).sum()
    assert pd.api.types.is_float_dtype(table["Latency (mo)"])


@given(st.sampled_from([CohortFilter(), CohortFilter(tp53=("mutated", "not evaluated")),
                        CohortFilter(institution=("Site A",), age=(50, 70), hct=True),
                        CohortFilter(ploidy=("low hypodiploid", "diploid"), treated=False)]))
def test_patient_link_round_trips_the_filter(f):
    params = overview.patient_link_params(f, "S05")
    assert params[0] == ("patient", "S05")
    grouped: dict = {}
    for key, value in params[1:]:
        grouped.setdefault(key, []).append(value)
    assert all(isinstance(v, str) for _, v in params)
    assert CohortFilter.from_query_params(grouped) == f


def test_exposure_plot_without_any_value_says_so_instead_of_nan():
    import numpy as np
    import pandas as pd

    from analytics import overview
    values = pd.DataFrame({"patient_id": ["a", "b"], "latency_months": [np.nan, np.nan],
                           "cumulative_months": [np.nan, np.nan]})
    subtitle = overview.dot_plot(values, "latency_months").to_dict()["title"]["subtitle"]
    assert subtitle == ["n = 0 patients, one dot each (2 not evaluated)", "no patient with a value"]
