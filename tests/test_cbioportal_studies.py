"""Real cBioPortal test studies (tests/cbioportal_studies/, copied unchanged from the cBioPortal
repository; see its README.md) import unchanged through the command line and the upload page,
with their expected counts; every page works on an imported real study."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analytics.db import CohortDatabase
from analytics.importing import build_database, import_files
from tests.apptest_helpers import all_text, run_page

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "cbioportal_studies"
PAGES = ["pages/overview.py", "pages/patient.py", "pages/genomics.py", "pages/withdrawal.py", "pages/response.py",
         "pages/survival.py", "pages/share.py", "pages/dictionary.py", "pages/upload.py"]

# Checked against the files with awk/grep, not only read off the importer: samples and maf_rows are
# data rows (also asserted below); deaths/last contacts: rows with 1:DECEASED / 0:LIVING and a
# numeric OS_MONTHS, no_follow_up the other patient rows (study_es_0: 87/721/33); DFS: rows with a
# DFS_STATUS and a numeric DFS_MONTHS (717, none of them an event: the 57 event rows' DFS_MONTHS are
# all [Not Available]); sequenced: study_es_0's cases_sequenced lists 31 samples, 3 of them later samples
# of patients whose diagnostic sample is listed too -> 28 patients.
EXPECTED = {
    "study_es_0": dict(name="Test study es_0", patients=841, samples=845, maf_rows=36, mutations=29,
                       later_sample_variants=7, sequenced=28, tp53_mutated=1, deaths=87, last_contacts=721,
                       no_follow_up=33, dfs_patients=717, dfs_events=0, dfs_undated_events=57, timeline_relapses=None,
                       standard_maf_columns=161, not_mapped_columns=["SUBTYPE"]),
    "study_es_0_import_export": dict(name="Test study es_0", patients=841, samples=845, maf_rows=34,
                                     mutations=29, later_sample_variants=5, sequenced=18, tp53_mutated=1,
                                     deaths=87, last_contacts=721, no_follow_up=33, dfs_patients=717, dfs_events=0,
                                     dfs_undated_events=57,
                                     timeline_relapses=0, standard_maf_columns=30,
                                     not_mapped_columns=["SUBTYPE", "SOURCE", "TUMOR_STATUS"]),
    "study_oncokb_update": dict(name="Test study es_0", patients=1, samples=1, maf_rows=1, mutations=1,
                                later_sample_variants=0, sequenced=1, tp53_mutated=1, deaths=0, last_contacts=1,
                                no_follow_up=0, dfs_patients=1, dfs_events=0, dfs_undated_events=0, timeline_relapses=None,
                                standard_maf_columns=157, not_mapped_columns=["SUBTYPE"]),
}


def study_files(name: str) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((CORPUS / name).rglob("*")) if p.is_file()]


def data_rows(path: Path) -> int:
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return len(lines) - 1  # the header


def check_counts(db: CohortDatabase, expected: dict) -> None:
    assert db.label == expected["name"] and not db.synthetic
    got = db.query("SELECT count(*) AS patients, count(sequencing_assay) AS sequenced, "
                   "count(*) FILTER (WHERE tp53_status = 'mutated') AS tp53_mutated, "
                   "count(*) FILTER (WHERE os_days IS NULL) AS no_follow_up FROM patient_summary").iloc[0]
    assert got.to_dict() == {k: expected[k] for k in ("patients", "sequenced", "tp53_mutated", "no_follow_up")}
    assert int(db.scalar("SELECT count(*) FROM mutations")) == expected["mutations"]
    events = dict(db.query("SELECT event_type, count(*) FROM events GROUP BY 1").values.tolist())
    assert events == {k: v for k, v in (("death", expected["deaths"]), ("last_contact", expected["last_contacts"]))
                      if v}
    # never invented: a cBioPortal test study carries no sex, age or lineage
    assert int(db.scalar("SELECT count(*) FROM patients WHERE sex IS NOT NULL OR age_at_ball_dx IS NOT NULL "
                         "OR lineage IS NOT NULL")) == 0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_corpus_counts_are_the_files_counts(name):
    expected, folder = EXPECTED[name], CORPUS / name
    sample_file = next(folder.glob("data_clinical_sample*.txt"))
    maf_file = next(p for p in folder.iterdir() if p.name.startswith("data_mutation"))
    assert data_rows(sample_file) == expected["samples"]
    assert data_rows(maf_file) == expected["maf_rows"]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_study_imports_unchanged_through_the_command_line(name, tmp_path):
    out = tmp_path / f"{name}.duckdb"
    done = subprocess.run([sys.executable, "-m", "analytics.importing", str(CORPUS / name), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = EXPECTED[name]
    assert f"wrote {out} ({expected['patients']} patients" in done.stderr
    assert f"survival source DFS: {expected['dfs_patients']} patients, {expected['dfs_events']} events" in done.stderr
    assert "EFS source used: " + ("timeline" if expected["timeline_relapses"] else "none") in done.stderr
    assert "error," not in done.stdout
    db = CohortDatabase.open_file(out)
    check_counts(db, expected)
    db.close()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_study_imports_through_the_page_code_path(name):
    expected = EXPECTED[name]
    result = import_files(study_files(name))
    assert result.ok, result.report.text()
    text = "\n".join(result.not_mapped)
    for column in expected["not_mapped_columns"]:
        assert column in text
    assert f"{expected['standard_maf_columns']} standard MAF column(s)" in text
    if expected["later_sample_variants"]:
        assert f"{expected['later_sample_variants']} variant(s) of a sample that is not the patient's diagnostic" in text
    sources = {s.name: (s.patients, s.events) for s in result.endpoint_sources}
    assert sources["OS"] == (expected["patients"] - expected["no_follow_up"], expected["deaths"])
    assert sources["DFS"] == (expected["dfs_patients"], expected["dfs_events"])
    # one warning per missing attribute, never one per row
    assert len(result.report.warnings) < 15 and not result.report.errors
    db = build_database(result.tables)
    check_counts(db, expected)
    db.close()
    chosen = import_files(study_files(name), efs_source="DFS")
    assert chosen.ok and "EFS relapse source (as chosen): DFS_STATUS/DFS_MONTHS" in \
        chosen.tables["cohort_info"]["description"].iloc[0]
    undated = [i for i in chosen.report.warnings if "have no usable DFS_MONTHS" in i.problem]
    assert [int(i.problem.split()[0]) for i in undated] == ([expected["dfs_undated_events"]]
                                                             if expected["dfs_undated_events"] else [])


def test_every_page_works_on_an_imported_real_study():
    at = run_page("pages/upload.py", timeout=180)
    at.get("file_uploader")[0].set_value([(n, d, "text/plain") for n, d in study_files("study_es_0")]).run()
    assert not at.exception
    text = all_text(at)
    assert "Survival endpoints offered by the study" in text and "Not mapped from the cBioPortal study" in text
    radio = next(r for r in at.radio if r.label.startswith("Relapse/progression events for EFS"))
    assert len(radio.options) == 2 and radio.options[0].startswith("DFS_STATUS/DFS_MONTHS")
    assert radio.value == "none"
    radio.set_value("DFS").run()
    assert not at.exception
    assert "EFS source (as chosen): DFS_STATUS/DFS_MONTHS" in at.dataframe[1].value.to_csv()
    at.button(key="upload_load").click().run()
    assert not at.exception
    assert "You are exploring **Test study es_0**" in all_text(at)
    assert any("EFS relapse source (as chosen): DFS_STATUS/DFS_MONTHS" in t.value for t in at.text)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        assert "841 of 841 patients" in all_text(at), page
        if page == "pages/overview.py":  # the study has no SEX: not evaluated, never blank or invented
            patients = next(df.value for df in at.dataframe if "Sex" in df.value.columns)
            assert set(patients["Sex"]) == {"not evaluated"}
