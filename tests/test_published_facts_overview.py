"""Published figures F1, F4, F5 and F8 recomputed from the built DuckDB file through analytics/overview.py.

The literals below come from the abstract of Geyer et al., Blood Adv 2023;7(13):3087-3098
(see shared/seed/PUBLISHED_FACTS.md). They live only here, never in the code that displays results.
"""
from analytics import overview
from analytics.filters import CohortFilter


def _table_one(db):
    return overview.table_one(db, CohortFilter())


def _continuous(t1, label):
    return t1[(t1.characteristic == label) & (t1.kind == "continuous")].iloc[0]


def test_f1_thirty_two_patients_from_two_institutions(demo_file_db):
    t1 = _table_one(demo_file_db)
    assert int(t1.loc[t1.characteristic == "Patients", "n"].iloc[0]) == 32
    institutions = t1[(t1.characteristic == "Institution") & (t1.kind == "categorical") & (t1.n > 0)]
    assert len(institutions) == 2
    assert int(institutions.n.sum()) == 32


def test_f4_latency_median_54_months_range_5_to_119(demo_file_db):
    latency = _continuous(_table_one(demo_file_db), "Latency, first lenalidomide exposure to B-ALL, months")
    assert latency.unit == "months"
    assert (round(latency["median"]), round(latency["min"]), round(latency["max"])) == (54, 5, 119)
    assert latency.evaluable == 32


def test_f5_cumulative_exposure_median_42_months_range_2_to_114(demo_file_db):
    exposure = _continuous(_table_one(demo_file_db), "Cumulative lenalidomide exposure before B-ALL, months")
    assert exposure.unit == "months"
    assert (round(exposure["median"]), round(exposure["min"]), round(exposure["max"])) == (42, 2, 114)
    assert exposure.evaluable == 32


def test_f8_median_age_at_ball_diagnosis_65(demo_file_db):
    age = _continuous(_table_one(demo_file_db), "Age at B-ALL diagnosis, years")
    assert round(age["median"]) == 65
    assert age.evaluable == 32


def test_f4_f5_dot_plots_show_the_same_medians_as_table_one(demo_file_db):
    t1 = _table_one(demo_file_db)
    values = overview.exposure_values(demo_file_db, CohortFilter())
    for measure, label in (("latency_months", "Latency, first lenalidomide exposure to B-ALL, months"),
                           ("cumulative_months", "Cumulative lenalidomide exposure before B-ALL, months")):
        subtitle = overview.dot_plot(values, measure).to_dict()["title"]["subtitle"][1]
        assert f"median {_continuous(t1, label)['median']:.1f}" in subtitle
