"""Overview at registry size: histogram instead of one dot per patient, bounded on-screen table."""
import numpy as np
import pandas as pd
import pytest

from analytics import overview
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles.overview import histogram_bins, summarise_categorical, summarise_continuous


@pytest.fixture(scope="module")
def big_db():
    return build_synthetic_in_memory(2000, seed=4)


@pytest.mark.parametrize("measure", list(overview.EXPOSURE_MEASURES))
def test_large_cohort_histogram_counts_every_patient_and_keeps_the_median(big_db, measure):
    values = overview.exposure_values(big_db, CohortFilter())
    assert len(values) > overview.DOT_PLOT_MAX_PATIENTS
    spec = overview.exposure_chart(big_db, CohortFilter(), measure).to_dict()
    bars = spec["datasets"][spec["layer"][0]["data"]["name"]]
    evaluable = values[measure].dropna()
    assert sum(b["patients"] for b in bars) == len(evaluable)  # every patient in exactly one bin
    # a bar's count is the number of patients in [start, end)
    for b in bars[:5]:
        assert b["patients"] == int(((evaluable >= b["start"]) & (evaluable < b["end"])).sum())
    assert f"median {float(evaluable.median()):.1f}" in spec["title"]["subtitle"][1]
    assert f"n = {len(evaluable)} patients" in spec["title"]["subtitle"][0]
    assert len(overview.exposure_chart(big_db, CohortFilter(), measure).to_json(indent=None)) < 200_000


def test_patient_table_head_is_the_first_rows_of_the_table(big_db):
    f = CohortFilter(sex=("F",))
    full = overview.patient_table(big_db, f)
    head, n = overview.patient_table_head(big_db, f, limit=250)
    assert n == len(full) > 250
    pd.testing.assert_frame_equal(head, full.head(250))
    small, n_small = overview.patient_table_head(big_db, CohortFilter(age=(0, 1)), limit=250)
    assert n_small == 0 and small.empty


# --- counted in DuckDB: the same numbers as the per-patient (pandas) way --------------------
def _table_one_the_pandas_way(db, f) -> pd.DataFrame:
    from analytics.cohort import filtered_summary
    data = filtered_summary(db, f)
    data["latency_months"] = data["latency_days"].astype("Float64") / 30.4375
    data["cumulative_months"] = data["len_cumulative_days"].astype("Float64") / 30.4375
    rows = [("Patients", "", len(data), str(len(data)))]
    for spec in overview.CONTINUOUS:
        stats = summarise_continuous(data[spec.key], spec.decimals)
        rows.append((f"{spec.label}, {spec.unit}", "median (range)", stats["n"], stats["display"]))
        if stats["not_evaluated"]:
            rows.append((f"{spec.label}, {spec.unit}", "not evaluated", stats["not_evaluated"],
                         f"{stats['not_evaluated']} (not in median)"))
    for spec in overview.CATEGORICAL:
        for r in summarise_categorical(data[spec.column], spec):
            rows.append((spec.label, r["level"], r["n"], r["display"]))
    return pd.DataFrame(rows, columns=["characteristic", "level", "n", "display"])


@pytest.mark.parametrize("f", [CohortFilter(), CohortFilter(sex=("F",)), CohortFilter(tp53=("not evaluated",)),
                               CohortFilter(age=(0, 1)), CohortFilter(hct=True, treated=True)])
def test_table_one_counted_in_sql_equals_the_per_patient_way(big_db, demo_db, f):
    for db in (big_db, demo_db):
        sql = overview.table_one(db, f)
        expected = _table_one_the_pandas_way(db, f)
        got = sql[["characteristic", "level", "n", "display"]].copy()
        got["n"] = got["n"].astype(int)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.parametrize("measure", list(overview.EXPOSURE_MEASURES))
@pytest.mark.parametrize("f", [CohortFilter(), CohortFilter(sex=("M",))])
def test_histogram_counted_in_sql_equals_numpy(big_db, measure, f):
    spec = overview.exposure_chart(big_db, f, measure).to_dict()
    months = overview.exposure_values(big_db, f)[measure].dropna().to_numpy(float)
    high = max(12.0, float(np.ceil(months.max() / 12.0) * 12.0))
    bars = pd.DataFrame(spec["datasets"][spec["layer"][0]["data"]["name"]])
    expected = histogram_bins(months, high)
    pd.testing.assert_frame_equal(bars[["start", "end", "patients"]], expected, check_dtype=False)
    assert f"median {float(np.median(months)):.1f}" in spec["title"]["subtitle"][1]
