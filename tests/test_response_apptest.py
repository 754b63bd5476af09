"""The Response page in every standard state, through the real entrypoint (AppTest)."""
import re

import pytest

from tests.apptest_helpers import PAGE_STATES, run_page
from tests.apptest_helpers import all_text as markdown_text


def all_text(at) -> str:
    """The page's text as read: result lines are Markdown-escaped plain text (`ui.views.escape_markdown`)."""
    return re.sub(r"\\(.)", r"\1", markdown_text(at))


PAGE = "pages/response.py"


def charts(at):
    return at.get("vega_lite_chart")


def test_full_cohort():
    at = run_page(PAGE, PAGE_STATES["full"])
    assert not at.exception
    text = all_text(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["CR or CRi among treated"].startswith("25/28")
    assert metrics["Treated / untreated"] == "28 / 4"
    assert metrics["Alive without evidence of B-ALL at last contact"] == "16 of 32 patients"
    assert "Freeman-Halton exact test" in text            # default grouping: regimen category
    assert "Time to first CR/CRi" in text
    assert len(charts(at)) == 4                            # best response, by group, swimmer, flow
    assert at.selectbox(key="response.group").value == "first_line_regimen_category"


def test_group_from_url_and_widget():
    at = run_page(PAGE, {"group": "tp53_status"})
    assert not at.exception
    assert at.selectbox(key="response.group").value == "tp53_status"
    assert "TP53 not evaluated are shown but left out of the test" in all_text(at)
    at.selectbox(key="response.group").set_value("institution").run()
    assert not at.exception
    assert "Fisher's exact test" in all_text(at)
    assert at.query_params["group"] in ("institution", ["institution"])


def test_invalid_group_in_url_falls_back():
    at = run_page(PAGE, {"group": "patient_id"})
    assert not at.exception
    assert at.selectbox(key="response.group").value == "first_line_regimen_category"


@pytest.mark.parametrize("sort", ["duration", "response", "regimen"])
def test_swimmer_sorts(sort):
    at = run_page(PAGE, {"resp_sort": sort})
    assert not at.exception
    assert at.selectbox(key="response.sort").value == sort


def test_empty_filter():
    at = run_page(PAGE, PAGE_STATES["empty"])
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)
    assert not charts(at)


def test_single_patient():
    at = run_page(PAGE, PAGE_STATES["single"])
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["CR or CRi among treated"].startswith("1/1")
    assert "Only 1 patient treated with an assessment" in all_text(at)
    assert "No test: fewer than two groups" in all_text(at)
    assert len(charts(at)) == 4


def test_no_treated_patient():
    at = run_page(PAGE, {"treated": "no"})
    assert not at.exception
    text = all_text(at)
    assert "No patient in the current selection received B-ALL treatment (4 untreated)" in text
    assert "nothing to compare" in text
    for pid in ("S12", "S20", "S25", "S31"):   # the demo's untreated patients, each with a reason
        assert f"**{pid}**" in text
    assert "declined therapy" in text and "lenalidomide stopped on day" in text
    assert len(charts(at)) == 2                            # swimmer and flow still drawn


def test_swimmer_origin_from_the_url():
    at = run_page("pages/response.py", {"resp_swimmer_origin": "treatment"})
    assert not at.exception
    assert at.radio(key="response.swimmer_origin").value == "treatment"


def test_per_patient_csvs_are_offered():
    at = run_page("pages/response.py")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download per-patient MRD and time to CR/CRi (CSV)" in labels


REPRODUCED_VIEWS = ("best_response", "by_group", "mrd", "swimmer", "flow", "status", "untreated")


def reproduce_keys(at) -> set[str]:
    return {b.key for b in at.get("download_button") if b.key and b.key.startswith("repro_")}


def test_every_view_offers_its_reproduce_downloads():
    """The cohort file of the app: a script and a notebook per view of the page."""
    at = run_page(PAGE, {"group": "tp53_status", "resp_sort": "response"})
    assert not at.exception
    expected = {f"repro_{kind}_response_{view}" for view in REPRODUCED_VIEWS for kind in ("py", "nb")}
    assert reproduce_keys(at) == expected
    labels = {b.proto.label for b in at.get("download_button") if b.key in expected}
    assert labels == {"Reproduce in Python (.py)", "Reproduce as a notebook (.ipynb)"}


def test_no_reproduce_download_under_small_cell_suppression(monkeypatch):
    """A script prints every count: under suppression the best response (the only view shown) has none."""
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    at = run_page(PAGE)
    assert not at.exception
    assert not reproduce_keys(at)
