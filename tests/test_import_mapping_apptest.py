"""AppTest of the upload page's mapping step: a group's spreadsheet and a REDCap export are mapped,
corrected, loaded and explored on every page; a saved mapping reused on the page gives the same tables."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.importing import import_files
from analytics.importing.mapping import Mapping
from analytics.importing.report import Report
from tests.apptest_helpers import all_text, as_read, run_page
from tests.test_import_apptest import ALL_PAGES, PAGE, XLSX

CORPUS = Path(__file__).resolve().parent / "mapping_corpus"
SPREADSHEET = ("our_series.xlsx", (CORPUS / "our_series.xlsx").read_bytes(), XLSX)
REDCAP = [(p.name, p.read_bytes(), "text/csv") for p in sorted(CORPUS.glob("LenBALL_*.csv"))]


def _selectbox_for(at, label_start: str):
    return next(s for s in at.selectbox if as_read(s.label).startswith(label_start))  # labels are escaped


def _explore_every_page(at, cohort_name: str, n: int, synthetic: bool = False):
    at.button(key="upload_load").click().run()
    assert not at.exception
    assert f"You are exploring **{cohort_name}**" in all_text(at)
    for page in ALL_PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        text = all_text(at)
        # a cohort marked synthetic carries the invented-patients notice instead of its name
        assert ("not patient data" in text) if synthetic else (f"Cohort: {cohort_name}" in text), page
        assert f"{n} of {n} patients" in text, page


def test_spreadsheet_is_mapped_corrected_loaded_and_every_page_works():
    at = run_page(PAGE)
    at.get("file_uploader")[0].set_value([SPREADSHEET]).run()
    assert not at.exception
    text = all_text(at)
    assert "3. Map your columns" in text and "4. Validation report" in text
    assert "no date is stored" in text and "Initials, Comments (not mapped: dropped, never stored)" in text
    # the suggestion, shown for confirmation
    assert _selectbox_for(at, "Gender").value == "sex"
    assert _selectbox_for(at, "dx_date").value == "ball_dx_date"
    assert _selectbox_for(at, "TP53 status").value == "tp53_status"
    # corrections: the cohort's name, and these patients are invented
    at.text_input(key="map_cohort_name").set_value("Our series").run()
    at.checkbox(key="map_cohort_synthetic").check().run()
    assert not at.exception
    assert "error(s)** must be fixed" not in all_text(at)
    _explore_every_page(at, "Our series", 5, synthetic=True)


def test_redcap_export_needs_one_code_decided_then_loads_and_every_page_works():
    at = run_page(PAGE)
    at.get("file_uploader")[0].set_value(REDCAP).run()
    assert not at.exception
    text = all_text(at)
    assert "REDCap export" in text
    assert "'Inotuzumab-based reduced intensity' is not yet given a meaning" in text
    assert not [b for b in at.button if b.key == "upload_load"]
    value = next(s for s in at.selectbox if as_read(s.label) == "'Inotuzumab-based reduced intensity' means")
    value.set_value("reduced-intensity with inotuzumab").run()
    assert not at.exception
    assert "error(s)** must be fixed" not in all_text(at)
    at.text_input(key="map_cohort_name").set_value("Registry export").run()
    _explore_every_page(at, "Registry export", 4)


def test_saved_mapping_uploaded_on_the_page_gives_the_same_tables():
    files = [(name, data) for name, data, _ in REDCAP]
    suggestion = import_files(files).mapping
    column = suggestion.tables["treatment_lines"]["tx_category"]
    column.values["Inotuzumab-based reduced intensity"] = "reduced-intensity with inotuzumab"
    saved = suggestion.to_json().encode()
    expected = import_files(files, Mapping.from_json(saved, "m.json", Report())).tables

    at = run_page(PAGE)
    at.get("file_uploader")[0].set_value(REDCAP).run()
    at.get("file_uploader")[1].set_value(("cohort_mapping.json", saved, "application/json")).run()
    assert not at.exception
    assert "Mapping **cohort_mapping.json** applied" in all_text(at)
    assert "error(s)** must be fixed" not in all_text(at)
    result = at.session_state["upload_result"][1]
    assert result.ok
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(result.tables[table].reset_index(drop=True),
                                      frame.reset_index(drop=True), obj=table)
    download = next(b for b in at.get("download_button") if b.proto.label.startswith("Save this mapping"))
    assert download is not None


def test_a_broken_mapping_file_is_a_message_not_a_traceback():
    at = run_page(PAGE)
    at.get("file_uploader")[0].set_value([SPREADSHEET]).run()
    at.get("file_uploader")[1].set_value(("cohort_mapping.json", b"{not json", "application/json")).run()
    assert not at.exception
    assert "the mapping file is not JSON" in all_text(at)


def test_corrections_survive_a_visit_to_another_page():
    at = run_page(PAGE)
    at.get("file_uploader")[0].set_value([SPREADSHEET]).run()
    at.text_input(key="map_cohort_name").set_value("Our series").run()
    _selectbox_for(at, "Cause of death").set_value("(not mapped)").run()
    at.button(key="upload_load").click().run()
    token = at.session_state["db_token"]
    at.switch_page("pages/overview.py").run()
    at.switch_page(PAGE).run()
    at.get("file_uploader")[0].set_value([SPREADSHEET]).run()
    assert not at.exception
    assert at.text_input(key="map_cohort_name").value == "Our series"
    assert _selectbox_for(at, "Cause of death").value == "(not mapped)"
    assert "These files are the cohort you are exploring now." in all_text(at)
    assert at.session_state["db_token"] == token
