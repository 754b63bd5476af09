"""Withdrawal analytics at registry size: same kinetics as the per-patient reference, and the
Mann-Whitney U switches from exact to the normal approximation only for large groups (said so)."""
import pandas as pd
import pytest
from scipy import stats

from analytics import withdrawal
from analytics.cohort import filtered_summary, patient_order
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles import withdrawal as oracle

RULE = withdrawal.RegressionRule()


@pytest.fixture(scope="module")
def db():
    return build_synthetic_in_memory(12000, seed=12)


def test_kinetics_table_equals_per_patient_reference(db):
    f = CohortFilter(sex=("F",))
    data = withdrawal.measurements(db, f, withdrawal.LEUKEMIC, "marrow")
    rows = []
    for pid in [p for p in patient_order(db, f) if p in set(data["patient_id"])]:
        s = data[data["patient_id"] == pid]
        stop, therapy = s["len_stop_day"].iloc[0], s["first_treatment_day"].iloc[0]
        k = oracle.patient_kinetics(s, None if pd.isna(stop) else float(stop),
                                        None if pd.isna(therapy) else float(therapy), RULE)
        rows.append(k.classification)
    table = withdrawal.kinetics_table(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
    assert len(table) == len(rows) > 50
    assert table["classification"].tolist() == rows
    overview = oracle.patient_overview(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
    assert len(overview) == len(filtered_summary(db, f))
    by_id = dict(zip(table["patient_id"], table["classification"]))
    assert [by_id.get(p) for p in overview["patient_id"]] == overview["classification"].tolist()


def test_large_groups_use_the_normal_approximation_and_say_so(db):
    f = CohortFilter()
    cont = withdrawal.page_view(db, f, withdrawal.LEUKEMIC, "marrow", RULE).continuous
    table = withdrawal.kinetics_table(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
    assessable = table[table["classification"] != withdrawal.NOT_ASSESSABLE]
    regress = set(assessable.loc[assessable["classification"].isin(withdrawal.REGRESSION_CLASSES), "patient_id"])
    others = set(assessable["patient_id"]) - regress
    summary = filtered_summary(db, f).set_index("patient_id")
    row = cont.iloc[0]
    a = summary.loc[sorted(regress), "latency_days"].dropna().astype(float) / 30.4375
    b = summary.loc[sorted(others), "latency_days"].dropna().astype(float) / 30.4375
    assert max(len(a), len(b)) > withdrawal.EXACT_MWU_MAX
    ref = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert "normal approximation" in row["test"]


def test_page_view_equals_the_per_patient_analysis(db):
    """The page's view (counts in DuckDB, no frame of every patient) equals the analysis from a
    frame of every filtered patient (tests/oracles/withdrawal.analyse) at this size too."""
    f = CohortFilter(sex=("M",))
    view = withdrawal.page_view(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
    analysis = oracle.analyse(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
    assert view.n_series == len(analysis.kinetics) > 50 and view.n_patients == len(analysis.overview)
    assert view.counts == withdrawal.classification_counts(analysis.kinetics)
    pd.testing.assert_frame_equal(view.continuous, analysis.continuous)
    pd.testing.assert_frame_equal(view.categorical, analysis.categorical)
