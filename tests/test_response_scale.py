"""Untreated-patient reasons at registry size: no crash when an alive patient has no recorded
last contact (found by bench/ at 100,000 synthetic patients), same text as before otherwise."""
from analytics import response
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory


def test_alive_untreated_patient_without_last_contact_is_described():
    db = build_synthetic_in_memory(1500, seed=5)
    untreated = response.untreated_patients(db, CohortFilter())
    alive = untreated[untreated["vital_status"] == "alive"]
    assert len(alive) > 1
    pid = alive["patient_id"].iloc[0]
    # a registry row without any last-contact event (as 1 in ~100,000 synthetic patients has)
    db._connection.execute("DELETE FROM events WHERE patient_id = ? AND event_type = 'last_contact'", [pid])
    after = response.untreated_patients(db, CohortFilter()).set_index("patient_id")
    assert "alive, day of last contact not recorded" in after.loc[pid, "why"]
    other = alive["patient_id"].iloc[1]
    assert after.loc[other, "why"] == alive.set_index("patient_id").loc[other, "why"]
