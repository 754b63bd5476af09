"""Script text shared by several pages' reproduce scripts (the withdrawal kinetics are also a
figure of the compare page)."""
from __future__ import annotations

import pprint

from analytics import withdrawal
from analytics.reproduce import cohort_where, sql_literal
from analytics.filters import CohortFilter


def series_sql(cohort_filter: CohortFilter, analyte: str, specimen: str, only_ids: str = "") -> str:
    """A readable SELECT of the serial measurements of `analyte` in `specimen` of the filtered
    patients (ordered by patient and day); `only_ids`: an extra SQL condition on m.patient_id."""
    if analyte == withdrawal.LEUKEMIC:
        pick = f"""WITH pick AS (  -- per patient: B lymphoblasts when ever measured, else immature B cells
        SELECT patient_id,
               CASE WHEN bool_or(analyte = 'b_lymphoblasts_pct') THEN 'b_lymphoblasts_pct'
                    ELSE 'immature_b_pct' END AS analyte
        FROM measurements
        WHERE specimen = {sql_literal(specimen)} AND analyte IN ('b_lymphoblasts_pct', 'immature_b_pct')
        GROUP BY patient_id)
    """
        join, which = "JOIN pick USING (patient_id, analyte)", ""
    else:
        pick, join, which = "", "", f" AND m.analyte = {sql_literal(analyte)}"
    extra = f"\n      AND {only_ids}" if only_ids else ""
    return f"""{pick}SELECT m.patient_id, m.day, m.analyte, m.value, m.unit, m.lower_limit_of_detection,
           m.below_detection, s.len_stop_day, s.first_treatment_day
    FROM measurements m {join}
    JOIN patient_summary s USING (patient_id)
    WHERE m.specimen = {sql_literal(specimen)}{which}
      AND m.patient_id IN (SELECT patient_id FROM patient_summary
                           WHERE {cohort_where(cohort_filter)}
                           ){extra}
    ORDER BY m.patient_id, m.day"""


def rule_constants(rule: withdrawal.RegressionRule) -> str:
    """The regression rule as script constants."""
    return f"""PARTIAL_REDUCTION_PCT = {float(rule.partial_reduction_pct)!r}  # partial regression: reduction >= this
PROGRESSION_RISE_PCT = {float(rule.progression_rise_pct)!r}  # progression: rise >= this above the level at withdrawal
BASELINE_WINDOW_DAYS = {int(rule.baseline_window_days)!r}  # no value on/before the stop: first value within N days after
MIN_MEASUREMENTS = {int(rule.min_measurements)!r}  # from the level at withdrawal up to B-ALL therapy
ANALYTE_NAMES = {pprint.pformat(dict(withdrawal.ANALYTES), width=110, sort_dicts=False)}
"""


# The kinetics of one series, as the app classifies it (analytics/withdrawal.py, RegressionRule):
# written per patient for reading; the app computes the same with array operations.
KINETICS = '''
def fmt(x):
    return f"{x:g}"


KINETICS_COLUMNS = ["n_measurements", "n_assessed", "baseline_day", "baseline_value", "nadir_value",
                    "nadir_below_detection", "days_to_nadir_from_stop", "reduction_pct", "max_rise_pct",
                    "days_to_half_from_stop", "overall_nadir_value", "overall_nadir_days_from_stop",
                    "overall_nadir_after_therapy", "therapy_days_from_stop"]


def kinetics(series, stop_day, therapy_day):
    """Kinetics and class of one patient's series (days from the lenalidomide stop day).

    Level = the value, or the detection limit when below detection (0 without a limit).
    Baseline = last value on or before the stop, else the first within BASELINE_WINDOW_DAYS after.
    Only values strictly before the first B-ALL therapy day count ("window")."""
    s = series.sort_values("day", kind="stable").reset_index(drop=True)
    below = s["below_detection"].astype(bool)
    s["level"] = s["value"].astype(float).where(~below, s["lower_limit_of_detection"].astype(float).fillna(0.0))
    has_stop = not pd.isna(stop_day)
    # therapy day counted from the stop day (from diagnosis when there is no stop day)
    therapy_rel = math.nan if pd.isna(therapy_day) else float(therapy_day) - (float(stop_day) if has_stop else 0.0)
    out = {"n_measurements": len(s), "n_assessed": 0, "baseline_day": math.nan, "baseline_value": math.nan,
           "nadir_value": math.nan, "nadir_below_detection": False, "days_to_nadir_from_stop": math.nan,
           "reduction_pct": math.nan, "max_rise_pct": math.nan, "days_to_half_from_stop": math.nan,
           "overall_nadir_value": math.nan, "overall_nadir_days_from_stop": math.nan,
           "overall_nadir_after_therapy": False, "therapy_days_from_stop": therapy_rel}
    if not has_stop:
        return "not assessable", "no lenalidomide stop day recorded", out
    s["rel"] = s["day"].astype(float) - float(stop_day)
    on_or_before = s.index[s["rel"] <= 0]
    soon_after = s.index[(s["rel"] > 0) & (s["rel"] <= BASELINE_WINDOW_DAYS)]
    if len(on_or_before):
        b = on_or_before[-1]
    elif len(soon_after):
        b = soon_after[0]
    else:
        return "not assessable", "no measurement at withdrawal under the baseline rule", out
    follow = s.loc[b:]
    window = follow if math.isnan(therapy_rel) else follow[follow["rel"] < therapy_rel]
    b0 = float(s.at[b, "level"])
    out.update(n_assessed=len(window), baseline_day=float(s.at[b, "rel"]), baseline_value=b0)
    later = follow.iloc[1:]
    if len(later):  # lowest level after baseline, therapy included ("response, not regression")
        j = later["level"].idxmin()
        out.update(overall_nadir_value=float(later.at[j, "level"]), overall_nadir_days_from_stop=float(later.at[j, "rel"]),
                   overall_nadir_after_therapy=bool(not math.isnan(therapy_rel) and later.at[j, "rel"] >= therapy_rel))
    if len(window):
        k = window["level"].idxmin()
        out.update(nadir_value=float(window.at[k, "level"]), nadir_below_detection=bool(window.at[k, "below_detection"]),
                   days_to_nadir_from_stop=float(window.at[k, "rel"]))
    if bool(s.at[b, "below_detection"]):
        return "not assessable", "level at withdrawal already below detection", out
    if not b0 > 0:
        return "not assessable", "level at withdrawal is zero", out
    if len(window) < MIN_MEASUREMENTS:
        why = (f"{len(window)} measurement(s) from withdrawal to B-ALL therapy" if not math.isnan(therapy_rel)
               else f"{len(window)} measurement(s) after withdrawal")
        return "not assessable", f"{why}; {MIN_MEASUREMENTS} needed", out
    reduction = 100.0 * (b0 - out["nadir_value"]) / b0
    rise = 100.0 * (float(window["level"].max()) - b0) / b0
    # days to 50%: linear interpolation between the last value above half the baseline and the first at/below it
    half = math.nan
    days, levels = window["rel"].tolist(), window["level"].tolist()
    for i, (d, v) in enumerate(zip(days, levels)):
        if v <= b0 / 2.0:
            half = d if i == 0 else days[i - 1] + (d - days[i - 1]) * (levels[i - 1] - b0 / 2.0) / (levels[i - 1] - v)
            break
    out.update(reduction_pct=reduction, max_rise_pct=rise, days_to_half_from_stop=half)
    if window["below_detection"].iloc[1:].astype(bool).any():
        return "complete", "below detection before any B-ALL therapy", out
    if reduction >= PARTIAL_REDUCTION_PCT:
        return "partial", f"reduction {reduction:.0f}% ≥ {fmt(PARTIAL_REDUCTION_PCT)}%", out
    if rise >= PROGRESSION_RISE_PCT:
        return "progression", f"rise {rise:.0f}% ≥ {fmt(PROGRESSION_RISE_PCT)}%", out
    return "none", (f"reduction {reduction:.0f}% < {fmt(PARTIAL_REDUCTION_PCT)}%, "
                    f"rise {rise:.0f}% < {fmt(PROGRESSION_RISE_PCT)}%"), out


def kinetics_table(series):
    """One row per patient with a series (in the order of `series`; no row without one)."""
    rows = []
    for patient, part in series.groupby("patient_id", sort=False):
        classification, reason, values = kinetics(part, part["len_stop_day"].iloc[0], part["first_treatment_day"].iloc[0])
        rows.append({"patient_id": patient, "analyte": ANALYTE_NAMES[part["analyte"].iloc[0]],
                     "classification": classification, "reason": reason, **values})
    return pd.DataFrame(rows, columns=["patient_id", "analyte", "classification", "reason", *KINETICS_COLUMNS])
'''
