"""Patient view: the spec (link round trip, invalid values), the resolved patient, the timeline, slides."""
import altair as alt
import pytest
from hypothesis import given, settings, strategies as st

from analytics import patient
from analytics.figure_export import Provenance, export_figure
from analytics.filters import CohortFilter
from analytics.views import patient as views
from analytics.views.patient import PatientSpec

SINGLE = CohortFilter.from_query_params({"age": "48-48"})  # S28 only
EMPTY = CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))
ids = st.text(st.characters(categories=("Lu", "Ll", "Nd"), include_characters="-_."), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(pid=ids, window=st.sampled_from(list(patient.WINDOWS)))
def test_spec_round_trips_through_the_link(pid, window):
    spec = PatientSpec(patient=pid, window=window)
    params: dict = {}
    for key, value in spec.to_params():
        params.setdefault(key, []).append(value)
    back, notices = PatientSpec.from_params(params)
    assert back == spec and notices == []
    assert set(params) <= {"patient", "window"}


def test_default_spec_has_a_short_link_and_ignores_other_pages():
    spec, notices = PatientSpec.from_params({"onco_sort": "TP53", "group": "hct", "tp53": "mutated"})
    assert spec == PatientSpec() and not notices and spec.to_params() == []


@pytest.mark.parametrize("params, field", [({"window": "next year"}, "window"),
                                           ({"patient": "x" * 200}, "patient"),
                                           ({"patient": "S0\n5"}, "patient")])
def test_invalid_link_values_fall_back_with_a_notice(params, field):
    spec, notices = PatientSpec.from_params(params)
    assert getattr(spec, field) == getattr(PatientSpec(), field)
    assert len(notices) == 1 and notices[0].startswith(f"{field}:")


def test_resolve(demo_db):
    assert views.resolve(demo_db, CohortFilter(), PatientSpec()) == views.Resolution("S01", "", "default", 32)
    assert views.resolve(demo_db, CohortFilter(), PatientSpec(patient="S05")).patient_id == "S05"
    unknown = views.resolve(demo_db, CohortFilter(), PatientSpec(patient="S99"))
    assert (unknown.patient_id, unknown.status) == ("S01", "unknown")
    excluded = views.resolve(demo_db, SINGLE, PatientSpec(patient="S05"))
    assert (excluded.patient_id, excluded.status) == ("S28", "filtered out")
    assert views.resolve(demo_db, EMPTY, PatientSpec(patient="S05")).patient_id is None


def test_timeline_is_the_patients_timeline(demo_db):
    result = views.timeline(demo_db, CohortFilter(), PatientSpec(patient="S05", window="B-ALL course"))
    expected = patient.timeline_figure(demo_db, CohortFilter(), "S05", "B-ALL course").to_dict()
    assert result.figure.to_dict() == expected
    assert result.title == "Patient S05: timeline (B-ALL course)" and result.n_patients == 1
    assert result.numbers == {"patient_id": "S05"} and not result.caveats
    assert result.tables["Key facts"].equals(patient.key_facts(demo_db, CohortFilter(), "S05"))
    assert result.tables["Timeline events"].equals(patient.timeline_events(demo_db, CohortFilter(), "S05"))
    assert "Hover" not in result.caption and len(result.caption) <= 300


def test_timeline_of_a_patient_outside_the_filter_says_who_is_shown(demo_db):
    result = views.timeline(demo_db, SINGLE, PatientSpec(patient="S05"))
    assert result.numbers["patient_id"] == "S28"
    assert "Patient S05 is not in the filtered cohort" in result.caveats[0].text
    assert "Patient S28 is shown instead." in result.caveats[0].text


def test_timeline_of_nobody_and_under_suppression(demo_db):
    assert views.timeline(demo_db, EMPTY, PatientSpec()).figure is None
    withheld = views.timeline(demo_db, CohortFilter(), PatientSpec(), 5)
    assert withheld.figure is None and withheld.caveats[0].heading == "Withheld"


def test_slides_give_the_chosen_timeline_at_a_fixed_width(demo_db):
    spec = PatientSpec(patient="S12", window="B-ALL course")
    [slide] = views.slides(demo_db, CohortFilter(), spec)
    assert slide.title == views.timeline(demo_db, CohortFilter(), spec).title
    assert slide.figure.autosize is alt.Undefined and slide.figure.width == views.STATIC_WIDTH
    svg = export_figure(slide.figure, Provenance("demo", True, 1, "no filters", "2026-01-01"), "svg")
    assert b"Days from B-ALL diagnosis" in svg
    assert views.slides(demo_db, CohortFilter(), spec, 5) == []
    assert views.slides(demo_db, EMPTY, spec) == []
    assert views.PAGE_VIEWS.patient_level
