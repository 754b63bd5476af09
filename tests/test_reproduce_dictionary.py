"""Reproduce in Python, data dictionary page: the script prints the page's caption, schema
caveat and matching rows word for word, and writes the whole dictionary."""
from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from analytics.filters import CohortFilter
from analytics.views import dictionary as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, run_view

SEARCHES = {"default": {}, "tp53": {"dict_search": "TP53"}, "months-any-case": {"dict_search": "MONTHS"},
            "no-match": {"dict_search": "no such column"}}


def _expected(result) -> list[str]:
    return [*(c.text for c in result.caveats), result.caption]


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("search", list(SEARCHES))
def test_dictionary_script_prints_the_pages_rows(reproduce_cohorts, cohort, search, tmp_path):
    result, printed = run_view(views.columns, "dictionary.columns", reproduce_cohorts[cohort], SEARCHES[search],
                               tmp_path)
    shown = result.tables["Columns"]
    assert printed[:len(_expected(result))] == _expected(result)
    assert_table_printed(printed, shown)
    assert len(printed) == len(_expected(result)) + len(shown) + 2  # and the file line
    whole = pd.read_csv(tmp_path / "data_dictionary.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(whole, result.tables["Dictionary"].reset_index(drop=True))
    if search == "no-match":
        assert shown.empty and printed[0] == "No column matches 'no such column'."


def test_dictionary_script_ignores_cohort_filters(reproduce_cohorts, tmp_path):
    """The dictionary describes the schema: a filtered cohort shows the same rows."""
    result, printed = run_view(views.columns, "dictionary.columns", reproduce_cohorts["demo"],
                               {"dict_search": "HCT"}, tmp_path, CohortFilter(sex=("F",)))
    assert printed[0] == result.caption and not result.caveats
    assert_table_printed(printed, result.tables["Columns"])


def test_dictionary_script_names_schema_differences(reproduce_cohorts, tmp_path):
    """A cohort file whose patients table has an undocumented column: the caveat, word for word."""
    data_file = tmp_path / "extra_column.duckdb"
    shutil.copyfile(reproduce_cohorts["demo"], data_file)
    con = duckdb.connect(str(data_file))
    con.execute("ALTER TABLE patients ADD COLUMN site_code INTEGER")
    con.close()
    folder = tmp_path / "run"
    folder.mkdir()
    result, printed = run_view(views.columns, "dictionary.columns", data_file, {"dict_search": "TP53"}, folder)
    assert result.caveats and "patients.site_code: in the database (INTEGER) but not in the dictionary" \
        in result.caveats[0].text
    assert printed[:2] == _expected(result)
    assert_table_printed(printed, result.tables["Columns"])


def test_dictionary_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat

    from analytics import reproduce
    from analytics.db import CohortDatabase
    from tests.reproduce_helpers import provenance, spec_from
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        spec = spec_from("dictionary", {"dict_search": "MRD"})
        script = reproduce.script("dictionary.columns", db, CohortFilter(), spec, provenance(data_file))
        result = views.columns(db, CohortFilter(), spec)
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert result.caption in outputs and (tmp_path / "data_dictionary.csv").exists()
