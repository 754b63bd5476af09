"""Per-patient reference for analytics.response.flow: each patient's category at every stage."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.response import flow
from analytics.response import NO_ASSESSMENT
from tests.oracles.response import current_status


def flow_patients(db, cohort_filter) -> pd.DataFrame:
    """One row per patient with the category at each stage."""
    where, params = cohort_filter.where_sql()
    df = db.query(f"SELECT patient_id, treated, first_line_regimen_category, best_response, hct "
                  f"FROM patient_summary WHERE {where} ORDER BY patient_id", params)
    status = current_status(db, cohort_filter).set_index("patient_id")["status"]
    treated = df["treated"].astype(bool)
    out = pd.DataFrame({"patient_id": df["patient_id"]})
    out["regimen"] = np.where(treated, df["first_line_regimen_category"].fillna("category not recorded"),
                              flow.NOT_TREATED)
    resp = df["best_response"].astype(object).where(df["best_response"].notna(), NO_ASSESSMENT)
    out["response"] = np.where(treated, resp, "not treated")
    out["hct"] = np.where(df["hct"].astype(bool), flow.HCT_LABELS[0], flow.HCT_LABELS[1])
    out["status"] = df["patient_id"].map(status).fillna("unknown").to_numpy()
    return out


def stage_order(values: pd.Series, stage: str) -> list[str]:
    """Category order of one stage from per-patient values (first appearance, counts)."""
    return flow._stage_order_counted(list(dict.fromkeys(values)), values.value_counts().to_dict(), stage)


def list_ids(ids) -> str:
    """Every id listed up to flow.IDS_LISTED, then '... and N more'."""
    ids = list(ids)
    if len(ids) <= flow.IDS_LISTED:
        return ", ".join(ids)
    return ", ".join(ids[:flow.IDS_LISTED]) + f", ... and {len(ids) - flow.IDS_LISTED:,} more"
