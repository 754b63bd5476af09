"""Round trip: demo cohort -> template workbook -> import gives the same database and the same
page results; the CSV route too; the template itself and the session token ingredients."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from pandas.testing import assert_frame_equal

from analytics import genomics, overview, response, survival, withdrawal
from analytics.build import DEMO_SOURCE
from analytics.filters import CohortFilter
from analytics.importing import build_database, content_hash, import_files
from analytics.importing.sources import OWN_TABLES, README_SHEET
from analytics.importing.template import tables_from_folder, template_workbook, workbook_from_tables
from analytics.importing.specs import column_specs

ORDER = {"cohort_info": "cohort_name", "patients": "patient_id", "events": "event_id",
         "mutations": "patient_id, gene, protein_change", "measurements": "patient_id, day, analyte, specimen"}


@pytest.fixture(scope="module")
def demo_workbook() -> bytes:
    return workbook_from_tables(tables_from_folder(DEMO_SOURCE))


@pytest.fixture(scope="module")
def imported_db(demo_workbook):
    result = import_files([("my_cohort.xlsx", demo_workbook)])
    assert result.ok, result.report.text()
    assert result.report.issues == []  # the demo cohort raises not even a warning
    db = build_database(result.tables)
    yield db
    db.close()


@pytest.mark.parametrize("relation", [*OWN_TABLES, "patient_summary"])
def test_every_table_and_the_summary_view_are_identical(demo_db, imported_db, relation):
    order = ORDER.get(relation, "patient_id")
    sql = f"SELECT * FROM {relation} ORDER BY {order}"
    assert_frame_equal(imported_db.query(sql), demo_db.query(sql), check_exact=True)


@pytest.mark.parametrize("cohort_filter", [CohortFilter(), CohortFilter(tp53=("mutated",)),
                                           CohortFilter(age=(48, 48))], ids=["full", "tp53", "single"])
def test_page_analytics_are_identical(demo_db, imported_db, cohort_filter):
    assert_frame_equal(overview.table_one(imported_db, cohort_filter), overview.table_one(demo_db, cohort_filter))
    assert_frame_equal(overview.patient_table(imported_db, cohort_filter),
                       overview.patient_table(demo_db, cohort_filter))
    assert_frame_equal(genomics.feature_matrix(imported_db, cohort_filter),
                       genomics.feature_matrix(demo_db, cohort_filter))
    assert repr(response.best_response_summary(imported_db, cohort_filter)) == \
        repr(response.best_response_summary(demo_db, cohort_filter))
    assert_frame_equal(withdrawal.kinetics_table(imported_db, cohort_filter),
                       withdrawal.kinetics_table(demo_db, cohort_filter))
    for spec in (survival.SurvivalSpec(), survival.SurvivalSpec(endpoint="OS", group="tp53_status")):
        assert_frame_equal(survival.km_counts(imported_db, cohort_filter, spec),
                           survival.km_counts(demo_db, cohort_filter, spec))
        if cohort_filter == CohortFilter():
            assert_frame_equal(survival.km_summary(imported_db, cohort_filter, spec),
                               survival.km_summary(demo_db, cohort_filter, spec))


def test_cohort_label_and_synthetic_flag_survive(demo_db, imported_db):
    assert (imported_db.label, imported_db.synthetic) == (demo_db.label, demo_db.synthetic)


def test_csv_route_gives_the_same_tables(demo_db):
    files = [(f"{t}.csv", (DEMO_SOURCE / f"{t}.csv").read_bytes()) for t in OWN_TABLES]
    result = import_files(files)
    db = build_database(result.tables)
    sql = "SELECT * FROM patient_summary ORDER BY patient_id"
    assert_frame_equal(db.query(sql), demo_db.query(sql))


def test_template_has_readme_and_one_sheet_per_table_with_schema_headers():
    book = load_workbook(io.BytesIO(template_workbook()))
    assert book.sheetnames == [README_SHEET, *OWN_TABLES]
    for table in OWN_TABLES:
        header = [c.value for c in book[table][1]]
        assert header == list(column_specs()[table])
        assert book[table].max_row == 1
    readme = pd.DataFrame(book[README_SHEET].values)
    documented = set(zip(readme[0], readme[1]))
    assert all((t, c) in documented for t in OWN_TABLES for c in column_specs()[t])


def test_empty_template_is_refused_with_a_clear_error():
    result = import_files([("template.xlsx", template_workbook())])
    assert not result.ok
    problems = [i.problem for i in result.report.errors]
    assert "no patients" in problems and any("exactly one row" in p for p in problems)


def test_formula_like_text_is_written_as_text_not_a_formula():
    tables = tables_from_folder(DEMO_SOURCE)
    tables["events"].loc[0, "note"] = "=HYPERLINK(\"http://x\")"
    book = load_workbook(io.BytesIO(workbook_from_tables(tables)))
    cell = book["events"]["O2"]
    assert cell.data_type == "s" and cell.value.startswith("=")


def test_vaf_in_percent_is_converted_and_said_so():
    tables = tables_from_folder(DEMO_SOURCE)
    tables["mutations"]["vaf"] = [str(round(float(v) * 100, 6)) if v else "" for v in tables["mutations"]["vaf"]]
    result = import_files([("c.xlsx", workbook_from_tables(tables))])
    assert result.ok
    [warning] = result.report.warnings
    assert warning.column == "vaf" and "divided by 100" in warning.problem and "92 -> 0.92" in warning.problem
    original = tables_from_folder(DEMO_SOURCE)["mutations"]["vaf"].astype(float)
    assert list(result.tables["mutations"]["vaf"].astype(float)) == pytest.approx(list(original), abs=1e-12)


def test_content_hash_depends_on_bytes_and_names():
    a = content_hash([("a.csv", b"1")])
    assert a == content_hash([("a.csv", b"1")])
    assert a != content_hash([("a.csv", b"2")]) and a != content_hash([("b.csv", b"1")])


def test_oversized_file_is_refused_with_the_limit_stated():
    from analytics.importing.sources import MAX_FILE_BYTES
    result = import_files([("patients.csv", b"a" * (MAX_FILE_BYTES + 1))])
    [error] = result.report.errors
    assert "the limit is 5.2 MB" in error.problem and error.file == "patients.csv"
