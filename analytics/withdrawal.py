"""Leukemia kinetics after lenalidomide withdrawal: trajectories, regression rule, who regresses.

Time is counted in integer days relative to B-ALL diagnosis in the store; this module re-aligns
each patient's serial measurements on the day lenalidomide was stopped (the end of the last
lenalidomide course, `patient_summary.len_stop_day`), which becomes day 0.

Conventions (all stated on the page through `RegressionRule.describe()`):

* **Level at withdrawal (baseline)**: the last measurement on or before the stop day; if there
  is none, the first measurement within `baseline_window_days` after it.
* **Before therapy**: only measurements dated strictly before the first B-ALL treatment line
  count toward regression. A sample dated on the day therapy starts counts as after therapy
  (conservative). A nadir reached after therapy started is response to therapy, not regression.
* **Below detection** values are taken *at* the lower limit of detection for every number
  (nadir, % reduction, interpolation) and drawn at that limit with their own marker.
* **Days to 50 % reduction** is linearly interpolated between the two measurements that bracket
  the threshold (stated as "interpolated").
* Classification, first matching: complete (a below-detection measurement before therapy) /
  partial (reduction >= `partial_reduction_pct`) / progression (a rise >= `progression_rise_pct`
  above baseline) / none / not assessable (< `min_measurements` measurements from baseline up to
  therapy, no baseline, or an undetectable baseline).

Example
-------
>>> from analytics.build import build_in_memory
>>> view = page_view(build_in_memory("data/demo_cohort"), CohortFilter())
>>> view.regressors, view.assessable
(5, 9)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from analytics.cohort import patient_order
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.theme import NOT_EVALUATED_COLOR, PALETTE
from analytics.units import DAYS_PER_MONTH

# --- allow-lists ---------------------------------------------------------------------------
ANALYTES = {
    "b_lymphoblasts_pct": "B lymphoblasts",
    "immature_b_pct": "Immature B cells (B-ALL immunophenotype)",
    "marrow_blasts_pct": "Marrow blasts",
}
# Default: each patient's leukemic population: B lymphoblasts, else immature B cells with a
# B-ALL immunophenotype (the two populations whose regression the study reports).
LEUKEMIC = "leukemic"
ANALYTE_OPTIONS = {LEUKEMIC: "B lymphoblasts, else immature B cells (per patient)", **ANALYTES}
SHORT_LABELS = {LEUKEMIC: "Leukemic B cells", "b_lymphoblasts_pct": "B lymphoblasts",
                "immature_b_pct": "Immature B cells", "marrow_blasts_pct": "Marrow blasts"}
SPECIMENS = ("marrow", "blood")
TIME_AXES = {"withdrawal": "Days since lenalidomide discontinuation (day 0)",
             "diagnosis": "Days since B-ALL diagnosis (day 0)"}
SCALES = ("linear", "log")

COMPLETE, PARTIAL, NONE, PROGRESSION, NOT_ASSESSABLE = (
    "complete", "partial", "none", "progression", "not assessable")
CLASSES = (COMPLETE, PARTIAL, NONE, PROGRESSION, NOT_ASSESSABLE)
REGRESSION_CLASSES = (COMPLETE, PARTIAL)
CLASS_LABELS = {COMPLETE: "complete regression", PARTIAL: "partial regression",
                NONE: "no regression", PROGRESSION: "progression", NOT_ASSESSABLE: "not assessable"}
CLASS_COLORS = {COMPLETE: PALETTE[2], PARTIAL: PALETTE[0], NONE: PALETTE[1],
                PROGRESSION: PALETTE[5], NOT_ASSESSABLE: NOT_EVALUATED_COLOR}
NO_SERIES_TREATED = "no serial measurements, B-ALL therapy"
NO_SERIES_UNTREATED = "no serial measurements, no B-ALL therapy"
FOLLOWED_COLORS = {**{CLASS_LABELS[c]: CLASS_COLORS[c] for c in CLASSES},
                   NO_SERIES_TREATED: PALETTE[3], NO_SERIES_UNTREATED: PALETTE[7]}
BELOW = "below detection (at limit)"
DETECTED = "measured"
BEFORE, AFTER = "before B-ALL therapy", "after B-ALL therapy start"
THERAPY = "B-ALL therapy start"


@dataclass(frozen=True)
class RegressionRule:
    """The rule that turns a series into a regression class. Frozen: it keys caches.

    >>> RegressionRule().partial_reduction_pct
    50.0
    """

    partial_reduction_pct: float = 50.0
    progression_rise_pct: float = 25.0
    baseline_window_days: int = 30
    min_measurements: int = 2

    def describe(self) -> str:
        p, r = _fmt(self.partial_reduction_pct), _fmt(self.progression_rise_pct)
        return (
            "**Level at withdrawal** = last measurement on or before the lenalidomide stop day, "
            f"else the first within {self.baseline_window_days} days after it. "
            "**Only measurements before the first B-ALL therapy** (strictly earlier day) count; "
            "a nadir reached after therapy started is response to therapy, not regression. "
            "Values below detection are taken at the detection limit. "
            f"**Complete**: a below-detection measurement before therapy. "
            f"**Partial**: reduction ≥ {p}% from the level at withdrawal. "
            f"**Progression**: a rise ≥ {r}% above it (and no regression). **None**: otherwise. "
            f"**Not assessable**: fewer than {self.min_measurements} measurements from withdrawal "
            "to therapy, no level at withdrawal, or a level at withdrawal already below detection. "
            "Days to a 50% reduction are linearly interpolated between the bracketing "
            "measurements.")

    def summary(self) -> str:
        """The rule in short plain sentences (no Markdown), for a slide or a figure caption.

        >>> len(RegressionRule().summary()) < 300
        True
        """
        p, r = _fmt(self.partial_reduction_pct), _fmt(self.progression_rise_pct)
        return (f"Baseline: last value on or before the lenalidomide stop, else the first within "
                f"{self.baseline_window_days} days after it. Only values before B-ALL therapy count. "
                f"Complete: below detection. Partial: reduction of {p}% or more. "
                f"Progression: rise of {r}% or more. Not assessable: fewer than "
                f"{self.min_measurements} values.")


def _fmt(x: float) -> str:
    return f"{x:g}"


def _levels(df: pd.DataFrame) -> pd.Series:
    """Each measurement's number: the value, or the detection limit when below detection (0 without one)."""
    below = df["below_detection"].astype(bool).to_numpy()
    lod = pd.to_numeric(df["lower_limit_of_detection"], errors="coerce").fillna(0.0).to_numpy(float)
    value = pd.to_numeric(df["value"], errors="coerce").to_numpy(float)
    return pd.Series(np.where(below, lod, value), index=df.index, dtype=float)


# --- data ------------------------------------------------------------------------------------
def measurements(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                 specimen: str = "marrow", ids: tuple[str, ...] | None = None,
                 kinetics_only: bool = False) -> pd.DataFrame:
    """Serial measurements of the filtered patients, with the stop and therapy days.

    Columns: patient_id, day, days_since_stop, analyte, value, lower_limit_of_detection,
    below_detection, level (value, or the limit when below detection), detection, method,
    len_stop_day, first_treatment_day. For `LEUKEMIC`, each patient contributes B lymphoblasts
    when measured at least once, else immature B cells. `ids`: only these patients (a figure's
    drawn few, as `?` parameters). `kinetics_only`: only the columns the kinetics read (patient_id,
    day, analyte, value, lower_limit_of_detection, below_detection, len_stop_day,
    first_treatment_day, level): no per-row unit, method or label strings (registry size).
    """
    if analyte not in ANALYTE_OPTIONS:
        raise ValueError(f"unknown analyte {analyte!r}")
    if specimen not in SPECIMENS:
        raise ValueError(f"unknown specimen {specimen!r}")
    sub, params = cohort_filter.patient_ids_sql()
    if ids is not None:
        ids = tuple(ids)
        sub = f"SELECT patient_id FROM ({sub}) AS f WHERE patient_id IN ({', '.join('?' * len(ids))})" \
            if ids else f"SELECT patient_id FROM ({sub}) AS f WHERE FALSE"
        params = list(params) + list(ids)
    if analyte == LEUKEMIC:
        chosen = ("WITH pick AS (SELECT patient_id, CASE WHEN bool_or(analyte = ?) THEN ? ELSE ? END "
                  "AS analyte FROM measurements WHERE specimen = ? AND analyte IN (?, ?) "
                  "GROUP BY patient_id) ")
        chosen_params = ["b_lymphoblasts_pct", "b_lymphoblasts_pct", "immature_b_pct", specimen,
                         "b_lymphoblasts_pct", "immature_b_pct"]
        join = "JOIN pick USING (patient_id, analyte)"
        analyte_where, analyte_params = "TRUE", []
    else:
        chosen, chosen_params, join = "", [], ""
        analyte_where, analyte_params = "m.analyte = ?", [analyte]
    extra = "" if kinetics_only else "m.unit, m.method, "
    sql = (f"{chosen}SELECT m.patient_id, m.day, m.analyte, m.value, {extra}"
           "m.lower_limit_of_detection, m.below_detection, s.len_stop_day, "
           "s.first_treatment_day FROM measurements m "
           f"{join} JOIN patient_summary s USING (patient_id) "
           f"WHERE m.specimen = ? AND {analyte_where} AND m.patient_id IN ({sub}) "
           "ORDER BY m.patient_id, m.day")
    df = db.query(sql, chosen_params + [specimen] + analyte_params + params)
    df["level"] = _levels(df)
    if kinetics_only:
        return df
    df = df[["patient_id", "day", "analyte", "value", "unit", "lower_limit_of_detection",
             "below_detection", "method", "len_stop_day", "first_treatment_day", "level"]].copy()
    df["days_since_stop"] = df["day"] - df["len_stop_day"]
    df["detection"] = np.where(df["below_detection"].astype(bool), BELOW, DETECTED)
    df["analyte_label"] = df["analyte"].map(ANALYTES)
    return df


def kinetics_table(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                   specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> pd.DataFrame:
    """One row per filtered patient with at least one measurement, in the default order (every
    patient: the CSV download; the page reads `page_view`, screen-sized)."""
    data = measurements(db, cohort_filter, analyte, specimen)
    with_data = set(data["patient_id"])  # once: a set per patient made this quadratic (bench/)
    order = [p for p in patient_order(db, cohort_filter) if p in with_data]
    return kinetics_of(data, order, rule)


# One row per series; days are counted from the lenalidomide stop day.
KINETICS_COLUMNS = [
    "patient_id", "analyte", "classification", "reason",
    "n_measurements",                # all measurements of the series
    "n_assessed",                    # baseline + later measurements before therapy
    "baseline_day", "baseline_value",
    "nadir_value",                   # lowest level from baseline up to therapy
    "nadir_below_detection", "days_to_nadir_from_stop",
    "reduction_pct",                 # 100 * (baseline - nadir) / baseline, in [0, 100]
    "max_rise_pct",                  # 100 * (max - baseline) / baseline, >= 0
    "days_to_half_from_stop",        # interpolated; missing when not reached before therapy
    "overall_nadir_value",           # lowest level after baseline, including after therapy
    "overall_nadir_days_from_stop",
    "overall_nadir_after_therapy",   # True: the lowest level came after therapy started
    "therapy_days_from_stop"]


def kinetics_of(data: pd.DataFrame, order: list[str], rule: RegressionRule) -> pd.DataFrame:
    """Kinetics rows (KINETICS_COLUMNS) of the patients `order`, each with rows in `data`
    (`measurements(..., kinetics_only=True)` columns suffice), in that order; missing values NaN.

    Array operations over every series at once (group-wise numpy/pandas; Python per series only
    for the classification's text). A per-series reference lives in tests/oracles/withdrawal.py
    and the two are compared value for value (tests/test_withdrawal_vectorized.py).

    >>> series = pd.DataFrame({"patient_id": "P1", "analyte": "b_lymphoblasts_pct", "day": [0, 35, 84],
    ...                        "value": [22.0, 9.5, None], "lower_limit_of_detection": 0.01,
    ...                        "below_detection": [False, False, True], "len_stop_day": -14,
    ...                        "first_treatment_day": None})
    >>> k = kinetics_of(series, ["P1"], RegressionRule()).iloc[0]
    >>> k.classification, float(k.baseline_value), round(float(k.days_to_half_from_stop), 2)
    ('complete', 22.0, 44.8)
    """
    if not order:
        return pd.DataFrame(columns=KINETICS_COLUMNS)
    code = pd.Categorical(data["patient_id"], categories=list(order)).codes
    keep = code >= 0
    d = pd.DataFrame({"g": code[keep], "day": data["day"].to_numpy(float)[keep]})
    d["level"] = _levels(data).to_numpy(float)[keep]
    d["below"] = data["below_detection"].astype(bool).to_numpy()[keep]
    d["stop"] = pd.to_numeric(data["len_stop_day"], errors="coerce").to_numpy(float)[keep]
    d["therapy"] = pd.to_numeric(data["first_treatment_day"], errors="coerce").to_numpy(float)[keep]
    d["analyte"] = data["analyte"].to_numpy()[keep]
    d = d.sort_values(["g", "day"], kind="stable").reset_index(drop=True)
    n_groups = len(order)
    g = d["g"].to_numpy()
    idx = np.arange(len(d))
    first = d.groupby("g", sort=True).head(1)
    first_idx = np.full(n_groups, -1)
    first_idx[first["g"].to_numpy()] = first.index.to_numpy()
    stop = np.full(n_groups, np.nan)
    stop[first["g"].to_numpy()] = first["stop"].to_numpy()
    therapy = np.full(n_groups, np.nan)
    therapy[first["g"].to_numpy()] = first["therapy"].to_numpy()
    analyte = np.empty(n_groups, dtype=object)
    analyte[first["g"].to_numpy()] = first["analyte"].to_numpy()
    n_meas = np.bincount(g, minlength=n_groups)
    # therapy day from the stop day (`stop_day or 0`: from diagnosis when no stop day)
    therapy_rel = therapy - np.where(np.isnan(stop), 0.0, stop)
    rel = d["day"].to_numpy(float) - stop[g]
    level, below = d["level"].to_numpy(float), d["below"].to_numpy(bool)

    def per_group(mask, how):
        """Per group, the last/first row index where mask holds (-1 when none)."""
        out = np.full(n_groups, -1)
        rows = idx[mask]
        if len(rows):
            s = pd.Series(rows).groupby(g[mask], sort=False)
            res = s.max() if how == "last" else s.min()
            out[res.index.to_numpy()] = res.to_numpy()
        return out

    last_before = per_group(rel <= 0, "last")
    first_after = per_group((rel > 0) & (rel <= rule.baseline_window_days), "first")
    b = np.where(last_before >= 0, last_before, first_after)
    has_stop = ~np.isnan(stop)
    has_base = has_stop & (b >= 0)
    b_row = b[g]
    base_ok = has_base[g]
    follow = base_ok & (idx >= b_row)
    tr_row = therapy_rel[g]
    window = follow & (np.isnan(tr_row) | (rel < tr_row))
    later = follow & (idx > b_row)
    n_assessed = np.bincount(g[window], minlength=n_groups)

    def argmin_in(mask):
        """Per group, the first row of the lowest level among mask rows (-1 when none)."""
        out = np.full(n_groups, -1)
        if mask.any():
            res = pd.Series(level[mask], index=idx[mask]).groupby(g[mask], sort=False).idxmin()
            out[res.index.to_numpy()] = res.to_numpy()
        return out

    j = argmin_in(later)
    k = argmin_in(window)
    w_max = np.full(n_groups, np.nan)
    if window.any():
        res = pd.Series(level[window]).groupby(g[window], sort=False).max()
        w_max[res.index.to_numpy()] = res.to_numpy()
    complete = np.zeros(n_groups, bool)
    complete[np.unique(g[window & (idx > b_row) & below])] = True
    # days to half: first window row at/below half the baseline, interpolated from the row before
    b0 = np.where(b >= 0, level[np.maximum(b, 0)], np.nan)
    threshold = b0 / 2.0
    crossing = per_group(window & (level <= threshold[g]), "first")
    half = np.full(n_groups, np.nan)
    at_first = (crossing >= 0) & (crossing == b)
    half[at_first] = rel[crossing[at_first]]
    inner = (crossing >= 0) & (crossing != b)
    i1 = crossing[inner]
    i0 = i1 - 1
    d0, d1, v0, v1 = rel[i0], rel[i1], level[i0], level[i1]
    half[inner] = d0 + (d1 - d0) * (v0 - threshold[inner]) / (v0 - v1)

    def at(rows, values, ok):
        out = np.full(n_groups, np.nan)
        out[ok] = values[rows[ok]]
        return out

    ok_j, ok_k = j >= 0, k >= 0
    base_day = at(b, rel, has_base)
    base_value = at(b, level, has_base)
    nadir = at(k, level, ok_k)
    nadir_day = at(k, rel, ok_k)
    nadir_below = np.zeros(n_groups, bool)
    nadir_below[ok_k] = below[k[ok_k]]
    overall = at(j, level, ok_j)
    overall_day = at(j, rel, ok_j)
    overall_after = ok_j & ~np.isnan(therapy_rel) & (overall_day >= therapy_rel)
    base_below = np.zeros(n_groups, bool)
    base_below[has_base] = below[b[has_base]]
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = 100.0 * (b0 - nadir) / b0
        rise = 100.0 * (w_max - b0) / b0
    scored = has_base & ~base_below & (base_value > 0) & (n_assessed >= rule.min_measurements)
    p, r = _fmt(rule.partial_reduction_pct), _fmt(rule.progression_rise_pct)
    classes, reasons = [], []
    for i in range(n_groups):
        if not has_stop[i]:
            c, why = NOT_ASSESSABLE, "no lenalidomide stop day recorded"
        elif not has_base[i]:
            c, why = NOT_ASSESSABLE, "no measurement at withdrawal under the baseline rule"
        elif base_below[i]:
            c, why = NOT_ASSESSABLE, "level at withdrawal already below detection"
        elif not base_value[i] > 0:
            c, why = NOT_ASSESSABLE, "level at withdrawal is zero"
        elif not scored[i]:
            n_w = int(n_assessed[i])
            why = (f"{n_w} measurement(s) from withdrawal to B-ALL therapy"
                   if not np.isnan(therapy_rel[i]) else f"{n_w} measurement(s) after withdrawal")
            c, why = NOT_ASSESSABLE, f"{why}; {rule.min_measurements} needed"
        elif complete[i]:
            c, why = COMPLETE, "below detection before any B-ALL therapy"
        elif reduction[i] >= rule.partial_reduction_pct:
            c, why = PARTIAL, f"reduction {reduction[i]:.0f}% ≥ {p}%"
        elif rise[i] >= rule.progression_rise_pct:
            c, why = PROGRESSION, f"rise {rise[i]:.0f}% ≥ {r}%"
        else:
            c, why = NONE, f"reduction {reduction[i]:.0f}% < {p}%, rise {rise[i]:.0f}% < {r}%"
        classes.append(c)
        reasons.append(why)

    def missing(x, ok):
        """NaN where the per-series function gives None."""
        return np.where(ok, x, np.nan)

    out = pd.DataFrame({
        "patient_id": list(order), "analyte": [ANALYTES[a] for a in analyte],
        "classification": classes, "reason": reasons, "n_measurements": n_meas.astype(int),
        "n_assessed": np.where(has_base, n_assessed, 0).astype(int),
        "baseline_day": base_day, "baseline_value": base_value,
        "nadir_value": missing(nadir, has_base & ok_k),
        "nadir_below_detection": nadir_below & has_base,
        "days_to_nadir_from_stop": missing(nadir_day, has_base & ok_k),
        "reduction_pct": missing(reduction, scored), "max_rise_pct": missing(rise, scored),
        "days_to_half_from_stop": missing(half, scored),
        "overall_nadir_value": missing(overall, has_base & ok_j),
        "overall_nadir_days_from_stop": missing(overall_day, has_base & ok_j),
        "overall_nadir_after_therapy": overall_after & has_base,
        "therapy_days_from_stop": therapy_rel})
    return out[KINETICS_COLUMNS]


def classification_counts(table: pd.DataFrame) -> dict[str, int]:
    return {c: int((table["classification"] == c).sum()) for c in CLASSES}


def _overview(summary: pd.DataFrame, kinetics: pd.DataFrame) -> pd.DataFrame:
    table = kinetics.set_index("patient_id")
    out = summary[["patient_id", "len_stop_day", "first_treatment_day", "treated"]].copy()

    classification = table["classification"].to_dict()
    n_measurements = table["n_measurements"].to_dict()
    out["followed"] = [CLASS_LABELS[classification[p]] if p in classification
                       else (NO_SERIES_TREATED if bool(t) else NO_SERIES_UNTREATED)
                       for p, t in zip(out["patient_id"], out["treated"])] if len(out) else pd.Series(dtype=str)
    out["classification"] = [classification.get(p) for p in out["patient_id"]]
    out["n_measurements"] = [int(n_measurements[p]) if p in n_measurements else 0 for p in out["patient_id"]]
    return out


# --- who regresses -------------------------------------------------------------------------
EXACT_MWU_MAX = 200  # patients per group up to which the Mann-Whitney U p-value is exact
CONTINUOUS = {"latency_days": ("Latency, first lenalidomide to B-ALL (months)", DAYS_PER_MONTH),
              "len_cumulative_days": ("Cumulative lenalidomide exposure (months)", DAYS_PER_MONTH),
              "marrow_blast_pct": ("Marrow blasts at B-ALL diagnosis (%)", 1.0)}
CATEGORICAL = {"tp53_status": ("TP53", "mutated", "wild-type"),
               "ploidy_category": ("Ploidy", "low hypodiploid", "other ploidy")}


def _compare(summary: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    assessable = table[table["classification"] != NOT_ASSESSABLE]
    summary = summary.set_index("patient_id")
    groups = {pid: ("regressors" if c in REGRESSION_CLASSES else "others")
              for pid, c in zip(assessable["patient_id"], assessable["classification"])}
    sub = summary.loc[list(groups)].copy() if groups else summary.iloc[:0].copy()
    sub["group"] = [groups[p] for p in sub.index]
    cont_rows = []
    for column, (label, divisor) in CONTINUOUS.items():
        a = (sub.loc[sub["group"] == "regressors", column].dropna().astype(float) / divisor)
        b = (sub.loc[sub["group"] == "others", column].dropna().astype(float) / divisor)
        row = {"feature": label, "n_regressors": len(a), "n_others": len(b),
               "median_regressors": a.median() if len(a) else math.nan,
               "range_regressors": _range(a), "median_others": b.median() if len(b) else math.nan,
               "range_others": _range(b), "U": math.nan, "p_value": math.nan,
               "test": "Mann-Whitney U, exact, two-sided",
               "not_evaluated": int(sub[column].isna().sum())}
        if len(a) and len(b):
            # Exact up to EXACT_MWU_MAX per group; beyond, scipy's exact null distribution takes
            # seconds to minutes (bench/: 7.5 s at 10,000 patients) while the tie-corrected
            # normal approximation is accurate at such sizes: the test column says which.
            exact = max(len(a), len(b)) <= EXACT_MWU_MAX
            res = stats.mannwhitneyu(a, b, alternative="two-sided",
                                     method="exact" if exact else "asymptotic")
            row.update(U=float(res.statistic), p_value=float(res.pvalue))
            if not exact:
                row["test"] = "Mann-Whitney U, normal approximation (tie-corrected), two-sided"
        cont_rows.append(row)
    cat_rows = []
    for column, (label, positive, other) in CATEGORICAL.items():
        ev = sub[sub[column].notna()]
        pos = ev[column] == positive
        a = int(((ev["group"] == "regressors") & pos).sum())
        b = int(((ev["group"] == "regressors") & ~pos).sum())
        c = int(((ev["group"] == "others") & pos).sum())
        d = int(((ev["group"] == "others") & ~pos).sum())
        row = {"feature": f"{label}: {positive} vs {other}", "regressors_positive": a,
               "regressors_evaluable": a + b, "others_positive": c, "others_evaluable": c + d,
               "not_evaluated": int(sub[column].isna().sum()), "sample_odds_ratio": math.nan,
               "p_value": math.nan, "test": "Fisher exact, two-sided"}
        if a + b and c + d:
            res = stats.fisher_exact([[a, b], [c, d]], alternative="two-sided")
            row.update(sample_odds_ratio=float(res.statistic), p_value=float(res.pvalue))
        cat_rows.append(row)
    return pd.DataFrame(cont_rows), pd.DataFrame(cat_rows)


SUMMARY_COLUMNS = ("patient_id", "len_stop_day", "first_treatment_day", "treated",
                   *CONTINUOUS, *CATEGORICAL)


def _range(x: pd.Series) -> str:
    return f"{x.min():.1f}–{x.max():.1f}" if len(x) else "–"


# --- what the page shows: aggregate- and screen-sized, so a cached view is cheap to copy out ----
PATIENTS_DRAWN_MAX = 120  # per-patient charts and links: the first N in the default order
TABLE_ROWS_MAX = 1000     # on-screen kinetics rows (counts and tests use every patient)
IDS_LISTED = 50           # patient ids listed in a sentence


def _series_where(analyte: str, specimen: str) -> tuple[str, list]:
    """WHERE over `measurements` rows of the series `measurements(analyte, specimen)` reads."""
    if analyte not in ANALYTE_OPTIONS or specimen not in SPECIMENS:
        raise ValueError(f"unknown analyte {analyte!r} or specimen {specimen!r}")
    if analyte == LEUKEMIC:
        return "specimen = ? AND analyte IN (?, ?)", [specimen, "b_lymphoblasts_pct", "immature_b_pct"]
    return "specimen = ? AND analyte = ?", [specimen, analyte]


def drawn_series(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                 specimen: str = "marrow", limit: int = PATIENTS_DRAWN_MAX) -> tuple[list[str], int]:
    """The first `limit` patients with a series, in the default order (by id, as
    `cohort.patient_order`), and how many filtered patients have one."""
    where, params = _series_where(analyte, specimen)
    sub, sub_params = cohort_filter.patient_ids_sql()
    with_series = (f"SELECT DISTINCT patient_id FROM measurements WHERE {where} "
                   f"AND patient_id IN ({sub})")
    ids = db.query(f"{with_series} ORDER BY patient_id LIMIT ?",
                   params + sub_params + [int(limit)])["patient_id"].tolist()
    n = int(db.scalar(f"SELECT count(*) FROM ({with_series}) AS s", params + sub_params))
    return ids, n


def drawn_trajectories(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str, specimen: str,
                       rule: RegressionRule, limit: int = PATIENTS_DRAWN_MAX):
    """(ids, n_series, data, classes) of the first `limit` patients with a series: their ids in
    the default order, how many filtered patients have a series, their `measurements` and
    their class under `rule` (patient -> class); only those patients' series are read."""
    ids, n_series = drawn_series(db, cohort_filter, analyte, specimen, limit)
    data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(ids))
    kinetics = kinetics_of(data, ids, rule)
    return ids, n_series, data, dict(zip(kinetics["patient_id"], kinetics["classification"]))


def trajectory_figure(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                      specimen: str = "marrow", rule: RegressionRule = RegressionRule(),
                      time_axis: str = "withdrawal", scale: str = "linear",
                      facet: bool = False) -> alt.TopLevelMixin:
    """The trajectories of the first `PATIENTS_DRAWN_MAX` patients with a series (default
    order), coloured by their class under `rule`: only those patients' series are read.

    >>> from analytics.synthetic import build_synthetic_in_memory
    >>> chart = trajectory_figure(build_synthetic_in_memory(200, seed=1), CohortFilter())
    >>> chart.to_dict()["layer"][0]["mark"]["type"]
    'line'
    """
    ids, n_series, data, classes = drawn_trajectories(db, cohort_filter, analyte, specimen, rule)
    if not ids:
        raise ValueError("no patient of the selection has a series of this analyte and specimen")
    return trajectory_chart(data, classes, time_axis, scale, facet, ids,
                            y_title=trajectory_y_title(analyte, specimen, data))


def trajectory_y_title(analyte: str, specimen: str, data: pd.DataFrame) -> str:
    """The trajectories' y-axis title: the analyte, the unit of its `measurements` and the specimen."""
    return f"{SHORT_LABELS[analyte]} ({data['unit'].iloc[0]}, {specimen})"


def timing_figure(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                  specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> alt.Chart:
    """Stop day vs diagnosis for the first `PATIENTS_DRAWN_MAX` patients with a stop day
    (default order), coloured by what followed: only those patients' series are read."""
    where, params = cohort_filter.where_sql()
    head = db.query(f"SELECT patient_id, len_stop_day, first_treatment_day, treated FROM patient_summary "
                    f"WHERE ({where}) AND len_stop_day IS NOT NULL ORDER BY patient_id LIMIT ?",
                    params + [PATIENTS_DRAWN_MAX])
    ids = head["patient_id"].tolist()
    data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(ids))
    with_data = set(data["patient_id"])
    kinetics = kinetics_of(data, [p for p in ids if p in with_data], rule)
    return timing_chart(_overview(head, kinetics), ids)


@dataclass(frozen=True)
class WithdrawalView:
    """What the withdrawal page shows for one view: counts, tests, capped tables and ids.

    Screen-sized whatever the cohort size (no row per patient beyond the caps), so a cached
    view costs little to copy out on every rerun."""

    n_patients: int                    # filtered patients
    n_series: int                      # of them with a series of the analyte
    counts: dict                       # class -> patients
    single_ids: tuple[str, ...]        # first IDS_LISTED patients with a single measurement
    n_single: int
    kinetics_head: pd.DataFrame        # first TABLE_ROWS_MAX rows of kinetics_table
    continuous: pd.DataFrame
    categorical: pd.DataFrame
    n_with_stop: int                   # patients with a recorded lenalidomide stop day
    n_nonpositive_drawn: int           # drawn values <= 0 (not drawable on a log scale)
    with_series: tuple[tuple[str, str], ...]   # (patient, class label), first PATIENTS_DRAWN_MAX
    without_series: tuple[tuple[str, str], ...]  # (patient, what followed), first PATIENTS_DRAWN_MAX
    n_without_series: int

    @property
    def assessable(self) -> int:
        return self.n_series - self.counts[NOT_ASSESSABLE]

    @property
    def regressors(self) -> int:
        return sum(self.counts[c] for c in REGRESSION_CLASSES)


def page_view(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
              specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> WithdrawalView:
    """The withdrawal page's numbers and capped tables, from one kinetics pass.

    No frame of every filtered patient: the kinetics come from the series alone (their rows are
    in the default order already), the summary columns the comparison uses are read for the
    patients with a series only, and the patients without one are counted and listed (first
    PATIENTS_DRAWN_MAX) in DuckDB. At a million patients the summary frame of every patient was
    about 214 MB (and twice that while fetched). A per-patient reference (`analyse`) lives in
    tests/oracles/withdrawal.py."""
    data = measurements(db, cohort_filter, analyte, specimen, kinetics_only=True)
    order = list(pd.unique(data["patient_id"]))  # ORDER BY patient_id: the default order
    kinetics = kinetics_of(data, order, rule)
    del data
    where, params = cohort_filter.where_sql()
    series_where, series_params = _series_where(analyte, specimen)
    with_series = f"SELECT DISTINCT patient_id FROM measurements WHERE {series_where}"
    summary = db.query(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM patient_summary WHERE ({where}) "
                       f"AND patient_id IN ({with_series}) ORDER BY patient_id", params + series_params)
    continuous, categorical = _compare(summary, kinetics)
    del summary
    counts = db.query(f"SELECT count(*) AS n, count(len_stop_day) AS n_stop FROM patient_summary "
                      f"WHERE {where}", params).iloc[0]
    without = db.query(
        f"SELECT patient_id, CASE WHEN coalesce(treated, FALSE) THEN ? ELSE ? END AS followed "
        f"FROM patient_summary WHERE ({where}) AND patient_id NOT IN ({with_series}) "
        f"ORDER BY patient_id LIMIT ?",
        [NO_SERIES_TREATED, NO_SERIES_UNTREATED, *params, *series_params, PATIENTS_DRAWN_MAX])
    single = kinetics.loc[kinetics["n_measurements"] < 2, "patient_id"]
    drawn = set(kinetics["patient_id"].head(PATIENTS_DRAWN_MAX))
    drawn_data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(sorted(drawn)))
    return WithdrawalView(
        n_patients=int(counts["n"]), n_series=len(kinetics), counts=classification_counts(kinetics),
        single_ids=tuple(single.head(IDS_LISTED)), n_single=len(single),
        kinetics_head=kinetics.head(TABLE_ROWS_MAX).reset_index(drop=True),
        continuous=continuous, categorical=categorical,
        n_with_stop=int(counts["n_stop"]),
        n_nonpositive_drawn=int((drawn_data["level"] <= 0).sum()),
        with_series=tuple((p, CLASS_LABELS[c]) for p, c in
                          zip(kinetics["patient_id"].head(PATIENTS_DRAWN_MAX),
                              kinetics["classification"].head(PATIENTS_DRAWN_MAX))),
        without_series=tuple(map(tuple, without.itertuples(index=False))),
        n_without_series=int(counts["n"]) - len(kinetics))


# --- charts ----------------------------------------------------------------------------------
def _with_therapy_split(data: pd.DataFrame, x: str) -> pd.DataFrame:
    """Line rows per patient and phase; an interpolated point at therapy start joins the phases."""
    rows = []
    for pid, s in data.groupby("patient_id", sort=False):
        s = s.sort_values(x)
        t = s["first_treatment_day"].iloc[0]
        shift = 0.0 if x == "day" else float(s["len_stop_day"].iloc[0])
        t_x = None if pd.isna(t) else float(t) - shift
        for _, r in s.iterrows():
            phase = BEFORE if t_x is None or r[x] < t_x else AFTER
            rows.append({"patient_id": pid, "x": float(r[x]), "level": r["level"], "phase": phase,
                         "classification": r["classification"]})
        if t_x is not None and s[x].min() < t_x <= s[x].max():
            y = float(np.interp(t_x, s[x].astype(float), s["level"].astype(float)))
            for phase in (BEFORE, AFTER):
                rows.append({"patient_id": pid, "x": t_x, "level": y, "phase": phase,
                             "classification": s["classification"].iloc[0]})
    return pd.DataFrame(rows)


def trajectory_chart(data: pd.DataFrame, classes: dict[str, str], time_axis: str = "withdrawal",
                     scale: str = "linear", facet: bool = False, order: list[str] | None = None,
                     y_title: str = "Level (%)") -> alt.TopLevelMixin:
    """Serial measurements; solid before B-ALL therapy, dashed after; ◆ marks therapy start.

    `data` is `measurements(...)`; `classes` maps patient to class (colour).
    """
    if time_axis not in TIME_AXES or scale not in SCALES:
        raise ValueError("unknown time axis or scale")
    x = "days_since_stop" if time_axis == "withdrawal" else "day"
    d = data.copy()
    d["classification"] = d["patient_id"].map(lambda p: CLASS_LABELS[classes.get(p, NOT_ASSESSABLE)])
    if scale == "log":
        d = d[d["level"] > 0]
    order = order or list(dict.fromkeys(d["patient_id"]))
    lines = _with_therapy_split(d, x)
    color_domain = [CLASS_LABELS[c] for c in CLASSES]
    legend_at = "bottom" if facet else "right"  # a faceted chart does not shrink to the page
    # beside the plot, room for the patient labels written right of each line's last point
    legend = dict(orient=legend_at, offset=18 if facet else 48, direction="vertical", labelLimit=320)
    color = alt.Color("classification:N", title="Class under the rule",
                      scale=alt.Scale(domain=color_domain,
                                      range=[CLASS_COLORS[c] for c in CLASSES]),
                      legend=alt.Legend(**legend, symbolSize=160, symbolStrokeWidth=3))
    x_title = TIME_AXES[time_axis] if not facet else TIME_AXES[time_axis].split(" (")[0].replace(
        "lenalidomide discontinuation", "lenalidomide stop")
    xenc = alt.X("x:Q", title=x_title)
    yscale = alt.Scale(type="log") if scale == "log" else alt.Scale(type="linear", zero=True)
    yenc = alt.Y("level:Q", title=y_title, scale=yscale)
    pts = d.assign(x=d[x].astype(float))
    therapy = _therapy_marks(d, x)
    # one day-0 row per patient in small multiples (so each panel gets its rule), else one row
    zero = pd.DataFrame({"patient_id": order if facet else [None], "x": 0.0,
                         "what": "lenalidomide stopped"})
    union = pd.concat([lines.assign(_layer="line"), pts.assign(_layer="point"),
                       therapy.assign(_layer="therapy"), zero.assign(_layer="zero")],
                      ignore_index=True)

    def base(name: str, frame: pd.DataFrame) -> alt.Chart:
        # Faceted layers must share the top-level data: each layer filters its own rows.
        return alt.Chart().transform_filter(alt.datum._layer == name) if facet else alt.Chart(frame)

    shape = alt.Shape("detection:N", title="Marker",
                      scale=alt.Scale(domain=[DETECTED, BELOW, THERAPY],
                                      range=["circle", "triangle-down", "diamond"]),
                      legend=alt.Legend(**legend, symbolSize=160, symbolStrokeWidth=2))
    line = base("line", lines).mark_line(strokeWidth=3).encode(
        x=xenc, y=yenc, color=color, detail="patient_id:N",
        strokeDash=alt.StrokeDash("phase:N", title="Line",
                                  scale=alt.Scale(domain=[BEFORE, AFTER], range=[[1, 0], [6, 4]]),
                                  legend=alt.Legend(**legend, symbolStrokeWidth=3, symbolSize=300)))
    points = base("point", pts).mark_point(size=120, filled=True, opacity=1).encode(
        x=xenc, y=yenc, color=color,
        shape=shape,
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("day:Q", title="Day from B-ALL diagnosis"),
                 alt.Tooltip("days_since_stop:Q", title="Days from lenalidomide stop"),
                 alt.Tooltip("value:Q", title="Value (empty = below detection)"),
                 alt.Tooltip("lower_limit_of_detection:Q", title="Detection limit"),
                 alt.Tooltip("detection:N", title="Status"), alt.Tooltip("method:N", title="Method")])
    tmark = base("therapy", therapy).mark_point(size=320, filled=False, strokeWidth=3,
                                                color="#000000", opacity=1).encode(
        x=xenc, y=yenc, shape=shape, tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                                 alt.Tooltip("x:Q", title="B-ALL therapy started (day)")])
    layers = [line, points, tmark]
    if time_axis == "withdrawal":
        layers.append(base("zero", zero).mark_rule(color="#000000", strokeDash=[2, 2], strokeWidth=2)
                      .encode(x="x:Q", tooltip=alt.Tooltip("what:N", title="Day 0")))
    if facet:
        layers.append(base("therapy", therapy).mark_rule(color="#000000", strokeWidth=1.5,
                                                        strokeDash=[6, 3]).encode(x="x:Q"))
        return (alt.layer(*layers, data=union)
                .properties(width=205, height=190)
                .facet(facet=alt.Facet("patient_id:N", title=None, sort=order,
                                       header=alt.Header(labelFontSize=18, labelFontWeight="bold")),
                       columns=4)
                .resolve_scale(x="shared", y="shared"))
    labels = alt.Chart(_last_points(pts)).mark_text(align="left", dx=14, dy=-10, fontSize=16,
                                                    fontWeight="bold").encode(
        x=xenc, y=yenc, text="patient_id:N", color=color)
    return alt.layer(*layers, labels).properties(height=460)


def _therapy_marks(d: pd.DataFrame, x: str) -> pd.DataFrame:
    """One ◆ per treated patient at therapy start, on the patient's line (interpolated)."""
    rows = []
    for pid, s in d.groupby("patient_id", sort=False):
        t = s["first_treatment_day"].iloc[0]
        if pd.isna(t):
            continue
        shift = 0.0 if x == "day" else float(s["len_stop_day"].iloc[0])
        t_x = float(t) - shift
        s = s.sort_values(x)
        y = float(np.interp(t_x, s[x].astype(float), s["level"].astype(float)))
        rows.append({"patient_id": pid, "x": t_x, "level": y, "detection": THERAPY})
    return pd.DataFrame(rows, columns=["patient_id", "x", "level", "detection"])


def _last_points(pts: pd.DataFrame) -> pd.DataFrame:
    return pts.sort_values("x").groupby("patient_id", as_index=False).tail(1)


def timing_chart(overview: pd.DataFrame, order: list[str]) -> alt.Chart:
    """Lenalidomide stop day relative to B-ALL diagnosis, one dot per patient, coloured by what followed."""
    d = overview.dropna(subset=["len_stop_day"])
    domain = [k for k in FOLLOWED_COLORS if k in set(d["followed"])]
    drawn = set(d["patient_id"])
    base = alt.Chart(d).encode(
        y=alt.Y("patient_id:N", sort=[p for p in order if p in drawn], title="Patient"),
        x=alt.X("len_stop_day:Q",
                title="Lenalidomide stop, days relative to B-ALL diagnosis (negative = before)"))
    dots = base.mark_point(size=200, filled=True, opacity=1).encode(
        color=alt.Color("followed:N", title="What followed",
                        scale=alt.Scale(domain=domain, range=[FOLLOWED_COLORS[k] for k in domain]),
                        legend=alt.Legend(columns=2, labelLimit=420, symbolSize=160)),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("len_stop_day:Q", title="Stop day vs diagnosis"),
                 alt.Tooltip("first_treatment_day:Q", title="First B-ALL therapy day"),
                 alt.Tooltip("followed:N", title="What followed")])
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000000", strokeDash=[2, 2]).encode(x="x:Q")
    return alt.layer(zero, dots).properties(height=max(160, 22 * d["patient_id"].nunique()))
