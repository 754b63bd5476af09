"""The compare page's spec and views: link round trips, the cohort's numbers equal the analytics
the other pages use, the reproduction check reproduces F1-F12 from the built DuckDB file,
overlap and pooling rules, small-cell suppression, and a cohort that is not the demo."""
from __future__ import annotations

import dataclasses
import math
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from analytics import compare, overview, response
from analytics.build import DEMO_SOURCE, build_in_memory
from analytics.compare import POOLING_METHODS
from analytics.filters import CohortFilter
from analytics.published import CHARACTERISTICS, load_published
from analytics.synthetic import build_synthetic_in_memory
from analytics.views import compare as views
from analytics.views.compare import CURRENT, PROPORTIONS, ComparePageSpec as Spec
from analytics.views.registry import pages

NO_FILTER = CohortFilter()


# --- spec ---------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.sampled_from(PROPORTIONS), st.booleans(), st.sampled_from(tuple(POOLING_METHODS)),
       st.sampled_from(views.TABS))
def test_spec_round_trips_through_its_link(characteristic, pool, method, tab):
    spec = Spec(characteristic=characteristic, pool_cohort=pool, method=method, tab=tab)
    params: dict[str, list[str]] = {}
    for name, value in spec.to_params():
        params.setdefault(name, []).append(value)
    again, notices = Spec.from_params(params)
    assert again == spec and notices == []


def test_default_spec_writes_no_parameter_and_invalid_values_fall_back_with_a_notice():
    assert Spec().to_params() == []
    spec, notices = Spec.from_params({"forest": "age_ball", "pool_cohort": "maybe", "pool_method": "reml"})
    assert spec == Spec()
    assert len(notices) == 3 and notices[0].startswith('forest: "age_ball" is not one of')


def test_the_page_owns_no_parameter_of_another_page_or_of_the_filters():
    others = {p for page, views_ in pages().items() if page != "compare" for p in views_.spec.params()}
    filters = set(CohortFilter(age=(1, 2), tp53=("mutated",), hct=True).to_query_params())
    filters |= {f.name for f in dataclasses.fields(CohortFilter)}
    assert "age" in filters and not set(Spec.params()) & (others | filters)


def test_registered_for_the_deck_and_report():
    registered = pages()["compare"]
    assert registered.spec is Spec and registered.title == "Compare with published series"
    assert not registered.patient_level


# --- the cohort's numbers come from the app's analytics -------------------------------------------
def test_cohort_figures_equal_table_one_best_response_and_current_status(demo_file_db):
    figures = compare.cohort_figures(demo_file_db, NO_FILTER)
    t1 = overview.table_one(demo_file_db, NO_FILTER).set_index(["characteristic", "level"])
    assert (figures["tp53_mutated"].numerator, figures["tp53_mutated"].denominator) == (
        t1.loc[("TP53", "mutated"), "n"], t1.loc[("TP53", "mutated"), "evaluable"])
    age = t1.loc[("Age at B-ALL diagnosis, years", "median (range)")]
    assert (figures["age_ball"].median, figures["age_ball"].low, figures["age_ball"].high) == (
        age["median"], age["min"], age["max"])
    best = response.best_response_brief(demo_file_db, NO_FILTER)
    assert (figures["cr_cri_treated"].numerator, figures["cr_cri_treated"].denominator) == (
        best.n_responders, best.n_treated_assessed)
    assert (figures["alive_ned"].numerator, figures["alive_ned"].denominator) == response.alive_ned_count(
        demo_file_db, NO_FILTER)
    assert set(figures) == set(CHARACTERISTICS)
    only = compare.cohort_figures(demo_file_db, NO_FILTER, ("cr_cri_treated", "age_ball"))
    assert only == {"cr_cri_treated": figures["cr_cri_treated"], "age_ball": figures["age_ball"]}
    with pytest.raises(ValueError, match="unknown characteristic"):
        compare.cohort_figures(demo_file_db, NO_FILTER, ("tp53",))


def test_comparison_table_keeps_computed_and_published_rows_apart(demo_file_db):
    result = views.comparison(demo_file_db, NO_FILTER, Spec())
    table = result.tables["comparison"]
    current = table[table["Source"] == CURRENT]
    published = table[table["Source"] != CURRENT]
    assert len(current) == len(load_published()["characteristic"].unique())
    assert published["Source"].str.contains(r"\(published; \d+ patients\)").all()
    assert current["Compared with the current cohort"].eq("").all()
    tp53 = table.index[table["Characteristic"] == "TP53 mutated"][0]
    assert table.loc[tp53, "Value"] == "9/19 (47%)" and table.loc[tp53, "Exact 95% CI"] == "24 to 71%"
    tests = result.tables["tests"].set_index(["characteristic", "series_id"])
    assert tests.loc[("tp53_mutated", "bloodadv2023_clonal"), "p_fisher"] == pytest.approx(
        compare.fisher_p(9, 19, 14, 17))
    assert tests.loc[("tp53_mutated", "geyer2023"), "p_fisher"] == pytest.approx(1.0)
    assert math.isnan(tests.loc[("age_ball", "mskcc2017"), "p_fisher"])
    medians = published[published["Value"].str.startswith("median")]
    assert medians["Compared with the current cohort"].eq(views.NO_TEST_MEDIAN).all()
    assert result.numbers["tests"] == tests["p_fisher"].notna().sum()
    headings = [c.heading for c in result.caveats]
    assert {"Overlapping series", "Synthetic demo", "Definitions differ", "Small series"} <= set(headings)
    assert "p < 0.05 (unadjusted): TP53 mutated vs Blood Adv 2023;7(2):236" in result.lines[0]


def test_reproduction_check_is_12_of_12_from_the_built_file(demo_file_db):
    result = views.reproduction(demo_file_db, NO_FILTER, Spec())
    table = result.tables["reproduction"]
    assert list(table["Figure"]) == [f"F{i}" for i in range(1, 13)]
    assert (table["Agreement"] == "✓ agrees").all()
    assert (result.numbers["agree"], result.numbers["total"]) == (12, 12)
    assert result.lines == ("12 of 12 published figures reproduced.",)
    assert result.caveats == ()


def test_reproduction_check_ignores_the_sidebar_filters(demo_file_db):
    filtered = views.reproduction(demo_file_db, CohortFilter(tp53=("mutated",)), Spec())
    assert filtered.numbers["agree"] == 12
    assert [c.heading for c in filtered.caveats] == ["Filters not applied"]


def test_reproduction_check_marks_a_figure_that_differs(demo_file_db, monkeypatch):
    figures = compare.cohort_figures(demo_file_db, NO_FILTER)
    changed = dict(figures, tp53_mutated=compare.CohortFigure("tp53_mutated", numerator=10, denominator=19, n=19))
    monkeypatch.setattr(compare, "cohort_figures", lambda db, f: changed)
    result = views.reproduction(demo_file_db, NO_FILTER, Spec())
    table = result.tables["reproduction"].set_index("Figure")
    assert table.loc["F6", "Agreement"] == "✗ differs"
    assert result.numbers["agree"] == 11


# --- forest plot and pooling ----------------------------------------------------------------------
def test_forest_pools_the_published_series_and_draws_the_cohort_apart(demo_file_db):
    result = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="tp53_mutated"))
    pooled = result.numbers["pooled"]
    assert pooled == compare.pool_proportions([(9, 19), (14, 17), (4, 9)], "dl")
    frame = result.tables["forest"]
    assert list(frame["group"]) == [views.PUBLISHED] * 3 + [views.POOLED, CURRENT]
    assert frame["row"].iloc[-1] == "Current cohort: 9/19 (computed)"
    assert result.figure is not None and result.lines[0].startswith("TP53 mutated: pooled ")
    assert f"I² {100 * pooled.i2:.0f}%" in result.lines[0]


def test_a_series_included_in_another_is_drawn_but_not_pooled(demo_file_db):
    result = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="bcr_abl1_positive"))
    rows = list(result.tables["forest"]["row"])
    assert any(r.startswith("MSKCC abstract 2017") for r in rows)
    assert result.numbers["pooled"].k == 2  # Geyer et al. 2023 and MD Anderson, not the MSKCC subset
    assert result.numbers["pooled"] == compare.pool_proportions([(1, 32), (0, 9)])
    assert any(c.heading == "Overlapping series" and "MSKCC abstract 2017" in c.text for c in result.caveats)
    assert any(c.heading == "Continuity correction" for c in result.caveats)


def test_pooling_the_demo_with_the_study_it_copies_is_flagged(demo_file_db):
    result = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="tp53_mutated", pool_cohort=True))
    assert result.numbers["pooled"] == compare.pool_proportions([(9, 19), (14, 17), (4, 9), (9, 19)])
    assert result.numbers["with_cohort"]
    assert any(c.heading == "Counted twice" for c in result.caveats)
    pooled_row = result.tables["forest"]["row"].iloc[3]
    assert pooled_row == "Pooled, DerSimonian-Laird (3 published series + the current cohort)"


def test_one_series_only_gives_no_pooled_estimate(demo_file_db):
    result = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="low_hypodiploid"))
    assert result.numbers["pooled"] is None
    assert "no pooled estimate" in result.lines[0]
    result = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="low_hypodiploid", pool_cohort=True))
    assert result.numbers["pooled"].k == 2


def test_paule_mandel_is_used_when_chosen(demo_file_db):
    result = views.forest(demo_file_db, NO_FILTER, Spec(method="pm"))
    assert result.numbers["pooled"] == compare.pool_proportions([(9, 19), (14, 17), (4, 9)], "pm")
    assert "Paule-Mandel" in result.caption


# --- filters, suppression, other cohorts --------------------------------------------------------
def test_no_patients_and_one_patient(demo_file_db):
    nobody = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))
    table = views.comparison(demo_file_db, nobody, Spec()).tables["comparison"]
    assert "no test possible: no evaluable patients in the current cohort" in set(
        table["Compared with the current cohort"])
    assert views.forest(demo_file_db, nobody, Spec()).tables["forest"]["group"].tolist().count(CURRENT) == 0
    one = CohortFilter(age=(48, 48))
    result = views.comparison(demo_file_db, one, Spec())
    assert result.n_patients == 1 and "1 patient;" in result.caption
    assert views.slides(demo_file_db, one, Spec(), 0)


def test_small_cell_suppression_hides_small_cohort_counts_and_their_tests(demo_file_db):
    k = 5
    result = views.comparison(demo_file_db, NO_FILTER, Spec(), k)
    table = result.tables["comparison"]
    bcr = table.index[table["Characteristic"] == "BCR::ABL1 positive"][0]
    assert table.loc[bcr, "Value"] == "<5/32" and table.loc[bcr, "Exact 95% CI"] == ""
    bcr_tests = table.loc[bcr + 1: bcr + 3, "Compared with the current cohort"]
    assert bcr_tests.str.startswith("withheld").all()
    assert any(c.heading == "Small-cell suppression" for c in result.caveats)
    plot = views.forest(demo_file_db, NO_FILTER, Spec(characteristic="bcr_abl1_positive", pool_cohort=True), k)
    assert CURRENT not in set(plot.tables["forest"]["group"])
    assert plot.numbers["cohort_numerator"] is None and not plot.numbers["with_cohort"]
    check = views.reproduction(demo_file_db, NO_FILTER, Spec(), k)
    marks = check.tables["reproduction"].set_index("Figure")["Agreement"]
    assert marks["F3"] == "not shown (count below 5)" and "1/32" not in check.tables["reproduction"].loc[
        2, "Computed from this cohort"]
    assert check.numbers["agree"] + check.numbers["hidden"] == 12
    assert marks["F1"] == "✓ agrees"  # 2 institutions: a count of sites, not of patients
    assert marks["F9"].startswith("not shown")  # 4 untreated of 32


def loaded_cohort(tmp_path):
    """The demo's files as a cohort someone loaded: not marked synthetic."""
    folder = tmp_path / "cohort"
    shutil.copytree(DEMO_SOURCE, folder)
    info = pd.read_csv(folder / "cohort_info.csv")
    info["synthetic"] = "false"
    info["cohort_name"] = "Loaded test cohort"
    info.to_csv(folder / "cohort_info.csv", index=False)
    return build_in_memory(folder)


def test_a_loaded_cohort_gets_the_shared_patients_caveat_and_no_reproduction_slide(tmp_path):
    db = loaded_cohort(tmp_path)
    assert not db.synthetic
    results = views.slides(db, NO_FILTER, Spec(), 0)
    assert [r.key for r in results] == ["compare.table", "compare.forest"]
    assert any(c.heading == "Shared patients" for c in results[0].caveats)
    check = views.reproduction(db, NO_FILTER, Spec())
    assert [c.heading for c in check.caveats] == ["Not the demo"]


def test_slides_of_the_demo_and_of_a_larger_synthetic_cohort(demo_file_db):
    assert [r.key for r in views.slides(demo_file_db, NO_FILTER, Spec(), 0)] == [
        "compare.table", "compare.forest", "compare.reproduction"]
    big = build_synthetic_in_memory(3000, seed=4)
    results = views.slides(big, NO_FILTER, Spec(), 5)
    assert results[0].n_patients == 3000
    figures = compare.cohort_figures(big, NO_FILTER)
    assert figures["patients"].numerator == 3000
    assert results[1].numbers["cohort_denominator"] == figures["tp53_mutated"].denominator


def test_methods_paragraphs_name_the_estimators_and_their_references(demo_file_db):
    dl = views.forest(demo_file_db, NO_FILTER, Spec()).methods
    pm = views.forest(demo_file_db, NO_FILTER, Spec(method="pm")).methods
    assert "DerSimonian-Laird" in dl and "DerSimonian R, Laird N." in dl and "statsmodels 0.15.0" in dl
    assert "Paule-Mandel" in pm and "Paule RC, Mandel J." in pm and "DerSimonian R" not in pm
    table = views.comparison(demo_file_db, NO_FILTER, Spec()).methods
    assert "Fisher exact test" in table and "Clopper CJ, Pearson ES." in table
