"""The app shell under AppTest: routing, filters from the URL, the notice, empty states."""
from tests.apptest_helpers import EMPTY, SINGLE, all_text, run_page


def test_entrypoint_renders_overview_with_notice():
    at = run_page()
    assert not at.exception
    text = all_text(at)
    assert "Synthetic cohort" in text and "not patient data" in text
    assert "32 of 32 patients" in text


def test_filters_come_from_the_url():
    at = run_page(None, {"tp53": "mutated", "age": "55-70"})
    assert not at.exception
    assert at.multiselect(key="flt_tp53").value == ["mutated"]
    assert "8 of 32 patients" in all_text(at)


def test_standard_states_have_the_expected_counts():
    assert "0 of 32 patients" in all_text(run_page(None, EMPTY))
    assert "1 of 32 patients" in all_text(run_page(None, SINGLE))


def test_malformed_url_values_are_ignored_not_raised():
    at = run_page(None, {"age": "old-young", "treated": "maybe", "tp53": "bogus"})
    assert not at.exception
    assert "32 of 32 patients" in all_text(at)
