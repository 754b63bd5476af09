"""The response page's counts computed in DuckDB equal the per-patient pandas way they replaced
(issue 9: Python sees aggregated rows only), on the demo cohort and synthetic cohorts."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics import response as r
from analytics.response import flow, swimmer
from analytics.build import build_in_memory
from analytics.filters import CohortFilter
from analytics.format import percent, percent_range
from analytics.stats import clopper_pearson, rxc
from analytics.synthetic import build_synthetic_in_memory
from tests.oracles import flow as flow_oracle, response as response_oracle

FILTERS = (CohortFilter(), CohortFilter(sex=("F",)))


@pytest.fixture(scope="module", params=["demo", "synthetic3000_s3", "synthetic3000_s7"])
def db(request):
    if request.param == "demo":
        return build_in_memory("data/demo_cohort")
    return build_synthetic_in_memory(3000, seed=int(request.param[-1]))


# --- the per-patient reference implementations (as they were before the SQL counts) ----------
def ref_best_response(db, f):
    where, params = f.where_sql()
    df = db.query(f"SELECT patient_id, treated, best_response FROM patient_summary WHERE {where} "
                  "ORDER BY patient_id", params)
    treated = df[df["treated"].astype(bool)]
    assessed = treated[treated["best_response"].notna()]
    n = len(assessed)
    rows = []
    for resp in r.RESPONSES:
        k = int((assessed["best_response"] == resp).sum())
        low, high = clopper_pearson(k, n)
        rows.append({"response": resp, "n": k, "denominator": n, "pct": k / n if n else math.nan,
                     "ci_low": low, "ci_high": high})
    k = int(assessed["best_response"].isin(r.RESPONDER).sum())
    return (len(df), len(treated), n, k, clopper_pearson(k, n), pd.DataFrame(rows),
            tuple(treated.loc[treated["best_response"].isna(), "patient_id"]))


def ref_by_group(db, f, feature):
    label, expr = r.GROUP_FEATURES[feature]
    where, params = f.where_sql()
    df = db.query(f"SELECT patient_id, {expr} AS grp, best_response FROM patient_summary "
                  f"WHERE {where} AND treated AND best_response IS NOT NULL ORDER BY patient_id", params)
    df["grp"] = df["grp"].astype(object).where(df["grp"].notna(), r.NOT_EVALUATED).astype(str)
    df["responder"] = df["best_response"].isin(r.RESPONDER)
    groups = sorted(set(df["grp"]) - {r.NOT_EVALUATED})
    if r.NOT_EVALUATED in set(df["grp"]):
        groups.append(r.NOT_EVALUATED)
    rows, cont = [], []
    for g in groups:
        s = df[df["grp"] == g]
        k, n = int(s["responder"].sum()), len(s)
        low, high = clopper_pearson(k, n)
        rows.append({"group": g, "n": n, "responders": k, "rate": k / n if n else math.nan,
                     "ci_low": low, "ci_high": high, "evaluable": g != r.NOT_EVALUATED,
                     "patients": response_oracle.list_ids(s["patient_id"])})
        c = {"group": g, "CR/CRi": k, "no CR/CRi": n - k, "total": n}
        for resp in r.RESPONSES:
            c[r.RESPONSE_LABELS[resp]] = int((s["best_response"] == resp).sum())
        cont.append(c)
    return (pd.DataFrame(rows, columns=["group", "n", "responders", "rate", "ci_low", "ci_high",
                                        "evaluable", "patients"]),
            pd.DataFrame(cont, columns=["group", "CR/CRi", "no CR/CRi", "total", *r.RESPONSE_LABELS.values()]))


def ref_status_table(db, f):
    df = response_oracle.current_status(db, f)
    n = len(df)
    rows = []
    for s in r.STATUS_ORDER:
        part = df[df["status"] == s]
        k = len(part)
        low, high = clopper_pearson(k, n) if n else (math.nan, math.nan)
        row = {"status": s}
        for p in r.PATHWAYS:
            row[p] = int((part["pathway"] == p).sum())
        row.update({"total": k, "% of patients": percent(k / n if n else math.nan),
                    "exact 95% CI": percent_range(low, high)})
        rows.append(row)
    return pd.DataFrame(rows), int((df["status"] == r.ALIVE_NED).sum()), n


# --- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_best_response_counts_equal_per_patient(db, f):
    s = r.best_response_summary(db, f)
    n_pat, n_tr, n_as, k, ci, table, unassessed = ref_best_response(db, f)
    assert (s.n_patients, s.n_treated, s.n_treated_assessed, s.n_responders) == (n_pat, n_tr, n_as, k)
    assert (s.ci_low, s.ci_high) == ci or (math.isnan(s.ci_low) and math.isnan(ci[0]))
    pd.testing.assert_frame_equal(s.table, table)
    assert s.unassessed == unassessed
    assert r.best_response_brief(db, f).unassessed == unassessed[:r.IDS_LISTED]


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
@pytest.mark.parametrize("feature", list(r.GROUP_FEATURES))
def test_response_by_group_equals_per_patient(db, f, feature):
    comp = r.response_by_group(db, f, feature)
    rates, contingency = ref_by_group(db, f, feature)
    pd.testing.assert_frame_equal(comp.rates, rates)
    pd.testing.assert_frame_equal(comp.contingency, contingency)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_mrd_summary_equals_per_responder_summary(db, f):
    brief, (full, _) = r.mrd_summary(db, f), response_oracle.mrd_summary(db, f)
    assert (brief.n_responders, brief.n_evaluated, brief.n_negative) == (
        full.n_responders, full.n_evaluated, full.n_negative)
    assert (brief.ci_low, brief.ci_high) == (full.ci_low, full.ci_high) or math.isnan(full.ci_low)
    pd.testing.assert_frame_equal(brief.methods, full.methods)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_current_status_sql_mapping_equals_per_patient_mapping(db, f):
    pd.testing.assert_frame_equal(r.current_status(db, f), response_oracle.current_status(db, f),
                                  check_dtype=False)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
@pytest.mark.parametrize("origin", list(r.TIME_ORIGINS))
def test_time_to_cr_brief_equals_per_responder(db, f, origin):
    brief, full = r.time_to_cr_brief(db, f, origin), r.time_to_cr(db, f, origin)
    assert brief.n == full.n
    for a, b in ((brief.median_days, full.median_days), (brief.min_days, full.min_days),
                 (brief.max_days, full.max_days)):
        assert a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_status_counts_equal_per_patient(db, f):
    table, n_ned, n = ref_status_table(db, f)
    pd.testing.assert_frame_equal(r.current_status_table(db, f), table)
    assert r.alive_ned_count(db, f) == (n_ned, n)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_flow_paths_equal_per_patient_groupby(db, f):
    p = flow_oracle.flow_patients(db, f)
    keys = list(flow.STAGES)
    ref = p.groupby(keys, sort=False).agg(n=("patient_id", "size"), ids=("patient_id", list)).reset_index()
    paths = flow.flow_paths(db, f)
    assert paths[keys].values.tolist() == ref[keys].values.tolist()  # first-appearance order
    assert paths["n"].tolist() == ref["n"].tolist()
    assert [list(x) for x in paths["ids"]] == [x[:flow.IDS_LISTED + 1] for x in ref["ids"]]
    for s in keys:  # category order per stage, from counts
        g = flow._group_paths(paths, [s])
        assert flow._stage_order_counted(list(g[s]), dict(zip(g[s], g["n"])), s) == flow_oracle.stage_order(p[s], s)
        mine = dict(zip(g[s], g["ids"]))
        for v, members in p.groupby(s, sort=False)["patient_id"]:
            assert mine[v] == flow_oracle.list_ids(members)


@pytest.mark.parametrize("f", FILTERS, ids=["all", "female"])
def test_flow_counts_equal_per_patient_groupby(db, f):
    p = flow_oracle.flow_patients(db, f)
    g = (p.groupby(list(flow.STAGES), sort=False)
         .agg(patients=("patient_id", "size"), ids=("patient_id", flow_oracle.list_ids)).reset_index())
    g = g.sort_values(["patients", "regimen"], ascending=[False, True]).reset_index(drop=True)
    pd.testing.assert_frame_equal(flow.flow_counts(db, f), g.rename(columns=flow.STAGES))


@pytest.mark.parametrize("sort", list(swimmer.SORTS))
@pytest.mark.parametrize("origin", list(swimmer.ORIGINS))
def test_swimmer_sql_order_equals_python_order(db, sort, origin):
    f = CohortFilter()
    order = swimmer.swimmer_order(db, f, sort)
    if origin != "diagnosis":
        where, params = f.where_sql()
        never = set(db.query(f"SELECT patient_id FROM patient_summary WHERE ({where}) "
                             "AND first_treatment_day IS NULL", params)["patient_id"])
        order = [p for p in order if p not in never]
    cap = 10
    chart = swimmer.swimmer_chart(db, f, sort, origin, max_patients=cap).to_dict()
    drawn = chart["layer"][0]["encoding"]["y"]["sort"]
    assert drawn == order[:cap]


def _ref_monte_carlo(table, draws, seed):
    """The Monte Carlo branch of freeman_halton as it was (log k! tabulated for every k <= n)."""
    import numpy as np
    from scipy.stats import random_table
    t = np.asarray(table, dtype=int)
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    const = rxc._margin_const(rows, cols)
    threshold = rxc._log_table_prob(t, const) + math.log(rxc.REL_TOL)
    sample = random_table(rows, cols).rvs(size=draws, random_state=np.random.default_rng(seed))
    lf = np.array([math.lgamma(k + 1) for k in range(int(rows.sum()) + 1)])
    logp = const - lf[sample].sum(axis=(1, 2))
    return (1 + int((logp <= threshold).sum())) / (1 + draws)


@pytest.mark.parametrize("table", [[[300, 200], [150, 350], [100, 100]], [[5, 9], [12, 3], [0, 7], [4, 4]],
                                   [[40000, 21000], [30500, 30000], [9000, 12000]]])
def test_freeman_halton_monte_carlo_equals_the_tabulated_way(table):
    res = rxc.freeman_halton(table, max_tables=1, draws=3000, seed=11)
    assert res.method.startswith("Monte Carlo")
    assert res.p_value == _ref_monte_carlo(table, 3000, 11)
    assert rxc.freeman_halton(table, max_tables=1, draws=3000, seed=11) is res  # remembered per table
