"""The Genomics page under AppTest: standard states, a never-tested patient, widgets."""

import re

from tests.apptest_helpers import PAGE_STATES, run_page
from tests.apptest_helpers import all_text as escaped_text


def all_text(at) -> str:
    """The page's text with Markdown escapes removed (result lines are escaped plain text)."""
    return re.sub(r"\\(.)", r"\1", escaped_text(at))


PAGE = "pages/genomics.py"


def test_full_cohort_shows_evaluable_denominators():
    at = run_page(PAGE, PAGE_STATES["full"])
    assert not at.exception
    text = all_text(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "9/19"
    assert metrics["Low hypodiploid (altered / evaluable)"] == "8/26"
    assert "13 not evaluated" in text
    specs = " ".join(str(c.proto.spec) for c in at.get("vega_lite_chart"))
    assert "Clopper-Pearson" in specs
    # only the open tab is computed: no oncoprint, co-occurrence test or karyotype in the first load
    assert "Oncoprint:" not in specs and "Fisher's exact test" not in text
    assert "Possible masked hypodiploidy" not in text
    assert at.selectbox(key="genomics.onco_sort") and at.selectbox(key="genomics.co_a")  # widgets (URL state) exist in every tab


def _tab(name, query=None):
    at = run_page(PAGE, {**(query or {}), "gen_tab": name})
    assert not at.exception
    assert at.session_state["genomics.tab"] == name
    return at, all_text(at), " ".join(str(c.proto.spec) for c in at.get("vega_lite_chart"))


def test_each_tab_computes_its_content_when_open():
    at, text, specs = _tab("Oncoprint")
    assert "Oncoprint: 32 patients" in specs and "Clopper-Pearson" not in specs
    at, text, specs = _tab("Co-occurrence")
    assert "patients evaluable for both" in text and "Fisher's exact test" in text
    assert len(at.get("vega_lite_chart")) == 1  # the pairwise heatmap
    at, text, specs = _tab("Karyotype & ploidy")
    assert "Possible masked hypodiploidy" in text and "Modal chromosome number" in specs
    at, text, specs = _tab("TP53")
    assert "TP53 mutated in 9 of 19 sequenced patients" in text
    assert len(at.get("vega_lite_chart")) == 2  # lollipop and VAF
    at, text, specs = _tab("Mutation table")
    assert "19 of 32 patients in the selection were sequenced" in text and not specs


def test_switching_tabs_by_widget_computes_the_new_tab():
    at = run_page(PAGE, PAGE_STATES["full"])
    at.session_state["genomics.tab"] = "Co-occurrence"
    at.run()
    assert not at.exception and "Fisher's exact test" in all_text(at)


def test_empty_filter_shows_a_clear_message():
    at = run_page(PAGE, PAGE_STATES["empty"])
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)


def test_single_patient():
    at = run_page(PAGE, PAGE_STATES["single"])
    assert not at.exception
    text = all_text(at)
    assert "1 patient · filters" in text and "1 of 32 patients" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "0/1"
    assert "Only 1 patient:" in text


def test_patients_never_tested_are_not_evaluated_not_wild_type():
    at = run_page(PAGE, {"tp53": "not evaluated"})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TP53 (altered / evaluable)"] == "not evaluable"
    text = all_text(run_page(PAGE, {"tp53": "not evaluated", "gen_tab": "TP53"}))
    assert "No TP53 variant recorded in this selection (nobody here was sequenced)" in text
    text = all_text(run_page(PAGE, {"tp53": "not evaluated", "gen_tab": "Mutation table"}))
    assert "0 of 13 patients in the selection were sequenced" in text


def test_sort_and_pair_come_from_the_url_and_widgets():
    at = run_page(PAGE, {"onco_sort": "Ploidy category", "co_a": "NRAS", "co_b": "TP53", "gen_tab": "Co-occurrence"})
    assert not at.exception
    assert at.selectbox(key="genomics.onco_sort").value == "Ploidy category"
    assert "NRAS × TP53: " in all_text(at)
    at.selectbox(key="genomics.co_b").set_value("NRAS").run()
    assert "Pick two different alterations." in all_text(at)
    at.selectbox(key="genomics.co_b").set_value("BCR::ABL1").run()
    assert not at.exception


def test_bad_url_values_fall_back():
    at = run_page(PAGE, {"onco_sort": "nonsense", "co_a": "'; DROP TABLE"})
    assert not at.exception
    assert at.selectbox(key="genomics.onco_sort").value.startswith("Default")
    assert at.selectbox(key="genomics.co_a").value == "TP53"


def test_group_links_carry_the_filters():
    at = run_page(PAGE, {"institution": "Site A"})
    assert not at.exception
    links = at.get("page_link")
    unavailable = [c for c in at.caption if "page not available" in c.value]
    assert len(links) + len(unavailable) == 6
    for link in links:
        assert "group=" in link.proto.query_string and "institution=Site+A" in link.proto.query_string


REPRODUCIBLE = {  # per tab: its views, each with a "Reproduce in Python" script
    "Frequencies": ["genomics_frequencies"], "Oncoprint": ["genomics_oncoprint"],
    "Co-occurrence": ["genomics_cooccurrence", "genomics_cooccurrence_pairs"],
    "Karyotype & ploidy": ["genomics_karyotype"], "Mutation table": ["genomics_mutations"],
    "TP53": ["genomics_tp53", "genomics_tp53_vaf"]}


def test_each_view_offers_its_script_and_notebook():
    """The file-backed demo cohort: every open tab's views have both Reproduce downloads."""
    for tab, stems in REPRODUCIBLE.items():
        at = run_page(PAGE, {"gen_tab": tab})
        assert not at.exception
        buttons = [b for b in at.get("download_button") if b.proto.label.startswith("Reproduce")]
        ids = " ".join(b.proto.id for b in buttons)
        assert [b.proto.label for b in buttons] == ["Reproduce in Python (.py)",
                                                    "Reproduce as a notebook (.ipynb)"] * len(stems), tab
        for stem in stems:
            assert f"repro_py_{stem}" in ids and f"repro_nb_{stem}" in ids, (tab, ids)


def _reproduce_labels(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button") if b.proto.label.startswith("Reproduce")]


def test_no_script_where_the_page_withholds_rows_or_counts(monkeypatch):
    """A script prints every variant and every count: none for the mutation table of a public
    deployment (the table itself is hidden there), none under small-cell suppression."""
    monkeypatch.setenv("BALL_PUBLIC_DEPLOYMENT", "1")
    at = run_page(PAGE, {"gen_tab": "Mutation table"})
    assert not at.exception and "variant-level table and its download are not shown" in all_text(at)
    assert not _reproduce_labels(at)
    assert len(_reproduce_labels(run_page(PAGE, {"gen_tab": "Co-occurrence"}))) == 4  # aggregates: offered
    monkeypatch.delenv("BALL_PUBLIC_DEPLOYMENT")
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    at = run_page(PAGE, {"gen_tab": "Frequencies"})
    assert not at.exception and "Counts below 5" in all_text(at)
    assert not _reproduce_labels(at)
