"""The data dictionary matches the real schema of the built file, column by column and type by type."""
import csv
import io

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from analytics import dictionary
from analytics.export import neutralise_cell, safe_csv

RELATIONS = ["cohort_info", "patients", "events", "mutations", "measurements", "patient_summary"]


def test_dictionary_matches_the_built_file_exactly(demo_file_db):
    d = dictionary.load_dictionary()
    assert dictionary.schema_differences(demo_file_db, d) == []
    # and independently of schema_differences: the same (relation, column, type) sets
    documented = set(map(tuple, d[["relation", "column", "type"]].values.tolist()))
    actual = {(r, c, t) for r in RELATIONS
              for c, t in demo_file_db.describe(r).itertuples(index=False)}
    assert documented == actual


def test_every_relation_documented_with_a_description(demo_file_db):
    d = dictionary.load_dictionary()
    assert set(d["relation"]) == set(RELATIONS)
    assert (d["description"].str.len() > 10).all()


def test_a_missing_column_is_detected(demo_file_db):
    d = dictionary.load_dictionary()
    dropped = d[~((d.relation == "patient_summary") & (d.column == "efs_days"))]
    assert dictionary.schema_differences(demo_file_db, dropped) == [
        "patient_summary.efs_days: in the database (INTEGER) but not in the dictionary"]


def test_an_extra_column_is_detected(demo_file_db):
    d = dictionary.load_dictionary()
    extra = pd.concat([d, pd.DataFrame([{"relation": "patients", "column": "mrn", "type": "VARCHAR",
                                         "description": "should not exist", "allowed_values": "",
                                         "unit": ""}])])
    assert dictionary.schema_differences(demo_file_db, extra) == [
        "patients.mrn: in the dictionary but not in the database"]


def test_a_wrong_type_is_detected(demo_file_db):
    d = dictionary.load_dictionary().copy()
    d.loc[(d.relation == "patients") & (d.column == "wbc_k_per_ul"), "type"] = "INTEGER"
    assert dictionary.schema_differences(demo_file_db, d) == [
        "patients.wbc_k_per_ul: dictionary says INTEGER, database has DOUBLE"]


def test_endpoint_definitions_are_written_down():
    d = dictionary.load_dictionary().set_index(["relation", "column"])["description"]
    assert "30.4375" in d[("patient_summary", "efs_days")]
    assert "induction failure" in d[("patient_summary", "efs_event_day")].lower()
    assert "first line-1 assessment" in d[("patient_summary", "induction_failure_day")]
    assert "CR > CRi > PR > refractory" in d[("patient_summary", "best_response")]
    assert "NULL = not evaluated" in d[("patient_summary", "tp53_status")]


def test_search_finds_columns_by_description():
    d = dictionary.load_dictionary()
    hits = dictionary.search(d, "TP53")
    assert "tp53_status" in set(hits["column"])
    assert len(dictionary.search(d, "")) == len(d)
    assert dictionary.search(d, "no-such-word-xyz").empty


# --- CSV export -----------------------------------------------------------------------------
def test_safe_csv_neutralises_formulas_and_keeps_numbers():
    df = pd.DataFrame({"text": ["=SUM(A1:A2)", "+1", "-cmd", "@x", "ok", None],
                       "day": [-1644, 0, 3, 4, 5, 6]})
    out = pd.read_csv(io.BytesIO(safe_csv(df)), dtype=str, keep_default_na=False)
    assert out["text"].tolist() == ["'=SUM(A1:A2)", "'+1", "'-cmd", "'@x", "ok", ""]
    assert out["day"].tolist() == ["-1644", "0", "3", "4", "5", "6"]


def test_safe_csv_neutralises_header_cells():
    assert safe_csv(pd.DataFrame({"=evil": [1]})).decode().splitlines()[0] == "'=evil"


@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_no_exported_text_cell_starts_with_a_formula_character(values):
    rows = list(csv.reader(io.StringIO(safe_csv(pd.DataFrame({"v": values})).decode(), newline="")))
    assert rows[0] == ["v"] and len(rows) == len(values) + 1
    for original, (written,) in zip(values, rows[1:]):
        assert written in (original, "'" + original)
        if original.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert written.startswith("'")
    assert all(not neutralise_cell(v).startswith(("=", "+", "-", "@")) for v in values)


# --- the page --------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["full", "empty", "single"])
def test_dictionary_page_states(state):
    from tests.apptest_helpers import PAGE_STATES, all_text, run_page
    at = run_page("pages/dictionary.py", PAGE_STATES[state])
    assert not at.exception
    text = all_text(at)
    assert "Data dictionary" in text
    n = len(dictionary.load_dictionary())
    assert f"{n} of {n} columns shown" in text  # the dictionary does not depend on the filters
    headers = [s.value for s in at.subheader]
    assert any(h.startswith("patient_summary") for h in headers)
    assert len(at.table) == len(dictionary.RELATIONS)
    assert not at.warning  # the schema matches the dictionary


def test_dictionary_page_search():
    from tests.apptest_helpers import all_text, run_page
    at = run_page("pages/dictionary.py")
    at.text_input(key="dictionary.search").input("induction").run()
    assert not at.exception
    expected = len(dictionary.search(dictionary.load_dictionary(), "induction"))
    assert f"{expected} of " in all_text(at) and 0 < expected < 20
    at.text_input(key="dictionary.search").input("zzz-nothing").run()
    assert "No column matches" in all_text(at)


@pytest.mark.parametrize("search", ["", "zzz-nothing"])
def test_dictionary_page_offers_the_reproduce_downloads(search):
    """A script and a notebook of the view, also when no column matches (the app's cohort is a file)."""
    from tests.apptest_helpers import all_text, run_page
    at = run_page("pages/dictionary.py", {"dict_search": search} if search else {})
    assert not at.exception
    assert ("No column matches" in all_text(at)) == bool(search)
    ids = [b.proto.id for b in at.get("download_button")]
    for kind in ("py", "nb"):
        assert sum(i.endswith(f"repro_{kind}_dictionary_columns") for i in ids) == 1, ids
    assert [e.label for e in at.expander] == ["Methods paragraph (for a manuscript)"]
