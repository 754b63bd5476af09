"""Aalen-Johansen cumulative incidence: vs lifelines AalenJohansenFitter on tie-free data (CIF and
CI to 1e-6), vs hand computation with ties, and CIF_relapse + CIF_NRM + KM(any event) = 1."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter


from analytics.filters import CohortFilter
from analytics.survival import SurvivalSpec, patient_table
from analytics.survival.competing_risks import aalen_johansen_from_counts, cif_at, competing_counts


def counts_of(t, cause):
    f = pd.DataFrame({"time_days": t, "cause": cause})
    return f.groupby("time_days").agg(
        n_relapse=("cause", lambda s: int((s == 1).sum())), n_nrm=("cause", lambda s: int((s == 2).sum())),
        n_censored=("cause", lambda s: int((s == 0).sum()))).reset_index().assign(group="All")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_lifelines_aalen_johansen_without_ties(seed):
    rng = np.random.default_rng(seed)
    t = rng.permutation(np.arange(1, 81))[:60].astype(float)  # distinct times: lifelines won't jitter
    cause = rng.choice([0, 1, 2], size=60, p=[0.3, 0.4, 0.3])
    ours = aalen_johansen_from_counts(counts_of(t, cause))
    for k, name in ((1, "relapse"), (2, "non-relapse mortality")):
        ref = AalenJohansenFitter().fit(t, cause, event_of_interest=k)
        mine = ours[ours["cause"] == name].set_index("time_days")
        ref_cif = ref.cumulative_density_.iloc[:, 0]
        common = ref_cif.index.intersection(mine.index)
        np.testing.assert_allclose(mine.loc[common, "cif"], ref_cif.loc[common], atol=1e-6)
        ci = ref.confidence_interval_cumulative_density_
        ok = ref_cif.loc[common] > 0
        # lifelines names its columns upper/lower the other way round: compare by position
        np.testing.assert_allclose(mine.loc[common[ok], "ci_lower"], ci.loc[common[ok]].iloc[:, 0], atol=1e-6,
                                   equal_nan=True)
        np.testing.assert_allclose(mine.loc[common[ok], "ci_upper"], ci.loc[common[ok]].iloc[:, 1], atol=1e-6,
                                   equal_nan=True)


def test_hand_computation_with_tied_causes():
    # 5 patients: day 2 one relapse AND one death (tie), day 4 relapse, day 5 censored, day 6 death
    c = counts_of([2, 2, 4, 5, 6], [1, 2, 1, 0, 2])
    cif = aalen_johansen_from_counts(c)
    rel = cif[cif["cause"] == "relapse"].set_index("time_days")["cif"]
    nrm = cif[cif["cause"] == "non-relapse mortality"].set_index("time_days")["cif"]
    # S(2-)=1: each cause 1/5; S(2)=3/5; relapse at 4: +3/5*1/3; S(4)=2/5; death at 6: +2/5*1/1
    assert rel.loc[2] == pytest.approx(0.2) and nrm.loc[2] == pytest.approx(0.2)
    assert rel.loc[4] == pytest.approx(0.4)
    assert nrm.loc[6] == pytest.approx(0.6)


def test_demo_cif_sums_with_km_of_any_event_to_one(demo_db):
    spec = SurvivalSpec()
    cif = aalen_johansen_from_counts(competing_counts(demo_db, CohortFilter(), spec))
    rows = patient_table(demo_db, CohortFilter(), spec.with_(efs_events=("relapse", "death")))
    rows = rows[rows["included"]]
    km = KaplanMeierFitter().fit(rows["time_days"].astype(float), rows["event"])
    rel = cif[cif["cause"] == "relapse"].set_index("time_days")["cif"]
    nrm = cif[cif["cause"] == "non-relapse mortality"].set_index("time_days")["cif"]
    s = km.survival_function_.iloc[:, 0]
    common = s.index.intersection(rel.index)
    np.testing.assert_allclose((rel + nrm).loc[common] + s.loc[common], 1.0, atol=1e-9)
    counts = competing_counts(demo_db, CohortFilter(), spec)
    assert counts["n_relapse"].sum() == 10  # every relapse in the demo precedes any death
    assert counts["n_nrm"].sum() == 6
    at = cif_at(cif, 24).set_index("cause")
    assert 0 < at.loc["relapse", "cif"] < 1 and at.loc["relapse", "ci_lower"] < at.loc["relapse", "cif"]


@pytest.mark.parametrize("group, subgroup_filter", [
    ("hct", {"yes": CohortFilter(hct=True), "no": CohortFilter(hct=False)}),
    ("institution", {"Site A": CohortFilter(institution=("Site A",)),
                     "Site B": CohortFilter(institution=("Site B",))}),
])
def test_grouped_cif_equals_the_ungrouped_estimate_on_each_subgroup(demo_db, group, subgroup_filter):
    from analytics.survival import SurvivalSpec
    from analytics.survival.competing_risks import cumulative_incidence
    grouped = cumulative_incidence(demo_db, CohortFilter(), SurvivalSpec(population="treated", group=group))
    assert set(grouped["group"]) == set(subgroup_filter)
    for label, only_this_group in subgroup_filter.items():
        alone = cumulative_incidence(demo_db, only_this_group, SurvivalSpec(population="treated"))
        mine = grouped[grouped["group"] == label].drop(columns="group").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.drop(columns="group").reset_index(drop=True),
                                      check_exact=False, atol=1e-12)
