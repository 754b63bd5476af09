"""The Response and Withdrawal page specs and view results (issue 14): links round-trip, invalid
values fall back with a notice, a page's spec reads only its own parameters; each view's numbers
are the analytics' own; caveats are there when they should be; slides are the page's results
(only the suppression-honouring best response under small-cell suppression); text is plain."""
from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings, strategies as st

from analytics import response, withdrawal
from analytics.response import flow, swimmer
from analytics.build import build_in_memory
from analytics.figure_export import Provenance, export_figure
from analytics.filters import CohortFilter
from analytics.views import response as rv, withdrawal as wv
from analytics.views.result import ViewResult
from tests.apptest_helpers import ROOT, run_page

ALL, SINGLE, S15 = CohortFilter(), CohortFilter(age=(48, 48)), CohortFilter(age=(68, 68))
EMPTY = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))
RESPONSE_VIEWS = [rv.best_response, rv.by_group, rv.mrd_and_time_to_cr, rv.swimmer, rv.treatment_flow,
                  rv.current_status, rv.untreated]
WITHDRAWAL_VIEWS = [wv.trajectories, wv.kinetics, wv.timing]
MARKDOWN = re.compile(r"\*\*|__|`|^#|\[.*\]\(", re.M)


@pytest.fixture(scope="module")
def db():
    return build_in_memory(ROOT / "data" / "demo_cohort")


def _texts(result: ViewResult) -> list[str]:
    return [result.title, result.caption, *result.lines, *result.caveat_sentences()]


# --- specs --------------------------------------------------------------------------------------
response_specs = st.builds(rv.ResponseSpec, group=st.sampled_from(list(response.GROUP_FEATURES)),
                           origin=st.sampled_from(list(response.TIME_ORIGINS)),
                           sort=st.sampled_from(list(swimmer.SORTS)),
                           swimmer_origin=st.sampled_from(list(swimmer.ORIGINS)))
withdrawal_specs = st.builds(
    wv.WithdrawalSpec, analyte=st.sampled_from(list(withdrawal.ANALYTE_OPTIONS)),
    specimen=st.sampled_from(withdrawal.SPECIMENS), axis=st.sampled_from(list(withdrawal.TIME_AXES)),
    scale=st.sampled_from(withdrawal.SCALES), layout=st.sampled_from(list(wv.LAYOUTS)),
    # the link writes numbers with 6 significant digits (as the page always did)
    partial=st.integers(10, 1000).map(lambda x: x / 10), rise=st.integers(1, 1000).map(float),
    window=st.integers(0, 365))


@settings(max_examples=60, deadline=None)
@given(spec=st.one_of(response_specs, withdrawal_specs))
def test_spec_round_trips_through_its_link(spec):
    params: dict[str, list[str]] = {}
    for key, value in spec.to_params():
        params.setdefault(key, []).append(value)
    again, notices = type(spec).from_params(params)
    assert again == spec and notices == []
    assert set(params) <= set(type(spec).params())
    assert spec.validated() == spec


def test_default_specs_write_no_parameters():
    assert rv.ResponseSpec().to_params() == [] and wv.WithdrawalSpec().to_params() == []
    assert rv.ResponseSpec().describe() == "defaults"


def test_link_parameters_keep_their_names():
    assert rv.ResponseSpec.params() == ("group", "resp_origin", "resp_sort", "resp_swimmer_origin")
    assert wv.WithdrawalSpec.params() == ("wd_analyte", "wd_specimen", "wd_axis", "wd_scale", "wd_layout",
                                          "wd_partial", "wd_rise", "wd_window")
    assert rv.ResponseSpec.session_key("group") == "response.group"  # not the survival page's `group`


@pytest.mark.parametrize("params, field", [
    ({"group": "patient_id; DROP TABLE events"}, "group"), ({"resp_sort": "sideways"}, "sort"),
    ({"resp_origin": ""}, "origin"), ({"resp_swimmer_origin": "relapse"}, "swimmer_origin")])
def test_invalid_response_values_fall_back_with_a_notice(params, field):
    spec, notices = rv.ResponseSpec.from_params(params)
    assert getattr(spec, field) == getattr(rv.ResponseSpec(), field)
    assert len(notices) == 1 and notices[0].startswith(next(iter(params)) + ":")


@pytest.mark.parametrize("params", [{"wd_partial": "nan"}, {"wd_partial": "inf"}, {"wd_partial": "0"},
                                    {"wd_rise": "1e309"}, {"wd_rise": "abc"}, {"wd_window": "2.5"},
                                    {"wd_window": "-1"}, {"wd_analyte": "value; DROP"}, {"wd_scale": "sqrt"}])
def test_invalid_withdrawal_values_fall_back_with_a_notice(params):
    spec, notices = wv.WithdrawalSpec.from_params(params)
    assert spec == wv.WithdrawalSpec() and len(notices) == 1


def test_a_spec_ignores_other_pages_parameters():
    # the survival page's `group` (e.g. hct) is not a response grouping: default, with a notice
    spec, notices = rv.ResponseSpec.from_params({"group": "hct", "endpoint": "OS", "wd_scale": "log"})
    assert spec == rv.ResponseSpec() and len(notices) == 1
    assert wv.WithdrawalSpec.from_params({"group": "tp53_status", "resp_sort": "duration"}) == (wv.WithdrawalSpec(), [])


def test_spec_values_from_widgets_are_validated():
    bad = wv.WithdrawalSpec(partial=math.nan, rise=5000.0, window=3.5, scale="sqrt").validated()
    assert bad == wv.WithdrawalSpec()
    assert rv.ResponseSpec(group="hct").validated() == rv.ResponseSpec()
    assert wv.WithdrawalSpec(window=7.0).validated().window == 7 and isinstance(wv.WithdrawalSpec(window=7.0).validated().window, int)
    assert wv.WithdrawalSpec(partial=65, rise=30.0, window=10).rule == withdrawal.RegressionRule(65.0, 30.0, 10)


# --- response views -----------------------------------------------------------------------------
def test_best_response_numbers_are_the_analytics(db):
    s = response.best_response_summary(db, ALL)
    result = rv.best_response(db, ALL, rv.ResponseSpec())
    n = result.numbers
    assert (n["n_responders"], n["n_treated_assessed"], n["n_treated"], n["n_untreated"]) == (25, 28, 28, 4)
    assert (n["rate"], n["ci_low"], n["ci_high"]) == (s.rate, s.ci_low, s.ci_high)
    assert result.lines == ("CR or CRi: 25/28 treated patients with an assessment (89.3%, exact 95% CI "
                            "71.8–97.7%).",)
    assert "exact (Clopper-Pearson) 95% CI" in result.caption
    assert list(result.tables["best_response"]["n/N"]) == ["20/28", "5/28", "1/28", "1/28", "1/28"]


def test_best_response_under_suppression_hides_small_counts(db):
    result = rv.best_response(db, ALL, rv.ResponseSpec(), 5)
    assert list(result.tables["best_response"]["n/N"]) == ["20/28", "5/28", "<5/28", "<5/28", "<5/28"]
    assert "n_responders" not in result.numbers and "ci_low" not in result.numbers  # 28 - 25 = 3 < 5
    assert result.numbers["responders_text"] == "suppressed/28"
    assert "n_untreated" not in result.numbers and result.numbers["treated_text"] == "suppressed / <5"
    assert not any(re.search(r"(?<![<\w./])[1-4]/\d", text) for text in _texts(result))
    assert "Counts below 5 are shown as <5" in result.caption


def test_by_group_caveats_and_test(db):
    tp53 = rv.by_group(db, ALL, rv.ResponseSpec(group="tp53_status"))
    comp = response.response_by_group(db, ALL, "tp53_status")
    n_excluded = int(comp.rates.loc[~comp.rates["evaluable"], "n"].sum())
    assert n_excluded > 1
    assert f"{n_excluded} patients with TP53 not evaluated are shown but left out of the test." in \
        tp53.caveat_sentences()[0]
    assert tp53.numbers["p_value"] == comp.p_value and tp53.lines[0].startswith("Fisher's exact test")
    regimen = rv.by_group(db, ALL, rv.ResponseSpec())
    assert regimen.lines[0].startswith("Freeman-Halton exact test (5×2, two-sided)")
    assert any(c.heading == "Small groups" for c in regimen.caveats)  # 1 patient on TKI
    single = rv.by_group(db, SINGLE, rv.ResponseSpec())
    assert single.lines == ("No test: fewer than two groups with evaluable patients.",)


def test_by_group_axis_title_is_never_cut(db):
    chart = rv.by_group(db, ALL, rv.ResponseSpec()).figure.to_dict()
    titles = [layer["encoding"]["x"].get("title") for layer in chart["layer"] if "title" in layer["encoding"]["x"]]
    assert titles == [["CR/CRi among treated patients, %", "(exact 95% CI)"]]
    svg = export_figure(rv.by_group(db, ALL, rv.ResponseSpec()).figure,
                        Provenance("demo", True, 28, "no filters"), "svg").decode()
    assert "CR/CRi among treated patients, %" in svg and "(exact 95% CI)" in svg


def test_mrd_view_is_the_counted_summary(db):
    result = rv.mrd_and_time_to_cr(db, ALL, rv.ResponseSpec(origin="diagnosis"))
    mrd, ttc = response.mrd_summary(db, ALL), response.time_to_cr_brief(db, ALL, "diagnosis")
    assert (result.numbers["n_responders"], result.numbers["n_mrd_negative"]) == (mrd.n_responders, mrd.n_negative)
    assert result.numbers["ttc_median_days"] == ttc.median_days
    assert "from the B-ALL diagnosis" in result.lines[1]
    none = rv.mrd_and_time_to_cr(db, CohortFilter(treated=False), rv.ResponseSpec())
    assert none.numbers["n_responders"] == 0 and none.caveats[0].level == "info"


def test_swimmer_flow_status_untreated(db):
    swim = rv.swimmer(db, ALL, rv.ResponseSpec(sort="duration", swimmer_origin="treatment"))
    assert swim.figure is not None and swim.figure_name == "swimmer_treatment"
    assert "Sorted by follow-up duration" in swim.caption
    assert swim.figure.to_dict()["layer"][0]["encoding"]["y"]["sort"][:3] == \
        swimmer.swimmer_chart(db, ALL, "duration", "treatment").to_dict()["layer"][0]["encoding"]["y"]["sort"][:3]
    paths = rv.treatment_flow(db, ALL, rv.ResponseSpec())
    assert paths.tables["paths"].equals(flow.flow_counts(db, ALL))
    status = rv.current_status(db, ALL, rv.ResponseSpec())
    assert status.numbers["n_alive_ned"] == 16 and status.lines[0].endswith("16 of 32 patients.")
    assert rv.current_status(db, SINGLE, rv.ResponseSpec()).lines[0].endswith("of 1 patient.")
    untreated = rv.untreated(db, ALL, rv.ResponseSpec())
    assert untreated.numbers["n_untreated"] == 4 and len(untreated.tables["untreated"]) == 4


@pytest.mark.parametrize("view", RESPONSE_VIEWS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("f", [ALL, SINGLE, EMPTY], ids=["all", "single", "empty"])
def test_response_views_are_plain_text_without_hover_hints(db, view, f):
    result = view(db, f, rv.ResponseSpec(group="tp53_status"))
    assert result.page == "response" and result.key.startswith("response.")
    for text in _texts(result):
        assert not MARKDOWN.search(text), text
        assert "hover" not in text.lower() and "point at" not in text.lower()
        assert not re.search(r"\b1 (patients|responders)\b", text), text
    assert len(result.caption) <= 300


@pytest.mark.parametrize("view", RESPONSE_VIEWS[1:], ids=lambda v: v.__name__)
def test_patient_level_response_views_are_withheld_under_suppression(db, view):
    result = view(db, ALL, rv.ResponseSpec(), 5)
    assert result.figure is None and not result.tables and result.caveats[0].heading == "Withheld"


def test_response_slides(db):
    spec = rv.ResponseSpec(group="tp53_status", sort="duration")
    slides = rv.slides(db, ALL, spec, 0)
    assert [s.key for s in slides] == ["response.best_response", "response.by_group", "response.swimmer"]
    assert slides[1].title == "Response: CR/CRi by TP53" and slides[1].caveats  # its warnings travel
    assert slides[1].lines == rv.by_group(db, ALL, spec).lines  # the page's own result
    assert [s.key for s in rv.slides(db, ALL, spec, 5)] == ["response.best_response"]
    assert rv.slides(db, ALL, spec, 5)[0].tables["best_response"].equals(
        rv.best_response(db, ALL, spec, 5).tables["best_response"])
    untreated_only = rv.slides(db, CohortFilter(treated=False), spec, 0)
    assert [s.key for s in untreated_only] == ["response.swimmer"]


# --- withdrawal views ---------------------------------------------------------------------------
def test_kinetics_numbers_are_the_page_view(db):
    spec = wv.WithdrawalSpec(partial=65.0)
    result = wv.kinetics(db, ALL, spec)
    view = withdrawal.page_view(db, ALL, withdrawal.LEUKEMIC, "marrow", spec.rule)
    assert (result.numbers["regressors"], result.numbers["assessable"]) == (view.regressors, view.assessable) == (3, 9)
    assert result.numbers["counts"] == view.counts
    assert result.tables["kinetics"].equals(view.kinetics_head)
    assert result.tables["continuous"].equals(view.continuous)
    assert result.lines[0].startswith("Regression before B-ALL therapy: 3 of 9 assessable patients")
    # the kinetics depend on the analysis options only (one cached result for every drawing)
    assert wv.kinetics(db, ALL, spec.with_(scale="log", layout="facet")) .numbers == result.numbers
    assert spec.with_(scale="log", axis="diagnosis").analysis() == spec.analysis() == spec.with_(layout="facet").analysis()


def test_kinetics_caveats(db):
    full = wv.kinetics(db, ALL, wv.WithdrawalSpec())
    headings = [c.heading for c in full.caveats]
    assert headings == [wv.SINGLE_MEASUREMENT, wv.SMALL_SAMPLES]
    assert full.caveats[1].text.startswith("5 regressors vs 4 assessable others (1 not assessable")
    s15 = wv.kinetics(db, S15, wv.WithdrawalSpec())
    assert [c.heading for c in s15.caveats] == [wv.SINGLE_MEASUREMENT, wv.NO_COMPARISON]
    assert s15.caveats[0].text.startswith("S15 has one measurement only") and "this patient is" in s15.caveats[0].text


def test_trajectories(db):
    result = wv.trajectories(db, ALL, wv.WithdrawalSpec())
    assert result.figure is not None and result.n_patients == result.numbers["n_series"] == 10
    assert result.caption == withdrawal.RegressionRule().summary() and len(result.caption) <= 300
    assert "50%" in result.caption and "25%" in result.caption
    assert result.lines == ("10 of 32 selected patients have measurements of leukemic B cells (B lymphoblasts, "
                            "else immature B cells) in marrow.", wv.kinetics(db, ALL, wv.WithdrawalSpec()).lines[0])
    assert result.lines[1].startswith("Regression before B-ALL therapy: 5 of 9 assessable patients (2 complete")
    stricter = wv.trajectories(db, ALL, wv.WithdrawalSpec(partial=65.0, rise=40.0, window=10))
    assert "reduction of 65% or more" in stricter.caption and "rise of 40% or more" in stricter.caption
    assert "within 10 days" in stricter.caption
    assert wv.trajectories(db, ALL, wv.WithdrawalSpec(layout="facet")).figure.to_dict()["facet"]
    none = wv.trajectories(db, SINGLE, wv.WithdrawalSpec())
    assert none.figure is None and none.caveats[0].text.startswith("None of the 1 patient selected has")


def test_timing(db):
    result = wv.timing(db, ALL, wv.WithdrawalSpec())
    assert result.numbers == {"n_patients": 32, "n_with_stop": 32} and result.figure is not None
    assert "for 1 of 1 selected patient " in wv.timing(db, SINGLE, wv.WithdrawalSpec()).lines[0]


@pytest.mark.parametrize("view", WITHDRAWAL_VIEWS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("f", [ALL, SINGLE, S15, EMPTY], ids=["all", "single", "s15", "empty"])
def test_withdrawal_views_are_plain_text(db, view, f):
    result = view(db, f, wv.WithdrawalSpec(scale="log"))
    assert result.page == "withdrawal" and result.key.startswith("withdrawal.")
    for text in _texts(result):
        assert not MARKDOWN.search(text), text
        assert "hover" not in text.lower()
    assert len(result.caption) <= 300
    assert view(db, f, wv.WithdrawalSpec(), 5).figure is None  # withheld under suppression


def test_withdrawal_slides(db):
    spec = wv.WithdrawalSpec(scale="log", partial=65.0)
    slides = wv.slides(db, ALL, spec, 0)
    assert [s.key for s in slides] == ["withdrawal.trajectories"]
    assert slides[0].caption == spec.rule.summary() and "**" not in slides[0].caption
    assert wv.slides(db, ALL, spec, 5) == [] and wv.slides(db, SINGLE, spec, 0) == []


# --- pages ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["response", "withdrawal"])
@pytest.mark.parametrize("query", [{}, {"age": "48-48"}, {"tp53": "mutated", "bcr_abl1": "positive"}],
                         ids=["all", "single", "empty"])
def test_page_renders_without_exception(page, query):
    at = run_page(f"pages/{page}.py", query)
    assert not at.exception


def test_response_link_carries_only_its_own_options():
    at = run_page("pages/response.py", {"group": "tp53_status", "resp_sort": "duration"})
    assert not at.exception
    at.radio(key="response.swimmer_origin").set_value("treatment").run()
    assert not at.exception
    params = {k: at.query_params[k] for k in at.query_params}
    options = {k: v for k, v in params.items() if k in rv.ResponseSpec.params()}
    assert {k: (v if isinstance(v, str) else v[0]) for k, v in options.items()} == {
        "group": "tp53_status", "resp_sort": "duration", "resp_swimmer_origin": "treatment"}
    at.selectbox(key="response.group").set_value(response.DEFAULT_GROUP).run()
    assert "group" not in at.query_params  # the default is not written


@pytest.mark.parametrize("view", [rv.swimmer, rv.treatment_flow], ids=lambda v: v.__name__)
def test_static_exports_carry_no_hover_hint(db, view):
    result = view(db, ALL, rv.ResponseSpec())
    assert "Hover" in str(result.figure.to_dict())  # on screen the hint helps
    svg = export_figure(result.figure, Provenance("demo", True, result.n_patients, "no filters"), "svg").decode()
    assert "Hover" not in svg and "hover" not in svg


def test_trajectories_above_the_cap_say_so_and_give_no_counts_of_the_drawn_few():
    from analytics.synthetic import build_synthetic_in_memory
    big = build_synthetic_in_memory(3000, seed=21)
    result = wv.trajectories(big, ALL, wv.WithdrawalSpec())
    n_series = result.numbers["n_series"]
    assert n_series > withdrawal.PATIENTS_DRAWN_MAX == result.numbers["n_drawn"]
    assert result.caveats[0].text.startswith(f"The first {withdrawal.PATIENTS_DRAWN_MAX} of {n_series:,} patients")
    assert len(result.lines) == 1  # the class counts of every patient are the kinetics view's
    counts = wv.kinetics(big, ALL, wv.WithdrawalSpec()).numbers["counts"]
    assert sum(counts.values()) == n_series
