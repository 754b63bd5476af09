"""Leukemia kinetics after lenalidomide withdrawal: each patient's series, its level at withdrawal,
nadir, reduction and regression class (the rule: `rule.RegressionRule`).

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
>>> table = kinetics_table(build_in_memory("data/demo_cohort"), CohortFilter())
>>> classification_counts(table)
{'complete': 2, 'partial': 3, 'none': 2, 'progression': 2, 'not assessable': 1}
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from analytics.cohort import patient_order
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.withdrawal.rule import (ANALYTE_OPTIONS, ANALYTES, BELOW, CLASS_LABELS, CLASSES, COMPLETE,
                                       DETECTED, LEUKEMIC, NO_SERIES_TREATED, NO_SERIES_UNTREATED, NONE,
                                       NOT_ASSESSABLE, PARTIAL, PROGRESSION, SPECIMENS, RegressionRule)


def _levels(df: pd.DataFrame) -> pd.Series:
    """Each measurement's number: the value, or the detection limit when below detection (0 without one)."""
    below = df["below_detection"].astype(bool).to_numpy()
    lod = pd.to_numeric(df["lower_limit_of_detection"], errors="coerce").fillna(0.0).to_numpy(float)
    value = pd.to_numeric(df["value"], errors="coerce").to_numpy(float)
    return pd.Series(np.where(below, lod, value), index=df.index, dtype=float)


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
    sql, params = _measurements_sql(cohort_filter, analyte, specimen, ids, kinetics_only)
    df = db.query(sql, params)
    df["level"] = _levels(df)
    if kinetics_only:
        return df
    df = df[["patient_id", "day", "analyte", "value", "unit", "lower_limit_of_detection",
             "below_detection", "method", "len_stop_day", "first_treatment_day", "level"]].copy()
    df["days_since_stop"] = df["day"] - df["len_stop_day"]
    df["detection"] = np.where(df["below_detection"].astype(bool), BELOW, DETECTED)
    df["analyte_label"] = df["analyte"].map(ANALYTES)
    return df


def _measurements_sql(cohort_filter: CohortFilter, analyte: str, specimen: str,
                      ids: tuple[str, ...] | None, kinetics_only: bool) -> tuple[str, list]:
    """The query of `measurements` (rows ordered by patient and day) and its parameters."""
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
    return sql, chosen_params + [specimen] + analyte_params + params


def series_batches(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                   specimen: str = "marrow", rows: int = 40_000) -> Iterator[pd.DataFrame]:
    """`measurements(..., kinetics_only=True)` in pieces of about `rows` rows, each holding whole
    series (a patient's rows are never split), in patient order: a caller reducing each piece
    (`kinetics_of` is per series) never holds every measurement in pandas at once (322k rows at
    a million patients, about 150 MB with the kinetics' intermediates, per session)."""
    sql, params = _measurements_sql(cohort_filter, analyte, specimen, None, True)
    carry = None
    for chunk in db.query_batches(sql, params, rows):
        if carry is not None:
            chunk = pd.concat([carry, chunk], ignore_index=True)
        ids = chunk["patient_id"].to_numpy()
        cut = int(np.argmax(ids == ids[-1]))  # the last patient's rows may go on in the next chunk
        carry = chunk.iloc[cut:].reset_index(drop=True)
        if cut:
            done = chunk.iloc[:cut].reset_index(drop=True)
            done["level"] = _levels(done)
            yield done
    if carry is not None:
        carry["level"] = _levels(carry)
        yield carry


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
    p, r = rule.threshold_texts()
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


def overview_of(summary: pd.DataFrame, kinetics: pd.DataFrame) -> pd.DataFrame:
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


