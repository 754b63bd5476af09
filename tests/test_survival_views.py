"""Survival views computed per view for the page (issue 9): `km_view`, `landmark_view`,
`cif_milestones` and the `*_figure` functions give exactly what the page computed before
(from the cached counts, rebuilt on every rerun), on the demo and a synthetic cohort; the
figures are built once per view and a warm rerun sends the cached spec."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import streamlit as st

from analytics import survival
from analytics.survival import chart as survival_chart, competing_risks as survival_cr, hct as survival_hct
from analytics.build import build_in_memory
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory
from tests.apptest_helpers import run_page

SPECS = [survival.SurvivalSpec(),
         survival.SurvivalSpec(endpoint="OS", origin="first_treatment", group="tp53_status"),
         survival.SurvivalSpec(group="sex", population="treated"),
         survival.SurvivalSpec(group="age_at_ball_dx", cutoff=70.0)]


@pytest.fixture(scope="module", params=["demo", "synthetic"])
def db(request):
    if request.param == "demo":
        return build_in_memory("data/demo_cohort")
    return build_synthetic_in_memory(3000, seed=4)


def _old_page_counts(db, f, spec, k):
    """What the page did before: suppression applied to the cached counts in the page."""
    counts = survival.km_counts(db, f, spec)
    if k > 1:
        sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1)
        withheld = sorted(g for g, size in sizes.items() if 0 < size < k)
        counts = counts[~counts["group"].isin(withheld)]
    return counts


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.endpoint}-{s.group}")
@pytest.mark.parametrize("k", [0, 11])
def test_km_view_equals_the_counts_computation(db, spec, k):
    f = CohortFilter()
    counts = _old_page_counts(db, f, spec, k)
    view = survival.km_view(db, f, spec, (12.0, 24.0), k, "holm")
    raw = survival.km_counts(db, f, spec)
    assert view.n == int(raw[["n_event", "n_censored"]].to_numpy().sum())
    assert view.n == survival.inclusion_summary(db, f, spec)[0]
    assert view.events == int(raw["n_event"].sum())
    pd.testing.assert_frame_equal(view.summary, survival.summary_from_counts(counts, (12.0, 24.0)))
    if view.logrank is not None:
        old = survival.logrank_from_counts(counts)
        assert view.logrank.statistic == pytest.approx(old.statistic, abs=1e-9)
        assert view.logrank.p_value == pytest.approx(old.p_value, abs=1e-12)
        if len(old.groups) > 2:
            pd.testing.assert_frame_equal(view.pairwise, survival.pairwise_from_counts(counts, "holm"))
    else:
        assert spec.group is None or view.summary.empty or view.logrank_reason in ("one group", "no events")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.endpoint}-{s.group}")
def test_km_figure_equals_the_page_built_chart(db, spec):
    f = CohortFilter()
    counts = survival.km_counts(db, f, spec)
    n, events = int(counts[["n_event", "n_censored"]].to_numpy().sum()), int(counts["n_event"].sum())
    describe = (f"{survival.POPULATIONS[spec.population]}, time from {survival.ORIGINS[spec.origin]}; "
                f"filters: {f.describe()}; n = {n}, {events} events")
    old = survival_chart.km_chart(
        survival.curves_from_counts(counts), counts, title=spec.endpoint_label(),
        group_title=spec.group_label() if spec.group else None, show_ci=True,
        y_title=f"{spec.endpoint_label().split(' (')[0]} (%)",
        x_title=f"Months from {survival.ORIGINS[spec.origin]}", subtitle=describe)
    assert survival_chart.km_figure(db, f, spec, True, 0).to_dict() == old.to_dict()


def test_landmark_and_cif_views_equal_the_counts_computation(db):
    f, spec = CohortFilter(), survival.SurvivalSpec(group="hct", population="treated")
    lm_counts = survival_hct.landmark_counts(db, f, spec, 200)
    lm = survival_hct.landmark_view(db, f, spec, 200, (12.0,))
    pd.testing.assert_frame_equal(lm.summary, survival.summary_from_counts(lm_counts, (12.0,)))
    if lm_counts["group"].nunique() == 2 and lm_counts["n_event"].sum() > 0:
        assert lm.logrank.statistic == pytest.approx(
            survival.logrank_from_counts(lm_counts).statistic, abs=1e-9)
    cif = survival_cr.cumulative_incidence(db, f, spec)
    pd.testing.assert_frame_equal(
        survival_cr.cif_milestones(db, f, spec, (12.0, 24.0)),
        pd.concat([survival_cr.cif_at(cif, m) for m in (12.0, 24.0)], ignore_index=True))
    chart = survival_chart.cif_figure(db, f, spec).to_dict()
    assert chart["title"]["subtitle"].endswith(f"n = {survival.inclusion_summary(db, f, spec)[0]}")


def _specs(at):
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


@pytest.mark.parametrize("tab, builder", [("Kaplan-Meier", "km_chart"),
                                          ("Cox model", "forest_chart"),
                                          ("Relapse vs non-relapse mortality", "cif_chart")])
def test_figures_are_built_once_per_view(monkeypatch, tab, builder):
    built = []
    original = getattr(survival_chart, builder)

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(survival_chart, builder, counting)
    st.cache_data.clear()
    at = run_page("pages/survival.py", {"surv_tab": tab})
    assert not at.exception and len(built) == 1 and len(_specs(at)) == 1
    at.run()  # a warm rerun of the same view sends the cached spec: nothing is rebuilt
    assert not at.exception and len(built) == 1 and len(_specs(at)) == 1


def test_km_view_carries_the_median_followup(demo_db):
    from analytics import survival
    from analytics.filters import CohortFilter
    for f in (CohortFilter(), CohortFilter(sex=("F",))):
        spec = survival.SurvivalSpec(group="tp53_status")
        assert survival.km_view(demo_db, f, spec).median_followup_months == \
            survival.median_followup(demo_db, f, spec) > 0
