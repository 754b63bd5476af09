"""Current status at last contact (alive without evidence of B-ALL, alive with B-ALL, unknown,
dead) by treatment pathway, mapped once in SQL (`STATUS_SQL`, also used by the flow diagram)."""
from __future__ import annotations

import math

import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.format import percent, percent_range
from analytics.stats import clopper_pearson
from analytics.units import DAYS_PER_MONTH


ALIVE_NED = "alive, no evidence of B-ALL"
STATUS_ORDER = (ALIVE_NED, "alive with B-ALL", "alive, disease status unknown", "dead")
PATHWAYS = ("allogeneic HCT", "B-ALL therapy, no HCT", "no B-ALL therapy")


def current_status(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient: status at last contact (from the last_contact/death events) and pathway,
    by the same SQL mapping `status_counts` counts with."""
    where, params = cohort_filter.where_sql()
    df = db.query(f"SELECT patient_id, treated, hct, status_at_last_contact, death_cause, os_days, "
                  f"last_contact_day, {STATUS_SQL} AS status, {PATHWAY_SQL} AS pathway "
                  f"FROM patient_summary WHERE {where} ORDER BY patient_id", params)
    df["months_followed"] = df["os_days"] / DAYS_PER_MONTH
    return df


STATUS_AT_LAST_CONTACT = {"no evidence of B-ALL": ALIVE_NED, "B-ALL present": "alive with B-ALL",
                          "unknown": "alive, disease status unknown", "dead": "dead"}
STATUS_SQL = ("CASE status_at_last_contact " + " ".join(
    f"WHEN '{k}' THEN '{v}'" for k, v in STATUS_AT_LAST_CONTACT.items())
               + " END")  # constants, no user text; NULL for a status not mapped
PATHWAY_SQL = (f"CASE WHEN coalesce(hct, FALSE) THEN '{PATHWAYS[0]}' WHEN coalesce(treated, FALSE) "
                f"THEN '{PATHWAYS[1]}' ELSE '{PATHWAYS[2]}' END")


def status_counts(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Patients per (status, pathway) of `current_status`, counted in DuckDB (status NULL when
    the status at last contact is not one of the mapped values)."""
    where, params = cohort_filter.where_sql()
    return db.query(f"SELECT {STATUS_SQL} AS status, {PATHWAY_SQL} AS pathway, count(*) AS n "
                    f"FROM patient_summary WHERE {where} GROUP BY ALL", params)


def alive_ned_count(db: CohortDatabase, cohort_filter: CohortFilter) -> tuple[int, int]:
    """(patients alive without evidence of B-ALL at last contact, patients): `current_status` counted."""
    c = status_counts(db, cohort_filter)
    return int(c.loc[c["status"] == ALIVE_NED, "n"].sum()), int(c["n"].sum())


def current_status_table(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Counts: status x pathway, with totals and % of the filtered patients (exact CI)."""
    c = status_counts(db, cohort_filter)
    n = int(c["n"].sum())
    rows = []
    for s in STATUS_ORDER:
        part = c[c["status"] == s]
        k = int(part["n"].sum())
        low, high = clopper_pearson(k, n) if n else (math.nan, math.nan)
        row = {"status": s}
        for p in PATHWAYS:
            row[p] = int(part.loc[part["pathway"] == p, "n"].sum())
        row.update({"total": k, "% of patients": percent(k / n if n else math.nan),
                    "exact 95% CI": percent_range(low, high)})
        rows.append(row)
    return pd.DataFrame(rows)
