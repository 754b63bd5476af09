"""Reproduce in Python, overview page: each view's script, run in a fresh interpreter without the
app, prints the page's Table 1, headline lines, Table 1 by group (p-values and tests) and the
exposure plots' numbers word for word; a filtered cohort; the notebook executes."""
from __future__ import annotations

import pytest

from analytics import overview, reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views import overview as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from

# Table 1, the headline and the exposure plots have no option of their own: their non-default
# views are filtered cohorts (one with not-evaluated TP53 kept, one narrowing to a site and sex).
FILTERS = {"all": CohortFilter(), "tp53-with-not-evaluated": CohortFilter(tp53=("mutated", "not evaluated")),
           "site-b-female": CohortFilter(institution=("Site B",), sex=("F",))}


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("filtered", list(FILTERS))
def test_table_one_and_headline_scripts_print_the_pages_numbers(reproduce_cohorts, cohort, filtered, tmp_path):
    cohort_filter = FILTERS[filtered]
    result, printed = run_view(views.table_one, "overview.table_one", reproduce_cohorts[cohort], {},
                               tmp_path, cohort_filter)
    shown = overview.table_one_display(result.tables["Table 1"])
    assert_table_printed(printed, shown)
    assert len(printed) == len(shown) + 1  # nothing else: no stray row
    headline, printed = run_view(views.headline, "overview.headline", reproduce_cohorts[cohort], {},
                                 tmp_path, cohort_filter)
    assert printed == list(headline.lines)


def test_table_one_script_keeps_not_evaluated_out_of_denominators(reproduce_cohorts, tmp_path):
    """The demo's TP53 row: k / sequenced with its exact CI, not evaluated on its own row."""
    result, printed = run_view(views.table_one, "overview.table_one", reproduce_cohorts["demo"], {}, tmp_path)
    t1 = result.tables["Table 1"]
    tp53 = t1[t1["characteristic"] == "TP53"]
    not_evaluated = int(tp53.loc[tp53["kind"] == "not evaluated", "n"].iloc[0])
    mutated = tp53[tp53["level"] == "mutated"].iloc[0]
    assert not_evaluated > 0 and int(mutated["evaluable"]) == int(tp53["n"].sum()) - not_evaluated
    assert f"TP53\tmutated\t{mutated['display']}\t" in "\n".join(printed)
    assert f"\tnot evaluated\t{not_evaluated} (not in denominator)\t" in "\n".join(printed)


# Table 1 by group: the groupings exercise Fisher 2 x 2 and Freeman-Halton tables, Wilcoxon and
# Kruskal-Wallis, a not-evaluated column (best response) and the grouping's own row.
BY_GROUP_VIEWS = [("demo", "sex"), ("demo", "best_response"), ("demo", "ploidy_category"),
                  ("demo", "institution"), ("synthetic", "tp53_status")]


@pytest.mark.parametrize(("cohort", "grouping"), BY_GROUP_VIEWS)
def test_table_one_by_group_script_prints_the_pages_table_and_tests(reproduce_cohorts, cohort, grouping, tmp_path):
    result, printed = run_view(views.table_one_by_group, "overview.table_one_by_group", reproduce_cohorts[cohort],
                               {"t1_group": grouping}, tmp_path)
    assert_table_printed(printed, result.tables["table"])
    assert list(result.lines) == printed[-1:]
    tests = set(result.tables["table"]["Test"])
    assert tests & {"Fisher's exact test", "Fisher-Freeman-Halton exact test"}
    assert tests & {"Wilcoxon rank-sum test", "Kruskal-Wallis test"}
    if cohort == "synthetic":  # 600 patients: some tables are too many to enumerate (seeded Monte Carlo)
        assert any("Monte Carlo (200,000 tables, seed" in test for test in tests)


def test_table_one_by_group_script_on_a_filtered_cohort(reproduce_cohorts, tmp_path):
    result, printed = run_view(views.table_one_by_group, "overview.table_one_by_group", reproduce_cohorts["demo"],
                               {"t1_group": "tp53_status"}, tmp_path, CohortFilter(institution=("Site A",)))
    assert_table_printed(printed, result.tables["table"])
    assert "not evaluated (n = " in printed[0]  # unsequenced patients: their own, untested column
    assert list(result.lines) == printed[-1:]


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])  # one dot per patient / counted per month
@pytest.mark.parametrize(("view", "figure"), [(views.latency, "latency"), (views.cumulative_exposure, "cumulative")])
def test_exposure_scripts_print_the_plots_numbers_and_draw_them(reproduce_cohorts, cohort, view, figure, tmp_path):
    cohort_filter = CohortFilter(tp53=("mutated", "not evaluated")) if cohort == "demo" else CohortFilter()
    key = f"overview.{figure}_months"
    result, printed = run_view(view, key, reproduce_cohorts[cohort], {}, tmp_path, cohort_filter)
    expected = [*result.figure.title.subtitle, *(c.text for c in result.caveats), result.caption]
    assert printed[:len(expected)] == expected
    assert (tmp_path / f"{figure}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture(scope="module")
def cohort_without_exposure(tmp_path_factory):
    """The demo cohort with S01's lenalidomide courses removed: no latency, no cumulative exposure."""
    import shutil

    from analytics.build import build_file
    from analytics.build import DEMO_SOURCE
    source = tmp_path_factory.mktemp("no_courses") / "cohort"
    shutil.copytree(DEMO_SOURCE, source)
    events = (source / "events.csv").read_text().splitlines(keepends=True)
    (source / "events.csv").write_text("".join(e for e in events if ",S01,lenalidomide_course," not in e))
    return build_file(source, tmp_path_factory.mktemp("db") / "cohort.duckdb")


@pytest.mark.parametrize(("view", "key"), [(views.latency, "overview.latency_months"),
                                           (views.cumulative_exposure, "overview.cumulative_months")])
def test_exposure_script_names_patients_without_a_value(cohort_without_exposure, view, key, tmp_path):
    result, printed = run_view(view, key, cohort_without_exposure, {}, tmp_path)
    assert result.caveats[0].text == "1 patient without a value is not in the plot or the median."
    assert printed[:4] == [*result.figure.title.subtitle, result.caveats[0].text, result.caption]
    assert "(1 not evaluated)" in printed[0]


def test_table_one_by_group_needs_a_grouping(reproduce_cohorts):
    db = CohortDatabase.open_file(reproduce_cohorts["demo"])
    try:
        with pytest.raises(ValueError, match="needs a grouping"):
            reproduce.script("overview.table_one_by_group", db, CohortFilter(), spec_from("overview", {}),
                             provenance(reproduce_cohorts["demo"]))
    finally:
        db.close()


def test_table_one_by_group_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        spec = spec_from("overview", {"t1_group": "sex"})
        script = reproduce.script("overview.table_one_by_group", db, CohortFilter(), spec, provenance(data_file))
        result = views.table_one_by_group(db, CohortFilter(), spec)
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert result.lines[0] in outputs


@pytest.mark.parametrize("page", ["overview", "dictionary", "patient"])
def test_every_view_of_the_page_has_a_script(demo_db, page):
    """Each view function of the page (its default view; Table 1 by sex) has a Reproduce builder."""
    import importlib
    import inspect
    module = importlib.import_module(f"analytics.views.{page}")
    spec = spec_from(page, {"t1_group": "sex"} if page == "overview" else {})
    keys = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        parameters = list(inspect.signature(function).parameters)
        if function.__module__ == module.__name__ and not name.startswith("_") and name != "slides" \
                and parameters[:3] == ["db", "cohort_filter", "spec"] \
                and "ViewResult" in str(inspect.signature(function).return_annotation):
            keys.append(function(demo_db, CohortFilter(), spec).key)
    assert keys and [k for k in keys if not reproduce.available(k)] == []


# Runs a script with Altair's save writing the chart's Vega-Lite JSON instead of a PNG, so a test
# can compare the figure's data with the page's chart.
CHART_JSON_WRAPPER = '''
import runpy

import altair as alt


def save(chart, name, **kwargs):
    with open(name + ".json", "w") as out:
        out.write(chart.to_json())


alt.TopLevelMixin.save = save
runpy.run_path("view.py", run_name="__main__")
'''


def _first_layer_data(spec: dict) -> list[dict]:
    return spec["datasets"][spec["layer"][0]["data"]["name"]]


@pytest.mark.parametrize(("cohort", "view", "figure"), [("demo", views.latency, "latency"),
                                                        ("synthetic", views.cumulative_exposure, "cumulative")])
def test_exposure_figure_data_is_the_pages(reproduce_cohorts, cohort, view, figure, tmp_path):
    """The dots (patient, months, stacking row) or the monthly bins of the script's figure are the page's."""
    import json
    import subprocess
    import sys
    data_file = reproduce_cohorts[cohort]
    result, _ = run_view(view, f"overview.{figure}_months", data_file, {}, tmp_path)
    (tmp_path / "wrapper.py").write_text(CHART_JSON_WRAPPER)
    run = subprocess.run([sys.executable, "-I", "wrapper.py", str(data_file)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    drawn = _first_layer_data(json.loads((tmp_path / f"{figure}.png.json").read_text()))
    page = _first_layer_data(result.figure.to_dict())
    assert len(page) > 10
    if cohort == "demo":  # one dot per patient
        assert sorted((d["patient_id"], round(d["months"], 9), d["level"]) for d in drawn) == \
            sorted((d["patient_id"], round(d["months"], 9), d["level"]) for d in page)
    else:  # patients per month
        assert [(d["start"], d["end"], d["patients"]) for d in drawn] == \
            [(d["start"], d["end"], d["patients"]) for d in page]
