"""The withdrawal page's cached view and figures: screen-sized, and the same numbers and charts
as the per-patient analysis they summarise (demo and a synthetic cohort above the caps)."""
import pandas as pd
import pytest

from analytics import withdrawal
from analytics.cohort import patient_order
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles import withdrawal as oracle

RULE = withdrawal.RegressionRule()


@pytest.fixture(scope="module")
def big():
    return build_synthetic_in_memory(3000, seed=21)


def _reference(db, f, analyte="leukemic", specimen="marrow", rule=RULE):
    return oracle.analyse(db, f, analyte, specimen, rule)


@pytest.mark.parametrize("batch_rows", [withdrawal.results.SERIES_BATCH_ROWS, 1, 37])
@pytest.mark.parametrize("f", [CohortFilter(), CohortFilter(sex=("F",)), CohortFilter(tp53=("mutated",))])
@pytest.mark.parametrize("which", ["demo", "big"])
def test_view_equals_the_per_patient_analysis(which, f, batch_rows, demo_db, big):
    """Whatever the batches (one, a series per batch, series cut across DuckDB chunks)."""
    db = demo_db if which == "demo" else big
    ref = _reference(db, f)
    view = withdrawal.page_view(db, f, withdrawal.LEUKEMIC, "marrow", RULE, batch_rows=batch_rows)
    k = ref.kinetics
    assert view.n_series == len(k) and view.n_patients == len(ref.overview)
    assert view.counts == withdrawal.classification_counts(k)
    single = k.loc[k["n_measurements"] < 2, "patient_id"].tolist()
    assert view.n_single == len(single) and list(view.single_ids) == single[:withdrawal.IDS_LISTED]
    pd.testing.assert_frame_equal(view.kinetics_head, k.head(withdrawal.TABLE_ROWS_MAX).reset_index(drop=True))
    pd.testing.assert_frame_equal(view.continuous, ref.continuous)
    pd.testing.assert_frame_equal(view.categorical, ref.categorical)
    assert view.n_with_stop == ref.overview["len_stop_day"].notna().sum()
    labels = dict(zip(ref.overview["patient_id"], ref.overview["followed"]))
    no_series = {withdrawal.NO_SERIES_TREATED, withdrawal.NO_SERIES_UNTREATED}
    order = patient_order(db, f)
    with_s = [(p, labels[p]) for p in order if p in labels and labels[p] not in no_series]
    without = [(p, labels[p]) for p in order if p in labels and labels[p] in no_series]
    assert list(view.with_series) == with_s[:withdrawal.PATIENTS_DRAWN_MAX]
    assert list(view.without_series) == without[:withdrawal.PATIENTS_DRAWN_MAX]
    assert view.n_without_series == len(without)
    assert view.regressors == sum(withdrawal.classification_counts(k)[c] for c in withdrawal.REGRESSION_CLASSES)


@pytest.mark.parametrize("batch_rows", [withdrawal.results.SERIES_BATCH_ROWS, 100])
def test_view_is_screen_sized_at_registry_size(big, monkeypatch, batch_rows):
    monkeypatch.setattr(withdrawal.results, "TABLE_ROWS_MAX", 50)  # 3,000 patients: about 220 with a series
    view = withdrawal.page_view(big, CohortFilter(), withdrawal.LEUKEMIC, "marrow", RULE, batch_rows=batch_rows)
    assert view.n_series > withdrawal.PATIENTS_DRAWN_MAX and view.n_without_series > withdrawal.PATIENTS_DRAWN_MAX
    assert len(view.kinetics_head) == 50
    assert len(view.with_series) == len(view.without_series) == withdrawal.PATIENTS_DRAWN_MAX


@pytest.mark.parametrize("analyte", list(withdrawal.ANALYTE_OPTIONS))
def test_drawn_series_are_the_first_patients_with_a_series(analyte, big):
    f = CohortFilter(sex=("M",))
    data = withdrawal.measurements(big, f, analyte, "marrow")
    with_data = set(data["patient_id"])
    expected = [p for p in patient_order(big, f) if p in with_data]
    ids, n = withdrawal.drawn_series(big, f, analyte, "marrow", 40)
    assert ids == expected[:40] and n == len(expected)
    restricted = withdrawal.measurements(big, f, analyte, "marrow", ids=tuple(ids))
    pd.testing.assert_frame_equal(restricted.reset_index(drop=True),
                                  data[data["patient_id"].isin(ids)].reset_index(drop=True))


@pytest.mark.parametrize("options", [("withdrawal", "linear", False), ("diagnosis", "log", False),
                                     ("withdrawal", "linear", True)])
def test_trajectory_figure_equals_the_chart_from_every_patient(options, demo_db, big):
    """The figure reads only the drawn patients' series, yet draws what the full data would."""
    for db in (demo_db, big):
        f = CohortFilter()
        ref = _reference(db, f)
        data = withdrawal.measurements(db, f)
        drawn = ref.kinetics["patient_id"].head(withdrawal.PATIENTS_DRAWN_MAX).tolist()
        classes = dict(zip(ref.kinetics["patient_id"], ref.kinetics["classification"]))
        unit = data["unit"].iloc[0]
        old = withdrawal.trajectory_chart(data[data["patient_id"].isin(drawn)].reset_index(drop=True),
                                          classes, *options[:2], options[2], drawn,
                                          y_title=f"Leukemic B cells ({unit}, marrow)")
        new = withdrawal.trajectory_figure(db, f, withdrawal.LEUKEMIC, "marrow", RULE, *options)
        assert new.to_dict() == old.to_dict()


def test_timing_figure_equals_the_chart_from_every_patient(demo_db, big):
    for db in (demo_db, big):
        f = CohortFilter()
        ref = _reference(db, f)
        order = patient_order(db, f)
        overview = ref.overview
        ids = overview.dropna(subset=["len_stop_day"])["patient_id"].head(withdrawal.PATIENTS_DRAWN_MAX)
        old = withdrawal.timing_chart(overview[overview["patient_id"].isin(set(ids))].reset_index(drop=True),
                                      order)
        new = withdrawal.timing_figure(db, f, withdrawal.LEUKEMIC, "marrow", RULE)
        assert new.to_dict()["layer"][1]["encoding"] == old.to_dict()["layer"][1]["encoding"]
        datasets = lambda c: [pd.DataFrame(v) for v in c.to_dict()["datasets"].values()]
        for a, b in zip(datasets(new), datasets(old)):
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("analyte", list(withdrawal.ANALYTE_OPTIONS))
@pytest.mark.parametrize("specimen", withdrawal.SPECIMENS)
def test_view_counts_equal_the_per_patient_analysis_for_every_series(analyte, specimen, big):
    """page_view reads no frame of every patient (counts and the no-series list in DuckDB)."""
    f = CohortFilter(sex=("F",))
    ref = _reference(big, f, analyte, specimen)
    view = withdrawal.page_view(big, f, analyte, specimen, RULE)
    no_series = ref.overview[ref.overview["followed"].isin(
        [withdrawal.NO_SERIES_TREATED, withdrawal.NO_SERIES_UNTREATED])]
    assert (view.n_patients, view.n_series, view.n_without_series) == (
        len(ref.overview), len(ref.kinetics), len(no_series))
    assert view.n_with_stop == ref.overview["len_stop_day"].notna().sum()
    assert list(view.without_series) == list(map(tuple, no_series[["patient_id", "followed"]].head(
        withdrawal.PATIENTS_DRAWN_MAX).itertuples(index=False)))
    pd.testing.assert_frame_equal(view.continuous, ref.continuous)
    pd.testing.assert_frame_equal(view.categorical, ref.categorical)
