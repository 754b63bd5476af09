"""Missing is not evaluated, never invented: what a source lacks is NULL with one warning, and
only what an analysis cannot work without blocks."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.importing import build_database, import_files

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_cohort"
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")


def files_with(**frames: pd.DataFrame) -> list[tuple[str, bytes]]:
    return [(f"{t}.csv", frames[t].to_csv(index=False).encode() if t in frames else (DEMO / f"{t}.csv").read_bytes())
            for t in TABLES]


def demo(table: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False)


def test_relapse_without_a_recorded_remission_is_one_warning_not_an_error():
    events = demo("events")
    s05_cr = events.index[(events.patient_id == "S05") & (events.event_type == "response_assessment")][0]
    events.loc[s05_cr, "response"] = "PR"
    result = import_files(files_with(events=events))
    assert result.ok, result.report.text()
    relapse = [i for i in result.report.warnings if "without an earlier recorded remission" in i.problem]
    assert [(i.file, i.row, i.column) for i in relapse] == [("events.csv", 30, "day")]
    db = build_database(result.tables)
    row = db.query("SELECT relapse_day, first_cr_day, efs_event FROM patient_summary WHERE patient_id = 'S05'")
    assert pd.isna(row.loc[0, "first_cr_day"]) and row.loc[0, "efs_event"]  # the relapse still ends EFS
    db.close()


def test_sex_age_and_lineage_may_be_absent_one_warning_each():
    patients = demo("patients").drop(columns=["sex", "age_at_ball_dx", "lineage"])
    result = import_files(files_with(patients=patients))
    assert result.ok, result.report.text()
    absent = [i.column for i in result.report.warnings if "is absent" in i.problem]
    assert sorted(absent) == ["age_at_ball_dx", "lineage", "sex"]
    db = build_database(result.tables)
    assert int(db.scalar("SELECT count(*) FROM patients WHERE sex IS NULL AND lineage IS NULL")) == 32
    db.close()


def test_patients_without_follow_up_are_one_warning():
    events = demo("events")
    events = events[~(events.event_type.isin(["death", "last_contact"]) & events.patient_id.isin(["S01", "S02", "S03"]))]
    result = import_files(files_with(events=events))
    assert result.ok, result.report.text()
    follow = [i for i in result.report.warnings if "no last_contact or death event" in i.problem]
    assert len(follow) == 1 and "3 patient(s)" in follow[0].problem and follow[0].row == 2


def test_the_patient_id_is_still_required():
    patients = demo("patients")
    patients.loc[0, "patient_id"] = ""
    result = import_files(files_with(patients=patients))
    assert ("patients.csv", 2, "patient_id") in {(i.file, i.row, i.column) for i in result.report.errors}
