"""Overview at registry size: histogram instead of one dot per patient, bounded on-screen table."""
import numpy as np
import pandas as pd
import pytest

from analytics import overview
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory


@pytest.fixture(scope="module")
def big_db():
    return build_synthetic_in_memory(2000, seed=4)


@pytest.mark.parametrize("measure", list(overview.EXPOSURE_MEASURES))
def test_large_cohort_histogram_counts_every_patient_and_keeps_the_median(big_db, measure):
    values = overview.exposure_values(big_db, CohortFilter())
    assert len(values) > overview.DOT_PLOT_MAX_PATIENTS
    spec = overview.dot_plot(values, measure).to_dict()
    bars = spec["datasets"][spec["layer"][0]["data"]["name"]]
    evaluable = values[measure].dropna()
    assert sum(b["patients"] for b in bars) == len(evaluable)  # every patient in exactly one bin
    # a bar's count is the number of patients in [start, end)
    for b in bars[:5]:
        assert b["patients"] == int(((evaluable >= b["start"]) & (evaluable < b["end"])).sum())
    assert f"median {float(evaluable.median()):.1f}" in spec["title"]["subtitle"][1]
    assert f"n = {len(evaluable)} patients" in spec["title"]["subtitle"][0]
    assert len(overview.dot_plot(values, measure).to_json(indent=None)) < 200_000


def test_patient_table_head_is_the_first_rows_of_the_table(big_db):
    f = CohortFilter(sex=("F",))
    full = overview.patient_table(big_db, f)
    head, n = overview.patient_table_head(big_db, f, limit=250)
    assert n == len(full) > 250
    pd.testing.assert_frame_equal(head, full.head(250))
    small, n_small = overview.patient_table_head(big_db, CohortFilter(age=(0, 1)), limit=250)
    assert n_small == 0 and small.empty
