"""Genomics rules the per-patient (pandas) way: references for the SQL in `analytics.genomics`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import cohort
from analytics.filters import NOT_EVALUATED


def clinical_tracks(db, cohort_filter) -> pd.DataFrame:
    """patient_id, track, value of the oncoprint's clinical tracks from patient_summary rows."""
    p = cohort.filtered_summary(db, cohort_filter)
    age = pd.cut(p["age_at_ball_dx"], [0, 59, 69, 200], labels=["< 60 y", "60-69 y", "≥ 70 y"]).astype(object)
    age = age.where(p["age_at_ball_dx"].notna(), NOT_EVALUATED)
    response = np.where(p["best_response"].notna(), p["best_response"].astype(object),
                        np.where(p["treated"], "not assessed", "untreated"))
    tracks = {
        "Age group": age,
        "Institution": p["institution"],
        "Best response": response,
        "Allogeneic HCT": np.where(p["hct"], "HCT", "no HCT"),
        "EFS": np.where(p["efs_event"], "event", "no event (censored)"),
    }
    rows = [dict(patient_id=pid, track=name, value=str(val))
            for name, values in tracks.items() for pid, val in zip(p["patient_id"], values)]
    return pd.DataFrame(rows, columns=["patient_id", "track", "value"])
