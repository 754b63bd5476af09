"""Reproduce in Python, survival page beyond Kaplan-Meier: each view's exported script runs in a
fresh interpreter without the app and prints the page's tables, result lines and warnings word
for word (the immortal-time warnings included); the Simon-Makuch and competing-risks scripts also
print their number-at-risk tables, equal to the figure's. Each view: its default and two
non-default views, on the demo and the 600-patient synthetic cohort; some on a filtered cohort;
one notebook executed."""
from __future__ import annotations

import pandas as pd
import pytest

from analytics import reproduce, survival
from analytics.survival import competing_risks as survival_cr, hct as survival_hct, simon_makuch as survival_sm
from analytics.db import CohortDatabase
from analytics.units import DAYS_PER_MONTH
from analytics.filters import CohortFilter
from analytics.views import survival as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from

VIEWS = {
    "landmark": [{}, {"group": "hct", "landmark": "365", "endpoint": "OS"},
                 {"group": "hct", "landmark": "60", "population": "treated", "origin": "first_treatment",
                  "milestones": "6, 18"}],
    "landmark_sensitivity": [{}, {"group": "hct", "landmarks": "30, 90, 200"},
                             {"group": "hct", "endpoint": "OS", "landmarks": "150, 400, 730"}],
    "time_dependent_hct": [{}, {"group": "hct", "endpoint": "OS", "population": "treated"},
                           {"group": "hct", "efs": ["relapse"], "origin": "first_treatment"}],
    "simon_makuch": [{}, {"group": "best_response"},
                     {"group": "hct", "endpoint": "OS", "origin": "first_treatment"}],
    "cox": [{}, {"cox": ["age_at_ball_dx", "tp53_status", "sex"], "endpoint": "OS"},
            {"cox": ["ploidy_low_hypodiploid", "cr_first_line", "myeloma_auto_hct", "institution"]}],
    "competing_risks": [{}, {"group": "hct"}, {"group": "sex", "milestones": "6, 60", "origin": "first_treatment"}],
}
CASES = [(view, index) for view, params in VIEWS.items() for index in range(len(params))]
FILTERED = CohortFilter(institution=("Site A",))


def _ticks_table(name: str, rows: pd.DataFrame, value: str, ticks: list[float]) -> list[str]:
    """A per-group row of `value` at each tick, as the scripts print it (header, then rows)."""
    lines = ["\t".join([name] + [f"{t:g}" for t in ticks])]
    for group, part in rows.groupby("group", sort=False):
        lines.append("\t".join([str(group)] + [str(v) for v in part.sort_values("time_months")[value]]))
    return lines


def _assert_lines(printed: list[str], expected: list[str]) -> None:
    """`expected` printed as consecutive lines (a header can start several tables)."""
    starts = [i for i, line in enumerate(printed) if line == expected[0]]
    assert starts, expected[0]
    assert any(printed[i:i + len(expected)] == expected for i in starts), (expected, printed)


def _simon_makuch_expected(db, cohort_filter, spec, result) -> tuple[list[str], list[str]]:
    """The page's number-at-risk table (the figure's) and its curves read at the same ticks."""
    analysis = spec.analysis(db)
    key = views.SIMON_MAKUCH_EXPOSURE.get(spec.group, "hct")
    exposure = survival_hct.EXPOSURES[key]
    rows = survival_hct.counting_process_counts(db, cohort_filter, analysis, key)
    curves = result.tables["curves"]
    ticks = survival.month_ticks(float(curves["time_months"].max()))
    risk = survival_sm.at_risk_table(rows, (exposure.before, exposure.after), ticks)
    cells = []
    for r in risk.itertuples():
        curve = curves[(curves["group"] == r.group) & (curves["time_days"] <= r.time_months * DAYS_PER_MONTH)]
        point = curve.iloc[-1] if len(curve) else None
        cells.append("n/a" if r.at_risk == 0 else
                     f"{100 * point.survival:.1f} ({100 * point.ci_lower:.1f} to {100 * point.ci_upper:.1f})")
    estimates = risk.assign(cell=cells)
    return _ticks_table("State", risk, "at_risk", ticks), _ticks_table("State", estimates, "cell", ticks)


def _cif_risk_expected(db, cohort_filter, spec) -> list[str]:
    counts = survival_cr.competing_counts(db, cohort_filter, spec.analysis(db))
    cif = survival_cr.aalen_johansen_from_counts(counts)
    ticks = survival.month_ticks(float(cif["time_months"].max()))
    return _ticks_table("Group", survival.risk_table(survival_cr.all_cause_counts(counts), ticks), "at_risk", ticks)


def _check(view: str, data_file, params: dict, folder, cohort_filter: CohortFilter = CohortFilter()) -> None:
    result, printed = run_view(getattr(views, view), f"survival.{view}", data_file, params, folder, cohort_filter)
    for name, table in result.tables.items():
        if name != "curves" and not table.empty:  # Simon-Makuch curves: read at the ticks below
            assert_table_printed(printed, table)
    for line in result.lines:
        assert line in printed
    for caveat in result.caveats:  # every warning of the view, immortal-time bias included
        assert caveat.sentence() in printed
    if view in ("simon_makuch", "competing_risks"):
        db = CohortDatabase.open_file(data_file)
        try:
            spec = spec_from("survival", params)
            if view == "simon_makuch":
                tail = result.caption[result.caption.index("n = "):]
                assert tail in printed  # n, patients switching and events, as the caption words them
                for expected in _simon_makuch_expected(db, cohort_filter, spec, result):
                    _assert_lines(printed, expected)
            else:
                _assert_lines(printed, _cif_risk_expected(db, cohort_filter, spec))
        finally:
            db.close()
    if result.figure is not None:
        assert (folder / f"{result.figure_name}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("cohort", ["demo", "synthetic"])
@pytest.mark.parametrize("view,index", CASES, ids=[f"{v}-{i}" for v, i in CASES])
def test_script_prints_the_pages_numbers(reproduce_cohorts, cohort, view, index, tmp_path):
    _check(view, reproduce_cohorts[cohort], VIEWS[view][index], tmp_path)


SITE_B = CohortFilter(institution=("Site B",))  # its one transplanted patient has no event
ONE_PATIENT = CohortFilter(age=(48, 48))


@pytest.mark.parametrize("view,params,cohort_filter", [
    ("landmark_sensitivity", {"group": "hct", "landmarks": "100, 200, 400"}, FILTERED),
    ("competing_risks", {"group": "hct"}, FILTERED),
    ("time_dependent_hct", {"group": "hct"}, FILTERED),
    ("cox", {"cox": ["age_at_ball_dx", "sex", "tp53_status"]}, FILTERED),
    ("time_dependent_hct", {"group": "hct"}, SITE_B),  # not estimable: said, as on the page
    ("landmark_sensitivity", {"group": "hct"}, SITE_B),  # HR not estimable at every landmark
    ("landmark", {"group": "hct"}, ONE_PATIENT),
    ("simon_makuch", {"group": "hct"}, ONE_PATIENT)],
    ids=["sensitivity", "cif", "time-dependent", "cox", "time-dependent-site-b", "sensitivity-site-b",
         "landmark-one-patient", "simon-makuch-one-patient"])
def test_filtered_cohort(reproduce_cohorts, view, params, cohort_filter, tmp_path):
    _check(view, reproduce_cohorts["demo"], params, tmp_path, cohort_filter)


def test_filters_are_written_into_the_sql(reproduce_cohorts):
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        text = reproduce.script("survival.competing_risks", db, FILTERED, spec_from("survival", {}),
                                provenance(data_file))
    finally:
        db.close()
    assert "institution IN ('Site A')" in text and "cohort filters: " in text


@pytest.mark.parametrize("view,cohort_filter,expected", [
    ("simon_makuch", CohortFilter(), ["How to read it", "Number at risk", "Figure: simon_makuch_efs.png"]),
    # a view that stops early (model not estimable) must not stop the notebook's kernel with an error
    ("time_dependent_hct", SITE_B, ["Time-dependent Cox model not estimable"])], ids=["simon-makuch", "not-estimable"])
def test_notebook_executes(reproduce_cohorts, view, cohort_filter, expected, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        text = reproduce.script(f"survival.{view}", db, cohort_filter, spec_from("survival", {"group": "hct"}),
                                provenance(data_file))
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(text), as_version=4)
    outputs = execute_notebook(book, tmp_path)
    assert all(text in outputs for text in expected), outputs


def test_sensitivity_table_keeps_the_less_than_sign(demo_db, monkeypatch):
    """A log-rank p below 0.001 reads "< 0.001" in the landmark table (it read "0.001"), as the
    script prints it."""
    from dataclasses import replace
    original = survival.view_from_counts

    def tiny_p(*args, **kwargs):
        view = original(*args, **kwargs)
        return view if view.logrank is None else replace(view, logrank=replace(view.logrank, p_value=1e-5))

    monkeypatch.setattr(survival, "view_from_counts", tiny_p)
    table = views.landmark_sensitivity(demo_db, CohortFilter(), spec_from("survival", {"landmarks": "200"})
                                       ).tables["landmarks"]
    assert table["Log-rank p"].tolist() == ["< 0.001"]
