"""Patient page on a cohort larger than the picker: first PICKER_MAX ids listed, others typed."""
import pytest

from analytics.synthetic import build_synthetic_file
from tests.apptest_helpers import all_text, run_page


@pytest.fixture(scope="module")
def big_cohort(tmp_path_factory):
    return build_synthetic_file(1300, tmp_path_factory.mktemp("big") / "cohort.duckdb", seed=8)


def test_picker_lists_first_ids_and_a_typed_id_opens(big_cohort, monkeypatch):
    monkeypatch.setenv("BALL_COHORT_DB", str(big_cohort))
    at = run_page("pages/patient.py")
    assert not at.exception
    picker = at.selectbox(key="patient.patient")
    assert len(picker.options) == 1000
    assert "1,300 in the filtered cohort" in picker.label and "first 1,000 listed" in picker.label
    last = picker.options[-1].split(" · ")[0]
    # an id beyond the list, typed: becomes the selected patient with its own timeline
    from analytics.db import CohortDatabase  # the app's configuration: DuckDB refuses another one in-process
    db = CohortDatabase.open_file(big_cohort)
    beyond = db.scalar("SELECT patient_id FROM patients ORDER BY patient_id OFFSET 1200 LIMIT 1")
    db.close()
    assert beyond > last
    at.text_input(key="patient.lookup").set_value(beyond).run()
    assert not at.exception
    assert at.selectbox(key="patient.patient").value == beyond
    assert f"Timeline of {beyond}" in all_text(at)
    at.text_input(key="patient.lookup").set_value("NOPE").run()
    assert "No patient **NOPE** in the filtered cohort" in all_text(at)
    assert at.selectbox(key="patient.patient").value == beyond
