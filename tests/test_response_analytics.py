"""Response analytics on the demo cohort, checked against pandas computations on the raw CSVs."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import binomtest, fisher_exact

from analytics import response
from analytics.response import flow, swimmer
from analytics.cohort import patient_order
from analytics.filters import CohortFilter
from analytics.stats import freeman_halton
from analytics.units import DAYS_PER_MONTH
from tests.apptest_helpers import ROOT

CSV = ROOT / "data" / "demo_cohort"
ALL = CohortFilter()
RANK = {"CR": 1, "CRi": 2, "PR": 3, "refractory": 4, "not evaluable": 5}


@pytest.fixture(scope="module")
def raw():
    events = pd.read_csv(CSV / "events.csv")
    patients = pd.read_csv(CSV / "patients.csv")
    treated = set(events.loc[events.event_type == "treatment_line", "patient_id"])
    ra = events[events.event_type == "response_assessment"].copy()
    ra["rank"] = ra["response"].map(RANK)
    best = ra.sort_values("rank").groupby("patient_id")["response"].first()
    return events, patients, treated, best


def test_best_response_counts_and_exact_ci(demo_db, raw):
    events, patients, treated, best = raw
    s = response.best_response_summary(demo_db, ALL)
    assessed = best[best.index.isin(treated)]
    assert s.n_patients == len(patients)
    assert s.n_treated == len(treated)
    assert s.n_treated_assessed == len(assessed)
    for row in s.table.itertuples():
        k = int((assessed == row.response).sum())
        assert row.n == k and row.denominator == len(assessed)
        ci = binomtest(k, len(assessed)).proportion_ci(method="exact")
        assert row.ci_low == pytest.approx(ci.low, abs=1e-6)
        assert row.ci_high == pytest.approx(ci.high, abs=1e-6)
    k = int(assessed.isin(["CR", "CRi"]).sum())
    assert s.n_responders == k
    ci = binomtest(k, len(assessed)).proportion_ci(method="exact")
    assert (s.ci_low, s.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-6)
    assert s.table["n"].sum() == s.n_treated_assessed  # every assessed patient in one category


def test_untreated_listed_with_reasons(demo_db, raw):
    events, patients, treated, _ = raw
    u = response.untreated_patients(demo_db, ALL)
    assert set(u.patient_id) == set(patients.patient_id) - treated
    deaths = events[(events.event_type == "death") & ~events.patient_id.isin(treated)]
    for row in deaths.itertuples():
        assert row.cause in u.set_index("patient_id").at[row.patient_id, "why"]
    assert all(w and w != "no reason recorded" for w in u["why"])


def test_no_treated_patient_state(demo_db):
    f = CohortFilter(treated=False)
    s = response.best_response_summary(demo_db, f)
    assert s.n_treated == 0 and s.n_treated_assessed == 0 and math.isnan(s.rate)
    comp = response.response_by_group(demo_db, f, "institution")
    assert comp.test_name == "no test" and comp.rates.empty
    assert response.mrd_summary(demo_db, f).n_responders == 0
    assert response.time_to_cr(demo_db, f).n == 0


def test_two_group_comparison_matches_scipy(demo_db, raw):
    events, patients, treated, best = raw
    comp = response.response_by_group(demo_db, ALL, "institution")
    assessed = best[best.index.isin(treated)]
    inst = patients.set_index("patient_id")["institution"]
    table = []
    for g in sorted(inst.unique()):
        ids = [p for p in assessed.index if inst[p] == g]
        k = int(assessed[ids].isin(["CR", "CRi"]).sum())
        table.append([k, len(ids) - k])
    assert comp.contingency[["CR/CRi", "no CR/CRi"]].values.tolist() == table
    assert comp.p_value == pytest.approx(fisher_exact(table).pvalue, abs=1e-9)


def test_multi_group_comparison_uses_freeman_halton_on_visible_table(demo_db):
    comp = response.response_by_group(demo_db, ALL, "first_line_regimen_category")
    table = comp.contingency[["CR/CRi", "no CR/CRi"]].values
    assert len(table) > 2
    assert comp.test_name.startswith("Freeman-Halton")
    assert comp.p_value == pytest.approx(freeman_halton(table).p_value, abs=1e-12)
    assert comp.contingency["total"].sum() == response.best_response_summary(demo_db, ALL).n_treated_assessed


def test_not_evaluated_group_is_shown_but_not_tested(demo_db, raw):
    events, patients, treated, best = raw
    comp = response.response_by_group(demo_db, ALL, "tp53_status")
    ne = comp.rates[comp.rates.group == response.NOT_EVALUATED]
    assert len(ne) == 1 and not ne["evaluable"].iloc[0]
    unsequenced = set(patients.loc[patients.sequencing_assay.isna(), "patient_id"])
    assessed_treated = set(best.index) & treated
    assert int(ne["n"].iloc[0]) == len(unsequenced & assessed_treated)
    evaluable = comp.rates[comp.rates.evaluable]
    table = evaluable[["responders"]].assign(no=evaluable.n - evaluable.responders).values.tolist()
    assert comp.p_value == pytest.approx(fisher_exact(table).pvalue, abs=1e-9)


def test_unknown_group_feature_rejected(demo_db):
    with pytest.raises(ValueError):
        response.response_by_group(demo_db, ALL, "patient_id; DROP TABLE events")


def test_mrd_among_responders(demo_db, raw):
    events, patients, treated, best = raw
    responders = set(best[best.isin(["CR", "CRi"])].index)
    ra = events[(events.event_type == "response_assessment") & events.response.isin(["CR", "CRi"])
                & events.patient_id.isin(responders)]
    with_mrd = ra[ra.mrd_status.notna()]
    neg = set(with_mrd.loc[with_mrd.mrd_status == "negative", "patient_id"])
    m = response.mrd_summary(demo_db, ALL)
    assert m.n_responders == len(responders)
    assert m.n_evaluated == with_mrd.patient_id.nunique()
    assert m.n_negative == len(neg)
    ci = binomtest(len(neg), m.n_evaluated).proportion_ci(method="exact")
    assert (m.ci_low, m.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-6)
    assert m.methods["evaluated"].sum() == m.n_evaluated


def test_time_to_cr(demo_db, raw):
    events, *_ = raw
    start = events[events.event_type == "treatment_line"].groupby("patient_id")["day"].min()
    cr = events[(events.event_type == "response_assessment") & events.response.isin(["CR", "CRi"])] \
        .groupby("patient_id")["day"].min()
    days = (cr - start.reindex(cr.index)).dropna()
    t = response.time_to_cr(demo_db, ALL, "treatment")
    assert t.n == len(days)
    assert t.median_days == days.median() and t.min_days == days.min() and t.max_days == days.max()
    assert t.median_months == pytest.approx(days.median() / DAYS_PER_MONTH)
    d = response.time_to_cr(demo_db, ALL, "diagnosis")
    assert d.median_days == cr.median()


def test_current_status_from_events(demo_db, raw):
    events, patients, *_ = raw
    dead = set(events.loc[events.event_type == "death", "patient_id"])
    lc = events[events.event_type == "last_contact"].sort_values("day").groupby("patient_id").last()
    ned = {p for p in lc.index if p not in dead and lc.at[p, "disease_status"] == "no evidence of B-ALL"}
    s = response.current_status(demo_db, ALL)
    assert set(s.loc[s.status == response.ALIVE_NED, "patient_id"]) == ned
    t = response.current_status_table(demo_db, ALL)
    assert t["total"].sum() == len(patients)
    assert t[list(response.PATHWAYS)].values.sum() == len(patients)


# --- swimmer ---------------------------------------------------------------------------------
def test_swimmer_segments_tile_follow_up(demo_db):
    seg, marks = swimmer.swimmer_data(demo_db, ALL)
    summary = demo_db.query("SELECT patient_id, os_days, hct_day, relapse_day, death_day, "
                            "first_cr_day, treated FROM patient_summary").set_index("patient_id")
    for pid, s in seg.groupby("patient_id"):
        s = s.sort_values("start_day")
        assert s["start_day"].iloc[0] == 0
        assert s["end_day"].iloc[-1] == max(summary.at[pid, "os_days"], 1)
        assert (s["start_day"].iloc[1:].values == s["end_day"].iloc[:-1].values).all()  # contiguous
        assert (s["phase"].iloc[1:].values != s["phase"].iloc[:-1].values).all()  # merged
        if not summary.at[pid, "treated"]:
            assert set(s["phase"]) == {swimmer.OBSERVATION}
        if pd.notna(summary.at[pid, "hct_day"]):
            after = s[s.start_day >= summary.at[pid, "hct_day"]]
            assert after["phase"].iloc[0] == swimmer.AFTER_HCT
    m = marks.set_index(["patient_id", "marker"])["day"]
    for pid, row in summary.iterrows():
        for col, kind in (("hct_day", "allogeneic HCT"), ("relapse_day", "relapse"),
                          ("death_day", "death"), ("first_cr_day", "CR/CRi")):
            if pd.notna(row[col]):
                assert m[(pid, kind)] == row[col]
            else:
                assert (pid, kind) not in m.index
        assert ((pid, "alive at last contact") in m.index) == pd.isna(row["death_day"])


def test_swimmer_order(demo_db):
    f = CohortFilter(institution=("Site A",))
    assert swimmer.swimmer_order(demo_db, f) == patient_order(demo_db, f)
    by_duration = swimmer.swimmer_order(demo_db, f, "duration")
    os_days = demo_db.query("SELECT patient_id, os_days FROM patient_summary").set_index("patient_id")["os_days"]
    assert list(os_days[by_duration]) == sorted(os_days[by_duration], reverse=True)
    by_response = swimmer.swimmer_order(demo_db, f, "response")
    assert sorted(by_response) == sorted(by_duration)
    chart = swimmer.swimmer_chart(demo_db, f, "regimen").to_dict()
    assert chart["layer"][0]["encoding"]["y"]["sort"] == swimmer.swimmer_order(demo_db, f, "regimen")


# --- flow ------------------------------------------------------------------------------------
def test_flow_counts_partition_the_cohort(demo_db, raw):
    events, patients, treated, best = raw
    counts = flow.flow_counts(demo_db, ALL)
    assert counts["patients"].sum() == len(patients)
    from tests.oracles.flow import flow_patients
    p = flow_patients(demo_db, ALL)
    assert (p["regimen"] == flow.NOT_TREATED).sum() == len(set(patients.patient_id) - treated)
    assert (p["hct"] == "HCT").sum() == events.loc[events.event_type == "hct", "patient_id"].nunique()
    chart = flow.flow_chart(demo_db, ALL).to_dict()
    nodes = pd.DataFrame(chart["datasets"][chart["layer"][1]["data"]["name"]])
    for stage, total in nodes.groupby("stage")["n"].sum().items():
        assert total == len(patients), stage


def test_swimmer_aligned_on_first_treatment_shifts_each_patient_by_their_start(demo_db):
    from analytics.response import swimmer
    seg, mk = swimmer.swimmer_data(demo_db, CohortFilter())
    seg_t, mk_t, excluded = swimmer.align_on_origin(demo_db, CohortFilter(), seg, mk, "treatment")
    from analytics.cohort import filtered_summary
    start = filtered_summary(demo_db, CohortFilter()).set_index("patient_id")["first_treatment_day"]
    assert excluded == sorted(start[start.isna()].index)           # untreated: no origin
    assert set(seg_t["patient_id"]) == set(start.dropna().index)
    for pid, day in start.dropna().items():
        before = mk[mk["patient_id"] == pid]["day"].to_numpy()
        after = mk_t[mk_t["patient_id"] == pid]["day"].to_numpy()
        assert (after == before - day).all()
        assert seg_t[seg_t["patient_id"] == pid]["start_day"].min() == -day  # pre-treatment kept
    # S04 was observed ~3 months after withdrawal before therapy: its bar starts before 0
    assert seg_t[seg_t["patient_id"] == "S04"]["start_months"].min() < -3


def test_swimmer_chart_from_treatment_names_the_untreated(demo_db):
    from analytics.response import swimmer
    spec = swimmer.swimmer_chart(demo_db, CohortFilter(), "default", "treatment").to_dict()
    assert "start of first B-ALL treatment" in spec["title"]["text"]
    assert "Not shown (never treated): S12, S20, S25, S31." in spec["title"]["subtitle"]


def test_flow_chart_height_stays_readable_from_one_patient_to_registry_size(demo_db):
    from analytics.response import flow
    from analytics.synthetic import build_synthetic_in_memory

    demo = flow.flow_chart(demo_db, CohortFilter()).height
    one = flow.flow_chart(demo_db, CohortFilter(age=(48, 48))).height  # a single patient
    large = flow.flow_chart(build_synthetic_in_memory(3000, seed=4), CohortFilter()).height
    assert one == flow.MIN_HEIGHT_PX          # room for the stage headings
    assert 600 <= demo <= 1200
    assert large <= 1.5 * demo                # not 22 px per patient (66,000 px at 3,000)
