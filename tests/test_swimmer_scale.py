"""Swimmer plot at registry size: capped to the first N bars of the sort order, same bars as uncapped."""
import pandas as pd

from analytics.response import swimmer
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory


def test_capped_swimmer_draws_the_top_of_the_sort_with_identical_bars():
    db = build_synthetic_in_memory(400, seed=6)
    f = CohortFilter()
    for origin in swimmer.ORIGINS:
        capped = swimmer.swimmer_chart(db, f, "duration", origin, max_patients=40).to_dict()
        assert "First 40 of" in capped["title"]["subtitle"]
        ids = set(capped["layer"][0]["encoding"]["y"]["sort"])
        assert len(ids) == 40
        order = [p for p in swimmer.swimmer_order(db, f, "duration")]
        seg_all, mk_all = swimmer.swimmer_data(db, f)
        seg_cap, mk_cap = swimmer.swimmer_data(db, f, frozenset(ids))
        # the capped computation gives exactly the uncapped rows of those patients
        pd.testing.assert_frame_equal(seg_cap.reset_index(drop=True),
                                      seg_all[seg_all["patient_id"].isin(ids)].reset_index(drop=True))
        pd.testing.assert_frame_equal(mk_cap.reset_index(drop=True),
                                      mk_all[mk_all["patient_id"].isin(ids)].reset_index(drop=True))
        if origin == "diagnosis":
            assert capped["layer"][0]["encoding"]["y"]["sort"] == order[:40]
