"""The Survival page under AppTest: standard states, HCT warning and honest-alternative
sections, groups without events, URL options, downloads."""
from __future__ import annotations

from tests.apptest_helpers import EMPTY, FULL, SINGLE, all_text, run_page

PAGE = "pages/survival.py"


def charts(at):
    """The Vega-Lite specs on the page (AppTest has no typed accessor for them)."""
    import json
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


def test_full_cohort_shows_km_summary_and_table():
    at = run_page(PAGE, FULL)
    assert not at.exception
    text = all_text(at)
    assert "Survival" in text
    assert "n = 32, 16 events" in text  # EFS (all three events), all patients
    assert "Median follow-up (reverse Kaplan-Meier" in text
    frames = [d.value for d in at.dataframe]
    summary = frames[0]
    assert summary["N"].tolist() == [32] and summary["Events"].tolist() == [16]
    specs = charts(at)
    assert len(specs) == 1   # only the open tab (Kaplan-Meier) is computed and drawn
    km = specs[0]
    assert "vconcat" in km and km["vconcat"][1]["title"]["text"] == "Number at risk"
    assert "Immortal-time bias" not in text
    assert "Proportional-hazards check" not in text  # the Cox tab is closed: not computed
    labels = [b.proto.label for b in at.get("download_button")]
    assert [x for x in labels if "CSV" in x] == ["Download curve data (CSV)"]
    assert sorted(x for x in labels if "CSV" not in x) == ["PDF", "PNG", "Reproduce as a notebook (.ipynb)",
                                                           "Reproduce in Python (.py)", "SVG"]
    tooltip_fields = {t["field"] for layer in km["vconcat"][0]["layer"]
                      for t in layer["encoding"].get("tooltip", [])}
    assert {"time_months", "survival_pct", "at_risk"} <= tooltip_fields


def test_each_tab_is_computed_when_open():
    """The open tab comes from the URL (surv_tab) and only its content is computed."""
    at = run_page(PAGE, {**FULL, "surv_tab": "Cox model"})
    assert not at.exception
    specs = charts(at)
    assert len(specs) == 1 and "hazard ratios" in str(specs[0].get("title", ""))
    assert "Proportional-hazards check" in all_text(at)
    assert "Download curve data (CSV)" not in [b.proto.label for b in at.get("download_button")]
    at = run_page(PAGE, {**FULL, "surv_tab": "Relapse vs non-relapse mortality"})
    assert not at.exception
    assert len(charts(at)) == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert [x for x in labels if "CSV" in x] == ["Download cumulative incidence data (CSV)"]
    at = run_page(PAGE, {**FULL, "surv_tab": "Per-patient table"})
    assert not at.exception
    assert not charts(at)
    assert len(at.dataframe[-1].value) == 32  # the per-patient table
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download per-patient table (CSV)"]


def test_empty_filter_says_so():
    at = run_page(PAGE, EMPTY)
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)
    assert not at.dataframe


def test_single_patient_page_is_honest():
    at = run_page(PAGE, SINGLE)
    assert not at.exception
    text = all_text(at)
    assert "n = 1, 0 events" in text
    assert "No events" in text and "only 1 patient" in text
    assert at.dataframe[0].value["Median, months"].tolist() == ["not reached"]


def test_hct_group_shows_warning_landmark_and_time_dependent_cox():
    at = run_page(PAGE, {"group": "hct", "population": "treated", "landmark": "200"})
    assert not at.exception
    text = all_text(at)
    assert "Immortal-time bias" in text
    assert "Landmark log-rank test" in text
    assert "time-dependent covariate" in text and "HR" in text
    assert at.number_input(key="survival.landmark").value == 200
    titles = [str(c.get("title", "")) for c in charts(at)]
    assert any("naive: immortal-time bias" in t for t in titles)
    assert any("Landmark analysis at day 200" in t for t in titles)
    # a landmark before any transplant leaves one group: said, not tested
    at.number_input(key="survival.landmark").set_value(100).run()
    assert not at.exception
    assert "nobody had received HCT by day 100" in all_text(at)
    assert "Log-rank test** (2 groups)" in text or "Log-rank test (2 groups)" in text


def test_group_without_events_says_so():
    # Site B patients grouped by HCT: the one transplanted patient (S28) has no EFS event
    at = run_page(PAGE, {"institution": "Site B", "group": "hct"})
    assert not at.exception
    text = all_text(at)
    assert "**yes.** No events" in text
    summary = at.dataframe[0].value.set_index("Group")
    assert summary.loc["yes", "Events"] == 0 and summary.loc["yes", "Median, months"] == "not reached"


def test_options_from_url_and_widgets():
    at = run_page(PAGE, {"endpoint": "OS", "origin": "first_treatment", "group": "age_at_ball_dx",
                         "cutoff": "70", "pairwise": "holm"})
    assert not at.exception
    text = all_text(at)
    # OS from first treatment: the 4 untreated patients have no origin; 12 of 14 deaths are treated
    assert "n = 28, 12 events" in text and "4 excluded" in text
    groups = at.dataframe[0].value["Group"].tolist()
    assert groups == ["< 70", "≥ 70"]
    at.selectbox(key="survival.group").set_value("first_line_regimen_category").run()
    assert not at.exception
    assert "Pairwise log-rank tests" in all_text(at)
    at = run_page(PAGE, {"endpoint": "OS", "origin": "first_treatment", "group": "first_line_regimen_category",
                         "surv_tab": "Cox model"})
    at.multiselect(key="survival.cox").set_value(["age_at_ball_dx", "tp53_status", "sex"]).run()
    assert not at.exception
    assert "events per model term" in all_text(at)


def test_efs_definition_changes_events():
    at = run_page(PAGE, {"efs": "relapse"})
    assert not at.exception
    assert at.dataframe[0].value["Events"].tolist() == [10]
    assert at.multiselect(key="survival.efs").value == ["relapse"]


def test_population_leaving_nobody_and_bad_milestones_are_explained():
    at = run_page(PAGE, {"treated": "no", "origin": "first_treatment"})
    assert not at.exception
    assert "no time origin (never treated)" in all_text(at)
    at = run_page(PAGE, {"milestones": "soon, later"})
    assert not at.exception
    assert "milestones: \"soon, later\" is not 1 to 8 positive numbers of months" in all_text(at)
    assert "12 months, % (95% CI)" in at.dataframe[0].value.columns


def test_a_page_visited_again_shows_its_last_view():
    """Back on a page in the same session: its last options, not the defaults (the deck uses them
    too); a page never visited opens with its defaults."""
    at = run_page(PAGE, {"group": "sex", "endpoint": "OS"})
    assert at.selectbox(key="survival.group").value == "sex"
    # a page switch in the browser clears the page's options from the URL (AppTest does not)
    for key in list(at.query_params):
        del at.query_params[key]
    at.switch_page("pages/response.py").run()
    assert not at.exception
    assert at.selectbox(key="response.group").value == "first_line_regimen_category"  # its default
    for key in list(at.query_params):
        del at.query_params[key]
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="survival.group").value == "sex"
    assert at.selectbox(key="survival.endpoint").value == "OS"


def _reproduce_downloads(at) -> set[str]:
    """Views that offer both 'Reproduce in Python' downloads (script and notebook), by key."""
    ids = [b.proto.id for b in at.get("download_button")]
    scripts = {i.split("repro_py_", 1)[1] for i in ids if "repro_py_" in i}
    notebooks = {i.split("repro_nb_", 1)[1] for i in ids if "repro_nb_" in i}
    assert scripts == notebooks
    return scripts


def test_every_view_offers_reproduce_downloads():
    """The file-backed demo cohort: each survival view shown has its script and notebook."""
    at = run_page(PAGE, {"group": "hct"})
    assert not at.exception
    assert _reproduce_downloads(at) == {"survival_km", "survival_simon_makuch", "survival_landmark",
                                        "survival_landmark_sensitivity", "survival_time_dependent_hct"}
    at = run_page(PAGE, {"group": "best_response"})
    assert _reproduce_downloads(at) == {"survival_km", "survival_simon_makuch"}
    at = run_page(PAGE, {"surv_tab": "Cox model"})
    assert not at.exception and _reproduce_downloads(at) == {"survival_cox"}
    at = run_page(PAGE, {"surv_tab": "Relapse vs non-relapse mortality"})
    assert not at.exception and _reproduce_downloads(at) == {"survival_competing_risks"}
