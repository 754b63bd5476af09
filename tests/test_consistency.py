"""One truth per fact: cumulative lenalidomide exposure is derived from the courses; a stated value
that disagrees is a warning naming both numbers; other stored facts the timeline contradicts too."""
from __future__ import annotations

import duckdb
import pandas as pd
from hypothesis import given, settings, strategies as st

from analytics import consistency, patient
from analytics.build import SCHEMA_SQL
from analytics.filters import CohortFilter
from analytics.importing import build_database, import_files
from analytics.importing.template import tables_from_folder, workbook_from_tables


def test_demo_exposure_is_consistent_for_every_patient(demo_file_db):
    summary = demo_file_db.query("SELECT patient_id, len_cumulative_days FROM patient_summary").set_index(
        "patient_id")["len_cumulative_days"]
    events = demo_file_db.query("SELECT * FROM events")
    courses = events[events.event_type == "lenalidomide_course"]
    derived = consistency.exposure_days_before_diagnosis(courses)
    assert len(summary) == 32 and set(derived.index) == set(summary.index)  # every patient has courses
    for pid, days in summary.items():
        assert days == derived[pid], pid
        assert 0 < days <= -courses[courses.patient_id == pid].day.min(), pid  # within the latency
    # one truth: nothing stated beside the courses
    assert demo_file_db.scalar("SELECT count(len_cumulative_days) FROM patients") == 0
    tables = {t: f for t, f in tables_from_folder("data/demo_cohort").items()}
    result = import_files([("demo.xlsx", workbook_from_tables(tables))])
    assert result.ok and not [i for i in result.report.warnings if "lenalidomide" in i.problem]


def _summary_exposure(courses: list[tuple[int, int | None]], stated: int | None = None) -> int | None:
    connection = duckdb.connect(":memory:")
    connection.execute(SCHEMA_SQL.read_text())
    connection.execute("INSERT INTO patients (patient_id, institution, sex, age_at_ball_dx, lineage, "
                       "len_cumulative_days) VALUES ('P1', 'X', 'F', 60, 'B', ?)", [stated])
    for i, (day, end) in enumerate(courses, start=1):
        connection.execute("INSERT INTO events (event_id, patient_id, event_type, day, end_day) "
                           "VALUES (?, 'P1', 'lenalidomide_course', ?, ?)", [i, day, end])
    return connection.execute("SELECT len_cumulative_days FROM patient_summary").fetchone()[0]


_course = st.tuples(st.integers(-400, 60), st.one_of(st.none(), st.integers(0, 300))).map(
    lambda t: (t[0], None if t[1] is None else t[0] + t[1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(_course, min_size=1, max_size=5))
def test_sql_and_pandas_exposure_agree_with_counting_days(courses):
    on_drug: set[int] = set()  # day d counts when the drug was taken from d to d + 1 before day 0
    for day, end in courses:
        on_drug.update(range(day, min(0 if end is None else end, 0)))
    frame = pd.DataFrame({"patient_id": "P1", "day": [d for d, _ in courses],
                          "end_day": [e for _, e in courses]})
    assert _summary_exposure(courses) == len(on_drug)
    assert consistency.exposure_days_before_diagnosis(frame)["P1"] == len(on_drug)


def test_stated_exposure_is_used_only_without_courses():
    assert _summary_exposure([], stated=900) == 900
    assert _summary_exposure([(-1000, -100)], stated=900) == 900
    assert _summary_exposure([(-1000, 0)], stated=900) == 1000   # the courses win
    assert _summary_exposure([(10, 50)], stated=900) == 0        # courses only after diagnosis


def _demo_tables() -> dict[str, pd.DataFrame]:
    return {t: f.copy() for t, f in tables_from_folder("data/demo_cohort").items()}


def _import(tables):
    return import_files([("cohort.xlsx", workbook_from_tables(tables))])


def test_a_stated_exposure_that_disagrees_is_a_located_warning_and_not_stored():
    tables = _demo_tables()
    patients = tables["patients"]
    patients.loc[patients.patient_id == "S08", "len_cumulative_days"] = "2831"   # S08's courses: 2131
    patients.loc[patients.patient_id == "S01", "len_cumulative_days"] = "1279"   # inclusive count: agrees
    result = _import(tables)
    assert result.ok
    warnings = [i for i in result.report.warnings if i.column == "len_cumulative_days"]
    assert len(warnings) == 1
    w = warnings[0]
    assert (w.sheet, w.row, w.value) == ("patients", 9, "2831")          # S08 is on spreadsheet row 9
    assert "2831 days" in w.problem and "2131 days" in w.problem and "S08" in w.problem
    assert "93.0 months" in w.problem and "70.0 months" in w.problem
    stored = result.tables["patients"].set_index("patient_id")["len_cumulative_days"]
    assert stored.isna().all()
    db = build_database(result.tables)
    assert db.scalar("SELECT len_cumulative_days FROM patient_summary WHERE patient_id = 'S08'") == 2131


def test_a_stated_exposure_without_courses_is_kept():
    tables = _demo_tables()
    events = tables["events"]
    tables["events"] = events[~((events.patient_id == "S08") & (events.event_type == "lenalidomide_course"))]
    tables["patients"].loc[tables["patients"].patient_id == "S08", "len_cumulative_days"] = "2000"
    result = _import(tables)
    assert result.ok
    db = build_database(result.tables)
    assert db.scalar("SELECT len_cumulative_days FROM patient_summary WHERE patient_id = 'S08'") == 2000
    assert db.scalar("SELECT latency_days FROM patient_summary WHERE patient_id = 'S08'") is None


def test_lenalidomide_before_the_myeloma_diagnosis_is_a_warning_naming_both():
    tables = _demo_tables()
    patients = tables["patients"]
    patients.loc[patients.patient_id == "S08", "age_at_myeloma_dx"] = "70"   # B-ALL at 71, courses from day -2831
    result = _import(tables)
    assert result.ok
    (w,) = [i for i in result.report.warnings if i.column == "age_at_myeloma_dx"]
    assert w.row == 9 and w.value == "70"
    assert "day -2831" in w.problem and "7.8 years" in w.problem and "(70)" in w.problem


def test_marrow_blasts_at_diagnosis_against_a_day_zero_measurement():
    tables = _demo_tables()
    m = tables["measurements"]
    extra = m.iloc[[0]].copy()
    extra[["patient_id", "day", "analyte", "value"]] = ["S01", "0", "marrow_blasts_pct", "40"]
    tables["measurements"] = pd.concat([m, extra], ignore_index=True)
    result = _import(tables)
    (w,) = [i for i in result.report.warnings if i.column == "marrow_blast_pct"]
    assert "78%" in w.problem and "40%" in w.problem and w.row == 2
    extra["value"] = "78.4"
    tables["measurements"] = pd.concat([m, extra], ignore_index=True)
    assert not [i for i in _import(tables).report.warnings if i.column == "marrow_blast_pct"]


def test_patient_page_names_a_stored_exposure_that_disagrees(tmp_path):
    tables = _demo_tables()
    tables["patients"].loc[tables["patients"].patient_id == "S08", "len_cumulative_days"] = "2831"
    for name, frame in tables.items():  # built from CSVs directly, as a maintainer could
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    from analytics.build import build_in_memory
    db = build_in_memory(tmp_path)
    facts = patient.key_facts(db, CohortFilter(), "S08").set_index("fact")["value"]
    assert facts["Cumulative exposure"].startswith("70.0 months from the lenalidomide courses")
    assert "2831 days (93.0 months)" in facts["Cumulative exposure"]
    other = patient.key_facts(db, CohortFilter(), "S01").set_index("fact")["value"]
    assert other["Cumulative exposure"] == "42.0 months (from the lenalidomide courses)"
