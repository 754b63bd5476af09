"""Cohort overview: Table 1, distributions of lenalidomide latency and exposure, patient table.

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

import textwrap
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from analytics import theme
from analytics.cohort import count_patients, filtered_summary
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.format import number, percent_range, round_half_up
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


def _with_months(summary: pd.DataFrame) -> pd.DataFrame:
    """patient_summary rows with latency and cumulative lenalidomide exposure in months."""
    summary["latency_months"] = days_to_months(summary["latency_days"].astype("Float64"))
    summary["cumulative_months"] = days_to_months(summary["len_cumulative_days"].astype("Float64"))
    return summary


def _prepared(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    return _with_months(filtered_summary(db, cohort_filter))


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
_CONTINUOUS_SQL = {
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
        x = f"CAST({_CONTINUOUS_SQL[spec.key]} AS DOUBLE)"
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


# --- distributions ------------------------------------------------------------------------------
EXPOSURE_MEASURES = {
    "latency_months": "Latency from first lenalidomide to B-ALL",
    "cumulative_months": "Cumulative lenalidomide before B-ALL",
}


def exposure_values(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient (default order): latency and cumulative lenalidomide exposure, in months."""
    data = _prepared(db, cohort_filter)
    return data[["patient_id", "latency_months", "cumulative_months"]].astype(
        {"latency_months": float, "cumulative_months": float})


def dot_positions(values: pd.Series, gap: float) -> np.ndarray:
    """Stack level of each value in a dot plot: dots closer than `gap` go on separate rows.

    >>> dot_positions(pd.Series([1.0, 1.2, 5.0, 1.1]), gap=0.5).tolist()
    [0, 2, 0, 1]
    """
    order = np.argsort(values.to_numpy(), kind="stable")
    levels = np.zeros(len(values), dtype=int)
    last_on_level: list[float] = []
    for index in order:
        x = float(values.iloc[index])
        for level, last in enumerate(last_on_level):
            if x - last >= gap:
                levels[index] = level
                last_on_level[level] = x
                break
        else:
            levels[index] = len(last_on_level)
            last_on_level.append(x)
    return levels


# Above this many patients one dot each is unreadable (and the stacking is quadratic): the same
# distribution is drawn as a histogram with the same median rule (bench/: a dot plot of 100,000
# patients takes 15-20 s and 7 MB of chart data).
DOT_PLOT_MAX_PATIENTS = 300
# px: the page stretches the plot to its column; a slide or a file gets this width
EXPOSURE_WIDTH = 700


def _histogram(bins: pd.DataFrame, high: float, width: int, title: alt.TitleParams,
               rule_layers: list) -> alt.LayerChart:
    """Counts per 1-month bin (months = days / 30.4375), as bars, for large cohorts."""
    x = alt.X("start:Q", title="Months (days / 30.4375)", scale=alt.Scale(domain=[0, high], nice=False),
              axis=alt.Axis(values=list(range(0, int(high) + 1, 12))))
    bars = alt.Chart(bins).mark_rect(color=theme.PALETTE[0], opacity=0.9).encode(
        x=x, x2="end:Q", y=alt.Y("patients:Q", title="Patients per month"),
        tooltip=[alt.Tooltip("start:Q", title="From month", format=".0f"),
                 alt.Tooltip("end:Q", title="To month", format=".0f"),
                 alt.Tooltip("patients:Q", title="Patients")])
    return alt.layer(bars, *rule_layers).properties(title=title, width=width, height=210)


def _upper_bound(largest: float) -> float:
    """The x axis' end: whole years, at least one."""
    return max(12.0, float(np.ceil(largest / 12.0) * 12.0))


def histogram_plot(bins: pd.DataFrame, measure: str, n: int, n_missing: int, median: float,
                   high: float, width: int = 560) -> alt.LayerChart:
    """The large-cohort exposure plot: counts per month with the median as a labelled rule."""
    title = _exposure_title(measure, f"n = {n} patients, counted per month", n_missing, median)
    return _histogram(bins, high, width, title, _median_marks(median, "start"))


def _exposure_title(measure: str, n_text: str, n_missing: int, median: float) -> alt.TitleParams:
    # wrapped: the plot sits in the overview's narrow right-hand column, where Vega truncates
    # a one-line title at the plot's width
    return alt.TitleParams(
        textwrap.wrap(EXPOSURE_MEASURES[measure], 30),
        subtitle=[n_text + (f" ({n_missing} not evaluated)" if n_missing else ""),
                  "no patient with a value" if np.isnan(median) else f"median {median:.1f} months (dashed line)"],
        subtitleFontSize=theme.BASE_FONT_SIZE, subtitleColor="#333333")


def _median_marks(median: float, field: str) -> list[alt.Chart]:
    """The dashed median rule and its label, on the x field `field` of the chart they join."""
    rule_data = pd.DataFrame({field: [median], "label": [f"median {median:.1f}"]})
    rule = alt.Chart(rule_data).mark_rule(color=theme.PALETTE[5], strokeDash=[6, 4], size=2.5).encode(
        x=f"{field}:Q")
    label = alt.Chart(rule_data).mark_text(align="left", dx=6, dy=-4, color=theme.PALETTE[5],
                                           fontSize=theme.BASE_FONT_SIZE + 1, fontWeight="bold").encode(
        x=f"{field}:Q", y=alt.value(12), text="label:N")
    return [rule, label]


def dot_plot(values: pd.DataFrame, measure: str, width: int = 560) -> alt.LayerChart:
    """A dot plot (one dot per patient at the exact value) with the median as a labelled rule.

    For up to `DOT_PLOT_MAX_PATIENTS` patients; `exposure_chart` draws larger cohorts as a
    histogram counted in DuckDB.
    """
    if measure not in EXPOSURE_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    data = values[["patient_id", measure]].dropna().rename(columns={measure: "months"})
    n_missing = int(values[measure].isna().sum())
    median = float(data["months"].median()) if len(data) else float("nan")
    high = _upper_bound(data["months"].max()) if len(data) else 12.0
    data["level"] = dot_positions(data["months"], gap=high / 45.0) + 1 if len(data) else []
    top = max(4, int(data["level"].max()) + 1) if len(data) else 4
    title = _exposure_title(measure, f"n = {len(data)} patients, one dot each", n_missing, median)
    x = alt.X("months:Q", title="Months (days / 30.4375)",
              scale=alt.Scale(domain=[0, high], nice=False), axis=alt.Axis(values=list(range(0, int(high) + 1, 12))))
    dots = alt.Chart(data).mark_circle(size=150, opacity=0.9, color=theme.PALETTE[0],
                                       stroke="white", strokeWidth=1).encode(
        x=x,
        y=alt.Y("level:Q", title=None, scale=alt.Scale(domain=[0, top]), axis=None),  # stacking only
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("months:Q", title="Months", format=".1f")])
    layers = [dots, *_median_marks(median, "months")] if len(data) else [dots]
    return alt.layer(*layers).properties(title=title, width=width, height=210)


def _months_sql(measure: str) -> str:
    if measure not in EXPOSURE_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    return f"CAST({_CONTINUOUS_SQL[measure]} AS DOUBLE)"


def exposure_counts(db: CohortDatabase, cohort_filter: CohortFilter, measure: str) -> tuple[int, int]:
    """Patients of the filtered cohort with a value of `measure`, and all patients."""
    where, params = cohort_filter.where_sql()
    months = _months_sql(measure)
    n, n_all = db.query(f"SELECT count({months}), count(*) FROM patient_summary WHERE {where}",
                        params).iloc[0].tolist()
    return int(n), int(n_all)


def exposure_chart(db: CohortDatabase, cohort_filter: CohortFilter, measure: str) -> alt.LayerChart:
    """The exposure plot of the filtered cohort for one measure: a dot per patient (`dot_plot`)
    up to `DOT_PLOT_MAX_PATIENTS` patients with a value, else patients per 1-month bin.

    The histogram's bins [k, k+1) (the last one closed), median and range come from DuckDB,
    so Python never holds a row per patient.
    """
    where, params = cohort_filter.where_sql()
    months = _months_sql(measure)
    n, n_all, median, largest = db.query(
        f"SELECT count({months}), count(*), median({months}), max({months}) FROM patient_summary "
        f"WHERE {where}", params).iloc[0].tolist()
    if n <= DOT_PLOT_MAX_PATIENTS:
        return dot_plot(exposure_values(db, cohort_filter), measure, width=EXPOSURE_WIDTH)
    high = _upper_bound(largest)
    # bins [k, k+1) for k < high - 1, the last one closed; values < 0 fall outside
    bins = db.query(
        f"SELECT CAST(least(floor({months}), ? - 1) AS DOUBLE) AS start, count(*) AS patients "
        f"FROM patient_summary WHERE ({where}) AND {months} >= 0 AND {months} <= ? "
        f"GROUP BY 1 ORDER BY 1", [high, *params, high])
    bins.insert(1, "end", bins["start"] + 1.0)
    bins["patients"] = bins["patients"].astype("int64")
    return histogram_plot(bins, measure, int(n), int(n_all - n), float(median), high, width=EXPOSURE_WIDTH)


# --- patient table --------------------------------------------------------------------------
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
    return _patient_rows(_prepared(db, cohort_filter))


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
    return _patient_rows(_with_months(head)), count_patients(db, cohort_filter)


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
