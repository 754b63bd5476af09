"""Published figures F2, F3, F6, F7 recomputed from the built demo file through analytics/."""
from analytics.filters import CohortFilter
from analytics.genomics import alteration_frequencies, cooccurrence
from analytics import cohort


def _row(db, feature):
    return alteration_frequencies(db, CohortFilter()).set_index("feature").loc[feature]


def test_f6_tp53_9_of_19_evaluable_13_not_evaluated(demo_file_db):
    r = _row(demo_file_db, "TP53")
    assert (r.altered, r.evaluable, r.not_evaluated) == (9, 19, 13)


def test_f7_low_hypodiploid_8_of_26_6_not_evaluable(demo_file_db):
    r = _row(demo_file_db, "Low hypodiploid")
    assert (r.altered, r.evaluable, r.not_evaluated) == (8, 26, 6)


def test_f3_bcr_abl1_31_negative_1_positive(demo_file_db):
    r = _row(demo_file_db, "BCR::ABL1")
    assert (r.evaluable - r.altered, r.altered) == (31, 1)


def test_f2_all_b_lineage(demo_file_db):
    summary = cohort.filtered_summary(demo_file_db, CohortFilter())
    assert len(summary) == 32 and set(summary["lineage"]) == {"B"}


def test_tp53_by_low_hypodiploidy_uses_patients_evaluable_for_both(demo_file_db):
    result = cooccurrence(demo_file_db, CohortFilter(), "TP53", "Low hypodiploid")
    assert result["n_both"] + result["n_excluded"] == 32
    assert int(result["table"].to_numpy().sum()) == result["n_both"]
    assert int(result["table"].iloc[0].sum()) <= 9   # mutated among those also karyotyped
