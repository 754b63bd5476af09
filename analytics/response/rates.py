"""Best response to B-ALL therapy: rates with exact CIs, the untreated patients and why, and the
allow-listed features the rates are compared by (`comparison`).

Conventions: see the package docstring (`analytics.response`).

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
from analytics.stats import clopper_pearson
from analytics.theme import NOT_EVALUATED_COLOR, PALETTE

RESPONSES = ("CR", "CRi", "PR", "refractory", "not evaluable")
RESPONDER = ("CR", "CRi")
NO_ASSESSMENT = "no assessment recorded"
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


def best_response_summary(db: CohortDatabase, cohort_filter: CohortFilter,
                          max_unassessed: int | None = None) -> BestResponseSummary:
    """Counts, percentages and exact 95% CIs of each best response among treated patients
    (counted in DuckDB; `max_unassessed`: list only the first N unassessed ids)."""
    where, params = cohort_filter.where_sql()
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
    where, params = cohort_filter.where_sql()
    limit_sql, limit_params = ("LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    df = db.query(
        f"SELECT patient_id, age_at_ball_dx, vital_status, death_day, death_cause, last_contact_day, "
        f"status_at_last_contact, len_stop_day FROM patient_summary WHERE {where} AND NOT treated "
        f"ORDER BY patient_id {limit_sql}", params + limit_params)
    if df.empty:
        return df.assign(why=pd.Series(dtype=str))
    # the same patients as a subquery (a literal list of ids was one parameter per patient)
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


IDS_LISTED = 20  # patient ids named in a tooltip or sentence; the rest are counted


# --- figures and screen-sized results the response page caches per view -------------------------
def best_response_brief(db: CohortDatabase, cohort_filter: CohortFilter) -> BestResponseSummary:
    """`best_response_summary` listing at most IDS_LISTED unassessed patients (their count is
    `n_treated - n_treated_assessed`)."""
    return best_response_summary(db, cohort_filter, max_unassessed=IDS_LISTED)


def untreated_brief(db: CohortDatabase, cohort_filter: CohortFilter,
                    limit: int = 100) -> tuple[pd.DataFrame, int]:
    """The first `limit` untreated patients with why (`untreated_patients`), and how many there are."""
    where, params = cohort_filter.where_sql()
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


