"""Reproduce in Python, Response page: each view's script runs in a fresh interpreter without the
app, on the demo and a synthetic cohort, for the default view and two other views (options from
the link, or filtered cohorts for views without options), and prints the page's tables and
result lines word for word; one notebook executes."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import gammaln
from scipy.stats import random_table

from analytics import reproduce, stats
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import response as response_scripts
from analytics.views import response as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from, table_lines

COHORTS = ["demo", "synthetic"]
SEX_F = CohortFilter(sex=("F",))
TREATED_AGE = CohortFilter(treated=True, age=(60, 90))
HCT_OR_TP53_NE = CohortFilter(tp53=("not evaluated", "wild-type"), hct=False)

# (view key, view function, link parameters, cohort filter): the default view and two others each
VIEWS = [
    ("response.best_response", views.best_response, {}, CohortFilter()),
    ("response.best_response", views.best_response, {}, SEX_F),
    ("response.best_response", views.best_response, {}, TREATED_AGE),
    ("response.by_group", views.by_group, {}, CohortFilter()),
    ("response.by_group", views.by_group, {"group": "tp53_status"}, CohortFilter()),   # not evaluated left out
    ("response.by_group", views.by_group, {"group": "institution"}, CohortFilter()),   # 2x2 or r x 2 Monte Carlo
    ("response.by_group", views.by_group, {"group": "age_group"}, SEX_F),               # filtered: odds ratio
    ("response.mrd", views.mrd_and_time_to_cr, {}, CohortFilter()),
    ("response.mrd", views.mrd_and_time_to_cr, {"resp_origin": "diagnosis"}, CohortFilter()),
    ("response.mrd", views.mrd_and_time_to_cr, {"resp_origin": "diagnosis"}, TREATED_AGE),
    ("response.swimmer", views.swimmer, {}, CohortFilter()),
    ("response.swimmer", views.swimmer, {"resp_sort": "response", "resp_swimmer_origin": "treatment"},
     CohortFilter()),
    ("response.swimmer", views.swimmer, {"resp_sort": "regimen"}, HCT_OR_TP53_NE),
    ("response.flow", views.treatment_flow, {}, CohortFilter()),
    ("response.flow", views.treatment_flow, {}, SEX_F),
    ("response.flow", views.treatment_flow, {}, HCT_OR_TP53_NE),
    ("response.status", views.current_status, {}, CohortFilter()),
    ("response.status", views.current_status, {}, SEX_F),
    ("response.status", views.current_status, {}, TREATED_AGE),
    ("response.untreated", views.untreated, {}, CohortFilter()),
    ("response.untreated", views.untreated, {}, SEX_F),
    ("response.untreated", views.untreated, {}, HCT_OR_TP53_NE),
]
IDS = [f"{key.split('.')[1]}-{'-'.join(f'{v}' for v in params.values()) or 'default'}-"
       f"{cohort_filter.describe().replace(' ', '')[:24] if not cohort_filter.is_empty() else 'all'}"
       for key, _, params, cohort_filter in VIEWS]


def _swimmer_expected(result) -> tuple[list[str], list[str], str]:
    """The swimmer lanes and events the page draws, as the script prints them, and the subtitle."""
    bars, points, mrd = result.figure.layer
    order = bars.to_dict()["encoding"]["y"]["sort"]
    rank = {p: i for i, p in enumerate(order)}
    lanes = bars.data.assign(rank=bars.data["patient_id"].map(rank)).sort_values(["rank", "start_day"], kind="stable")
    lanes = lanes.rename(columns={"patient_id": "Patient", "phase": "Phase", "start_d": "From day", "end_d": "To day"})
    # events in the order the page records them per patient (kept by the stable sort)
    marks = pd.concat([points.data, mrd.data]).sort_index(kind="stable")
    marks = marks.assign(rank=marks["patient_id"].map(rank)).sort_values("rank", kind="stable").rename(
        columns={"patient_id": "Patient", "marker": "Event", "day_i": "Day", "detail": "Detail"})
    return (table_lines(lanes[["Patient", "Phase", "From day", "To day"]]),
            table_lines(marks[["Patient", "Event", "Day", "Detail"]]), result.figure.title.subtitle)


@pytest.mark.parametrize("cohort", COHORTS)
@pytest.mark.parametrize("key, view, params, cohort_filter", VIEWS, ids=IDS)
def test_script_prints_the_pages_numbers(reproduce_cohorts, cohort, key, view, params, cohort_filter, tmp_path):
    result, printed = run_view(view, key, reproduce_cohorts[cohort], params, tmp_path, cohort_filter)
    assert result.numbers or result.tables, "a view that shows nothing tests nothing"
    if key == "response.by_group" and cohort == "synthetic" and params.get("group") == "institution":
        # 8 institutions: too many tables to enumerate; the script draws the page's seeded Monte Carlo tables
        assert result.numbers["method"].startswith("Monte Carlo")
    for line in result.lines:  # result lines, word for word
        assert line in printed
    if key == "response.untreated":  # the page lists id, age, vital status and why
        assert f"Untreated patients ({result.numbers['n_untreated']})" in printed
        table = result.tables["untreated"][["patient_id", "age_at_ball_dx", "vital_status", "why"]]
        if len(table):
            assert_table_printed(printed, table)
        return
    for table in result.tables.values():
        assert_table_printed(printed, table)
    for caveat in result.caveats:  # printed as the page words them
        assert caveat.text in printed, caveat.heading
    if key == "response.best_response" and result.numbers.get("any_treated"):
        assert f"Treated / untreated: {result.numbers['treated_text']}" in printed
    if key == "response.swimmer":
        lanes, events, subtitle = _swimmer_expected(result)
        assert subtitle in printed
        start = printed.index(lanes[0])
        assert printed[start:start + len(lanes)] == lanes
        start = printed.index(events[0])
        assert printed[start:start + len(events)] == events
    if result.figure is not None:  # the figure is drawn as PNG beside the script
        assert (tmp_path / f"{result.figure_name}.png").read_bytes()[:4] == b"\x89PNG"


NO_TREATED = CohortFilter(treated=False)  # nothing to assess, compare or draw from first treatment


@pytest.mark.parametrize("key, view, params", [
    ("response.best_response", views.best_response, {}), ("response.by_group", views.by_group, {}),
    ("response.mrd", views.mrd_and_time_to_cr, {}),
    ("response.swimmer", views.swimmer, {"resp_swimmer_origin": "treatment"})])
def test_script_says_what_the_page_says_without_treated_patients(reproduce_cohorts, key, view, params, tmp_path):
    result, printed = run_view(view, key, reproduce_cohorts["demo"], params, tmp_path, NO_TREATED)
    for caveat in result.caveats:
        assert caveat.text in printed
    if key == "response.swimmer":
        assert result.figure.title.subtitle in printed
    else:
        assert result.caveats and not result.tables


@pytest.fixture(scope="module")
def unknowns_cohort(reproduce_cohorts, tmp_path_factory):
    """The demo cohort with what neither test cohort has: treated patients without any response
    assessment (unknown, not failures), responders without an MRD result (not evaluated, never
    negative), and several MRD methods and sensitivities (one not a power of ten, one not recorded)."""
    import shutil

    import duckdb

    from tests.cohort_helpers import rederive_summary
    path = tmp_path_factory.mktemp("unknowns") / "cohort.duckdb"
    shutil.copy(reproduce_cohorts["demo"], path)
    connection = duckdb.connect(str(path))
    assessments = "event_type = 'response_assessment' AND patient_id IN"
    connection.execute(f"DELETE FROM events WHERE {assessments} ('S08', 'S13')")
    connection.execute(f"UPDATE events SET mrd_status = NULL, mrd_method = NULL, mrd_sensitivity = NULL "
                       f"WHERE {assessments} ('S02', 'S03')")
    connection.execute(f"UPDATE events SET mrd_method = 'next-generation sequencing', mrd_sensitivity = 1e-6 "
                       f"WHERE {assessments} ('S05', 'S06', 'S11')")
    connection.execute(f"UPDATE events SET mrd_sensitivity = 0.00025 WHERE {assessments} ('S09')")
    connection.execute(f"UPDATE events SET mrd_method = NULL WHERE {assessments} ('S07')")
    rederive_summary(connection)
    connection.close()
    return path


@pytest.mark.parametrize("key, view, params", [
    ("response.best_response", views.best_response, {}), ("response.by_group", views.by_group, {"group": "sex"}),
    ("response.mrd", views.mrd_and_time_to_cr, {}), ("response.swimmer", views.swimmer, {})])
def test_script_keeps_unknowns_apart(unknowns_cohort, key, view, params, tmp_path):
    """Unassessed patients and responders without MRD stay out of the denominators, as on the page."""
    result, printed = run_view(view, key, unknowns_cohort, params, tmp_path)
    for line in result.lines:
        assert line in printed
    for table in result.tables.values():
        assert_table_printed(printed, table)
    for caveat in result.caveats:
        assert caveat.text in printed
    if key == "response.best_response":
        assert result.caveats[0].heading == "Not assessed" and "(S08, S13)" in result.caveats[0].text
    if key == "response.mrd":
        assert "2 of " in result.lines[0] and len(result.tables["methods"]) == 4
    if key == "response.swimmer":
        lanes, events, _ = _swimmer_expected(result)
        start = printed.index(events[0])
        assert printed[start:start + len(events)] == events


def test_scripts_read_only_their_cohort_and_options(reproduce_cohorts):
    db = CohortDatabase.open_file(reproduce_cohorts["demo"])
    try:
        spec = spec_from("response", {"group": "tp53_status", "resp_sort": "duration"})
        swimmer = reproduce.script("response.swimmer", db, SEX_F, spec, provenance(reproduce_cohorts["demo"]))
        by_group = reproduce.script("response.by_group", db, SEX_F, spec, provenance(reproduce_cohorts["demo"]))
    finally:
        db.close()
    assert "sex IN ('F')" in swimmer and "-coalesce(os_days, 0), patient_id" in swimmer
    assert "tp53_status" in by_group and "'not evaluated'" in by_group and "sex IN ('F')" in by_group


def test_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        spec = spec_from("response", {"group": "age_group"})
        script = reproduce.script("response.by_group", db, CohortFilter(), spec, provenance(data_file))
        page = views.by_group(db, CohortFilter(), spec)
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert page.lines[0] in outputs.splitlines()
    assert (tmp_path / "cr_by_age_group.png").exists()


def _script_freeman_halton(max_tables: int, draws: int):
    """The Freeman-Halton function the by-group script defines (its text, run as the script runs it)."""
    namespace = {"math": math, "np": np, "gammaln": gammaln, "random_table": random_table,
                 "MAX_ENUMERATED_TABLES": max_tables, "MONTE_CARLO_DRAWS": draws,
                 "MONTE_CARLO_SEED": stats.MONTE_CARLO_SEED}
    exec(response_scripts._EXACT_RX2, namespace)
    return namespace["freeman_halton"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=2, max_size=6),
       st.sampled_from([(stats.MAX_ENUMERATED_TABLES, stats.MONTE_CARLO_DRAWS), (50, 3000)]))
def test_script_freeman_halton_is_the_pages(table, limits):
    """Enumeration, and the seeded Monte Carlo when the tables are too many, give the page's p and method."""
    max_tables, draws = limits
    p, method = _script_freeman_halton(max_tables, draws)(table)
    page = stats.freeman_halton(table, max_tables=max_tables, draws=draws)
    assert method == page.method
    assert p == pytest.approx(page.p_value, rel=1e-9, abs=1e-12)


def test_every_response_view_has_a_script(demo_db):
    """Each view function of the page module (a new view without a script fails here) is tested above."""
    import inspect
    functions = [f for name, f in inspect.getmembers(views, inspect.isfunction)
                 if f.__module__ == views.__name__ and not name.startswith("_") and name != "slides"
                 and list(inspect.signature(f).parameters)[:3] == ["db", "cohort_filter", "spec"]]
    assert len(functions) == 7 and set(functions) == {view for _, view, _, _ in VIEWS}
    for view in functions:
        assert reproduce.available(view(demo_db, CohortFilter(), views.ResponseSpec()).key), view.__name__
