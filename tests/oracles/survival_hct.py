"""Per-patient reference versions of the time-dependent HCT model (test oracles): the app
collapses the same rows in DuckDB (analytics.survival.hct.counting_process_counts) and fits
them with its own Efron fitter; these build one row per patient interval and fit lifelines'
CoxTimeVaryingFitter."""
from __future__ import annotations

import warnings

import pandas as pd
from lifelines import CoxTimeVaryingFitter


def counting_process_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Per-patient (start, stop] rows with a time-dependent `hct` indicator.

    `table` has patient_id, time_days, event and hct_time (HCT day from the time origin, NaN if
    none). HCT strictly inside (0, time) splits the follow-up; HCT at or before time zero makes
    the patient exposed throughout; HCT on or after the end of follow-up is ignored.
    """
    rows = []
    for r in table.itertuples(index=False):
        t, e, h = float(r.time_days), int(r.event), r.hct_time
        if t <= 0:
            continue  # no follow-up time to contribute
        if pd.notna(h) and 0 < h < t:
            rows.append((r.patient_id, 0.0, float(h), 0, 0))
            rows.append((r.patient_id, float(h), t, 1, e))
        else:
            rows.append((r.patient_id, 0.0, t, int(pd.notna(h) and h <= 0), e))
    return pd.DataFrame(rows, columns=["patient_id", "start", "stop", "hct", "event"])


def fit_time_varying(rows: pd.DataFrame, covariate: str = "hct") -> CoxTimeVaryingFitter:
    """lifelines CoxTimeVaryingFitter (Efron ties) on counting-process rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxTimeVaryingFitter().fit(rows[["patient_id", "start", "stop", covariate, "event"]],
                                          id_col="patient_id", event_col="event",
                                          start_col="start", stop_col="stop", show_progress=False)
