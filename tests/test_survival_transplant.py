"""Transplant analyses as a transplant physician reads them: Simon-Makuch plot, landmark
sensitivity, the naive HR only beside the time-dependent one, competing risks with a risk
table, KM curves cut at a minimum number at risk. Reference values from lifelines' public
datasets and independent computations."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_stanford_heart_transplants

from analytics import survival
from analytics.survival import chart as survival_chart, hct as survival_hct, simon_makuch as survival_sm
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH
from analytics.views import survival as views
from tests.apptest_helpers import EMPTY, SINGLE, all_text, run_page


TIGHT = {"precision": 1e-12, "max_steps": 200}  # lifelines run to full convergence


def _stanford_rows() -> pd.DataFrame:
    heart = load_stanford_heart_transplants()
    following = heart.groupby("id")["transplant"].shift(-1)
    return pd.DataFrame({"start": heart["start"], "stop": heart["stop"], "exposed": heart["transplant"],
                         "event": heart["event"], "weight": 1.0,
                         "switch": ((heart["transplant"] == 0) & (following == 1)).astype(int)})


def test_simon_makuch_equals_delayed_entry_kaplan_meier_on_stanford_heart():
    """Independent computation: lifelines' Kaplan-Meier with delayed entry (left truncation)
    on each state's intervals of the Stanford heart transplant data (103 patients, 69 of whom
    were transplanted: the textbook time-dependent exposure)."""
    heart = load_stanford_heart_transplants()
    assert heart["id"].nunique() == 103 and heart.loc[heart["transplant"] == 1, "id"].nunique() == 69
    curves = survival_sm.extended_km(_stanford_rows(), ("waiting", "transplanted"))
    for state, label in ((0, "waiting"), (1, "transplanted")):
        part = heart[heart["transplant"] == state]
        reference = KaplanMeierFitter().fit(part["stop"], part["event"], entry=part["start"])
        mine = curves[(curves["group"] == label) & (curves["n_event"] > 0)].set_index("time_days")
        expected = reference.survival_function_.iloc[:, 0].reindex(mine.index)
        ci = reference.confidence_interval_.reindex(mine.index)
        assert np.allclose(mine["survival"], expected, atol=1e-12)
        assert np.allclose(mine["ci_lower"], ci.iloc[:, 0], atol=1e-12)
        assert np.allclose(mine["ci_upper"], ci.iloc[:, 1], atol=1e-12)
    # reference value (lifelines 0.30.3, delayed-entry KM of the waiting intervals): S(50 days)
    waiting = curves[curves["group"] == "waiting"]
    assert float(waiting[waiting["time_days"] <= 50]["survival"].iloc[-1]) == pytest.approx(0.652237, abs=1e-6)


def test_simon_makuch_risk_table_shows_the_switching():
    rows = _stanford_rows()
    table = survival_sm.at_risk_table(rows, ("waiting", "transplanted"), [0, 1, 12])
    waiting = table[table["group"] == "waiting"].set_index("time_months")["at_risk"]
    transplanted = table[table["group"] == "transplanted"].set_index("time_months")["at_risk"]
    assert waiting[0] == 103 and transplanted[0] == 0  # everybody starts waiting
    day = 30.4375  # one month in days
    independent = ((rows["start"] < day) & (rows["stop"] >= day))
    assert waiting[1] == int((independent & (rows["exposed"] == 0)).sum())
    assert transplanted[1] == int((independent & (rows["exposed"] == 1)).sum()) > 0
    assert waiting[12] < waiting[1]


def test_switching_is_not_censoring():
    rows = _stanford_rows()
    curves = survival_sm.extended_km(rows, ("waiting", "transplanted"))
    waiting = curves[curves["group"] == "waiting"]
    true_censored = rows[(rows["exposed"] == 0) & (rows["event"] == 0) & (rows["switch"] == 0)]
    assert waiting["n_censored"].sum() == len(true_censored)


def test_demo_simon_makuch_view_counts_every_patient_once(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"group": "hct", "population": "treated"})
    result = views.simon_makuch(demo_db, CohortFilter(), spec)
    table = survival.patient_table(demo_db, CohortFilter(), spec.analysis(demo_db))
    table = table[table["included"]]
    assert result.numbers["n"] == len(table)
    hct_inside = ((table["hct_day"] - table["origin_day"]) < table["time_days"]) & table["hct_day"].notna()
    assert result.numbers["switched"] == int(hct_inside.sum())
    assert result.numbers["events"] == int(table["event"].sum())
    spec_cr, _ = views.SurvivalPageSpec.from_params({"group": "best_response"})
    assert "first CR/CRi" in views.simon_makuch(demo_db, CohortFilter(), spec_cr).title


def test_landmark_sensitivity_rows_equal_each_landmark_analysis(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"group": "hct", "landmarks": "180, 365, 100"})
    result = views.landmark_sensitivity(demo_db, CohortFilter(), spec)
    table = result.tables["landmarks"]
    assert table["Landmark day"].tolist() == [100, 180, 365]
    for row in table.itertuples():
        one = views.landmark(demo_db, CohortFilter(), spec.with_(landmark=row[1]))
        assert (row[2], row[3]) == (one.numbers["n"], one.numbers["events"])
        counts = survival_hct.landmark_counts(demo_db, CohortFilter(), spec.analysis(demo_db), row[1])
        yes, no = survival_hct.landmark_labels(row[1])
        hr = survival_hct.group_hazard_ratio(counts, yes, no)
        if hr is not None:  # lifelines on one row per patient gives the same HR
            rows = counts.loc[counts.index.repeat(counts["n_event"] + counts["n_censored"])].copy()
            rows["event"] = rows.groupby(["group", "time_days"]).cumcount() < rows["n_event"]
            rows["x"] = (rows["group"] == yes).astype(float)
            fit = CoxPHFitter().fit(rows[["time_days", "event", "x"]].astype(float), "time_days", "event",
                                    fit_options=TIGHT)
            assert hr.hr == pytest.approx(float(fit.hazard_ratios_["x"]), rel=1e-5)
            assert row[7] == f"{hr.hr:.2f} ({hr.lower:.2f} to {hr.upper:.2f})"


def test_naive_hr_is_shown_only_beside_the_time_dependent_one(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"group": "hct", "population": "treated"})
    result = views.time_dependent_hct(demo_db, CohortFilter(), spec)
    assert result.lines[0].startswith("HR ")  # the time-dependent estimate comes first
    assert "naive 'HCT ever'" in result.lines[1] and "biased by immortal time" in result.lines[1]
    assert any(c.heading == "Immortal-time bias" for c in result.caveats)
    table = survival.patient_table(demo_db, CohortFilter(), spec.analysis(demo_db).with_(group="hct"))
    table = table[table["included"]].assign(x=lambda t: (t["group"] == "yes").astype(float))
    fit = CoxPHFitter().fit(table[["time_days", "event", "x"]].astype(float), "time_days", "event",
                            fit_options=TIGHT)
    assert result.numbers["naive_hr"] == pytest.approx(float(fit.hazard_ratios_["x"]), rel=1e-5)
    assert "fitted by the app's Newton-Raphson" in result.caption  # says what ran


def test_cif_figure_has_a_risk_table_at_the_curve_ticks(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"group": "sex"})
    result = views.competing_risks(demo_db, CohortFilter(), spec)
    compiled = result.figure.to_dict()
    curve, table = compiled["vconcat"]
    assert table["title"]["text"] == "Number at risk"
    curve_ticks = curve["layer"][1]["encoding"]["x"]["axis"]["values"]
    assert table["encoding"]["x"]["axis"]["values"] == curve_ticks
    risk = pd.DataFrame(compiled["datasets"][table["data"]["name"]])
    counts = survival_cr_counts(demo_db, spec)
    for group, part in risk.groupby("group"):
        c = counts[counts["group"] == group]
        for tick, n in zip(part["time_months"], part["at_risk"]):
            leaving = c["n_relapse"] + c["n_nrm"] + c["n_censored"]
            assert int(n) == int(leaving[c["time_days"] >= tick * DAYS_PER_MONTH].sum())
    milestones = result.tables["milestones"]
    assert set(milestones["group"]) == {"F", "M"} and milestones["CIF, % (95% CI)"].str.contains(r"\(").any()


def survival_cr_counts(db, spec):
    from analytics.survival import competing_risks as survival_cr
    return survival_cr.competing_counts(db, CohortFilter(), spec.analysis(db))


def test_curves_cut_below_a_minimum_at_risk(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"min_at_risk": "10"})
    result = views.km(demo_db, CohortFilter(), spec)
    compiled = result.figure.to_dict()
    name = compiled["vconcat"][0]["layer"][0]["data"]["name"] if "data" in compiled["vconcat"][0]["layer"][0] \
        else next(iter(compiled["datasets"]))
    rows = pd.DataFrame(compiled["datasets"][name])
    assert rows["at_risk"].min() >= 10
    assert "fewer than 10 patients remain at risk" in result.caption
    full = views.km(demo_db, CohortFilter(), spec.with_(min_at_risk=0)).figure.to_dict()
    assert max(len(d) for d in full["datasets"].values()) > len(rows)


@pytest.mark.parametrize("query", [EMPTY, SINGLE, {"group": "hct", "institution": "Site B"},
                                   {"group": "best_response", "tp53": "mutated"},
                                   {"group": "hct", "landmarks": "5000"}])
def test_transplant_views_under_filters(query):
    at = run_page("pages/survival.py", query)
    assert not at.exception
    text = all_text(at)
    if query is EMPTY:
        assert "No patients match" in text
    elif query.get("group") in ("hct", "best_response"):
        assert "Simon-Makuch" in text
        specs = [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]
        assert any("Number at risk" in json.dumps(s) for s in specs)
    if query.get("landmarks") == "5000":
        assert "landmarks: \"5000\" is not 1 to 6 whole days" in text


def test_km_summary_has_median_follow_up_per_group(demo_db):
    spec, _ = views.SurvivalPageSpec.from_params({"group": "sex"})
    table = views.km(demo_db, CohortFilter(), spec).tables["summary"]
    assert table["Median follow-up, months"].tolist() != ["n/a"] * len(table) and len(table) == 2


def test_risk_table_chart_is_shared_by_km_and_cif():
    counts = pd.DataFrame({"group": ["a", "a"], "time_days": [30.0, 60.0], "n_event": [1, 0], "n_censored": [0, 1]})
    curves = survival.curves_from_counts(counts)
    chart = survival_chart.km_chart(curves, counts, title="t").to_dict()
    assert chart["vconcat"][1]["title"]["text"] == "Number at risk"
