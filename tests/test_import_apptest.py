"""AppTest of the 'Load a cohort' page and of the session-only cohort on every page."""
from __future__ import annotations

import pandas as pd
import pytest

from analytics.build import DEMO_SOURCE
from analytics.importing.template import tables_from_folder, workbook_from_tables
from tests.apptest_helpers import PAGE_STATES, all_text, run_page

PAGE = "pages/upload.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALL_PAGES = ["pages/overview.py", "pages/patient.py", "pages/genomics.py", "pages/withdrawal.py",
             "pages/response.py", "pages/survival.py", "pages/dictionary.py", PAGE]


def small_cohort(keep=("S01", "S02", "S05", "S06", "S08")) -> bytes:
    """The demo cohort cut to a few patients, renamed and marked not synthetic."""
    tables = tables_from_folder(DEMO_SOURCE)
    for name, frame in tables.items():
        if "patient_id" in frame:
            tables[name] = frame[frame["patient_id"].isin(keep)]
    tables["cohort_info"] = pd.DataFrame([{"cohort_name": "Uploaded test cohort", "synthetic": "false",
                                           "description": "five patients cut from the demo"}])
    return workbook_from_tables(tables)


def upload(at, files):
    at.get("file_uploader")[0].set_value(files).run()
    return at


@pytest.mark.parametrize("state", PAGE_STATES, ids=list(PAGE_STATES))
def test_page_renders_in_standard_states(state):
    at = run_page(PAGE, PAGE_STATES[state])
    assert not at.exception
    text = all_text(at)
    assert "Load a cohort" in text and "shared cohort" in text
    assert "5.2 MB" in text
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("empty template" in label for label in labels)
    assert any("demo cohort in this format" in label for label in labels)


def test_bad_upload_shows_located_errors_and_no_load_button():
    at = run_page(PAGE)
    upload(at, [("patients.csv", b"patient_id;sex\nS01;F\n", "text/csv")])
    assert not at.exception
    text = all_text(at)
    assert "error(s)** must be fixed" in text
    assert "patients.csv, row 1: the header is one column containing semicolons" in text
    assert not [b for b in at.button if b.key == "upload_load"]


def test_upload_load_explore_every_page_then_switch_back():
    at = run_page(PAGE)
    upload(at, ("my_cohort.xlsx", small_cohort(), XLSX))
    assert not at.exception
    assert "No errors" in all_text(at)
    at.button(key="upload_load").click().run()
    assert not at.exception
    text = all_text(at)
    assert "You are exploring **Uploaded test cohort**" in text
    assert "5 of 5 patients" in text
    token = at.session_state["db_token"]
    assert token.startswith("session:") and token.count(":") == 2
    for page in ALL_PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        page_text = all_text(at)
        assert "Cohort: Uploaded test cohort" in page_text, page
        assert "5 of 5 patients" in page_text, page
    # another browser session still sees the demo cohort
    other = run_page("pages/overview.py")
    assert "32 of 32 patients" in all_text(other) and other.session_state["db_token"].startswith("file:")
    at.switch_page(PAGE).run()
    at.button(key="upload_use_demo").click().run()
    assert not at.exception
    assert "32 of 32 patients" in all_text(at)
    assert at.session_state["db_token"].startswith("file:")


def test_oversized_file_gets_the_stated_limit_and_no_traceback():
    at = run_page(PAGE)
    big = b"patient_id,sex\n" + b"S01,F\n" * (6 * 1024 * 1024 // 6)
    upload(at, [("patients.csv", big, "text/csv")])
    assert not at.exception
    text = all_text(at)
    assert "the limit is 5.2 MB per file" in text
    assert not [b for b in at.button if b.key == "upload_load"]


def test_cbioportal_study_shows_what_was_not_mapped_and_loads():
    from tests.test_cbioportal_import import study
    at = run_page(PAGE)
    upload(at, [(name, data, "text/plain") for name, data in study()])
    assert not at.exception
    text = all_text(at)
    assert "Not mapped from the cBioPortal study" in text and "DFS_STATUS/DFS_MONTHS" in text
    at.button(key="upload_load").click().run()
    assert not at.exception
    assert "You are exploring **Test lenalidomide B-ALL study**" in all_text(at)
    at.switch_page("pages/survival.py").run()
    assert not at.exception
    assert "10 of 10 patients" in all_text(at)


def test_loading_a_cohort_starts_it_unfiltered_even_with_filters_in_the_url():
    at = run_page(PAGE, {"sex": "F", "age": "60-70"})
    assert "of 32 patients" in all_text(at) and "32 of 32" not in all_text(at)
    upload(at, ("my_cohort.xlsx", small_cohort(), XLSX))
    at.button(key="upload_load").click().run()
    assert not at.exception
    assert "5 of 5 patients" in all_text(at)
    assert "sex" not in at.query_params and "age" not in at.query_params
