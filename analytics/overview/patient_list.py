"""The overview's patient table: one row per patient in the default order with readable headers,
and the link parameters of the patient page."""
from __future__ import annotations

import pandas as pd

from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.overview.baseline import prepared_summary, with_months
from analytics.format import round_half_up
from analytics.units import days_to_months


PATIENT_TABLE_COLUMNS = {
    "patient_id": "Patient", "institution": "Institution", "sex": "Sex",
    "age_at_ball_dx": "Age at B-ALL (y)", "latency_months": "Latency (mo)",
    "cumulative_months": "Cumulative lenalidomide (mo)", "bcr_abl1": "BCR::ABL1", "tp53_status": "TP53",
    "ploidy_category": "Ploidy", "first_line_regimen_category": "First-line regimen",
    "best_response": "Best response", "hct": "Allogeneic HCT", "status_at_last_contact": "Status at last contact",
    "follow_up_months": "Follow-up (mo)",
}


def _patient_rows(data: pd.DataFrame) -> pd.DataFrame:
    data["follow_up_months"] = days_to_months(data["os_days"].astype("Float64"))
    for column in ("sex", "bcr_abl1", "tp53_status", "ploidy_category"):  # sex: NULL when the source lacks it
        data[column] = data[column].fillna(NOT_EVALUATED)
    untreated = ~data["treated"].astype(bool)
    data["first_line_regimen_category"] = data["first_line_regimen_category"].where(~untreated, "untreated")
    data["best_response"] = data["best_response"].where(~untreated, "untreated").fillna("not assessed")
    data["hct"] = data["hct"].map({True: "yes", False: "no"})
    out = data[list(PATIENT_TABLE_COLUMNS)].rename(columns=PATIENT_TABLE_COLUMNS)
    for column in ("Latency (mo)", "Cumulative lenalidomide (mo)", "Follow-up (mo)"):
        out[column] = out[column].astype(float).map(lambda months: round_half_up(months, 1))
    return out.reset_index(drop=True)


def patient_table(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """One row per patient in the default order, with readable headers.

    Numbers stay numeric (so columns sort numerically). Not-evaluated results read
    "not evaluated"; untreated patients read "untreated" for regimen and response.
    """
    return _patient_rows(prepared_summary(db, cohort_filter))


def patient_table_head(db: CohortDatabase, cohort_filter: CohortFilter,
                       limit: int = 1000) -> tuple[pd.DataFrame, int]:
    """The first `limit` rows of `patient_table` (default order) and the number of patients.

    For the on-screen table: a browser cannot usefully show (or receive) a million rows; the
    full table is the page's CSV download. Same rows and values as `patient_table` up to
    `limit`; only those rows leave DuckDB.
    """
    where, params = cohort_filter.where_sql()
    head = db.query(f"SELECT * FROM patient_summary WHERE {where} ORDER BY patient_id LIMIT ?",
                    [*params, int(limit)])
    return _patient_rows(with_months(head)), count_patients(db, cohort_filter)


def patient_link_params(cohort_filter: CohortFilter, patient_id: str) -> list[tuple[str, str]]:
    """URL parameters of the patient page for one patient under the current filters.

    List-valued filters become repeated keys (`tp53=mutated&tp53=not evaluated`), exactly
    what the sidebar reads back.

    >>> patient_link_params(CohortFilter(tp53=("mutated", "wild-type"), age=(50, 70)), "S05")
    [('patient', 'S05'), ('age', '50-70'), ('tp53', 'mutated'), ('tp53', 'wild-type')]
    """
    params: list[tuple[str, str]] = [("patient", str(patient_id))]
    for key, value in cohort_filter.to_query_params().items():
        if isinstance(value, str):
            params.append((key, value))
        else:
            params.extend((key, str(v)) for v in value)
    return params
