"""Reproduce in Python, compare page: each view's script (comparison table, forest plot,
reproduction check) run in a fresh interpreter without the app prints the page's tables and lines
word for word, on the demo and a 600-patient synthetic cohort; the forest plot for the default and
two non-default views (Paule-Mandel, the cohort pooled, DerSimonian-Laird tau² truncated at 0);
a filtered cohort; the notebook executes; the published rows are embedded with their citations."""
from __future__ import annotations

import pandas as pd
import pytest

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.published import PUBLISHED_FILE
from analytics.views import compare as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from

FOREST_VIEWS = {"default": {},
                "bcr-abl1-cohort-pooled": {"forest": "bcr_abl1_positive", "pool_cohort": "yes"},
                "cr-paule-mandel-cohort-pooled": {"forest": "cr_cri_treated", "pool_method": "pm",
                                                  "pool_cohort": "yes"}}
# options of the page that the table and the reproduction check do not depend on
OTHER_VIEWS = [{"forest": "male", "pool_method": "pm", "compare_tab": "Forest plot"},
               {"pool_cohort": "yes", "compare_tab": "Reproduction check"}]


def shown_forest(frame: pd.DataFrame) -> pd.DataFrame:
    """The forest table as the page shows it (percent)."""
    out = pd.DataFrame({"Series": frame["row"], "Kind": frame["group"]})
    for column, name in (("estimate", "Proportion"), ("ci_low", "95% CI from"), ("ci_high", "95% CI to")):
        out[name] = [f"{100 * x:.1f}%" for x in frame[column]]
    return out


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
def test_table_script(reproduce_cohorts, cohort, tmp_path):
    result, printed = run_view(views.comparison, "compare.table", reproduce_cohorts[cohort], {}, tmp_path)
    for name in ("comparison", "tests", "series", "sources"):
        assert_table_printed(printed, result.tables[name])
    assert result.lines[0] in printed  # the tests in one sentence


def test_table_and_check_do_not_depend_on_the_forest_options(reproduce_cohorts):
    """The table and the reproduction check read no page option: their scripts are the same for
    any link (so running the default view covers the non-default ones)."""
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        for key in ("compare.table", "compare.reproduction"):
            texts = {reproduce.script(key, db, CohortFilter(), spec_from("compare", params), provenance(data_file))
                     for params in [{}, *OTHER_VIEWS]}
            assert len(texts) == 1, key
    finally:
        db.close()


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("params", list(FOREST_VIEWS.values()), ids=list(FOREST_VIEWS))
def test_forest_script(reproduce_cohorts, cohort, params, tmp_path):
    result, printed = run_view(views.forest, "compare.forest", reproduce_cohorts[cohort], params, tmp_path)
    assert_table_printed(printed, shown_forest(result.tables["forest"]))
    assert result.lines[0] in printed
    assert (tmp_path / f"{result.figure_name}.png").read_bytes()[:4] == b"\x89PNG"
    pooled = result.numbers["pooled"]
    if params.get("forest") == "bcr_abl1_positive":  # Q < df: statsmodels' negative tau² is read as 0
        assert pooled.tau2 == 0 and pooled.corrected and result.numbers["with_cohort"]
    for caveat in result.caveats:
        if caveat.heading == "Continuity correction":
            assert f"{caveat.heading}: {caveat.text}" in printed
    if not params:
        assert pooled.tau2 > 0


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
def test_reproduction_script(reproduce_cohorts, cohort, tmp_path):
    result, printed = run_view(views.reproduction, "compare.reproduction", reproduce_cohorts[cohort], {}, tmp_path)
    assert_table_printed(printed, result.tables["reproduction"])
    assert printed[-1] == result.lines[0]
    if cohort == "demo":
        assert result.lines[0] == "12 of 12 published figures reproduced."


def test_filtered_cohort(reproduce_cohorts, tmp_path):
    """Women aged 50-75: the filter is written into the scripts' SQL; the reproduction check ignores it
    (the paper describes every patient), as the page does."""
    cohort_filter = CohortFilter(sex=("F",), age=(50, 75))
    data_file = reproduce_cohorts["synthetic"]
    for view, key, name in ((views.comparison, "compare.table", "comparison"),
                            (views.reproduction, "compare.reproduction", "reproduction")):
        folder = tmp_path / name
        folder.mkdir()
        result, printed = run_view(view, key, data_file, {}, folder, cohort_filter=cohort_filter)
        assert_table_printed(printed, result.tables[name])
    (tmp_path / "forest").mkdir()
    result, printed = run_view(views.forest, "compare.forest", data_file, FOREST_VIEWS["bcr-abl1-cohort-pooled"],
                               tmp_path / "forest", cohort_filter=cohort_filter)
    assert_table_printed(printed, shown_forest(result.tables["forest"]))
    assert result.lines[0] in printed


def test_published_rows_are_embedded_with_their_citations(reproduce_cohorts):
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        text = reproduce.script("compare.forest", db, CohortFilter(), spec_from("compare", {}), provenance(data_file))
    finally:
        db.close()
    assert "published_series.csv" in text and str(PUBLISHED_FILE) not in text  # named, never read
    assert "Geyer MB, Shaffer BC" in text and "doi:10.1182/bloodadvances.2022009212" in text
    assert "High incidence of TP53 mutations (9/19 evalua" in text  # the quote the figure comes from
    assert "aldoss2018" not in text  # only the series reporting this figure
    assert "truncate the DerSimonian-Laird tau² at zero" in text


def test_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        text = reproduce.script("compare.forest", db, CohortFilter(), spec_from("compare", {}), provenance(data_file))
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(text), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert "TP53 mutated: pooled 59% (95% CI 33 to 81%), I² 61%, τ² 0.542" in outputs
    assert (tmp_path / "forest_tp53_mutated.png").exists()


def test_no_evaluable_patients_means_no_test(reproduce_cohorts, tmp_path):
    """Untreated patients only: CR/CRi among treated has no evaluable patient (0/0, no interval, no
    test), as the page says."""
    result, printed = run_view(views.comparison, "compare.table", reproduce_cohorts["demo"], {}, tmp_path,
                               cohort_filter=CohortFilter(treated=False))
    table = result.tables["comparison"]
    assert "no test possible: no evaluable patients in the current cohort" in set(
        table["Compared with the current cohort"])
    assert_table_printed(printed, table)
    assert result.lines[0] in printed
