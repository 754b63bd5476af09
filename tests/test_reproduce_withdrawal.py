"""Reproduce in Python, withdrawal page: each view's script (trajectories, kinetics, timing) run in a
fresh interpreter without the app prints the page's lines and tables word for word, on the demo and a
600-patient synthetic cohort, for the default view and two non-default views; a filtered cohort; the
notebook executes."""
from __future__ import annotations

import pandas as pd
import pytest

from analytics import reproduce, withdrawal
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views import withdrawal as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from

VIEWS = {"default": {},
         "immature-log-facet": {"wd_analyte": "immature_b_pct", "wd_scale": "log", "wd_layout": "facet",
                                "wd_partial": "65"},
         "blasts-diagnosis-rule": {"wd_analyte": "b_lymphoblasts_pct", "wd_axis": "diagnosis", "wd_rise": "50",
                                   "wd_window": "60"}}


def _num(x, digits=1) -> str:
    """pages/withdrawal.py's number format ("–" for a missing value)."""
    return "–" if x is None or x != x else f"{x:.{digits}f}"


def shown_kinetics(k: pd.DataFrame) -> pd.DataFrame:
    """The kinetics table as pages/withdrawal.py shows it (its column names and number formats)."""
    def fmt(values, spec):
        return ["–" if v is None or v != v else spec.format(v) for v in values]
    return pd.DataFrame({
        "Patient": k["patient_id"], "Class": k["classification"].map(withdrawal.CLASS_LABELS),
        "At withdrawal (%)": fmt(k["baseline_value"], "{:.2f}"),
        "Nadir before therapy (%)": fmt(k["nadir_value"], "{:.2f}"),
        "Reduction (%)": fmt(k["reduction_pct"], "{:.1f}"),
        "Days to 50% (interpolated)": fmt(k["days_to_half_from_stop"], "{:.1f}"),
        "Days to nadir": fmt(k["days_to_nadir_from_stop"], "{:.0f}"),
        "B-ALL therapy day": fmt(k["therapy_days_from_stop"], "{:+.0f}"),
        "Lowest level overall": [("after therapy start" if a else "before therapy") if v == v and v is not None
                                 else "–" for a, v in zip(k["overall_nadir_after_therapy"], k["overall_nadir_value"])],
        "Max rise (%)": fmt(k["max_rise_pct"], "{:.1f}"),
        "Nadir below detection": k["nadir_below_detection"].astype(bool),
        "Measurements": k["n_measurements"], "Before therapy": k["n_assessed"],
        "Baseline day": fmt(k["baseline_day"], "{:+.0f}"), "Why": k["reason"], "Analyte": k["analyte"]})


def shown_continuous(cont: pd.DataFrame) -> pd.DataFrame:
    approximate = cont["test"].str.contains("approximation").any()
    return pd.DataFrame({
        "Feature": cont["feature"],
        "Regressors": [f"{_num(md)} ({rg}), n={n}" for md, rg, n in
                       zip(cont.median_regressors, cont.range_regressors, cont.n_regressors)],
        "Others (none / progression)": [f"{_num(md)} ({rg}), n={n}" for md, rg, n in
                                        zip(cont.median_others, cont.range_others, cont.n_others)],
        "U": [_num(u, 1) for u in cont.U],
        "p (approximate)" if approximate else "p (exact)": [_num(p, 3) for p in cont.p_value],
        "Not evaluated": cont["not_evaluated"]})


def shown_categorical(cat: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Feature": cat["feature"],
        "Regressors": [f"{a}/{n}" for a, n in zip(cat.regressors_positive, cat.regressors_evaluable)],
        "Others (none / progression)": [f"{a}/{n}" for a, n in zip(cat.others_positive, cat.others_evaluable)],
        "Odds ratio (sample)": [_num(o, 2) for o in cat.sample_odds_ratio], "p (exact)": [_num(p, 3) for p in cat.p_value],
        "Not evaluated": cat["not_evaluated"]})


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("params", list(VIEWS.values()), ids=list(VIEWS))
def test_trajectories_script(reproduce_cohorts, cohort, params, tmp_path):
    result, printed = run_view(views.trajectories, "withdrawal.trajectories", reproduce_cohorts[cohort], params,
                               tmp_path)
    assert result.lines and printed[:len(result.lines)] == list(result.lines)
    assert (tmp_path / "withdrawal_trajectories.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("params", list(VIEWS.values()), ids=list(VIEWS))
def test_kinetics_script(reproduce_cohorts, cohort, params, tmp_path):
    result, printed = run_view(views.kinetics, "withdrawal.kinetics", reproduce_cohorts[cohort], params, tmp_path)
    assert printed[0] == result.lines[0]  # the regression sentence
    assert_table_printed(printed, shown_kinetics(result.tables["kinetics"]))
    assert result.numbers["regressors"] and result.numbers["assessable"] > result.numbers["regressors"]
    assert_table_printed(printed, shown_continuous(result.tables["continuous"]))
    assert_table_printed(printed, shown_categorical(result.tables["categorical"]))


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("params", list(VIEWS.values()), ids=list(VIEWS))
def test_timing_script(reproduce_cohorts, cohort, params, tmp_path):
    result, printed = run_view(views.timing, "withdrawal.timing", reproduce_cohorts[cohort], params, tmp_path)
    assert printed[0] == result.lines[0]
    assert (tmp_path / "withdrawal_timing.png").read_bytes()[:4] == b"\x89PNG"
    # what followed each drawn patient's stop = the colour the page's figure gives that patient
    data = result.figure.to_dict()["datasets"]
    drawn = next(rows for rows in data.values() if rows and "followed" in rows[0])
    table = printed[printed.index("Patient\tStop day vs diagnosis\tFirst B-ALL therapy day\tWhat followed") + 1:]
    assert [line.split("\t")[3] for line in table[:len(drawn)]] == [row["followed"] for row in drawn]


def test_filtered_cohort(reproduce_cohorts, tmp_path):
    """TP53 wild-type or not evaluated, women: the filter is written into the script's SQL."""
    cohort_filter = CohortFilter(sex=("F",), tp53=("wild-type", "not evaluated"))
    data_file = reproduce_cohorts["synthetic"]
    (tmp_path / "k").mkdir()
    result, printed = run_view(views.kinetics, "withdrawal.kinetics", data_file, {}, tmp_path / "k",
                               cohort_filter=cohort_filter)
    assert printed[0] == result.lines[0]
    assert_table_printed(printed, shown_kinetics(result.tables["kinetics"]))
    (tmp_path / "t").mkdir()
    result, printed = run_view(views.trajectories, "withdrawal.trajectories", data_file, {}, tmp_path / "t",
                               cohort_filter=cohort_filter)
    assert printed[:len(result.lines)] == list(result.lines)
    assert result.numbers["n_patients"] < 600


def test_no_series_says_so(reproduce_cohorts, tmp_path):
    """Marrow blasts have no serial values in the demo: the page's and the script's sentence."""
    result, printed = run_view(views.trajectories, "withdrawal.trajectories", reproduce_cohorts["demo"],
                               {"wd_analyte": "marrow_blasts_pct"}, tmp_path)
    assert not result.lines and result.caveats[0].text.startswith(printed[0][:-1])  # the caveat goes on
    assert printed[0] == ("None of the 32 patients selected has serial measurements of marrow blasts in marrow.")
    assert not (tmp_path / "withdrawal_trajectories.png").exists()


def test_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        text = reproduce.script("withdrawal.kinetics", db, CohortFilter(), spec_from("withdrawal", {}),
                                provenance(data_file))
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(text), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert "Regression before B-ALL therapy: 5 of 9 assessable patients" in outputs


def test_no_comparison_prints_no_tests(reproduce_cohorts, tmp_path):
    """Untreated demo patients: every assessable one regresses, so the page compares nothing (its
    "No comparison" caveat) and the script prints no who-regresses table either."""
    result, printed = run_view(views.kinetics, "withdrawal.kinetics", reproduce_cohorts["demo"], {}, tmp_path,
                               cohort_filter=CohortFilter(treated=False))
    assert any(c.heading == views.NO_COMPARISON for c in result.caveats)
    assert printed[0] == result.lines[0]
    assert_table_printed(printed, shown_kinetics(result.tables["kinetics"]))
    assert not [line for line in printed if line.startswith("Feature\t")]
