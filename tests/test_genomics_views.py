"""Genomics views: the spec, cohort-dependent checks, each tab's view against the analytics, slides."""
import dataclasses
import math

import altair as alt
import pytest
from hypothesis import given, settings, strategies as st

from analytics import genomics, theme
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from analytics.views import genomics as views
from analytics.views.genomics import GenomicsSpec
from analytics.views.patient import PatientSpec
from analytics.views.dictionary import DictionarySpec

SINGLE = CohortFilter.from_query_params({"age": "48-48"})
EMPTY = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))
CLASSES = tuple(genomics.CLASS_GROUPS)
names = st.text(st.characters(categories=("Lu", "Ll", "Nd"), include_characters=":;()"), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(tab=st.sampled_from(views.TABS), sort=names, a=names, b=names,
       genes=st.lists(names, max_size=3, unique=True),
       classes=st.lists(st.sampled_from(CLASSES), max_size=4, unique=True),
       vaf=st.floats(0.0, 1.0, allow_nan=False).map(lambda v: round(v, 3)))
def test_spec_round_trips_through_the_link(tab, sort, a, b, genes, classes, vaf):
    spec = GenomicsSpec(tab=tab, onco_sort=sort, co_a=a, co_b=b, mut_genes=tuple(genes),
                        mut_classes=tuple(c for c in CLASSES if c in classes), mut_min_vaf=vaf)
    params: dict = {}
    for key, value in spec.to_params():
        params.setdefault(key, []).append(value)
    back, notices = GenomicsSpec.from_params(params)
    assert back == spec and notices == []
    assert set(params) <= set(GenomicsSpec.params())


@pytest.mark.parametrize("params, field", [({"gen_tab": "Survival"}, "tab"), ({"mut_min_vaf": "inf"}, "mut_min_vaf"),
                                           ({"mut_min_vaf": "1.5"}, "mut_min_vaf"),
                                           ({"mut_classes": ["Missense_Mutation", "bogus"]}, "mut_classes"),
                                           ({"onco_sort": "x" * 300}, "onco_sort")])
def test_invalid_link_values_fall_back_with_a_notice(params, field):
    spec, notices = GenomicsSpec.from_params(params)
    assert getattr(spec, field) == getattr(GenomicsSpec(), field)
    assert len(notices) == 1 and notices[0].startswith(GenomicsSpec.options()[
        [f.name for f in GenomicsSpec.options()].index(field)].metadata["param"] + ":")


def test_pages_own_disjoint_parameters_none_of_them_a_filter():
    from analytics.views.overview import OverviewSpec
    owned = [set(s.params()) for s in (OverviewSpec, PatientSpec, GenomicsSpec, DictionarySpec)]
    assert sum(len(p) for p in owned) == len(set().union(*owned))
    filter_params = {f.name for f in dataclasses.fields(CohortFilter)}
    assert not set().union(*owned) & filter_params
    assert {GenomicsSpec.session_key("tab"), PatientSpec.session_key("patient")} == {"genomics.tab", "patient.patient"}


def test_checked_replaces_values_the_cohort_lacks(demo_db):
    spec, notices = views.checked(demo_db, GenomicsSpec(onco_sort="nope", co_a="XYZ1", mut_genes=("TP53", "XYZ2")))
    assert spec.onco_sort == genomics.oncoprint_sort_options(demo_db)[0]
    assert spec.co_a == "TP53" and spec.mut_genes == ("TP53",)
    assert [n.split(":")[0] for n in notices] == ["onco_sort", "co_a", "mut_genes"]
    assert views.checked(demo_db, GenomicsSpec()) == (GenomicsSpec(), [])


def test_frequencies_view_is_the_frequency_table(demo_db):
    result = views.frequencies(demo_db, CohortFilter(), GenomicsSpec())
    freq = genomics.alteration_frequencies(demo_db, CohortFilter())
    table = result.tables["Alteration frequencies"]
    assert table["Alteration"].tolist() == freq["feature"].tolist()
    assert table["Evaluable"].tolist() == freq["evaluable"].tolist()
    assert table["Altered"].tolist() == [str(a) for a in freq["altered"]]
    assert result.numbers["TP53"] == {"value": "9/19", "not_evaluated": "13", "total": 32, "ci": "24–71%"}
    assert result.figure is not None and not result.caveats and result.n_patients == 32


def test_frequencies_small_sample_and_suppression(demo_db):
    single = views.frequencies(demo_db, SINGLE, GenomicsSpec())
    assert [c.heading for c in single.caveats] == ["Small sample"] and "Only 1 patient:" in single.caveats[0].text
    suppressed = views.frequencies(demo_db, CohortFilter(), GenomicsSpec(), 5)
    shown = suppressed.tables["Alteration frequencies"]
    assert not any(isinstance(a, str) and a.isdigit() and 1 <= int(a) < 5 for a in shown["Altered"])
    assert "Counts below 5 are shown as <5" in suppressed.caption
    never = views.frequencies(demo_db, CohortFilter(tp53=("not evaluated",)), GenomicsSpec())
    assert never.numbers["TP53"]["value"] == "not evaluable"


@pytest.mark.parametrize("f", [CohortFilter(), SINGLE, CohortFilter(sex=("F",))])
def test_oncoprint_title_is_sans_serif_and_within_the_chart(demo_db, f):
    import io

    import vl_convert
    from PIL import Image

    result = views.oncoprint(demo_db, f, GenomicsSpec(onco_sort="TP53"))
    title = result.figure.to_dict()["title"]
    assert title["font"] == title["subtitleFont"] == theme.FONT
    assert all("╱" not in line for line in [title["text"], *title["subtitle"]])  # no serif fallback glyph

    def width(chart) -> int:  # rendered as on a slide: projector text sizes
        theme.use_presentation(True)
        try:
            png = vl_convert.vegalite_to_png(theme.for_projector(chart).to_dict(), ppi=72)
        finally:
            theme.use_presentation(False)
        return Image.open(io.BytesIO(png)).size[0]

    untitled = result.figure.copy(deep=True)
    untitled.title = alt.Undefined
    assert width(result.figure) == width(untitled)  # the title does not widen the figure


def test_oncoprint_draws_at_most_the_cap_and_says_so():
    db = build_synthetic_in_memory(90, seed=5)
    result = views.oncoprint(db, CohortFilter(), GenomicsSpec())
    assert result.n_patients == genomics.ONCOPRINT_MAX_PATIENTS
    assert [c.heading for c in result.caveats] == ["First columns only"]
    assert f"first {genomics.ONCOPRINT_MAX_PATIENTS} of 90 patients" in result.caveats[0].text


def test_cooccurrence_views(demo_db):
    pair = views.cooccurrence(demo_db, CohortFilter(), GenomicsSpec(co_a="TP53", co_b="Low hypodiploid"))
    expected = genomics.cooccurrence(demo_db, CohortFilter(), "TP53", "Low hypodiploid")
    assert pair.numbers["n_both"] == expected["n_both"]
    assert pair.numbers["p_value"] == pytest.approx(expected["fisher"].p_value)
    assert pair.lines[1].startswith("Fisher's exact test (two-sided) p = ")
    same = views.cooccurrence(demo_db, CohortFilter(), GenomicsSpec(co_a="TP53", co_b="TP53"))
    assert same.lines == ("Pick two different alterations.",)
    pairs = views.cooccurrence_pairs(demo_db, CohortFilter(), GenomicsSpec())
    assert len(pairs.tables["All pairs"]) == len(genomics.cooccurrence_matrix(demo_db, CohortFilter()))


def test_karyotype_view_carries_the_review_flags(demo_db):
    result = views.karyotype(demo_db, CohortFilter(), GenomicsSpec())
    kt = genomics.karyotype_table(demo_db, CohortFilter())
    assert result.numbers == {"with_modal": int(kt["modal_number"].notna().sum()), "patients": len(kt)}
    headings = [c.heading for c in result.caveats]
    assert ("Possible masked hypodiploidy" in headings) == kt["masked_hypodiploidy_flag"].notna().any()
    assert len(result.caption) <= 300


def test_tp53_views(demo_db):
    result = views.tp53(demo_db, CohortFilter(), GenomicsSpec())
    assert result.lines == ("TP53 mutated in 9 of 19 sequenced patients (13 not sequenced).",)
    assert len(result.tables["TP53 variants"]) == len(genomics.tp53_variants(demo_db, CohortFilter()))
    assert views.tp53_vaf(demo_db, CohortFilter(), GenomicsSpec()).figure is not None
    nobody = views.tp53(demo_db, CohortFilter(tp53=("not evaluated",)), GenomicsSpec())
    assert nobody.figure is None and "nobody here was sequenced" in nobody.caption


def test_mutation_view_applies_the_filters(demo_db):
    spec = GenomicsSpec(mut_genes=("TP53",), mut_classes=("Missense_Mutation",), mut_min_vaf=0.3)
    result = views.mutations(demo_db, CohortFilter(), spec)
    expected = genomics.mutation_table(demo_db, CohortFilter(), ("TP53",), ("Missense_Mutation",), 0.3)
    assert result.tables["Mutations"].equals(expected)
    assert "19 of 32 patients in the selection were sequenced" in result.caption


@pytest.mark.parametrize("tab, keys", [("Frequencies", ["genomics.frequencies"]),
                                      ("Oncoprint", ["genomics.oncoprint"]),
                                      ("Co-occurrence", ["genomics.cooccurrence_pairs"]),
                                      ("Karyotype & ploidy", ["genomics.karyotype"]),
                                      ("TP53", ["genomics.tp53", "genomics.tp53_vaf"]),
                                      ("Mutation table", ["genomics.oncoprint"])])
def test_slides_are_the_open_tabs_figures(demo_db, tab, keys):
    slides = views.slides(demo_db, CohortFilter(), GenomicsSpec(tab=tab, onco_sort="Ploidy category"))
    assert [s.key for s in slides] == keys
    assert all(s.figure is not None and len(s.caption) <= 300 for s in slides)


def test_slides_under_suppression_are_the_frequency_view_only(demo_db):
    for tab in views.TABS:
        slides = views.slides(demo_db, CohortFilter(), GenomicsSpec(tab=tab), 5)
        assert [s.key for s in slides] == ["genomics.frequencies"]
        assert "<5" in slides[0].caption
    assert views.slides(demo_db, EMPTY, GenomicsSpec()) == []


def test_views_of_individual_patients_are_withheld_under_suppression(demo_db):
    for view in (views.oncoprint, views.cooccurrence, views.cooccurrence_pairs, views.karyotype, views.tp53,
                 views.tp53_vaf, views.mutations):
        result = view(demo_db, CohortFilter(), GenomicsSpec(), 5)
        assert result.figure is None and not result.tables and result.caveats[0].heading == "Withheld"
        assert not any(isinstance(v, (int, float)) and not math.isnan(v) for v in result.numbers.values())


def test_oncoprint_slide_shows_the_same_columns_and_alterations(demo_db):
    spec = GenomicsSpec(tab="Oncoprint", onco_sort="TP53")
    [slide] = views.slides(demo_db, CohortFilter(), spec)
    page = views.oncoprint(demo_db, CohortFilter(), spec)
    assert slide.title == page.title and slide.n_patients == page.n_patients and slide.caveats == page.caveats

    def cells(chart):
        spec = chart.to_dict()
        return {(r["patient_id"], r["feature"], r["status"]) for rows in spec["datasets"].values() for r in rows
                if "feature" in r and "status" in r and r["feature"] != "Ploidy category"}

    assert cells(slide.figure) == cells(page.figure) != set()
    assert "VAF" in page.caption and "VAF" not in slide.figure.to_dict()["title"]["subtitle"][1]
