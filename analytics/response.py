"""Response to B-ALL therapy: best response, comparisons by feature, MRD, time to CR, status.

Conventions (stated on the page):

* **Best response** is the best recorded response over all lines (patient_summary.best_response:
  CR > CRi > PR > refractory > not evaluable). The denominator is the treated patients with a
  recorded response assessment; "not evaluable" (e.g. death before assessment) is a recorded
  outcome and stays in the denominator, whereas a treated patient with *no* assessment recorded
  is unknown, shown apart and never counted as a non-response.
* Proportions carry exact (Clopper-Pearson) 95% intervals (`analytics.stats.clopper_pearson`).
* Comparisons of the CR/CRi rate between groups: Fisher's exact test for two groups
  (`analytics.stats.fisher_exact_2x2`, with the conditional MLE odds ratio as R reports it),
  the Freeman-Halton extension for more (`analytics.stats.freeman_halton`: full enumeration of
  the tables with the observed margins; a seeded Monte Carlo only if the enumeration would
  exceed `MAX_ENUMERATED_TABLES`, and the result says which). Patients whose feature is not evaluated
  (NULL) are listed in their own row and left out of the test.
* **MRD** among responders (best response CR/CRi): MRD-negative if any CR/CRi assessment
  recorded MRD negativity; responders without an MRD result are "not evaluated" and outside the
  denominator. The method and the sensitivity of the defining assessment are reported.
* **Time to CR/CRi**: days from the start of first-line therapy (or from diagnosis) to the first
  CR/CRi, among responders: median and range, descriptive (not a cumulative-incidence estimate).

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> s = best_response_summary(db, CohortFilter())
>>> s.n_treated_assessed >= s.n_responders
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.disclosure import suppressed_cells, suppressed_label
from analytics.filters import CohortFilter
from analytics.format import percent, percent_range
from analytics.stats import clopper_pearson, fisher_exact_2x2, freeman_halton
from analytics.theme import NOT_EVALUATED_COLOR, PALETTE
from analytics.units import DAYS_PER_MONTH

RESPONSES = ("CR", "CRi", "PR", "refractory", "not evaluable")
RESPONDER = ("CR", "CRi")
NO_ASSESSMENT = "no assessment recorded"
NOT_EVALUATED = "not evaluated"
RESPONSE_COLORS = {"CR": PALETTE[2], "CRi": PALETTE[4], "PR": PALETTE[1], "refractory": PALETTE[5],
                   "not evaluable": PALETTE[3], NO_ASSESSMENT: NOT_EVALUATED_COLOR}
RESPONSE_LABELS = {"CR": "CR", "CRi": "CRi", "PR": "PR", "refractory": "Refractory",
                   "not evaluable": "Not evaluable"}

AGE_GROUP_CUT = 60  # the usual "older adult" boundary in adult ALL trials (not a cohort statistic)

# URL parameter `group` -> (label, SQL expression over patient_summary). The allow-list: no
# user text ever reaches the SQL.
GROUP_FEATURES: dict[str, tuple[str, str]] = {
    "first_line_regimen_category": ("First-line regimen category", "first_line_regimen_category"),
    "tp53_status": ("TP53", "tp53_status"),
    "ploidy_category": ("Ploidy category", "ploidy_category"),
    "age_group": (f"Age at B-ALL diagnosis (< / ≥ {AGE_GROUP_CUT} y)",
                  f"CASE WHEN age_at_ball_dx IS NULL THEN NULL WHEN age_at_ball_dx >= {AGE_GROUP_CUT} "
                  f"THEN '≥ {AGE_GROUP_CUT} y' ELSE '< {AGE_GROUP_CUT} y' END"),
    "institution": ("Institution", "institution"),
    "sex": ("Sex", "sex"),
    "bcr_abl1": ("BCR::ABL1", "bcr_abl1"),
    "cns_status": ("CNS status", "cns_status"),
    "myeloma_auto_hct": ("Autologous HCT for myeloma",
                         "CASE WHEN myeloma_auto_hct IS NULL THEN NULL WHEN myeloma_auto_hct "
                         "THEN 'yes' ELSE 'no' END"),
}
DEFAULT_GROUP = "first_line_regimen_category"


# --- best response -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BestResponseSummary:
    """Best response among treated patients of the filtered cohort."""

    n_patients: int
    n_treated: int
    n_treated_assessed: int       # denominator
    n_responders: int             # CR or CRi
    ci_low: float
    ci_high: float
    table: pd.DataFrame = field(compare=False)   # response, n, pct, ci_low, ci_high
    unassessed: tuple[str, ...] = ()             # treated, no assessment recorded

    @property
    def n_untreated(self) -> int:
        return self.n_patients - self.n_treated

    @property
    def rate(self) -> float:
        return self.n_responders / self.n_treated_assessed if self.n_treated_assessed else math.nan


def _where(cohort_filter: CohortFilter) -> tuple[str, list]:
    return cohort_filter.where_sql()


def best_response_summary(db: CohortDatabase, cohort_filter: CohortFilter,
                          max_unassessed: int | None = None) -> BestResponseSummary:
    """Counts, percentages and exact 95% CIs of each best response among treated patients
    (counted in DuckDB; `max_unassessed`: list only the first N unassessed ids)."""
    where, params = _where(cohort_filter)
    c = db.query(f"SELECT coalesce(treated, FALSE) AS treated, best_response, count(*) AS n "
                 f"FROM patient_summary WHERE {where} GROUP BY ALL", params)
    treated = c[c["treated"].astype(bool)]
    assessed = treated[treated["best_response"].notna()]
    n = int(assessed["n"].sum())
    by_resp = dict(zip(assessed["best_response"], assessed["n"].astype(int)))
    rows = []
    for resp in RESPONSES:
        k = int(by_resp.get(resp, 0))
        low, high = clopper_pearson(k, n)
        rows.append({"response": resp, "n": k, "denominator": n,
                     "pct": k / n if n else math.nan, "ci_low": low, "ci_high": high})
    k = int(sum(by_resp.get(r, 0) for r in RESPONDER))
    low, high = clopper_pearson(k, n)
    limit_sql, limit_params = ("LIMIT ?", [int(max_unassessed)]) if max_unassessed is not None else ("", [])
    unassessed = db.query(f"SELECT patient_id FROM patient_summary WHERE {where} AND coalesce(treated, FALSE) "
                          f"AND best_response IS NULL ORDER BY patient_id {limit_sql}", params + limit_params)
    return BestResponseSummary(
        n_patients=int(c["n"].sum()), n_treated=int(treated["n"].sum()), n_treated_assessed=n,
        n_responders=k, ci_low=low, ci_high=high, table=pd.DataFrame(rows),
        unassessed=tuple(unassessed["patient_id"]))


def best_response_chart(summary: BestResponseSummary, small_cell_k: int = 0) -> alt.Chart:
    """Horizontal bars: patients per best response, labelled 'n/N (pct%)', with exact CI rules.

    With `small_cell_k` > 1 a count from 1 to k-1 reads '<k/N' (with secondary suppression,
    see analytics.disclosure) and its bar and interval are not drawn (their length would give
    the count back)."""
    t = summary.table.copy()
    small = suppressed_cells(t["n"], small_cell_k)
    t["label"] = [suppressed_label(r.n, r.denominator, small_cell_k) if hide
                  else f"{r.n}/{r.denominator} ({percent(r.pct)})" for r, hide in zip(t.itertuples(), small)]
    t["ci"] = ["" if hide else percent_range(r.ci_low, r.ci_high) for r, hide in zip(t.itertuples(), small)]
    t["Response"] = t["response"].map(RESPONSE_LABELS)
    t["pct100"], t["lo100"], t["hi100"] = 100 * t["pct"], 100 * t["ci_low"], 100 * t["ci_high"]
    t.loc[small, ["pct100", "lo100", "hi100"]] = np.nan
    t["label_x"] = t["pct100"].fillna(0.0)
    t = t.drop(columns=["n", "pct", "ci_low", "ci_high"])  # nothing beyond what is drawn
    order = [RESPONSE_LABELS[r] for r in RESPONSES]
    y = alt.Y("Response:N", sort=order, title=None)
    tooltip = [alt.Tooltip("Response:N"), alt.Tooltip("label:N", title="n/N (%)"),
               alt.Tooltip("ci:N", title="exact 95% CI")]
    bars = alt.Chart(t).mark_bar(height=26).encode(
        x=alt.X("pct100:Q", title=f"% of treated patients with an assessment (N = {summary.n_treated_assessed})",
                scale=alt.Scale(domain=[0, 100])),
        y=y, color=alt.Color("response:N", scale=alt.Scale(domain=list(RESPONSE_COLORS),
                                                           range=list(RESPONSE_COLORS.values())),
                             legend=None), tooltip=tooltip)
    ci = alt.Chart(t).mark_rule(strokeWidth=2, color="#333333").encode(
        x="lo100:Q", x2="hi100:Q", y=y, tooltip=tooltip)
    # labels above the bar, kept inside the plot: right-aligned past 50%, left-aligned otherwise
    wide = t["label_x"] > 50
    low = alt.Chart(t[~wide]).mark_text(align="left", dx=6, dy=-12, fontSize=15).encode(
        x="label_x:Q", y=y, text="label:N")
    high = alt.Chart(t[wide]).mark_text(align="right", dx=-6, dy=-12, fontSize=15).encode(
        x="label_x:Q", y=y, text="label:N")
    return (bars + ci + low + high).properties(height=60 * len(t), width="container",
                                         title="Best response among treated patients (bars: exact 95% CI)")


def untreated_patients(db: CohortDatabase, cohort_filter: CohortFilter,
                       limit: int | None = None) -> pd.DataFrame:
    """Untreated patients with why, where recorded: death cause, notes, serial measurements.

    `limit`: only the first `limit` untreated patients (by id), and only their events are read."""
    where, params = _where(cohort_filter)
    limit_sql, limit_params = ("LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    df = db.query(
        f"SELECT patient_id, age_at_ball_dx, vital_status, death_day, death_cause, last_contact_day, "
        f"status_at_last_contact, len_stop_day FROM patient_summary WHERE {where} AND NOT treated "
        f"ORDER BY patient_id {limit_sql}", params + limit_params)
    if df.empty:
        return df.assign(why=pd.Series(dtype=str))
    # the same patients as a subquery: a literal list of ids would be one parameter per patient
    untreated = (f"SELECT patient_id FROM patient_summary WHERE {where} AND NOT treated "
                 f"ORDER BY patient_id {limit_sql}")
    params = params + limit_params
    notes = db.query(f"SELECT patient_id, string_agg(note, '; ' ORDER BY day) AS notes FROM events "
                     f"WHERE note IS NOT NULL AND patient_id IN ({untreated}) GROUP BY patient_id", params)
    meas = db.query(f"SELECT patient_id, analyte, specimen, day, value, below_detection, "
                    f"lower_limit_of_detection, unit FROM measurements WHERE patient_id IN ({untreated}) "
                    "ORDER BY patient_id, analyte, specimen, day", params)
    note_by = dict(zip(notes["patient_id"], notes["notes"]))
    meas_by = dict(tuple(meas.groupby("patient_id", sort=False))) if len(meas) else {}
    whys = []
    for row in df.itertuples():
        parts = []
        if pd.notna(row.len_stop_day):
            parts.append(f"lenalidomide stopped on day {int(row.len_stop_day)}")
        m = meas_by.get(row.patient_id, meas.iloc[:0])
        for (analyte, specimen), s in m.groupby(["analyte", "specimen"], sort=False):
            parts.append(f"{analyte.replace('_pct', '').replace('_', ' ')} ({specimen}): "
                         + " → ".join(_fmt_measure(r) for r in s.itertuples()))
        if row.patient_id in note_by:
            parts.append(str(note_by[row.patient_id]))
        if pd.notna(row.death_cause):
            parts.append(f"died on day {int(row.death_day)}: {row.death_cause}")
        elif row.vital_status == "alive" and pd.notna(row.last_contact_day):
            parts.append(f"alive at day {int(row.last_contact_day)}: {row.status_at_last_contact}")
        elif row.vital_status == "alive":
            parts.append("alive, day of last contact not recorded")
        whys.append("; ".join(parts) if parts else "no reason recorded")
    return df.assign(why=whys)


def _fmt_measure(r) -> str:
    if r.below_detection:
        return f"<{r.lower_limit_of_detection:g}{r.unit} (d{int(r.day)})"
    return f"{r.value:g}{r.unit} (d{int(r.day)})"


# --- by group ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupComparison:
    """CR/CRi rate by the groups of one feature, with the exact test on the evaluable groups."""

    feature: str
    label: str
    rates: pd.DataFrame = field(compare=False)        # group, n, responders, rate, ci_low, ci_high, evaluable
    contingency: pd.DataFrame = field(compare=False)  # group x (CR/CRi, no CR/CRi) + breakdown
    test_name: str
    p_value: float
    method: str
    odds_ratio: float | None = None
    or_ci: tuple[float, float] | None = None
    note: str = ""


def response_by_group(db: CohortDatabase, cohort_filter: CohortFilter,
                      feature: str = DEFAULT_GROUP) -> GroupComparison:
    """CR/CRi rate among treated, assessed patients by the groups of `feature` (allow-listed).

    Counted in DuckDB (GROUP BY group, best response; the first IDS_LISTED ids per group by a
    window): Python sees one row per group and response, whatever the cohort size."""
    if feature not in GROUP_FEATURES:
        raise ValueError(f"unknown grouping feature {feature!r}")
    label, expr = GROUP_FEATURES[feature]
    where, params = _where(cohort_filter)
    base = (f"SELECT patient_id, coalesce(CAST({expr} AS VARCHAR), ?) AS grp, best_response "
            f"FROM patient_summary WHERE {where} AND treated AND best_response IS NOT NULL")
    counts = db.query(f"SELECT grp, best_response, count(*) AS n FROM ({base}) GROUP BY grp, best_response",
                      [NOT_EVALUATED, *params])
    # the first IDS_LISTED + 1 ids per group (DuckDB's top-n min: a sorted list per group)
    firsts = db.query(f"SELECT grp, unnest(min(patient_id, {int(IDS_LISTED) + 1})) AS patient_id "
                      f"FROM ({base}) GROUP BY grp", [NOT_EVALUATED, *params])
    present = set(counts["grp"])
    groups = sorted(present - {NOT_EVALUATED})
    if NOT_EVALUATED in present:
        groups.append(NOT_EVALUATED)
    ids_by = {g: list(s) for g, s in firsts.groupby("grp", sort=False)["patient_id"]}
    rows, cont = [], []
    for g in groups:
        s = counts[counts["grp"] == g]
        by_resp = dict(zip(s["best_response"], s["n"].astype(int)))
        n = int(s["n"].sum())
        k = int(sum(by_resp.get(r, 0) for r in RESPONDER))
        low, high = clopper_pearson(k, n)
        rows.append({"group": g, "n": n, "responders": k, "rate": k / n if n else math.nan,
                     "ci_low": low, "ci_high": high, "evaluable": g != NOT_EVALUATED,
                     "patients": _list_ids_counted(ids_by.get(g, []), n)})
        c = {"group": g, "CR/CRi": k, "no CR/CRi": n - k, "total": n}
        for resp in RESPONSES:
            c[RESPONSE_LABELS[resp]] = int(by_resp.get(resp, 0))
        cont.append(c)
    rates = pd.DataFrame(rows, columns=["group", "n", "responders", "rate", "ci_low", "ci_high",
                                        "evaluable", "patients"])
    contingency = pd.DataFrame(cont, columns=["group", "CR/CRi", "no CR/CRi", "total",
                                              *RESPONSE_LABELS.values()])
    ev = rates[rates["evaluable"]]
    table = [[int(r.responders), int(r.n - r.responders)] for r in ev.itertuples()]
    n_excl = int(rates.loc[~rates["evaluable"], "n"].sum())
    note = (f"{n_excl} patient(s) with {label} not evaluated are shown but left out of the test. "
            if n_excl else "")
    if len(table) < 2:
        return GroupComparison(feature, label, rates, contingency, "no test", math.nan,
                               "fewer than two groups with evaluable patients", note=note)
    if sum(r[1] for r in table) == 0 or sum(r[0] for r in table) == 0:
        note += "All evaluable patients had the same outcome: the test is uninformative (p = 1). "
    if len(table) == 2:
        res = fisher_exact_2x2(table)
        if not math.isnan(res.conditional_odds_ratio):
            note += (f"Odds ratio of CR/CRi, {ev['group'].iloc[0]} vs {ev['group'].iloc[1]}: conditional "
                     "maximum-likelihood estimate with exact 95% CI (as R fisher.test).")
        return GroupComparison(
            feature, label, rates, contingency, "Fisher's exact test (two-sided)", res.p_value,
            "exact", odds_ratio=res.conditional_odds_ratio, or_ci=(res.ci_low, res.ci_high), note=note)
    res = freeman_halton(table)
    return GroupComparison(feature, label, rates, contingency,
                           f"Freeman-Halton exact test ({len(table)}×2, two-sided)",
                           res.p_value, res.method, note=note)


IDS_LISTED = 20  # patient ids named in a tooltip or sentence; the rest are counted


def _list_ids_counted(first_ids, n: int) -> str:
    """n ids joined, the first IDS_LISTED only and then '... and N more' (a registry's group would
    be a megabyte of text), given their first ones (at least IDS_LISTED + 1 when n is larger).

    >>> _list_ids_counted(["S01", "S02"], 2), _list_ids_counted([f"P{i:02d}" for i in range(21)], 30)[-20:]
    ('S01, S02', 'P19, ... and 10 more')
    """
    ids = list(first_ids)
    if n <= IDS_LISTED:
        return ", ".join(ids[:n])
    return ", ".join(ids[:IDS_LISTED]) + f", ... and {n - IDS_LISTED:,} more"


def group_rate_chart(comparison: GroupComparison) -> alt.LayerChart:
    """CR/CRi rate per group: point estimate with exact 95% CI, labelled k/n."""
    t = comparison.rates.copy()
    t["label"] = [f"{r.responders}/{r.n} ({percent(r.rate)})" for r in t.itertuples()]
    t["ci"] = [percent_range(r.ci_low, r.ci_high) for r in t.itertuples()]
    t["pct"], t["lo"], t["hi"] = 100 * t["rate"], 100 * t["ci_low"], 100 * t["ci_high"]
    t["kind"] = np.where(t["evaluable"], "evaluated", NOT_EVALUATED)
    y = alt.Y("group:N", sort=t["group"].tolist(), title=None, axis=alt.Axis(labelLimit=320))
    color = alt.Color("kind:N", scale=alt.Scale(domain=["evaluated", NOT_EVALUATED],
                                                range=[PALETTE[0], NOT_EVALUATED_COLOR]), legend=None)
    tooltip = [alt.Tooltip("group:N", title=comparison.label), alt.Tooltip("label:N", title="CR/CRi"),
               alt.Tooltip("ci:N", title="exact 95% CI"), alt.Tooltip("patients:N")]
    rule = alt.Chart(t).mark_rule(strokeWidth=3).encode(
        x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]),
                # two lines, ending at the axis end: in a narrow chart (a slide, half a page) the
                # title runs left under the group labels instead of past the figure's right edge
                title=["CR/CRi among treated patients, %", "(exact 95% CI)"],
                axis=alt.Axis(titleAnchor="end", titleAlign="right")), x2="hi:Q", y=y,
        color=color, tooltip=tooltip)
    point = alt.Chart(t).mark_point(filled=True, size=160).encode(x="pct:Q", y=y, color=color,
                                                                   tooltip=tooltip)
    # labels above the point, kept inside the plot: right-aligned near 100%, left-aligned otherwise
    high = alt.Chart(t[t["pct"] > 50]).mark_text(dy=-15, dx=6, align="right", fontSize=15).encode(
        x="pct:Q", y=y, text="label:N")
    low = alt.Chart(t[~(t["pct"] > 50)]).mark_text(dy=-15, dx=-6, align="left", fontSize=15).encode(
        x="pct:Q", y=y, text="label:N")
    return (rule + point + high + low).properties(height=max(120, 60 * len(t)), width="container",
                                            title=f"CR/CRi by {comparison.label}")


# --- MRD and time to CR ------------------------------------------------------------------------
def format_sensitivity(x: float | None) -> str:
    """0.0001 -> '10⁻⁴ (0.01%)'."""
    if x is None or pd.isna(x):
        return "not recorded"
    exp = math.log10(x)
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    head = f"10{str(int(round(exp))).translate(sup)}" if abs(exp - round(exp)) < 1e-9 else f"{x:g}"
    return f"{head} ({100 * x:g}%)"


@dataclass(frozen=True)
class MrdSummary:
    n_responders: int
    n_evaluated: int
    n_negative: int
    ci_low: float
    ci_high: float
    methods: pd.DataFrame = field(compare=False)   # method, sensitivity, evaluated, negative

    @property
    def n_not_evaluated(self) -> int:
        return self.n_responders - self.n_evaluated


def _mrd_rows(db: CohortDatabase, cohort_filter: CohortFilter, limit: int | None = None) -> pd.DataFrame:
    """Per responder (CR/CRi), by id: MRD status, method and sensitivity; the first `limit` only."""
    sql, params = _mrd_sql(cohort_filter, limit)
    df = db.query(f"{sql} ORDER BY resp.patient_id", params)
    df["mrd"] = np.where(df["n_mrd"] == 0, NOT_EVALUATED,
                         np.where(df["negative"], "negative", "positive"))
    return df


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


def _origin_day(origin: str) -> str:
    """The SQL day a time to CR counts from ('treatment' or 'diagnosis', allow-listed)."""
    if origin not in TIME_ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    return "first_treatment_day" if origin == "treatment" else "0"


def time_to_cr(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment") -> TimeToCr:
    """Days from `origin` ('treatment' or 'diagnosis') to the first CR/CRi, among responders."""
    start = _origin_day(origin)
    where, params = _where(cohort_filter)
    df = db.query(f"SELECT patient_id, best_response, first_line_regimen_category, first_treatment_day, "
                  f"first_cr_day, first_cr_day - {start} AS days FROM patient_summary "
                  f"WHERE {where} AND first_cr_day IS NOT NULL AND treated ORDER BY patient_id", params)
    df["months"] = df["days"] / DAYS_PER_MONTH
    if df.empty:
        return TimeToCr(origin, 0, math.nan, math.nan, math.nan, df)
    d = df["days"].astype(float)
    return TimeToCr(origin, len(df), float(d.median()), float(d.min()), float(d.max()), df)


# --- current status ----------------------------------------------------------------------------
ALIVE_NED = "alive, no evidence of B-ALL"
STATUS_ORDER = (ALIVE_NED, "alive with B-ALL", "alive, disease status unknown", "dead")
PATHWAYS = ("allogeneic HCT", "B-ALL therapy, no HCT", "no B-ALL therapy")


def current_status(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient: status at last contact (from the last_contact/death events) and pathway,
    by the same SQL mapping `status_counts` counts with."""
    where, params = _where(cohort_filter)
    df = db.query(f"SELECT patient_id, treated, hct, status_at_last_contact, death_cause, os_days, "
                  f"last_contact_day, {_STATUS_SQL} AS status, {_PATHWAY_SQL} AS pathway "
                  f"FROM patient_summary WHERE {where} ORDER BY patient_id", params)
    df["months_followed"] = df["os_days"] / DAYS_PER_MONTH
    return df


# --- registry-size helpers: small results a page can cache and copy out on every rerun ---------
def _mrd_sql(cohort_filter: CohortFilter, limit: int | None = None) -> tuple[str, list]:
    """The per-responder MRD query of `_mrd_rows` (SQL text and parameters)."""
    sub, params = cohort_filter.patient_ids_sql()
    limit_sql, limit_params = ("ORDER BY patient_id LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    return (f"""
        WITH resp AS (
            SELECT patient_id, best_response FROM patient_summary
            WHERE best_response IN ('CR', 'CRi') AND patient_id IN ({sub}) {limit_sql}),
        a AS (
            SELECT e.patient_id, e.day, e.mrd_status, e.mrd_method, e.mrd_sensitivity
            FROM events e JOIN resp USING (patient_id)
            WHERE e.event_type = 'response_assessment' AND e.response IN ('CR', 'CRi'))
        SELECT resp.patient_id, resp.best_response,
               count(a.mrd_status) AS n_mrd,
               coalesce(bool_or(a.mrd_status = 'negative'), FALSE) AS negative,
               min(a.day) FILTER (WHERE a.mrd_status = 'negative') AS mrd_negative_day,
               arg_min(a.mrd_method, (a.mrd_status <> 'negative', a.day))
                   FILTER (WHERE a.mrd_status IS NOT NULL) AS mrd_method,
               arg_min(a.mrd_sensitivity, (a.mrd_status <> 'negative', a.day))
                   FILTER (WHERE a.mrd_status IS NOT NULL) AS mrd_sensitivity
        FROM resp LEFT JOIN a USING (patient_id)
        GROUP BY resp.patient_id, resp.best_response""", params + limit_params)


def mrd_summary(db: CohortDatabase, cohort_filter: CohortFilter) -> MrdSummary:
    """MRD-negative rate (exact CI) among responders with an MRD result at a CR/CRi assessment,
    and the method and sensitivity of the assessment defining each status, counted in DuckDB:
    Python sees one row per (method, sensitivity). Per responder: `responder_table`."""
    sub, params = cohort_filter.patient_ids_sql()
    responders = (f"SELECT patient_id FROM patient_summary WHERE best_response IN ('CR', 'CRi') "
                  f"AND patient_id IN ({sub})")
    # per evaluated responder (a CR/CRi assessment with an MRD status), the defining assessment as
    # `_mrd_rows` picks it; only rows with a status are grouped (DuckDB's working memory at 1M)
    g = db.query(f"""
        WITH per AS (
            SELECT patient_id, bool_or(mrd_status = 'negative') AS negative,
                   arg_min(struct_pack(m := mrd_method, s := mrd_sensitivity),
                           (mrd_status <> 'negative', day)) AS d
            FROM events WHERE event_type = 'response_assessment' AND response IN ('CR', 'CRi')
                AND mrd_status IS NOT NULL AND patient_id IN ({responders})
            GROUP BY patient_id)
        SELECT d.m AS mrd_method, d.s AS mrd_sensitivity, count(*) AS evaluated,
               count(*) FILTER (WHERE negative) AS negative FROM per GROUP BY ALL""", params)
    n_resp = int(db.scalar(f"SELECT count(*) FROM ({responders}) AS r", params))
    ev = g[g["evaluated"] > 0]
    k, n = int(ev["negative"].sum()), int(ev["evaluated"].sum())
    low, high = clopper_pearson(k, n)
    methods = (ev.assign(mrd_method=ev["mrd_method"].fillna("method not recorded"),
                         sensitivity=[format_sensitivity(x) for x in ev["mrd_sensitivity"]],
                         evaluated=ev["evaluated"].astype("int64"), negative=ev["negative"].astype("int64"))
               .groupby(["mrd_method", "sensitivity"], dropna=False)
               .agg(evaluated=("evaluated", "sum"), negative=("negative", "sum")).reset_index())
    return MrdSummary(n_resp, n, k, low, high, methods)


def time_to_cr_brief(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment") -> TimeToCr:
    """`time_to_cr` without its per-responder rows (n, median, range only), computed in DuckDB."""
    start = _origin_day(origin)
    where, params = _where(cohort_filter)
    row = db.query(f"SELECT count(*) AS n, median(CAST(first_cr_day - {start} AS DOUBLE)) AS med, "
                   f"min(CAST(first_cr_day - {start} AS DOUBLE)) AS lo, "
                   f"max(CAST(first_cr_day - {start} AS DOUBLE)) AS hi FROM patient_summary "
                   f"WHERE {where} AND first_cr_day IS NOT NULL AND treated", params).iloc[0]
    empty = pd.DataFrame(columns=["patient_id", "best_response", "first_line_regimen_category",
                                  "first_treatment_day", "first_cr_day", "days", "months"])
    if int(row["n"]) == 0:
        return TimeToCr(origin, 0, math.nan, math.nan, math.nan, empty)
    return TimeToCr(origin, int(row["n"]), float(row["med"]), float(row["lo"]), float(row["hi"]), empty)


def responder_table(db: CohortDatabase, cohort_filter: CohortFilter, origin: str = "treatment",
                    limit: int | None = 1000) -> tuple[pd.DataFrame, int]:
    """Per responder: best response, MRD and time to CR/CRi (first `limit` rows; None: all), and the count."""
    rows = _mrd_rows(db, cohort_filter, limit)  # only the first `limit` responders are read
    if limit is None:
        ttc = time_to_cr(db, cohort_filter, origin)
        per = rows.merge(ttc.patients[["patient_id", "days", "months"]], on="patient_id", how="left")
        return per, len(per)
    # time to CR of those responders only (as `time_to_cr` computes it)
    start = _origin_day(origin)
    ids = rows["patient_id"].tolist()
    only = f"patient_id IN ({', '.join('?' * len(ids))})" if ids else "FALSE"
    days = db.query(f"SELECT patient_id, first_cr_day - {start} AS days FROM patient_summary "
                    f"WHERE {only} AND first_cr_day IS NOT NULL AND treated ORDER BY patient_id", ids)
    days["months"] = days["days"] / DAYS_PER_MONTH
    per = rows.merge(days, on="patient_id", how="left")
    sub, params = cohort_filter.patient_ids_sql()
    n = int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE best_response IN ('CR', 'CRi') "
                      f"AND patient_id IN ({sub})", params))
    return per, n


STATUS_AT_LAST_CONTACT = {"no evidence of B-ALL": ALIVE_NED, "B-ALL present": "alive with B-ALL",
                          "unknown": "alive, disease status unknown", "dead": "dead"}
_STATUS_SQL = ("CASE status_at_last_contact " + " ".join(
    f"WHEN '{k}' THEN '{v}'" for k, v in STATUS_AT_LAST_CONTACT.items())
               + " END")  # constants, no user text; NULL for a status not mapped
_PATHWAY_SQL = (f"CASE WHEN coalesce(hct, FALSE) THEN '{PATHWAYS[0]}' WHEN coalesce(treated, FALSE) "
                f"THEN '{PATHWAYS[1]}' ELSE '{PATHWAYS[2]}' END")


def status_counts(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Patients per (status, pathway) of `current_status`, counted in DuckDB (status NULL when
    the status at last contact is not one of the mapped values)."""
    where, params = _where(cohort_filter)
    return db.query(f"SELECT {_STATUS_SQL} AS status, {_PATHWAY_SQL} AS pathway, count(*) AS n "
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


# --- figures and screen-sized results the response page caches per view -------------------------
def best_response_brief(db: CohortDatabase, cohort_filter: CohortFilter) -> BestResponseSummary:
    """`best_response_summary` listing at most IDS_LISTED unassessed patients (their count is
    `n_treated - n_treated_assessed`)."""
    return best_response_summary(db, cohort_filter, max_unassessed=IDS_LISTED)


def untreated_brief(db: CohortDatabase, cohort_filter: CohortFilter,
                    limit: int = 100) -> tuple[pd.DataFrame, int]:
    """The first `limit` untreated patients with why (`untreated_patients`), and how many there are."""
    where, params = _where(cohort_filter)
    n = int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE {where} AND NOT treated", params))
    return untreated_patients(db, cohort_filter, limit), n


def best_response_figure(db: CohortDatabase, cohort_filter: CohortFilter,
                         small_cell_k: int = 0) -> alt.Chart:
    """`best_response_chart` of the filtered cohort (a figure cached per view by the page).

    >>> from analytics.synthetic import build_synthetic_in_memory
    >>> spec = best_response_figure(build_synthetic_in_memory(200, seed=1), CohortFilter()).to_dict()
    >>> spec["title"].startswith("Best response")
    True
    """
    return best_response_chart(best_response_summary(db, cohort_filter), small_cell_k=small_cell_k)


def group_rate_figure(db: CohortDatabase, cohort_filter: CohortFilter,
                      feature: str = DEFAULT_GROUP) -> alt.LayerChart:
    """`group_rate_chart` of `response_by_group` (a figure cached per view by the page)."""
    return group_rate_chart(response_by_group(db, cohort_filter, feature))
