"""Published figures F9 and F11 (Geyer et al., Blood Adv 2023), computed from the demo file."""
from analytics import response
from analytics.filters import CohortFilter


def test_f9_cr_or_cri_in_25_of_28_treated_4_untreated(demo_file_db):
    s = response.best_response_summary(demo_file_db, CohortFilter())
    assert (s.n_responders, s.n_treated_assessed) == (25, 28)
    assert s.n_treated == 28
    assert s.n_untreated == 4
    assert len(response.untreated_patients(demo_file_db, CohortFilter())) == 4


def test_f11_sixteen_alive_without_evidence_of_ball(demo_file_db):
    status = response.current_status(demo_file_db, CohortFilter())
    assert int((status["status"] == response.ALIVE_NED).sum()) == 16
    table = response.current_status_table(demo_file_db, CohortFilter()).set_index("status")
    assert table.at[response.ALIVE_NED, "total"] == 16
