"""A small cBioPortal-format study built here loads; OS is mapped exactly; its Kaplan-Meier
curve through the survival page's analytics equals lifelines on the same data; what cannot be
mapped is listed; problems point at the study file's own rows (header = row 5)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from analytics import survival
from analytics.filters import CohortFilter
from analytics.importing import build_database, import_files
from analytics.units import DAYS_PER_MONTH

# (patient, sex, age, OS days, dead, DFS status, race): OS days are whole, the file has months
PATIENTS = [("P01", "Female", 66, 35, True, "1:Recurred/Progressed", "White"),
            ("P02", "Male", 71, 120, True, "1:Recurred/Progressed", "White"),
            ("P03", "Male", 58, 200, False, "0:DiseaseFree", "Asian"),
            ("P04", "Female", 63, 200, True, "1:Recurred/Progressed", "NA"),
            ("P05", "Male", 69, 410, False, "0:DiseaseFree", "White"),
            ("P06", "Female", 74, 455, True, "1:Recurred/Progressed", "Black"),
            ("P07", "Male", 61, 610, False, "0:DiseaseFree", "White"),
            ("P08", "Female", 67, 730, True, "1:Recurred/Progressed", "White"),
            ("P09", "Male", 70, 901, False, "NA", "White"),
            ("P10", "Female", 65, 1096, False, "0:DiseaseFree", "Asian")]
HEADER = ["PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS", "DFS_STATUS", "DFS_MONTHS", "RACE"]


def months(days: int) -> str:
    return f"{days / DAYS_PER_MONTH:.4f}"   # as cBioPortal files carry them (rounded months)


def patient_file(rows=PATIENTS) -> bytes:
    lines = ["#" + "\t".join(h.title() for h in HEADER), "#" + "\t".join("desc" for _ in HEADER),
             "#" + "\t".join(["STRING", "STRING", "NUMBER", "STRING", "NUMBER", "STRING", "NUMBER", "STRING"]),
             "#" + "\t".join("1" for _ in HEADER), "\t".join(HEADER)]
    for pid, sex, age, days, dead, dfs, race in rows:
        lines.append("\t".join([pid, sex, str(age), "1:DECEASED" if dead else "0:LIVING", months(days),
                                dfs, months(days // 2), race]))
    return ("\n".join(lines) + "\n").encode()


def sample_file() -> bytes:
    lines = ["#Patient\tSample\tOncotree\tType", "#d\td\td\td", "#STRING\tSTRING\tSTRING\tSTRING",
             "#1\t1\t1\t1", "PATIENT_ID\tSAMPLE_ID\tONCOTREE_CODE\tSAMPLE_TYPE"]
    lines += [f"{p[0]}\t{p[0]}-T1\tBLL\tPrimary" for p in PATIENTS]
    lines.append("P02\tP02-T2\tBLL\tRecurrence")
    return ("\n".join(lines) + "\n").encode()


MAF = ("Hugo_Symbol\tEntrez_Gene_Id\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\t"
       "t_alt_count\tt_ref_count\n"
       "TP53\t7157\tP01-T1\tMissense_Mutation\tp.R248Q\t45\t55\n"
       "TP53\t7157\tP02-T1\tNonsense_Mutation\tp.R213*\t30\t90\n"
       "TP53\t7157\tP02-T2\tMissense_Mutation\tp.R273H\t10\t10\n"
       "IKZF1\t10320\tP03-T1\tSilent\tp.L12L\t5\t5\n"
       "NRAS\t4893\tP04-T1\tMissense_Mutation\tp.G12D\t\t\n")

TIMELINE = ("PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tTREATMENT_TYPE\tAGENT\tSTATUS\tLINE\n"
            "P01\t-1500\t-90\tTREATMENT\tMedical Therapy\tLenalidomide\t\t\n"
            "P01\t3\t30\tTREATMENT\tMedical Therapy\tHyper-CVAD\t\t1\n"
            "P01\t28\t\tSTATUS\t\t\tComplete Remission\t1\n"
            "P01\t33\t\tSTATUS\t\t\tRelapse\t\n"
            "P02\t5\t\tTREATMENT\tMedical Therapy\tBlinatumomab\t\t\n"
            "P02\t10\t\tSPECIMEN\t\t\t\t\n"
            "P03\t90\t\tTREATMENT\tAllogeneic stem cell transplant\t\t\t\n")


def study(**overrides) -> list[tuple[str, bytes]]:
    files = {"data_clinical_patient.txt": patient_file(), "data_clinical_sample.txt": sample_file(),
             "data_mutations_extended.txt": MAF.encode(), "data_timeline_treatment.txt": TIMELINE.encode(),
             "meta_study.txt": b"type_of_cancer: bll\nname: Test lenalidomide B-ALL study\n"}
    files.update(overrides)
    return [(name, data) for name, data in files.items() if data is not None]


@pytest.fixture(scope="module")
def loaded():
    result = import_files(study())
    assert result.ok, result.report.text()
    db = build_database(result.tables)
    yield result, db
    db.close()


def test_os_status_and_time_are_mapped_exactly(loaded):
    _, db = loaded
    got = db.query("SELECT patient_id, os_days, os_event, vital_status FROM patient_summary ORDER BY patient_id")
    assert got["patient_id"].tolist() == [p[0] for p in PATIENTS]
    assert got["os_days"].tolist() == [p[3] for p in PATIENTS]
    assert got["os_event"].tolist() == [p[4] for p in PATIENTS]
    assert got["vital_status"].tolist() == ["dead" if p[4] else "alive" for p in PATIENTS]
    # months -> days with the dictionary's month (30.4375 days), rounded to the nearest day
    for p in PATIENTS:
        assert round(float(months(p[3])) * DAYS_PER_MONTH) == p[3]
    assert db.label == "Test lenalidomide B-ALL study" and not db.synthetic


def test_km_curve_of_the_survival_page_matches_lifelines(loaded):
    _, db = loaded
    spec = survival.SurvivalSpec(endpoint="OS")
    curve = survival.km_curves(db, CohortFilter(), spec)
    # independent: lifelines on the same data, straight from the study file's OS columns
    durations = np.array([round(float(months(p[3])) * DAYS_PER_MONTH) for p in PATIENTS], dtype=float)
    events = np.array([p[4] for p in PATIENTS], dtype=int)
    kmf = KaplanMeierFitter().fit(durations / DAYS_PER_MONTH, events)
    expected = kmf.survival_function_.iloc[:, 0]
    ours = curve.set_index("time_months")["survival"]
    assert len(ours) == len(expected)
    np.testing.assert_allclose(ours.index.to_numpy(), expected.index.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), atol=1e-6)
    ci = kmf.confidence_interval_.to_numpy()
    np.testing.assert_allclose(curve[["ci_lower", "ci_upper"]].to_numpy(), ci, atol=1e-6)
    summary = survival.km_summary(db, CohortFilter(), spec)
    assert int(summary.loc[0, "n"]) == len(PATIENTS)
    assert float(summary.loc[0, "median_months"]) == pytest.approx(kmf.median_survival_time_, abs=1e-6)


def test_mutations_timeline_and_patients_are_mapped(loaded):
    _, db = loaded
    muts = db.query("SELECT patient_id, gene, protein_change, variant_class, vaf FROM mutations "
                    "ORDER BY patient_id")
    assert muts[["patient_id", "gene", "protein_change"]].values.tolist() == [
        ["P01", "TP53", "p.R248Q"], ["P02", "TP53", "p.R213*"], ["P04", "NRAS", "p.G12D"]]
    assert muts["vaf"].iloc[0] == pytest.approx(0.45) and muts["vaf"].iloc[1] == pytest.approx(0.25)
    assert pd.isna(muts["vaf"].iloc[2])  # no allele counts: not evaluated, not invented
    summary = db.query("SELECT patient_id, tp53_status, sex, age_at_ball_dx, lineage, relapse_day, "
                       "first_cr_day, hct_day, latency_days, sequencing_assay FROM patient_summary "
                       "ORDER BY patient_id").set_index("patient_id")
    # sequenced = a sample in the MAF (no cases_sequenced list); others are not evaluated
    assert summary["tp53_status"].to_dict() == {
        "P01": "mutated", "P02": "mutated", "P03": "wild-type", "P04": "wild-type", **{
            p[0]: None for p in PATIENTS[4:]}}
    assert summary.loc["P01", "sex"] == "F" and summary.loc["P02", "sex"] == "M"
    assert summary["age_at_ball_dx"].tolist() == [p[2] for p in PATIENTS]
    assert set(summary["lineage"]) == {"B"}
    assert summary.loc["P01", ["first_cr_day", "relapse_day", "latency_days"]].tolist() == [28, 33, 1500]
    assert summary.loc["P03", "hct_day"] == 90
    lines = db.query("SELECT patient_id, line, regimen FROM events WHERE event_type = 'treatment_line'")
    assert lines.values.tolist() == [["P01", 1, "Hyper-CVAD"]]


def test_not_mapped_lists_what_has_no_place(loaded):
    result, _ = loaded
    text = "\n".join(result.not_mapped)
    assert "DFS_STATUS/DFS_MONTHS" in text
    assert "columns RACE" in text
    assert "data_mutations_extended.txt: 1 variant(s) of a sample that is not the patient's diagnostic" in text
    assert "data_mutations_extended.txt: 1 variant(s) of class Silent" in text
    assert "Entrez_Gene_Id" in text
    assert "data_timeline_treatment.txt: 1 SPECIMEN row(s)" in text
    assert "data_timeline_treatment.txt: 1 TREATMENT row(s) without a LINE" in text  # P02 blinatumomab
    assert "1 later sample(s) (P02-T2)" in text
    assert "patients.wbc_k_per_ul" in text and "measurements: none" in text
    warnings = "\n".join(i.text() for i in result.report.warnings)
    assert "6 patient(s) have no variant" in warnings
    assert "days from the B-ALL diagnosis" in warnings


def test_cases_sequenced_marks_patients_without_variants_as_wild_type():
    ids = "\t".join(f"{p[0]}-T1" for p in PATIENTS)
    result = import_files(study(**{"cases_sequenced.txt": f"case_list_ids: {ids}\n".encode()}))
    assert result.ok, result.report.text()
    db = build_database(result.tables)
    got = db.query("SELECT count(*) FILTER (WHERE tp53_status = 'wild-type') AS wt, "
                   "count(*) FILTER (WHERE tp53_status IS NULL) AS ne FROM patient_summary")
    assert got.values.tolist() == [[8, 0]]
    db.close()


def test_problems_point_at_the_study_files_rows():
    rows = list(PATIENTS)
    rows[2] = ("P03", "Unknown", 58, 200, False, "0:DiseaseFree", "Asian")      # file row 8
    bad = patient_file(rows).replace(b"1:DECEASED\t" + months(120).encode(), b"1:DECEASED\tabc")  # P02, row 7
    result = import_files(study(**{"data_clinical_patient.txt": bad}))
    assert not result.ok
    where = {(i.file, i.row, i.column) for i in result.report.errors}
    assert ("data_clinical_patient.txt", 7, "OS_MONTHS") in where
    assert not result.tables
    # a mapped value refused by validation is relocated to the file's row and column
    bad = patient_file(rows)
    result = import_files(study(**{"data_clinical_patient.txt": bad}))
    errors = result.report.errors
    assert [(i.file, i.row, i.column, i.value) for i in errors] == [
        ("data_clinical_patient.txt", 8, "SEX", "Unknown")]
    assert "[mapped to patients.sex]" in errors[0].problem
    # an event after death: the timeline row is named
    late = TIMELINE.replace("P01\t33\t\tSTATUS", "P01\t60\t\tSTATUS")  # relapse on day 60, died day 35
    result = import_files(study(**{"data_timeline_treatment.txt": late.encode()}))
    assert ("data_timeline_treatment.txt", 5, "START_DATE") in {
        (i.file, i.row, i.column) for i in result.report.errors}


def test_columns_that_are_not_mapped_are_dropped_unchecked_and_listed():
    # an unmapped column is never stored, so it is not checked: listed as not mapped
    maf = MAF.replace("Entrez_Gene_Id", "Patient_Name").replace("7157\tP01", "John Smith\tP01")
    result = import_files(study(**{"data_mutations_extended.txt": maf.encode()}))
    assert result.ok, result.report.text()
    assert "Patient_Name" in "\n".join(result.not_mapped)
    db = build_database(result.tables)
    stored = "\n".join(db.query(f"SELECT * FROM {t}").to_csv() for t in ("patients", "events", "mutations"))
    assert "John Smith" not in stored and "Patient_Name" not in stored
    db.close()


def test_identifiers_in_columns_that_would_be_stored_are_refused_where_they_are():
    # a name as PATIENT_ID (stored as patients.patient_id), located in the study file
    bad = patient_file().replace(b"P03\t", b"John Smith\t")
    sample = sample_file().replace(b"P03\tP03-T1", b"John Smith\tP03-T1")
    timeline = TIMELINE.replace("P03\t", "John Smith\t").encode()
    result = import_files(study(**{"data_clinical_patient.txt": bad, "data_clinical_sample.txt": sample,
                                   "data_timeline_treatment.txt": timeline}))
    assert not result.ok
    assert ("data_clinical_patient.txt", 8, "PATIENT_ID") in {(i.file, i.row, i.column) for i in result.report.errors}
    # a calendar date as a treatment name (stored as events.regimen), located in the timeline
    timeline = TIMELINE.replace("Hyper-CVAD", "Hyper-CVAD 2021-03-04")
    result = import_files(study(**{"data_timeline_treatment.txt": timeline.encode()}))
    errors = [(i.file, i.row, i.column) for i in result.report.errors]
    assert errors == [("data_timeline_treatment.txt", 3, "AGENT")], result.report.text()


def test_missing_patient_file_and_bad_status_are_clear():
    result = import_files(study(**{"data_clinical_patient.txt": None}))
    assert not result.ok and "patient file is missing" in result.report.text()
    bad = patient_file().replace(b"0:LIVING", b"2:UNKNOWN", 1)
    result = import_files(study(**{"data_clinical_patient.txt": bad}))
    assert [(i.row, i.column, i.value) for i in result.report.errors] == [(8, "OS_STATUS", "2:UNKNOWN")]
