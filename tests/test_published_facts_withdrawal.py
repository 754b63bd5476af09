"""F12: regression after lenalidomide withdrawal in 5 patients, computed from the built demo file."""
from analytics import withdrawal
from analytics.filters import CohortFilter


def test_f12_five_patients_regress_under_the_default_rule(demo_file_db):
    table = withdrawal.kinetics_table(demo_file_db, CohortFilter(), withdrawal.LEUKEMIC, "marrow",
                                      withdrawal.RegressionRule())
    regressors = table[table["classification"].isin(withdrawal.REGRESSION_CLASSES)]
    assert len(regressors) == 5
    # regression before any therapy: the nadir used for the class precedes therapy by construction
    assert sorted(regressors["patient_id"]) == ["S04", "S12", "S16", "S25", "S31"]
