"""Overview views: the spec, Table 1, the exposure plots, the headline numbers and the slides."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from analytics import overview
from analytics.filters import CohortFilter
from analytics.stats import clopper_pearson
from analytics.views import overview as views
from analytics.views.overview import OverviewSpec

SINGLE = CohortFilter.from_query_params({"age": "48-48"})
EMPTY = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))
FILTERS = [CohortFilter(), SINGLE, EMPTY, CohortFilter(sex=("F",)), CohortFilter(institution=("Site B",)),
           CohortFilter(tp53=("mutated",)), CohortFilter(ploidy=("low hypodiploid",)),
           CohortFilter.from_query_params({"age": "60-70"}), CohortFilter(hct=True)]


def test_spec_has_only_its_grouping_and_ignores_other_pages_params():
    spec, notices = OverviewSpec.from_params({"onco_sort": "TP53", "patient": "S05", "tp53": "mutated"})
    assert spec == OverviewSpec() and notices == [] and spec.to_params() == [] and OverviewSpec.params() == ("t1_group",)
    grouped, _ = OverviewSpec.from_params({"t1_group": "hct", "group": "sex"})  # survival's `group` is not ours
    assert grouped.to_params() == [("t1_group", "hct")]


def test_table_one_view_is_table_one(demo_db):
    result = views.table_one(demo_db, CohortFilter(), OverviewSpec())
    t1 = result.tables["Table 1"]
    expected = overview.table_one(demo_db, CohortFilter())
    assert t1[expected.columns].equals(expected)
    assert result.n_patients == 32 and "never enters a denominator" in result.caption
    assert not result.caveats
    suppressed = views.table_one(demo_db, CohortFilter(), OverviewSpec(), 5)
    assert [c.heading for c in suppressed.caveats] == ["Small cells"]
    assert (suppressed.tables["Table 1"]["display"].str.startswith("<5")).any()


@pytest.mark.parametrize("view, measure", [(views.latency, "latency_months"),
                                           (views.cumulative_exposure, "cumulative_months")])
def test_exposure_views_are_the_exposure_charts(demo_db, view, measure):
    result = view(demo_db, CohortFilter(), OverviewSpec())
    assert result.figure.to_dict()["title"] == overview.exposure_chart(demo_db, CohortFilter(), measure).to_dict()["title"]
    assert result.n_patients == overview.exposure_counts(demo_db, CohortFilter(), measure)[0] == 32
    assert result.caption.startswith("One dot per patient") and "Hover" not in result.caption
    withheld = view(demo_db, CohortFilter(), OverviewSpec(), 5)
    assert withheld.figure is None and withheld.caveats[0].heading == "Withheld"


def test_headline_numbers_come_from_table_one(demo_db):
    numbers = views.headline(demo_db, CohortFilter(), OverviewSpec()).numbers
    t1 = overview.table_one(demo_db, CohortFilter())
    assert numbers["n_patients"] == int(t1.loc[t1.kind == "count", "n"].iloc[0])
    for name, (characteristic, level) in views.HEADLINE_PROPORTIONS.items():
        row = t1[(t1.characteristic == characteristic) & (t1.level == level)].iloc[0]
        value = numbers[name]
        assert (value["n"], value["evaluable"]) == (int(row.n), int(row.evaluable))
        assert (value["ci_low"], value["ci_high"]) == pytest.approx(clopper_pearson(int(row.n), int(row.evaluable)))
        assert value["evaluable"] < numbers["n_patients"]  # not evaluated is never in the denominator


def test_headline_is_low_hypodiploid_not_near_haploid(demo_db):
    result = views.headline(demo_db, CohortFilter(), OverviewSpec())
    assert "Low hypodiploid" in result.lines[2] and "near-haploid" not in " ".join(result.lines).lower()


def test_headline_of_an_empty_selection(demo_db):
    numbers = views.headline(demo_db, EMPTY, OverviewSpec()).numbers
    assert numbers["n_patients"] == 0
    assert numbers["tp53_altered"]["evaluable"] == 0 and numbers["tp53_altered"]["ci_low"] is None


def _raw_numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _raw_numbers(v)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        yield value


@settings(max_examples=40, deadline=None)
@given(f=st.sampled_from(FILTERS), k=st.integers(2, 12))
def test_headline_never_returns_a_small_count_under_suppression(demo_db, f, k):
    numbers = views.headline(demo_db, f, OverviewSpec(), k).numbers
    assert not [n for n in _raw_numbers(numbers) if 1 <= n < k]
    for name in views.HEADLINE_PROPORTIONS:
        value = numbers[name]
        if not isinstance(value["n"], int):  # hidden: no interval either (it would give the count back)
            assert value["ci_low"] is None and value["ci_high"] is None
            shown = [int(x) for x in re.findall(r"(?<![<\d.])\d+", value["display"])]
            assert not [x for x in shown if 1 <= x < k], value["display"]  # no small count in the text


def test_headline_under_suppression_on_a_small_selection(demo_db):
    numbers = views.headline(demo_db, SINGLE, OverviewSpec(), 5).numbers
    assert numbers["n_patients"] == "<5"
    assert numbers["tp53_altered"]["evaluable"] == "<5"


def test_slides_are_the_latency_view(demo_db):
    slides = views.slides(demo_db, CohortFilter(), OverviewSpec())
    assert [s.key for s in slides] == ["overview.latency_months"]
    assert slides[0].figure.to_dict() == views.latency(demo_db, CohortFilter(), OverviewSpec()).figure.to_dict()
    assert views.slides(demo_db, CohortFilter(), OverviewSpec(), 5) == []
    assert views.slides(demo_db, EMPTY, OverviewSpec()) == []
