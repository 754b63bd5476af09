"""Per-patient references for analytics.response: MRD among responders, status at last contact."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import response as r
from analytics.stats import clopper_pearson
from analytics.units import DAYS_PER_MONTH


def mrd_summary(db, cohort_filter) -> tuple[r.MrdSummary, pd.DataFrame]:
    """(`response.mrd_summary` computed from one row per responder, those rows)."""
    df = r.mrd_rows(db, cohort_filter)
    ev = df[df["n_mrd"] > 0]
    k, n = int(ev["negative"].sum()), len(ev)
    low, high = clopper_pearson(k, n)
    methods = (ev.assign(mrd_method=ev["mrd_method"].fillna("method not recorded"),
                         sensitivity=[r.format_sensitivity(x) for x in ev["mrd_sensitivity"]])
               .groupby(["mrd_method", "sensitivity"], dropna=False)
               .agg(evaluated=("patient_id", "size"), negative=("negative", "sum")).reset_index())
    return r.MrdSummary(len(df), n, k, low, high, methods), df


def current_status(db, cohort_filter) -> pd.DataFrame:
    """Per patient: status at last contact and pathway, mapped in pandas."""
    where, params = cohort_filter.where_sql()
    df = db.query(f"SELECT patient_id, treated, hct, status_at_last_contact, death_cause, os_days, "
                  f"last_contact_day FROM patient_summary WHERE {where} ORDER BY patient_id", params)
    status = {"no evidence of B-ALL": r.ALIVE_NED, "B-ALL present": "alive with B-ALL",
              "unknown": "alive, disease status unknown", "dead": "dead"}
    df["status"] = df["status_at_last_contact"].map(status)
    df["pathway"] = np.where(df["hct"].astype(bool), r.PATHWAYS[0],
                             np.where(df["treated"].astype(bool), r.PATHWAYS[1], r.PATHWAYS[2]))
    df["months_followed"] = df["os_days"] / DAYS_PER_MONTH
    return df


def list_ids(ids) -> str:
    """Every id of a group listed up to response.IDS_LISTED, then '... and N more'."""
    ids = list(ids)
    if len(ids) <= r.IDS_LISTED:
        return ", ".join(ids)
    return ", ".join(ids[:r.IDS_LISTED]) + f", ... and {len(ids) - r.IDS_LISTED:,} more"
