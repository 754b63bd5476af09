"""Table 1: baseline characteristics of the filtered cohort, counted in DuckDB.

Table 1 follows the usual clinical conventions:

* continuous characteristics: median (range) over the patients with a value; the number
  without a value is reported as "not evaluated";
* categorical characteristics: n / evaluable (%), where *evaluable* counts only patients with a
  result. "Not evaluated" (NULL) is its own count and never enters a denominator (TP53 is
  k / sequenced, not k / all patients). Each proportion carries an exact (Clopper-Pearson) 95%
  confidence interval, because the cohorts are small.

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> t1 = table_one(build_in_memory("data/demo_cohort"), CohortFilter())
>>> int(t1.loc[t1.characteristic == "Patients", "n"].iloc[0])
32
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.cohort import filtered_summary
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.format import number, percent_range
from analytics.stats import clopper_pearson
from analytics.units import DAYS_PER_MONTH, days_to_months


@dataclass(frozen=True)
class Continuous:
    key: str            # column of the prepared frame
    label: str
    unit: str
    decimals: int


@dataclass(frozen=True)
class Categorical:
    column: str         # patient_summary column (allow-list; never user input)
    label: str
    levels: tuple = ()  # fixed display order, shown even at 0; observed extras are appended
    names: tuple = ()   # display names for `levels` (same length) or () for the raw value


CONTINUOUS: tuple[Continuous, ...] = (
    Continuous("age_at_ball_dx", "Age at B-ALL diagnosis", "years", 0),
    Continuous("age_at_myeloma_dx", "Age at myeloma diagnosis", "years", 0),
    Continuous("latency_months", "Latency, first lenalidomide exposure to B-ALL", "months", 1),
    Continuous("cumulative_months", "Cumulative lenalidomide exposure before B-ALL", "months", 1),
    Continuous("wbc_k_per_ul", "WBC at diagnosis", "×10³/µL", 1),
    Continuous("marrow_blast_pct", "Marrow blasts at diagnosis", "%", 0),
)
POS_NEG = ("positive", "negative")
YES_NO = (True, False)
CATEGORICAL: tuple[Categorical, ...] = (
    Categorical("institution", "Institution"),
    Categorical("sex", "Sex", ("F", "M"), ("female", "male")),
    Categorical("lineage", "Lineage", ("B", "T"), ("B-lineage", "T-lineage")),
    Categorical("bcr_abl1", "BCR::ABL1", POS_NEG),
    Categorical("tp53_status", "TP53", ("mutated", "wild-type")),
    Categorical("ploidy_category", "Ploidy category",
                ("near-haploid", "low hypodiploid", "high hypodiploid", "near-diploid", "diploid",
                 "hyperdiploid")),
    Categorical("cd10", "CD10", POS_NEG),
    Categorical("cd19", "CD19", POS_NEG),
    Categorical("cd20", "CD20", POS_NEG),
    Categorical("cd22", "CD22", POS_NEG),
    Categorical("cns_status", "CNS status", ("CNS1", "CNS2", "CNS3")),
    Categorical("myeloma_auto_hct", "Autologous HCT for myeloma", YES_NO, ("yes", "no")),
    Categorical("treated", "B-ALL treatment received", YES_NO, ("yes", "no")),
    Categorical("hct", "Allogeneic HCT", YES_NO, ("yes", "no")),
    Categorical("vital_status", "Vital status at last contact", ("alive", "dead")),
)

TABLE_ONE_COLUMNS = ["characteristic", "level", "kind", "n", "evaluable", "not_evaluated", "percent",
                     "ci_low", "ci_high", "median", "min", "max", "unit", "display"]


def with_months(summary: pd.DataFrame) -> pd.DataFrame:
    """patient_summary rows with latency and cumulative lenalidomide exposure in months."""
    summary["latency_months"] = days_to_months(summary["latency_days"].astype("Float64"))
    summary["cumulative_months"] = days_to_months(summary["len_cumulative_days"].astype("Float64"))
    return summary


def prepared_summary(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    return with_months(filtered_summary(db, cohort_filter))


def continuous_row(n: int, not_evaluated: int, median: float, low: float, high: float,
                   decimals: int = 1) -> dict:
    """Table 1's row for a continuous characteristic from its summary numbers."""
    out = {"n": int(n), "evaluable": int(n), "not_evaluated": int(not_evaluated),
           "median": np.nan, "min": np.nan, "max": np.nan}
    if n:
        out.update(median=float(median), min=float(low), max=float(high))
        out["display"] = (f"{number(out['median'], decimals)} "
                          f"({number(out['min'], decimals)}–{number(out['max'], decimals)})")
    else:
        out["display"] = "no evaluable patients"
    return out


def categorical_rows(counts: dict, not_evaluated: int, spec: Categorical) -> list[dict]:
    """One row per level from the counts of each observed value: n / evaluable (%) with an
    exact CI; the not-evaluated (NULL) count is its own row, never in a denominator."""
    evaluable = int(sum(counts.values()))
    observed = [v for v in counts if v not in spec.levels]
    levels = list(spec.levels) + sorted(observed, key=str)
    names = dict(zip(spec.levels, spec.names)) if spec.names else {}
    rows = []
    for level in levels:
        k = int(counts.get(level, 0))
        low, high = clopper_pearson(k, evaluable)
        percent = 100.0 * k / evaluable if evaluable else np.nan
        rows.append({"level": names.get(level, str(level)), "kind": "categorical", "n": k,
                     "evaluable": evaluable, "not_evaluated": not_evaluated, "percent": percent,
                     "ci_low": low, "ci_high": high,
                     "display": f"{k}/{evaluable} ({number(percent, 0)}%)" if evaluable else f"{k}/0"})
    if not_evaluated:
        rows.append({"level": NOT_EVALUATED, "kind": "not evaluated", "n": not_evaluated,
                     "evaluable": evaluable, "not_evaluated": not_evaluated, "percent": np.nan,
                     "ci_low": np.nan, "ci_high": np.nan,
                     "display": f"{not_evaluated} (not in denominator)"})
    return rows


# Months as Table 1 and the exposure plots use them (days / 30.4375), as SQL over patient_summary.
CONTINUOUS_SQL = {
    "age_at_ball_dx": "age_at_ball_dx", "age_at_myeloma_dx": "age_at_myeloma_dx",
    "latency_months": f"latency_days / {DAYS_PER_MONTH}",
    "cumulative_months": f"len_cumulative_days / {DAYS_PER_MONTH}",
    "wbc_k_per_ul": "wbc_k_per_ul", "marrow_blast_pct": "marrow_blast_pct",
}


def _continuous_summaries(db: CohortDatabase, cohort_filter: CohortFilter) -> tuple[int, dict]:
    """Patients, and per continuous characteristic (n, missing, median, min, max), in one scan."""
    where, params = cohort_filter.where_sql()
    parts = ["count(*) AS patients"]
    for spec in CONTINUOUS:
        x = f"CAST({CONTINUOUS_SQL[spec.key]} AS DOUBLE)"
        parts += [f"count({x})", f"median({x})", f"min({x})", f"max({x})"]
    row = db.query(f"SELECT {', '.join(parts)} FROM patient_summary WHERE {where}", params).iloc[0].tolist()
    total = int(row[0])
    out = {}
    for i, spec in enumerate(CONTINUOUS):
        n, median, low, high = row[1 + 4 * i: 5 + 4 * i]
        out[spec.key] = (int(n), total - int(n), median, low, high)
    return total, out


def _categorical_counts(db: CohortDatabase, cohort_filter: CohortFilter) -> dict:
    """Per categorical column: {value: patients} and the NULL count, in one grouped scan."""
    where, params = cohort_filter.where_sql()
    columns = [spec.column for spec in CATEGORICAL]
    selects = " UNION ALL ".join(
        f"SELECT '{column}' AS col, CAST({column} AS VARCHAR) AS value, count(*) AS n "
        f"FROM filtered GROUP BY {column}" for column in columns)
    counts = db.query(f"WITH filtered AS MATERIALIZED (SELECT {', '.join(columns)} FROM patient_summary "
                      f"WHERE {where}) {selects}", params)
    raw_types = {spec.column: spec.levels for spec in CATEGORICAL}
    out: dict = {column: ({}, 0) for column in columns}
    for col, value, n in counts.itertuples(index=False):
        values, missing = out[col]
        if value is None or value != value:
            out[col] = (values, missing + int(n))
        else:
            values[_typed(value, raw_types[col])] = int(n)
    return out


def _typed(text: str, levels: tuple):
    """A value read back as text in the type of the characteristic's levels (booleans)."""
    if levels and isinstance(levels[0], bool):
        return text.lower() == "true"
    return text


def table_one(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Table 1 of the filtered cohort, one row per characteristic level (long format).

    Columns: characteristic, level, kind ('count' | 'continuous' | 'categorical' |
    'not evaluated'), n, evaluable, not_evaluated, percent, ci_low, ci_high (exact 95%, as
    fractions), median, min, max, unit, display (the text a reader sees).

    Counted in DuckDB (two scans of the filtered cohort): Python sees one row per level, not
    one per patient, at any cohort size.
    """
    total, continuous = _continuous_summaries(db, cohort_filter)
    categorical = _categorical_counts(db, cohort_filter)
    rows: list[dict] = [{"characteristic": "Patients", "level": "", "kind": "count", "n": total,
                         "evaluable": total, "not_evaluated": 0, "display": str(total)}]
    for spec in CONTINUOUS:
        n, missing, median, low, high = continuous[spec.key]
        stats = continuous_row(n, missing, median, low, high, spec.decimals)
        rows.append({"characteristic": f"{spec.label}, {spec.unit}", "level": "median (range)",
                     "kind": "continuous", "unit": spec.unit, **stats})
        if stats["not_evaluated"]:
            rows.append({"characteristic": f"{spec.label}, {spec.unit}", "level": NOT_EVALUATED,
                         "kind": "not evaluated",
                         "n": stats["not_evaluated"], "evaluable": stats["evaluable"],
                         "not_evaluated": stats["not_evaluated"],
                         "display": f"{stats['not_evaluated']} (not in median)"})
    for spec in CATEGORICAL:
        values, missing = categorical[spec.column]
        for row in categorical_rows(values, missing, spec):
            rows.append({"characteristic": spec.label, **row})
    frame = pd.DataFrame(rows).reindex(columns=TABLE_ONE_COLUMNS)
    for column in ("n", "evaluable", "not_evaluated"):
        frame[column] = frame[column].astype("Int64")
    return frame


def table_one_display(t1: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as a reader sees it: characteristic named once per block, CI as text."""
    ci = [percent_range(lo, hi, 0, missing="") for lo, hi in zip(t1.ci_low, t1.ci_high)]
    out = pd.DataFrame({
        "Characteristic": t1["characteristic"].where(t1["characteristic"] != t1["characteristic"].shift(), ""),
        "Category": t1["level"],
        "Value": t1["display"],
        "95% CI (exact)": ci,
    })
    return out


