"""The Genomics page under AppTest: standard states, a never-tested patient, widgets."""

from tests.apptest_helpers import PAGE_STATES, all_text, run_page

PAGE = "pages/genomics.py"


def test_full_cohort_shows_evaluable_denominators():
    at = run_page(PAGE, PAGE_STATES["full"])
    assert not at.exception
    text = all_text(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "9/19"
    assert metrics["Low hypodiploid (altered / evaluable)"] == "8/26"
    assert "13 not evaluated" in text
    assert "patients evaluable for both" in text and "Fisher's exact test" in text
    assert "Possible masked hypodiploidy" in text
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 6   # frequency, oncoprint, heatmap, modal number, lollipop, VAF
    specs = " ".join(str(c.proto.spec) for c in charts)
    assert "Oncoprint: 32 patients" in specs and "Clopper-Pearson" in specs


def test_empty_filter_shows_a_clear_message():
    at = run_page(PAGE, PAGE_STATES["empty"])
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)


def test_single_patient():
    at = run_page(PAGE, PAGE_STATES["single"])
    assert not at.exception
    text = all_text(at)
    assert "1 patients" in text or "1 of 32 patients" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "0/1"
    assert "Only 1 patients" in text


def test_patients_never_tested_are_not_evaluated_not_wild_type():
    at = run_page(PAGE, {"tp53": "not evaluated"})
    assert not at.exception
    text = all_text(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "not evaluable"
    assert "No TP53 variant recorded in this selection (nobody here was sequenced)" in text
    assert "0 of 13 patients in the selection were sequenced" in text


def test_sort_and_pair_come_from_the_url_and_widgets():
    at = run_page(PAGE, {"onco_sort": "Ploidy category", "co_a": "NRAS", "co_b": "TP53"})
    assert not at.exception
    assert at.selectbox(key="onco_sort").value == "Ploidy category"
    assert "**NRAS × TP53**" in all_text(at)
    at.selectbox(key="co_b").set_value("NRAS").run()
    assert "Pick two different alterations." in all_text(at)
    at.selectbox(key="co_b").set_value("BCR::ABL1").run()
    assert not at.exception


def test_bad_url_values_fall_back():
    at = run_page(PAGE, {"onco_sort": "nonsense", "co_a": "'; DROP TABLE"})
    assert not at.exception
    assert at.selectbox(key="onco_sort").value.startswith("Default")
    assert at.selectbox(key="co_a").value == "TP53"


def test_group_links_carry_the_filters():
    at = run_page(PAGE, {"institution": "Site A"})
    assert not at.exception
    links = at.get("page_link")
    unavailable = [c for c in at.caption if "page not available" in c.value]
    assert len(links) + len(unavailable) == 6
    for link in links:
        assert "group=" in link.proto.query_string and "institution=Site+A" in link.proto.query_string
