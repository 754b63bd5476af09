"""KM, medians, milestones, reverse-KM follow-up and log-rank from aggregated counts, checked
against lifelines fitted on raw rows (public reference data and the demo cohort) to 1e-6."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.filters import NOT_EVALUATED
from hypothesis import given, settings, strategies as st
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_rossi, load_waltons
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times

from analytics.filters import CohortFilter
from analytics.survival import (
    SurvivalSpec, adjust_pvalues, curves_from_counts, fit_km, km_counts, logrank,
    logrank_from_counts, month_ticks, pairwise_from_counts, patient_table, risk_table,
    summary_from_counts, survival_at)
from analytics.units import DAYS_PER_MONTH

TOL = 1e-6


def counts_of(durations, events, groups=None) -> pd.DataFrame:
    """Aggregate raw rows to (group, time, n_event, n_censored) with pandas (independent of SQL)."""
    frame = pd.DataFrame({"time_days": np.asarray(durations, float), "e": np.asarray(events, int),
                          "group": "All" if groups is None else np.asarray(groups).astype(str)})
    frame["c"] = 1 - frame["e"]
    out = frame.groupby(["group", "time_days"], as_index=False).agg(n_event=("e", "sum"),
                                                                     n_censored=("c", "sum"))
    return out


def assert_same_km(raw: KaplanMeierFitter, agg: KaplanMeierFitter):
    np.testing.assert_allclose(agg.survival_function_.index, raw.survival_function_.index)
    np.testing.assert_allclose(agg.survival_function_.to_numpy(), raw.survival_function_.to_numpy(),
                               atol=TOL, rtol=0)
    np.testing.assert_allclose(agg.confidence_interval_.to_numpy(), raw.confidence_interval_.to_numpy(),
                               atol=TOL, rtol=0)
    np.testing.assert_allclose(agg.event_table["at_risk"], raw.event_table["at_risk"])
    assert agg.median_survival_time_ == pytest.approx(raw.median_survival_time_, abs=TOL)
    np.testing.assert_allclose(median_survival_times(agg.confidence_interval_).to_numpy(),
                               median_survival_times(raw.confidence_interval_).to_numpy(), atol=TOL)


@pytest.mark.parametrize("group", ["control", "miR-137"])
def test_km_from_counts_matches_lifelines_on_waltons(group):
    w = load_waltons()
    w = w[w["group"] == group]
    raw = KaplanMeierFitter().fit(w["T"], w["E"])
    assert_same_km(raw, fit_km(counts_of(w["T"], w["E"])))


def test_km_from_counts_matches_lifelines_on_rossi():
    r = load_rossi()
    raw = KaplanMeierFitter().fit(r["week"], r["arrest"])
    agg = fit_km(counts_of(r["week"], r["arrest"]))
    assert_same_km(raw, agg)
    # well-known value: 114 arrests among 432 released prisoners in 52 weeks
    assert agg.event_table["observed"].sum() == 114 and agg.event_table["at_risk"].iloc[0] == 432


def test_reverse_km_followup_matches_lifelines_on_rossi():
    r = load_rossi()
    raw = KaplanMeierFitter().fit(r["week"], 1 - r["arrest"])
    agg = fit_km(counts_of(r["week"], r["arrest"]), reverse=True)
    assert agg.median_survival_time_ == pytest.approx(raw.median_survival_time_, abs=TOL)
    assert agg.median_survival_time_ == 52  # everyone not arrested is followed to week 52


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=60))
def test_km_from_counts_matches_raw_rows_for_any_data(rows):
    durations = [d for d, _ in rows]
    events = [int(e) for _, e in rows]
    raw = KaplanMeierFitter().fit(durations, events)
    agg = fit_km(counts_of(durations, events))
    np.testing.assert_allclose(agg.survival_function_.to_numpy(), raw.survival_function_.to_numpy(),
                               atol=TOL)
    np.testing.assert_allclose(agg.confidence_interval_.to_numpy(), raw.confidence_interval_.to_numpy(),
                               atol=TOL, equal_nan=True)


def test_survival_at_milestones_with_ci_matches_lifelines():
    r = load_rossi()
    raw = KaplanMeierFitter().fit(r["week"], r["arrest"])
    agg = fit_km(counts_of(r["week"], r["arrest"]))
    for t in (10, 20.5, 52):
        s, lo, hi = survival_at(agg, t)
        assert s == pytest.approx(float(raw.survival_function_at_times(t).iloc[0]), abs=TOL)
        ci = raw.confidence_interval_.loc[raw.confidence_interval_.index <= t].iloc[-1]
        assert (lo, hi) == pytest.approx((ci.iloc[0], ci.iloc[1]), abs=TOL)
    assert all(math.isnan(v) for v in survival_at(agg, 60))  # beyond follow-up: not estimable


def test_milestone_by_hand():
    # 4 patients: events at 2 and 5, censored at 3 and 10 -> S(4) = 3/4, S(6) = 3/4 * 1/2
    c = counts_of([2, 3, 5, 10], [1, 0, 1, 0])
    kmf = fit_km(c)
    assert survival_at(kmf, 4)[0] == pytest.approx(0.75)
    assert survival_at(kmf, 6)[0] == pytest.approx(0.375)
    # Greenwood variance at t=6: sum d/(n(n-d)) = 1/(4*3) + 1/(2*1)
    lo, hi = survival_at(kmf, 6)[1:]
    s, v = 0.375, 1 / 12 + 1 / 2
    se = math.sqrt(v / math.log(s) ** 2)
    expected = sorted([s ** math.exp(1.959963984540054 * se), s ** math.exp(-1.959963984540054 * se)])
    assert (lo, hi) == pytest.approx(tuple(expected), abs=1e-6)


# --- log-rank ---------------------------------------------------------------------------------
def test_logrank_two_groups_matches_lifelines_on_waltons():
    w = load_waltons()
    ours = logrank_from_counts(counts_of(w["T"], w["E"], w["group"]))
    a, b = w[w["group"] == "control"], w[w["group"] == "miR-137"]
    ref = logrank_test(a["T"], b["T"], a["E"], b["E"])
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=TOL)
    assert ours.p_value == pytest.approx(ref.p_value, abs=TOL)
    assert ours.df == 1


def test_logrank_k_groups_matches_lifelines_on_rossi():
    r = load_rossi()
    groups = pd.cut(r["prio"], [-1, 0, 2, 5, 100], labels=["0", "1-2", "3-5", "6+"]).astype(str)
    ours = logrank_from_counts(counts_of(r["week"], r["arrest"], groups))
    ref = multivariate_logrank_test(r["week"], groups, r["arrest"])
    assert ours.df == 3 == ref.degrees_of_freedom
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=TOL)
    assert ours.p_value == pytest.approx(ref.p_value, abs=TOL)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.booleans(), st.sampled_from("abc")),
                min_size=6, max_size=50))
def test_logrank_matches_lifelines_for_any_data(rows):
    frame = pd.DataFrame(rows, columns=["t", "e", "g"])
    if frame["g"].nunique() < 2 or frame["e"].sum() == 0:
        return
    ours = logrank_from_counts(counts_of(frame["t"], frame["e"].astype(int), frame["g"]))
    ref = multivariate_logrank_test(frame["t"], frame["g"], frame["e"].astype(int))
    assert ours.statistic == pytest.approx(ref.test_statistic, abs=1e-6, rel=1e-6)


def test_holm_and_bonferroni_by_hand():
    assert adjust_pvalues([0.01, 0.04, 0.03], "bonferroni") == pytest.approx([0.03, 0.12, 0.09])
    # Holm: sorted 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert adjust_pvalues([0.5, 0.6], "holm") == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], "fdr")


def test_pairwise_logrank_uses_two_group_tests():
    r = load_rossi()
    groups = np.where(r["prio"] == 0, "none", np.where(r["prio"] <= 3, "few", "many"))
    table = pairwise_from_counts(counts_of(r["week"], r["arrest"], groups), "bonferroni")
    assert len(table) == 3
    for _, row in table.iterrows():
        keep = np.isin(groups, [row["group A"], row["group B"]])
        ref = multivariate_logrank_test(r["week"][keep], groups[keep], r["arrest"][keep])
        assert row["p"] == pytest.approx(ref.p_value, abs=TOL)
        assert row["p (bonferroni)"] == pytest.approx(min(1, 3 * ref.p_value), abs=TOL)


# --- the demo cohort: DuckDB aggregation path vs lifelines on the per-patient rows -----------
SPECS = [SurvivalSpec(), SurvivalSpec(endpoint="OS"), SurvivalSpec(population="treated", group="hct"),
         SurvivalSpec(endpoint="OS", origin="first_treatment", group="tp53_status"),
         SurvivalSpec(group="age_at_ball_dx", cutoff=65), SurvivalSpec(efs_events=("relapse",))]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.endpoint}-{s.group}-{s.origin}")
def test_demo_aggregated_path_matches_lifelines_on_patient_rows(demo_db, spec):
    rows = patient_table(demo_db, CohortFilter(), spec)
    rows = rows[rows["included"]]
    counts = km_counts(demo_db, CohortFilter(), spec)
    assert counts["n_event"].sum() + counts["n_censored"].sum() == len(rows)
    for group, sub in rows.groupby("group"):
        raw = KaplanMeierFitter().fit(sub["time_days"].astype(float), sub["event"])
        assert_same_km(raw, fit_km(counts[counts["group"] == group]))
    tested = rows[rows["group"] != NOT_EVALUATED]  # unknown values are drawn, never tested
    if tested["group"].nunique() > 1:
        ref = multivariate_logrank_test(tested["time_days"].astype(float), tested["group"], tested["event"])
        ours = logrank(demo_db, CohortFilter(), spec)
        assert ours.statistic == pytest.approx(ref.test_statistic, abs=TOL)
        assert ours.p_value == pytest.approx(ref.p_value, abs=TOL)


def test_curves_start_at_100_percent_and_carry_counts(demo_db):
    counts = km_counts(demo_db, CohortFilter(), SurvivalSpec(group="sex"))
    curves = curves_from_counts(counts)
    for _, g in curves.groupby("group"):
        assert g["time_days"].iloc[0] == 0 and g["survival"].iloc[0] == 1
        assert g["survival"].is_monotonic_decreasing
        assert g["n_event"].sum() + g["n_censored"].sum() == g["at_risk"].iloc[0]
    assert curves["time_months"].iloc[1] == pytest.approx(curves["time_days"].iloc[1] / DAYS_PER_MONTH)


def test_risk_table_counts_patients_still_at_risk():
    c = counts_of([10, 40, 40, 100], [1, 0, 1, 1])
    ticks = [0.0, 1.0, 3.0, 4.0]  # months: day 0, 30.4, 91.3, 121.75
    assert risk_table(c, ticks)["at_risk"].tolist() == [4, 3, 1, 0]
    assert month_ticks(100)[:3] == [0, 12, 24] and month_ticks(20) == [0, 3, 6, 9, 12, 15, 18]


def test_summary_flags_groups_without_events_and_small_groups():
    c = counts_of([5, 10, 20, 30, 40, 3, 8], [0, 0, 0, 0, 0, 1, 0], list("aaaaabb"))
    summary = summary_from_counts(c).set_index("group")
    assert "no events" in summary.loc["a", "note"]
    assert math.isinf(summary.loc["a", "median_days"])
    assert "only 2 patients" in summary.loc["b", "note"]


def test_km_figure_has_aligned_risk_table(demo_db):
    from analytics.survival.chart import km_chart
    counts = km_counts(demo_db, CohortFilter(), SurvivalSpec(group="first_line_regimen_category"))
    spec = km_chart(curves_from_counts(counts), counts, title="EFS").to_dict()
    assert spec["bounds"] == "flush"  # plot areas aligned, not label boxes
    assert spec["resolve"]["scale"]["x"] == "shared"
    curve, table = spec["vconcat"]
    table_x = table["encoding"]["x"]
    curve_x = [layer["encoding"]["x"] for layer in curve["layer"]]
    assert all(x["scale"] == table_x["scale"] for x in curve_x)
    assert all(x["axis"]["values"] == table_x["axis"]["values"] for x in curve_x)
    assert curve["width"] == table["width"]
    # the table's numbers are the at-risk counts at those ticks
    values = spec["datasets"]
    risk = [rows for rows in values.values() if rows and "at_risk" in rows[0] and "row" in rows[0]][0]
    assert {r["group"] for r in risk} == set(counts["group"])


def test_not_evaluated_group_is_drawn_but_never_tested(demo_db):
    from analytics.filters import CohortFilter, NOT_EVALUATED
    from analytics.survival import SurvivalSpec, km_counts, logrank, logrank_from_counts, pairwise_from_counts
    spec = SurvivalSpec(endpoint="OS", group="tp53_status")
    counts = km_counts(demo_db, CohortFilter(), spec)
    assert NOT_EVALUATED in set(counts["group"])
    result = logrank(demo_db, CohortFilter(), spec)
    assert set(result.groups) == {"mutated", "wild-type"}
    evaluated = counts[counts["group"] != NOT_EVALUATED]
    assert result.statistic == logrank_from_counts(evaluated).statistic
    pairs = pairwise_from_counts(counts)
    assert NOT_EVALUATED not in set(pairs["group A"]) | set(pairs["group B"])


def test_not_evaluated_curve_is_grey_in_curves_and_risk_table():
    from analytics.survival import curves_from_counts
    from analytics.survival.chart import km_chart
    from analytics.theme import NOT_EVALUATED_LINE_COLOR, PALETTE

    counts = pd.DataFrame({"group": ["mutated", "mutated", NOT_EVALUATED, "wild-type"],
                           "time_days": [30, 400, 200, 90], "n_event": [1, 0, 1, 1],
                           "n_censored": [0, 1, 0, 0]})
    spec = km_chart(curves_from_counts(counts), counts, title="OS", group_title="TP53").to_dict()
    scales = [enc["color"]["scale"] for view in (spec["vconcat"][0]["layer"] + [spec["vconcat"][1]])
              for enc in [view.get("encoding", {})] if "color" in enc]
    assert scales
    for scale in scales:
        colors = dict(zip(scale["domain"], scale["range"]))
        assert colors[NOT_EVALUATED] == NOT_EVALUATED_LINE_COLOR
        assert [colors["mutated"], colors["wild-type"]] == PALETTE[:2]
