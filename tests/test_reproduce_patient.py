"""Reproduce in Python, patient page: the timeline script prints the page's title, notice,
the patient's events table and key facts word for word and draws the timeline; a filtered cohort; the
notebook executes."""
from __future__ import annotations

import duckdb
import pytest

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views import patient as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from


def _patient_with(data_file, event_type: str) -> str:
    """The first patient (by id) with an event of `event_type`."""
    db = CohortDatabase.open_file(data_file)  # the app's configuration: another open handle may share the file
    try:
        return db.query("SELECT min(patient_id) AS id FROM events WHERE event_type = ?", [event_type])["id"].iloc[0]
    finally:
        db.close()


def _assert_page_printed(result, printed, folder):
    assert printed[0] == result.title
    notices = [c.text for c in result.caveats]
    assert printed[1:1 + len(notices)] == notices
    assert_table_printed(printed, result.tables["Timeline events"])
    assert_table_printed(printed, result.tables["Key facts"])
    assert (folder / f"timeline_{result.numbers['patient_id']}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("view", ["default", "died-course-window", "relapsed"])
def test_timeline_script_prints_the_pages_events(reproduce_cohorts, cohort, view, tmp_path):
    data_file = reproduce_cohorts[cohort]
    params = {"default": {},
              "died-course-window": {"patient": _patient_with(data_file, "death"), "window": "B-ALL course"},
              "relapsed": {"patient": _patient_with(data_file, "relapse")}}[view]
    result, printed = run_view(views.timeline, "patient.timeline", data_file, params, tmp_path)
    assert not result.caveats
    _assert_page_printed(result, printed, tmp_path)
    if view == "died-course-window":
        assert "Death" in result.tables["Timeline events"]["category"].tolist()


@pytest.fixture(scope="module")
def cohort_with_stated_exposure(tmp_path_factory):
    """The demo cohort with exposure stated beside the courses: S05 disagreeing (10 days), S12
    agreeing within a day per course; S01 without lenalidomide courses."""
    import shutil

    import pandas as pd

    from analytics.build import DEMO_SOURCE, build_file
    source = tmp_path_factory.mktemp("stated") / "cohort"
    shutil.copytree(DEMO_SOURCE, source)
    patients = pd.read_csv(source / "patients.csv", dtype=str, keep_default_na=False)
    patients.loc[patients["patient_id"] == "S05", "len_cumulative_days"] = "10"
    patients.loc[patients["patient_id"] == "S12", "len_cumulative_days"] = "1279"  # courses: 1278 days
    patients.to_csv(source / "patients.csv", index=False)
    events = (source / "events.csv").read_text().splitlines(keepends=True)
    (source / "events.csv").write_text("".join(e for e in events if ",S01,lenalidomide_course," not in e))
    return build_file(source, tmp_path_factory.mktemp("db") / "cohort.duckdb")


@pytest.mark.parametrize(("patient_id", "exposure"), [
    ("S05", "36.0 months from the lenalidomide courses; the source states 10 days (0.3 months), which disagrees"),
    ("S12", "42.0 months"), ("S01", "not evaluated")])
def test_key_facts_script_words_the_exposure_as_the_page(cohort_with_stated_exposure, patient_id, exposure,
                                                         tmp_path):
    result, printed = run_view(views.timeline, "patient.timeline", cohort_with_stated_exposure,
                               {"patient": patient_id}, tmp_path)
    facts = result.tables["Key facts"]
    assert facts.loc[facts["fact"] == "Cumulative exposure", "value"].iloc[0] == exposure
    _assert_page_printed(result, printed, tmp_path)


def test_timeline_script_on_a_filtered_cohort_with_an_excluded_patient(reproduce_cohorts, tmp_path):
    """S05 is excluded by the filter: the page and the script show the filtered cohort's first
    patient instead and say so."""
    cohort_filter = CohortFilter(institution=("Site B",))
    result, printed = run_view(views.timeline, "patient.timeline", reproduce_cohorts["demo"], {"patient": "S05"},
                               tmp_path, cohort_filter)
    assert result.caveats and "is not in the filtered cohort" in result.caveats[0].text
    assert result.numbers["patient_id"] != "S05"
    _assert_page_printed(result, printed, tmp_path)


def test_timeline_script_of_an_empty_cohort(reproduce_cohorts, tmp_path):
    cohort_filter = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))  # nobody in the demo
    result, printed = run_view(views.timeline, "patient.timeline", reproduce_cohorts["demo"], {}, tmp_path,
                               cohort_filter)
    assert result.numbers["patient_id"] is None
    assert printed == [result.caption]


def test_timeline_script_refuses_a_file_without_the_patient(reproduce_cohorts, tmp_path):
    """Run on another cohort file (its SHA-256 check bypassed), the script names the missing patient."""
    db = CohortDatabase.open_file(reproduce_cohorts["demo"])
    try:
        script = reproduce.script("patient.timeline", db, CohortFilter(), spec_from("patient", {"patient": "S05"}),
                                  provenance(reproduce_cohorts["demo"]))
    finally:
        db.close()
    script = script.replace("if digest.hexdigest() != EXPECTED_SHA256:", "if False:")
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE patient_summary AS SELECT 'X1' AS patient_id")
    con.close()
    from tests.reproduce_helpers import run_script
    run = run_script(script, tmp_path, tmp_path / "other.duckdb")
    assert run.returncode != 0 and "Patient S05 is not in this file's filtered cohort." in run.stderr


def test_timeline_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        spec = spec_from("patient", {"patient": "S05"})
        script = reproduce.script("patient.timeline", db, CohortFilter(), spec, provenance(data_file))
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert "Patient S05: timeline (whole history)" in outputs and (tmp_path / "timeline_S05.png").exists()
