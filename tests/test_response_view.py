"""The response page's cached results are screen-sized and equal the full computations; its
figures (cached per view) equal the charts built from the full results."""
import pandas as pd
import pytest

from analytics import response
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles import response as response_oracle

FILTERS = [CohortFilter(), CohortFilter(sex=("F",)), CohortFilter(tp53=("mutated",))]


@pytest.fixture(scope="module")
def big():
    return build_synthetic_in_memory(3000, seed=22)


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("which", ["demo", "big"])
def test_briefs_equal_the_full_results(which, f, demo_db, big):
    db = demo_db if which == "demo" else big
    full = response.best_response_summary(db, f)
    brief = response.best_response_brief(db, f)
    assert brief == full  # every count and CI (the table is not compared by ==)
    assert brief.table.equals(full.table)
    assert brief.unassessed == full.unassessed[:response.IDS_LISTED]
    assert brief.n_treated - brief.n_treated_assessed == len(full.unassessed)
    every = response.untreated_patients(db, f)
    head, n = response.untreated_brief(db, f, 40)
    assert n == len(every)
    assert head.reset_index(drop=True).equals(every.head(40).reset_index(drop=True))
    for origin in response.TIME_ORIGINS:
        (mrd, per_responder), ttc = response_oracle.mrd_summary(db, f), response.time_to_cr(db, f, origin)
        every = per_responder.merge(ttc.patients[["patient_id", "days", "months"]], on="patient_id", how="left")
        per_all, n_all = response.responder_table(db, f, origin, None)
        per_head, n_head = response.responder_table(db, f, origin, 10)
        assert n_all == n_head == len(every) == mrd.n_responders
        pd.testing.assert_frame_equal(per_all, every)
        pd.testing.assert_frame_equal(per_head.reset_index(drop=True), every.head(10).reset_index(drop=True))


@pytest.mark.parametrize("which", ["demo", "big"])
def test_figures_equal_the_charts_of_the_full_results(which, demo_db, big):
    db = demo_db if which == "demo" else big
    f = CohortFilter()
    for k in (0, 5):
        assert response.best_response_figure(db, f, k).to_dict() == \
            response.best_response_chart(response.best_response_summary(db, f), small_cell_k=k).to_dict()
    for feature in response.GROUP_FEATURES:
        assert response.group_rate_figure(db, f, feature).to_dict() == \
            response.group_rate_chart(response.response_by_group(db, f, feature)).to_dict()


def test_group_tooltip_lists_a_bounded_number_of_ids(big):
    rates = response.response_by_group(big, CohortFilter(), response.DEFAULT_GROUP).rates
    assert rates["n"].max() > response.IDS_LISTED
    for r in rates.itertuples():
        ids = r.patients.split(", ")
        if r.n > response.IDS_LISTED:
            assert len(ids) == response.IDS_LISTED + 1 and ids[-1] == f"... and {r.n - response.IDS_LISTED:,} more"
        else:
            assert len(ids) == r.n
