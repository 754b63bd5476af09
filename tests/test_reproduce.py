"""Reproduce in Python: each exported script runs in a fresh interpreter, without the app, and
prints the page's numbers; its notebook executes; a different data file is refused; every view
has a methods paragraph."""
from __future__ import annotations

import pytest

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views import survival as survival_views
from analytics.views.registry import pages as registered_pages
from tests.reproduce_helpers import execute_notebook, run_script

# default view and non-default views of the survival page (link parameters)
KM_VIEWS = [{}, {"group": "sex", "milestones": "6, 18"}, {"group": "hct"},
            {"endpoint": "OS", "origin": "first_treatment", "group": "age_at_ball_dx", "cutoff": "66"},
            {"group": "tp53_status", "efs": ["relapse", "death"], "population": "treated"}]


@pytest.fixture(scope="module")
def cohort_files(reproduce_cohorts):
    return reproduce_cohorts


_run = run_script


def _script(db, data_file, params, link="http://localhost/survival"):
    spec, notices = survival_views.SurvivalPageSpec.from_params(params)
    assert not notices
    provenance = reproduce.Provenance(str(data_file), reproduce.file_sha256(data_file), "test", link)
    return spec, reproduce.script("survival.km", db, CohortFilter(), spec, provenance)


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("params", KM_VIEWS, ids=["default", "by-sex", "hct", "os-age-cutoff", "tp53-efs-treated"])
def test_km_script_prints_the_pages_numbers(cohort_files, cohort, params, tmp_path):
    data_file = cohort_files[cohort]
    db = CohortDatabase.open_file(data_file)
    try:
        spec, script = _script(db, data_file, params)
        assert "import analytics" not in script and "from analytics" not in script
        run = _run(script, tmp_path, data_file)
        assert run.returncode == 0, run.stderr
        page = survival_views.km(db, CohortFilter(), spec)
    finally:
        db.close()
    printed = run.stdout.splitlines()
    table = page.tables["summary"]
    expected = ["\t".join(table.columns)] + ["\t".join(str(v) for v in row) for row in table.itertuples(index=False)]
    start = printed.index(expected[0])
    assert printed[start:start + len(expected)] == expected
    for line in page.lines:  # log-rank test and median follow-up, word for word
        assert line in printed
    for caveat in page.caveats:  # the immortal-time warning travels with the script
        if "bias" in caveat.heading:
            assert caveat.sentence() in printed
    assert f"n = {page.numbers['n']}, {page.numbers['events']} events" in printed[0]
    assert (tmp_path / "survival_km.png").read_bytes()[:4] == b"\x89PNG"


def test_script_refuses_another_data_file(cohort_files, tmp_path):
    db = CohortDatabase.open_file(cohort_files["demo"])
    try:
        _, script = _script(db, cohort_files["demo"], {})
    finally:
        db.close()
    run = _run(script, tmp_path, cohort_files["synthetic"])
    assert run.returncode != 0
    assert "is not the cohort file of this view" in run.stderr


def test_script_carries_provenance(cohort_files):
    db = CohortDatabase.open_file(cohort_files["demo"])
    try:
        _, script = _script(db, cohort_files["demo"], {"group": "sex"}, link="https://lab.org/survival?group=sex")
    finally:
        db.close()
    assert reproduce.file_sha256(cohort_files["demo"]) in script
    assert "https://lab.org/survival?group=sex" in script and "App version test" in script
    assert "sex IN" not in script and "WHERE (TRUE)" in script  # no filters: nothing hidden in the SQL


def test_notebook_executes(cohort_files, tmp_path):
    import nbformat
    db = CohortDatabase.open_file(cohort_files["demo"])
    try:
        _, script = _script(db, cohort_files["demo"], {"group": "sex"})
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    assert book.cells[0].cell_type == "markdown" and len(book.cells) >= 6
    outputs = execute_notebook(book, tmp_path)
    assert "Log-rank test (2 groups)" in outputs


def _view_functions():
    """Every view function of every page module: public, (db, cohort_filter, spec, ...) -> ViewResult."""
    import importlib
    import inspect
    for page in registered_pages():
        module = importlib.import_module(f"analytics.views.{page}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or name == "slides" or function.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters[:3] == ["db", "cohort_filter", "spec"] and "ViewResult" in str(
                    inspect.signature(function).return_annotation):
                yield page, name, function


@pytest.fixture(scope="module")
def view_function_results(demo_db) -> dict:
    """Each view function of each page on its page's default options (HCT for survival, Table 1
    by sex for the overview): "page.name" -> ViewResult (computed once for the tests below)."""
    specs = {"survival": {"group": "hct"}, "overview": {"t1_group": "sex"}}
    results = {}
    for page, name, function in _view_functions():
        spec, _ = registered_pages()[page].spec.from_params(specs.get(page, {}))
        results[f"{page}.{name}"] = function(demo_db, CohortFilter(), spec)
    return results


def test_every_view_function_has_a_methods_paragraph(view_function_results):
    """Each view function of each page, on its page's default options (HCT for survival)."""
    missing = [name for name, result in view_function_results.items() if not result.methods.strip()]
    assert len(view_function_results) >= 30 and not missing, missing


def test_every_view_has_a_methods_paragraph(demo_db):
    """Every result each page contributes (default view and an HCT view) states its methods."""
    views = {"survival": {"group": "hct", "surv_tab": "Cox model"}}
    missing = []
    for page, definition in registered_pages().items():
        spec, _ = definition.spec.from_params(views.get(page, {}))
        for result in definition.slides(demo_db, CohortFilter(), spec, 0):
            if not result.methods.strip():
                missing.append(result.key)
    spec, _ = survival_views.SurvivalPageSpec.from_params({"group": "hct"})
    for view in (survival_views.cox, survival_views.competing_risks):
        if not view(demo_db, CohortFilter(), spec).methods:
            missing.append(view.__name__)
    assert not missing


def test_every_view_function_has_a_reproduce_script(view_function_results):
    """Reproduce in Python exists for every view of every page: each view function's result key
    has a script builder (the page shows the downloads under it)."""
    missing = [f"{name} ({result.key})" for name, result in view_function_results.items()
               if not reproduce.available(result.key)]
    assert len(view_function_results) >= 30 and not missing, missing
