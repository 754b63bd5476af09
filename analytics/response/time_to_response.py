"""Time to CR/CRi among responders: days from the start of first-line therapy (or from diagnosis)
to the first CR/CRi; median and range, descriptive (not a cumulative-incidence estimate)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH


TIME_ORIGINS = {"treatment": "start of first-line therapy", "diagnosis": "B-ALL diagnosis"}


@dataclass(frozen=True)
class TimeToCr:
    origin: str
    n: int
    median_days: float
    min_days: float
    max_days: float
    patients: pd.DataFrame = field(compare=False)

    @property
    def median_months(self) -> float:
        return self.median_days / DAYS_PER_MONTH


def origin_day_sql(origin: str) -> str:
    """The SQL day a time to CR counts from ('treatment' or 'diagnosis', allow-listed)."""
    if origin not in TIME_ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    return "first_treatment_day" if origin == "treatment" else "0"


def time_to_cr(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment") -> TimeToCr:
    """Days from `origin` ('treatment' or 'diagnosis') to the first CR/CRi, among responders."""
    start = origin_day_sql(origin)
    where, params = cohort_filter.where_sql()
    df = db.query(f"SELECT patient_id, best_response, first_line_regimen_category, first_treatment_day, "
                  f"first_cr_day, first_cr_day - {start} AS days FROM patient_summary "
                  f"WHERE {where} AND first_cr_day IS NOT NULL AND treated ORDER BY patient_id", params)
    df["months"] = df["days"] / DAYS_PER_MONTH
    if df.empty:
        return TimeToCr(origin, 0, math.nan, math.nan, math.nan, df)
    d = df["days"].astype(float)
    return TimeToCr(origin, len(df), float(d.median()), float(d.min()), float(d.max()), df)


def time_to_cr_brief(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment") -> TimeToCr:
    """`time_to_cr` without its per-responder rows (n, median, range only), computed in DuckDB."""
    start = origin_day_sql(origin)
    where, params = cohort_filter.where_sql()
    row = db.query(f"SELECT count(*) AS n, median(CAST(first_cr_day - {start} AS DOUBLE)) AS med, "
                   f"min(CAST(first_cr_day - {start} AS DOUBLE)) AS lo, "
                   f"max(CAST(first_cr_day - {start} AS DOUBLE)) AS hi FROM patient_summary "
                   f"WHERE {where} AND first_cr_day IS NOT NULL AND treated", params).iloc[0]
    empty = pd.DataFrame(columns=["patient_id", "best_response", "first_line_regimen_category",
                                  "first_treatment_day", "first_cr_day", "days", "months"])
    if int(row["n"]) == 0:
        return TimeToCr(origin, 0, math.nan, math.nan, math.nan, empty)
    return TimeToCr(origin, int(row["n"]), float(row["med"]), float(row["lo"]), float(row["hi"]), empty)
