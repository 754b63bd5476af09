"""The Withdrawal page under AppTest: every page state, the rule widgets, the links."""
import re

import pytest

from tests.apptest_helpers import PAGE_STATES, run_page
from tests.apptest_helpers import all_text as markdown_text


def all_text(at) -> str:
    """The page's text as read: result lines are Markdown-escaped plain text (`ui.views.escape_markdown`)."""
    return re.sub(r"\\(.)", r"\1", markdown_text(at))


PAGE = "pages/withdrawal.py"


def _charts(at):
    return [e for e in at.get("arrow_vega_lite_chart")] + [e for e in at.get("vega_lite_chart")]


def test_full_cohort():
    at = run_page(PAGE, PAGE_STATES["full"])
    assert not at.exception
    text = all_text(at)
    assert "Withdrawal" in text and "10 of 32 selected patients" in text
    assert "Level at withdrawal" in text and "Only measurements before the first B-ALL therapy" in text
    metric = {m.label: m.value for m in at.metric}
    assert metric["Regression"] == "5 of 9"
    assert metric["Not assessable"] == "1"
    assert "**Small samples.** 5 regressors vs 4 assessable others" in text
    assert len(_charts(at)) == 2  # trajectories + timing
    kin = at.dataframe[0].value
    assert list(kin["patient_id"]) == sorted(kin["patient_id"])  # default patient order
    assert set(kin.loc[kin.classification == "complete regression", "patient_id"]) == {"S12", "S25"}
    cont, cat = at.dataframe[1].value, at.dataframe[2].value
    assert cont["feature"].str.contains("Latency").any() and cat["feature"].str.contains("TP53").any()
    assert "32 of 32 selected patients" in text  # timing plot denominator
    assert text.count("Days are counted from the lenalidomide stop day") == 1
    labels = [link.proto.label for link in at.get("page_link")]
    assert "S12 · complete regression" in labels and "S15 · not assessable" in labels
    assert len(labels) == 32 and "S28" in labels


def test_empty_filter_shows_a_clear_message():
    at = run_page(PAGE, PAGE_STATES["empty"])
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)
    assert not _charts(at)


def test_single_patient_without_serial_measurements():
    at = run_page(PAGE, PAGE_STATES["single"])  # S28
    assert not at.exception
    text = all_text(at)
    assert "None of the 1 patient selected has serial measurements" in text
    assert "for 1 of 1 selected patient " in text  # timing still drawn
    assert len(_charts(at)) == 1
    assert not at.metric


def test_patient_with_a_single_measurement():
    at = run_page(PAGE, {"age": "68-68"})  # S15 only
    assert not at.exception
    text = all_text(at)
    assert "1 of 1 selected patient has measurements" in text
    metric = {m.label: m.value for m in at.metric}
    assert metric["Regression"] == "0 of 0"
    assert metric["Not assessable"] == "1"
    kin = at.dataframe[0].value
    assert kin.iloc[0]["classification"] == "not assessable" and "2 needed" in kin.iloc[0]["reason"]
    assert "**No comparison.** Both groups are needed: 0 regressors" in text
    assert "S15 has one measurement only" in text


def test_rule_is_adjustable_and_in_the_url():
    at = run_page(PAGE)
    at.number_input(key="withdrawal.partial").set_value(65.0).run()
    assert not at.exception
    metric = {m.label: m.value for m in at.metric}
    assert metric["Regression"] == "3 of 9"  # S31 (69%) stays partial
    assert at.query_params["wd_partial"] in ("65", ["65"])
    assert "reduction ≥ 65%" in all_text(at)


def test_view_options_come_from_the_url_and_bad_values_fall_back():
    at = run_page(PAGE, {"wd_analyte": "immature_b_pct", "wd_scale": "log", "wd_layout": "facet",
                         "wd_axis": "diagnosis", "wd_rise": "abc"})
    assert not at.exception
    assert at.selectbox(key="withdrawal.analyte").value == "immature_b_pct"
    assert at.radio(key="withdrawal.layout").value == "facet"
    assert at.number_input(key="withdrawal.rise").value == 25.0
    assert 'Link option not used: wd_rise: "abc" is not a number from 1 to 1000' in all_text(at)
    assert "wd_rise" not in at.query_params and at.query_params["wd_layout"] in ("facet", ["facet"])
    assert "2 of 32 selected patients" in all_text(at)


@pytest.mark.parametrize("analyte", ["b_lymphoblasts_pct", "marrow_blasts_pct"])
def test_other_analytes_render(analyte):
    at = run_page(PAGE)
    at.selectbox(key="withdrawal.analyte").set_value(analyte).run()
    assert not at.exception


def test_links_to_patient_pages_carry_the_filter():
    at = run_page(PAGE, {"tp53": "wild-type"})
    assert not at.exception
    links = at.get("page_link")
    assert links, "no patient links"
    first = links[0].proto
    assert first.page == "patient"
    query = dict(kv.split("=", 1) for kv in first.query_string.split("&"))
    assert query["patient"] == first.label.split(" ")[0]
    assert query["tp53"] == "wild-type"
    labels = [link.proto.label for link in links]
    assert any(label.startswith("S12 · complete regression") for label in labels) or \
        all(not label.startswith("S12") for label in labels)
    assert len(links) == int(at.sidebar.markdown[0].value.split()[0].strip("*"))


def test_kinetics_csv_is_offered_and_built_on_click():
    """The table on screen is capped; the download (every patient) is a deferred callable."""
    at = run_page(PAGE)
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download kinetics (CSV)" in labels


def test_each_view_offers_its_reproduce_downloads():
    """Trajectories, kinetics and timing each offer a script and a notebook (the demo is a file)."""
    at = run_page(PAGE)
    assert not at.exception
    keys = {b.key for b in at.get("download_button")}
    for view in ("trajectories", "kinetics", "timing"):
        assert {f"repro_py_withdrawal_{view}", f"repro_nb_withdrawal_{view}"} <= keys, keys
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Reproduce in Python (.py)") == 3 and labels.count("Reproduce as a notebook (.ipynb)") == 3
