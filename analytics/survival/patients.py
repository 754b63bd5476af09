"""The per-patient working table as SQL (`patient_sql`): each patient's derived time and status
for the chosen endpoint beside the source event days, and the DuckDB aggregations built on it
(`km_counts`: (group, exact day) -> events, censorings). Column names come only from the
allow-lists in `spec`."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.survival.spec import (BOOLEAN_GROUPS, CATEGORICAL_GROUPS, CONTINUOUS_GROUPS, EFS_EVENT_LABELS,
                                     SurvivalSpec, format_number)
from analytics.units import DAYS_PER_MONTH


def group_expression(spec: SurvivalSpec) -> tuple[str, list[Any]]:
    """SQL for the group label of each patient (column names only from the allow-lists)."""
    if spec.group is None:
        return "'All'", []
    column = spec.group
    if column in BOOLEAN_GROUPS:
        return (f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} THEN 'yes' "
                f"ELSE 'no' END"), []
    if column in CATEGORICAL_GROUPS:
        return f"coalesce(CAST({column} AS VARCHAR), '{NOT_EVALUATED}')", []
    cut = format_number(spec.cutoff)
    return (f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} < ? THEN ? "
            f"ELSE ? END"), [spec.cutoff, f"< {cut}", f"≥ {cut}"]


def patient_sql(cohort_filter: CohortFilter, spec: SurvivalSpec) -> tuple[str, list[Any]]:
    """The working table as SQL: one row per filtered patient, with `included` and a reason."""
    spec.validate()
    where, params = cohort_filter.where_sql()
    group_sql, group_params = group_expression(spec)
    columns = spec.event_columns
    event_day = columns[0] if len(columns) == 1 else f"least({', '.join(columns)})"
    event_type = "CASE " + " ".join(
        f"WHEN event_day = {c} THEN '{EFS_EVENT_LABELS[n]}'" for c, n in zip(columns, spec.event_names)
    ) + " END"
    origin = "0" if spec.origin == "diagnosis" else "first_treatment_day"
    population = "TRUE" if spec.population == "all" else "treated"
    sql = f"""
    WITH base AS (
        SELECT patient_id, {group_sql} AS grp, treated, {origin} AS origin_day,
               first_treatment_day, induction_failure_day, relapse_day, hct_day, first_cr_day, death_day,
               last_contact_day, {event_day} AS event_day
        FROM patient_summary WHERE ({where}) AND ({population})
    ), derived AS (
        SELECT *, {event_type} AS event_type,
               coalesce(event_day, last_contact_day) AS end_day,
               coalesce(event_day, last_contact_day) - origin_day AS time_days,
               CAST(event_day IS NOT NULL AS INTEGER) AS event
        FROM base
    )
    SELECT *,
           CASE WHEN origin_day IS NULL THEN 'no time origin (never treated)'
                WHEN end_day IS NULL THEN 'no follow-up recorded'
                WHEN time_days < 0 THEN 'event or last contact before time origin'
           END AS exclusion_reason
    FROM derived"""
    return sql, group_params + params


def patient_table(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec,
                  limit: int | None = None) -> pd.DataFrame:
    """Per-patient working table: derived time/status beside the source event days.

    Columns: patient_id, group, origin_day, the source days, event_day, event_type, end_day,
    time_days, time_months, event (1/0), status (text), included, exclusion_reason.
    `limit`: only the first rows (patient id order), e.g. for the screen.
    """
    sql, params = patient_sql(cohort_filter, spec)
    if limit is not None:
        table = db.query(f"SELECT * FROM ({sql}) ORDER BY patient_id LIMIT ?", [*params, int(limit)])
    else:
        table = db.query(f"SELECT * FROM ({sql}) ORDER BY patient_id", params)
    table = table.rename(columns={"grp": "group"})
    table["included"] = table["exclusion_reason"].isna()
    table["time_months"] = table["time_days"] / DAYS_PER_MONTH
    table["status"] = np.where(
        table["event"] == 1, "event: " + table["event_type"].fillna(""), "censored at last contact")
    table.loc[~table["included"], "status"] = "excluded"
    order = ["patient_id", "group", "included", "time_days", "time_months", "event", "status",
             "origin_day", "first_treatment_day", "induction_failure_day", "relapse_day", "hct_day",
             "death_day", "last_contact_day", "event_day", "event_type", "end_day", "exclusion_reason"]
    return table[order]


def inclusion_summary(db: CohortDatabase, cohort_filter: CohortFilter,
                      spec: SurvivalSpec) -> tuple[int, int, tuple[str, ...]]:
    """(patients included, patients excluded, sorted exclusion reasons) of the working table,
    aggregated in DuckDB (the same numbers as `patient_table`, without a row per patient).

    >>> from analytics.build import build_in_memory
    >>> inclusion_summary(build_in_memory("data/demo_cohort"), CohortFilter(), SurvivalSpec())
    (32, 0, ())
    """
    sql, params = patient_sql(cohort_filter, spec)
    row = db.query(
        f"""SELECT count(*) FILTER (WHERE exclusion_reason IS NULL) AS included,
                   count(*) FILTER (WHERE exclusion_reason IS NOT NULL) AS excluded,
                   list(DISTINCT exclusion_reason ORDER BY exclusion_reason)
                       FILTER (WHERE exclusion_reason IS NOT NULL) AS reasons
            FROM ({sql})""", params).iloc[0]
    reasons = row["reasons"]
    reasons = tuple(reasons) if isinstance(reasons, (list, tuple, np.ndarray)) else ()
    return int(row["included"]), int(row["excluded"]), tuple(sorted(str(r) for r in reasons))


def km_counts(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalSpec) -> pd.DataFrame:
    """DuckDB-aggregated counts: one row per (group, exact day) with n_event and n_censored."""
    sql, params = patient_sql(cohort_filter, spec)
    return db.query(
        f"""SELECT grp AS "group", time_days, CAST(sum(event) AS INTEGER) AS n_event,
                   CAST(sum(1 - event) AS INTEGER) AS n_censored
            FROM ({sql}) WHERE exclusion_reason IS NULL
            GROUP BY grp, time_days ORDER BY grp, time_days""", params)


def continuous_median(db: CohortDatabase, column: str) -> float:
    """Whole-cohort median of an allowed continuous attribute (default cutoff, stable in URLs)."""
    if column not in CONTINUOUS_GROUPS:
        raise ValueError(f"{column!r} is not an allowed continuous attribute")
    value = db.scalar(f"SELECT median({column}) FROM patient_summary")
    return float(value) if value is not None else 0.0
