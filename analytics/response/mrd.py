"""MRD among responders (best response CR/CRi): MRD-negative if any CR/CRi assessment recorded
MRD negativity; responders without an MRD result are "not evaluated" and outside the
denominator. The method and the sensitivity of the defining assessment are reported."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.response.time_to_response import origin_day_sql, time_to_cr
from analytics.stats import clopper_pearson
from analytics.units import DAYS_PER_MONTH


def format_sensitivity(x: float | None) -> str:
    """0.0001 -> '10⁻⁴ (0.01%)'."""
    if x is None or pd.isna(x):
        return "not recorded"
    exp = math.log10(x)
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    head = f"10{str(int(round(exp))).translate(sup)}" if abs(exp - round(exp)) < 1e-9 else f"{x:g}"
    return f"{head} ({100 * x:g}%)"


@dataclass(frozen=True)
class MrdSummary:
    n_responders: int
    n_evaluated: int
    n_negative: int
    ci_low: float
    ci_high: float
    methods: pd.DataFrame = field(compare=False)   # method, sensitivity, evaluated, negative

    @property
    def n_not_evaluated(self) -> int:
        return self.n_responders - self.n_evaluated


def mrd_rows(db: CohortDatabase, cohort_filter: CohortFilter, limit: int | None = None) -> pd.DataFrame:
    """Per responder (CR/CRi), by id: MRD status, method and sensitivity; the first `limit` only."""
    sql, params = _mrd_sql(cohort_filter, limit)
    df = db.query(f"{sql} ORDER BY resp.patient_id", params)
    df["mrd"] = np.where(df["n_mrd"] == 0, NOT_EVALUATED,
                         np.where(df["negative"], "negative", "positive"))
    return df


def _mrd_sql(cohort_filter: CohortFilter, limit: int | None = None) -> tuple[str, list]:
    """The per-responder MRD query of `mrd_rows` (SQL text and parameters)."""
    sub, params = cohort_filter.patient_ids_sql()
    limit_sql, limit_params = ("ORDER BY patient_id LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    return (f"""
        WITH resp AS (
            SELECT patient_id, best_response FROM patient_summary
            WHERE best_response IN ('CR', 'CRi') AND patient_id IN ({sub}) {limit_sql}),
        a AS (
            SELECT e.patient_id, e.day, e.mrd_status, e.mrd_method, e.mrd_sensitivity
            FROM events e JOIN resp USING (patient_id)
            WHERE e.event_type = 'response_assessment' AND e.response IN ('CR', 'CRi'))
        SELECT resp.patient_id, resp.best_response,
               count(a.mrd_status) AS n_mrd,
               coalesce(bool_or(a.mrd_status = 'negative'), FALSE) AS negative,
               min(a.day) FILTER (WHERE a.mrd_status = 'negative') AS mrd_negative_day,
               arg_min(a.mrd_method, (a.mrd_status <> 'negative', a.day))
                   FILTER (WHERE a.mrd_status IS NOT NULL) AS mrd_method,
               arg_min(a.mrd_sensitivity, (a.mrd_status <> 'negative', a.day))
                   FILTER (WHERE a.mrd_status IS NOT NULL) AS mrd_sensitivity
        FROM resp LEFT JOIN a USING (patient_id)
        GROUP BY resp.patient_id, resp.best_response""", params + limit_params)


def mrd_summary(db: CohortDatabase, cohort_filter: CohortFilter) -> MrdSummary:
    """MRD-negative rate (exact CI) among responders with an MRD result at a CR/CRi assessment,
    and the method and sensitivity of the assessment defining each status, counted in DuckDB:
    Python sees one row per (method, sensitivity). Per responder: `responder_table`."""
    sub, params = cohort_filter.patient_ids_sql()
    responders = (f"SELECT patient_id FROM patient_summary WHERE best_response IN ('CR', 'CRi') "
                  f"AND patient_id IN ({sub})")
    # per evaluated responder (a CR/CRi assessment with an MRD status), the defining assessment as
    # `mrd_rows` picks it; only rows with a status are grouped (DuckDB's working memory at 1M)
    g = db.query(f"""
        WITH per AS (
            SELECT patient_id, bool_or(mrd_status = 'negative') AS negative,
                   arg_min(struct_pack(m := mrd_method, s := mrd_sensitivity),
                           (mrd_status <> 'negative', day)) AS d
            FROM events WHERE event_type = 'response_assessment' AND response IN ('CR', 'CRi')
                AND mrd_status IS NOT NULL AND patient_id IN ({responders})
            GROUP BY patient_id)
        SELECT d.m AS mrd_method, d.s AS mrd_sensitivity, count(*) AS evaluated,
               count(*) FILTER (WHERE negative) AS negative FROM per GROUP BY ALL""", params)
    n_resp = int(db.scalar(f"SELECT count(*) FROM ({responders}) AS r", params))
    ev = g[g["evaluated"] > 0]
    k, n = int(ev["negative"].sum()), int(ev["evaluated"].sum())
    low, high = clopper_pearson(k, n)
    methods = (ev.assign(mrd_method=ev["mrd_method"].fillna("method not recorded"),
                         sensitivity=[format_sensitivity(x) for x in ev["mrd_sensitivity"]],
                         evaluated=ev["evaluated"].astype("int64"), negative=ev["negative"].astype("int64"))
               .groupby(["mrd_method", "sensitivity"], dropna=False)
               .agg(evaluated=("evaluated", "sum"), negative=("negative", "sum")).reset_index())
    return MrdSummary(n_resp, n, k, low, high, methods)


def responder_table(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment",
                    limit: int | None = 1000) -> tuple[pd.DataFrame, int]:
    """Per responder: best response, MRD and time to CR/CRi (first `limit` rows; None: all), and the count."""
    rows = mrd_rows(db, cohort_filter, limit)  # only the first `limit` responders are read
    if limit is None:
        ttc = time_to_cr(db, cohort_filter, origin)
        per = rows.merge(ttc.patients[["patient_id", "days", "months"]], on="patient_id", how="left")
        return per, len(per)
    # time to CR of those responders only (as `time_to_cr` computes it)
    start = origin_day_sql(origin)
    ids = rows["patient_id"].tolist()
    only = f"patient_id IN ({', '.join('?' * len(ids))})" if ids else "FALSE"
    days = db.query(f"SELECT patient_id, first_cr_day - {start} AS days FROM patient_summary "
                    f"WHERE {only} AND first_cr_day IS NOT NULL AND treated ORDER BY patient_id", ids)
    days["months"] = days["days"] / DAYS_PER_MONTH
    per = rows.merge(days, on="patient_id", how="left")
    sub, params = cohort_filter.patient_ids_sql()
    n = int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE best_response IN ('CR', 'CRi') "
                      f"AND patient_id IN ({sub})", params))
    return per, n
