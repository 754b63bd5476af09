"""Cohort-level queries shared by every page: filter options, counts, patient order."""
from __future__ import annotations

import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import FILTER_COLUMNS, NOT_EVALUATED, CohortFilter

# Filters whose NULL means "not evaluated" (a value one may select), not "not applicable".
_EVALUABLE_FILTERS = {"bcr_abl1", "tp53", "ploidy"}


def filter_options(db: CohortDatabase) -> dict:
    """Choices for each filter, from the data (so an uploaded cohort gets its own)."""
    options: dict = {}
    for name, column in FILTER_COLUMNS.items():
        values = db.query(
            f"SELECT DISTINCT {column} AS v FROM patient_summary WHERE {column} IS NOT NULL ORDER BY 1")["v"]
        choices = [str(v) for v in values]
        if name in _EVALUABLE_FILTERS and db.scalar(
                f"SELECT count(*) FROM patient_summary WHERE {column} IS NULL"):
            choices.append(NOT_EVALUATED)
        options[name] = choices
    low, high = db.query("SELECT min(age_at_ball_dx) lo, max(age_at_ball_dx) hi FROM patient_summary").iloc[0]
    options["age"] = (int(low), int(high)) if pd.notna(low) else (0, 0)
    return options


def count_patients(db: CohortDatabase, cohort_filter: CohortFilter) -> int:
    where, params = cohort_filter.where_sql()
    return int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE {where}", params))


def patient_order(db: CohortDatabase, cohort_filter: CohortFilter = CohortFilter()) -> list[str]:
    """The cohort-wide default patient order (every page that draws patients uses it).

    Patients are ordered by their pseudonymous id, which is stable under any filter, so a
    patient keeps their place relative to the others on every page.
    """
    where, params = cohort_filter.where_sql()
    return db.query(f"SELECT patient_id FROM patient_summary WHERE {where} ORDER BY patient_id",
                    params)["patient_id"].tolist()


def filtered_summary(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """patient_summary rows for the filtered cohort, in the default patient order."""
    where, params = cohort_filter.where_sql()
    return db.query(f"SELECT * FROM patient_summary WHERE {where} ORDER BY patient_id", params)
