"""Patient page under AppTest: standard states, deep link, unknown and filtered-out ids."""
import pytest

from tests.apptest_helpers import PAGE_STATES, all_text, run_page

PAGE = "pages/patient.py"


@pytest.mark.parametrize("state", list(PAGE_STATES))
def test_patient_states(state):
    at = run_page(PAGE, PAGE_STATES[state])
    assert not at.exception
    text = all_text(at)
    if state == "empty":
        assert "No patients match the current cohort filters" in text
        return
    first = "S01" if state == "full" else "S28"
    assert at.selectbox(key="patient.patient").value == first
    assert f"Timeline of {first}" in text
    assert len(at.get("vega_lite_chart")) == 1
    assert "Event-free survival" in text and "Overall survival" in text


def test_deep_link_shows_that_patient():
    at = run_page(PAGE, {"patient": "S05"})
    assert not at.exception
    assert at.selectbox(key="patient.patient").value == "S05"
    text = all_text(at)
    assert "Timeline of S05" in text
    assert len(at.dataframe) >= 1  # S05's mutations table


def test_unknown_patient_gives_a_message():
    at = run_page(PAGE, {"patient": "S99"})
    assert not at.exception
    assert any("no patient **S99**" in w.value for w in at.warning)
    assert at.selectbox(key="patient.patient").value == "S01"


def test_patient_outside_the_filter_gives_a_message():
    at = run_page(PAGE, {"patient": "S05", "age": "48-48"})
    assert not at.exception
    assert any("S05** is not in the filtered cohort" in w.value for w in at.warning)
    assert at.selectbox(key="patient.patient").value == "S28"


def test_choosing_another_patient_and_window():
    at = run_page(PAGE)
    at.selectbox(key="patient.patient").set_value("S12").run()
    assert not at.exception
    assert "Timeline of S12" in all_text(at)
    assert at.query_params["patient"] in ("S12", ["S12"])
    at.button_group(key="patient.window").set_value("B-ALL course").run()
    assert not at.exception
    assert at.query_params["window"] in ("B-ALL course", ["B-ALL course"])
    assert "Timeline of S12" in all_text(at)


def test_unsequenced_patient_says_not_evaluated():
    from analytics.build import DEMO_SOURCE, build_in_memory
    db = build_in_memory(DEMO_SOURCE)
    pid = db.scalar("SELECT min(patient_id) FROM patients WHERE sequencing_assay IS NULL")
    at = run_page(PAGE, {"patient": pid})
    assert not at.exception
    assert any("mutations **not evaluated**" in i.value for i in at.info)


@pytest.mark.parametrize("query", [{}, {"patient": "S05", "window": "B-ALL course"}])
def test_timeline_offers_the_reproduce_downloads(query):
    """The timeline's script and notebook (the app's cohort is a file), for the default and a linked patient."""
    at = run_page(PAGE, query)
    assert not at.exception
    ids = [b.proto.id for b in at.get("download_button")]
    for kind in ("py", "nb"):
        assert sum(i.endswith(f"repro_{kind}_patient_timeline") for i in ids) == 1, ids
