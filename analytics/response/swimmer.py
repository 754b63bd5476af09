"""Swimmer plot: one bar per patient from B-ALL diagnosis to death or last contact.

Each bar is split into phases, evaluated at each day t (first matching rule):

1. **relapse / later lines**: on or after the first relapse, or inside a treatment line >= 2;
2. **after HCT**: on or after the allogeneic HCT;
3. **induction**: inside the first line, before its first response assessment;
4. **consolidation / maintenance**: inside the first line, from its first response assessment
   to the line's end (a line without an end day is taken as ongoing to the end of follow-up);
5. **observation**: anything else (before therapy, after therapy ended, or never treated).

Markers: first CR/CRi, first MRD-negative CR/CRi assessment, HCT, relapse, death; an arrow at
the last contact of patients alive then.

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> seg, marks = swimmer_data(db, CohortFilter())
>>> sorted(seg["phase"].unique())[:2]
['after HCT', 'consolidation / maintenance']
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from analytics.cohort import patient_order
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.response.rates import RESPONSES
from analytics.theme import PALETTE
from analytics.units import DAYS_PER_MONTH

INDUCTION, CONSOLIDATION, AFTER_HCT, RELAPSE, OBSERVATION = (
    "induction", "consolidation / maintenance", "after HCT", "relapse / later lines", "observation")
PHASES = (INDUCTION, CONSOLIDATION, AFTER_HCT, RELAPSE, OBSERVATION)
PHASE_COLORS = {INDUCTION: PALETTE[0], CONSOLIDATION: PALETTE[4], AFTER_HCT: PALETTE[2],
                RELAPSE: PALETTE[5], OBSERVATION: PALETTE[6]}
MARKERS = {"CR/CRi": "diamond", "MRD-negative": "circle", "allogeneic HCT": "square",
           "relapse": "triangle-down", "death": "cross", "alive at last contact": "triangle-right"}
ORIGINS = {"diagnosis": "B-ALL diagnosis", "treatment": "start of first B-ALL treatment"}
SORTS = {"default": "Patient order (as on every page)", "duration": "Follow-up duration",
         "response": "Best response", "regimen": "First-line regimen"}


def _phase_at(t: float, p, lines: pd.DataFrame, end: float, induction_end: float | None) -> str:
    if pd.notna(p.relapse_day) and t >= p.relapse_day:
        return RELAPSE
    if pd.notna(p.hct_day) and t >= p.hct_day:
        return AFTER_HCT
    for ln in lines.itertuples():
        stop = end if pd.isna(ln.end_day) else ln.end_day
        if ln.day <= t < stop or (ln.day == t == stop):
            if ln.line >= 2:
                return RELAPSE
            if induction_end is not None and t >= induction_end:
                return CONSOLIDATION
            return INDUCTION
    return OBSERVATION


def swimmer_data(db: CohortDatabase, cohort_filter: CohortFilter,
                 patient_ids: frozenset | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(segments, markers) of the filtered patients, days and months from diagnosis.

    `patient_ids`: only these patients (the ones a capped swimmer plot draws).
    """
    where, params = cohort_filter.where_sql()
    sub, sub_params = cohort_filter.patient_ids_sql()
    only, only_params = "", []
    if patient_ids is not None:  # read only those patients' rows (a registry is millions of rows)
        ids = sorted(patient_ids)
        only = f" AND patient_id IN ({', '.join('?' * len(ids))})" if ids else " AND FALSE"
        only_params = ids
    pts = db.query(
        f"SELECT patient_id, first_treatment_day, first_line_regimen, first_line_regimen_category, "
        f"best_response, first_cr_day, hct_day, relapse_day, death_day, death_cause, last_contact_day, "
        f"os_days, vital_status, status_at_last_contact FROM patient_summary WHERE ({where}){only} "
        "ORDER BY patient_id", params + only_params)
    lines = db.query(f"SELECT patient_id, line, day, end_day, regimen, regimen_category FROM events "
                     f"WHERE event_type = 'treatment_line' AND patient_id IN ({sub}){only} "
                     "ORDER BY patient_id, line, day", sub_params + only_params)
    assess = db.query(f"SELECT patient_id, line, day, response, mrd_status, mrd_method FROM events "
                      f"WHERE event_type = 'response_assessment' AND patient_id IN ({sub}){only} "
                      "ORDER BY patient_id, day", sub_params + only_params)
    hct = db.query(f"SELECT patient_id, day, regimen, note FROM events WHERE event_type = 'hct' "
                   f"AND patient_id IN ({sub}){only} ORDER BY patient_id, day", sub_params + only_params)
    # per-patient rows by dictionary (a boolean mask per patient made this quadratic: bench/)
    by_patient = [dict(tuple(d.groupby("patient_id", sort=False))) if len(d) else {}
                  for d in (lines, assess, hct)]
    segments, markers = [], []
    for p in pts.itertuples():
        end = float(p.os_days) if pd.notna(p.os_days) else 0.0
        end = max(end, 1.0)
        pl = by_patient[0].get(p.patient_id, lines.iloc[:0])
        pa = by_patient[1].get(p.patient_id, assess.iloc[:0])
        own_segments = []
        first = pl[pl["line"] == pl["line"].min()] if len(pl) else pl
        induction_end = None
        if len(first):
            start = float(first["day"].min())
            a1 = pa[(pa["line"] == first["line"].iloc[0]) & (pa["day"] >= start)]
            if len(a1):
                induction_end = float(a1["day"].min())
        cuts = {0.0, end}
        for col in ("hct_day", "relapse_day"):
            v = getattr(p, col)
            if pd.notna(v):
                cuts.add(float(v))
        for ln in pl.itertuples():
            cuts.add(float(ln.day))
            if pd.notna(ln.end_day):
                cuts.add(float(ln.end_day))
        if induction_end is not None:
            cuts.add(induction_end)
        cuts = sorted(c for c in cuts if 0 <= c <= end)
        current = None
        for a, b in zip(cuts[:-1], cuts[1:]):
            phase = _phase_at(a, p, pl, end, induction_end)
            if current and current["phase"] == phase:
                current["end_day"] = b
            else:
                current = {"patient_id": p.patient_id, "phase": phase, "start_day": a, "end_day": b}
                segments.append(current)
                own_segments.append(current)
        regimen = p.first_line_regimen if pd.notna(p.first_line_regimen) else "no B-ALL therapy"

        def mark(kind: str, day, detail: str) -> None:
            markers.append({"patient_id": p.patient_id, "marker": kind, "day": float(day),
                            "detail": detail})

        if pd.notna(p.first_cr_day):
            resp = pa.loc[pa["day"] == p.first_cr_day, "response"]
            mark("CR/CRi", p.first_cr_day, f"first {resp.iloc[0] if len(resp) else 'CR/CRi'}")
        neg = pa[(pa["mrd_status"] == "negative") & pa["response"].isin(["CR", "CRi"])]
        if len(neg):
            mark("MRD-negative", neg["day"].min(), f"MRD-negative ({neg['mrd_method'].iloc[0]})")
        ph = by_patient[2].get(p.patient_id, hct.iloc[:0])
        if len(ph):
            r = ph.iloc[0]
            mark("allogeneic HCT", r["day"], "; ".join(str(x) for x in (r["regimen"], r["note"])
                                                      if pd.notna(x)))
        if pd.notna(p.relapse_day):
            mark("relapse", p.relapse_day, "first relapse")
        if pd.notna(p.death_day):
            mark("death", p.death_day, f"cause: {p.death_cause}" if pd.notna(p.death_cause) else "cause not recorded")
        elif pd.notna(p.last_contact_day):
            mark("alive at last contact", p.last_contact_day, str(p.status_at_last_contact))
        # per-patient descriptors for tooltips
        for s in own_segments:
            s.update(regimen=regimen, best_response=p.best_response if pd.notna(p.best_response)
                     else ("no assessment recorded" if pd.notna(p.first_treatment_day) else "not treated"),
                     status=str(p.status_at_last_contact), follow_up_days=end)
    seg = pd.DataFrame(segments, columns=["patient_id", "phase", "start_day", "end_day", "regimen",
                                          "best_response", "status", "follow_up_days"])
    mk = pd.DataFrame(markers, columns=["patient_id", "marker", "day", "detail"])
    for df, cols in ((seg, ("start_day", "end_day", "follow_up_days")), (mk, ("day",))):
        for c in cols:
            df[c] = pd.to_numeric(df[c]).astype(float)
    seg["start_months"] = seg["start_day"] / DAYS_PER_MONTH
    seg["end_months"] = seg["end_day"] / DAYS_PER_MONTH
    seg["follow_up_months"] = seg["follow_up_days"] / DAYS_PER_MONTH
    mk["months"] = mk["day"] / DAYS_PER_MONTH
    return seg, mk


_RESPONSE_RANK_SQL = ("CASE best_response " + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(RESPONSES))
                      + f" ELSE {len(RESPONSES)} END")
# `swimmer_order`'s keys in SQL (constants only; the patient id last, as the default order)
_ORDER_SQL = {
    "default": "patient_id",
    "duration": "-coalesce(os_days, 0), patient_id",
    "response": f"{_RESPONSE_RANK_SQL}, -coalesce(os_days, 0), patient_id",
    "regimen": "lower(coalesce(first_line_regimen_category, '~ no B-ALL therapy')), -coalesce(os_days, 0), patient_id",
}


def swimmer_order(db: CohortDatabase, cohort_filter: CohortFilter, sort: str = "default") -> list[str]:
    """Patient order for the swimmer plot; 'default' is `analytics.cohort.patient_order`."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    base = patient_order(db, cohort_filter)
    if sort == "default":
        return base
    where, params = cohort_filter.where_sql()
    df = db.query(f"SELECT patient_id, os_days, best_response, first_line_regimen_category "
                  f"FROM patient_summary WHERE {where}", params).set_index("patient_id").loc[base]
    rank = {r: i for i, r in enumerate(RESPONSES)}
    df["dur"] = -df["os_days"].fillna(0)
    df["resp"] = df["best_response"].map(rank).fillna(len(rank))
    df["reg"] = df["first_line_regimen_category"].fillna("~ no B-ALL therapy").str.lower()
    df["base"] = range(len(df))
    keys = {"duration": ["dur", "base"], "response": ["resp", "dur", "base"],
            "regimen": ["reg", "dur", "base"]}[sort]
    return df.sort_values(keys, kind="mergesort").index.tolist()


def align_on_origin(db: CohortDatabase, cohort_filter: CohortFilter, seg: pd.DataFrame,
                    mk: pd.DataFrame, origin: str,
                    patient_ids: frozenset | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Shift each patient's bar and markers so day 0 is `origin`.

    From first treatment, time before therapy becomes negative (it stays visible: e.g. the
    observation after lenalidomide withdrawal); untreated patients have no such origin and are
    returned as excluded.
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    if origin == "diagnosis":
        return seg, mk, []
    where, params = cohort_filter.where_sql()
    only, only_params = "", []
    if patient_ids is not None:  # only these patients (those a capped plot draws)
        ids = sorted(patient_ids)
        only = f" AND patient_id IN ({', '.join('?' * len(ids))})" if ids else " AND FALSE"
        only_params = ids
    start = db.query(f"SELECT patient_id, first_treatment_day FROM patient_summary WHERE ({where}){only}",
                     params + only_params).set_index("patient_id")["first_treatment_day"]
    excluded = sorted(start[start.isna()].index)
    offset = start.dropna().astype(float)
    seg = seg[seg["patient_id"].isin(offset.index)].copy()
    mk = mk[mk["patient_id"].isin(offset.index)].copy()
    for frame, columns in ((seg, ("start_day", "end_day")), (mk, ("day",))):
        shift = frame["patient_id"].map(offset)
        for column in columns:
            frame[column] = frame[column] - shift
    seg["start_months"] = seg["start_day"] / DAYS_PER_MONTH
    seg["end_months"] = seg["end_day"] / DAYS_PER_MONTH
    mk["months"] = mk["day"] / DAYS_PER_MONTH
    return seg, mk, excluded


# Bars a swimmer plot draws in the app and the deck (the first N of the sort order): one bar
# per patient of a registry is unreadable.
PATIENTS_DRAWN_MAX = 100


def swimmer_chart(db: CohortDatabase, cohort_filter: CohortFilter, sort: str = "default",
                  origin: str = "diagnosis", max_patients: int | None = None) -> alt.LayerChart:
    """The swimmer plot (Altair), x in months from B-ALL diagnosis or from first treatment.

    `max_patients`: draw only the first N bars of the sort order (the subtitle says so); only
    those patients' timelines are computed, so a registry-size cohort costs what N patients do.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    where, params = cohort_filter.where_sql()
    n_total = int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE {where}", params))
    ids = None
    if max_patients is not None and n_total > max_patients:
        # the first N of the sort order, chosen in DuckDB (no list of every patient in Python)
        treated_only = " AND first_treatment_day IS NOT NULL" if origin != "diagnosis" else ""
        order = db.query(f"SELECT patient_id FROM patient_summary WHERE ({where}){treated_only} "
                         f"ORDER BY {_ORDER_SQL[sort]} LIMIT ?", params + [int(max_patients)])["patient_id"].tolist()
        ids = frozenset(order)
        excluded = []
        if origin != "diagnosis":
            never = db.query(f"SELECT patient_id FROM patient_summary WHERE ({where}) AND first_treatment_day "
                             "IS NULL ORDER BY patient_id LIMIT 21", params)["patient_id"].tolist()
            n_never = int(db.scalar(f"SELECT count(*) FROM patient_summary WHERE ({where}) "
                                    "AND first_treatment_day IS NULL", params))
            n_total -= n_never
            excluded = [f"{n_never:,} patients"] if n_never > 20 else never
        seg, mk = swimmer_data(db, cohort_filter, ids)
        seg, mk, _ = align_on_origin(db, cohort_filter, seg, mk, origin, patient_ids=ids)
    else:
        full_order = swimmer_order(db, cohort_filter, sort)
        seg, mk = swimmer_data(db, cohort_filter)
        seg, mk, excluded = align_on_origin(db, cohort_filter, seg, mk, origin)
        excluded_set = set(excluded)
        order = [p for p in full_order if p not in excluded_set]
    seg = seg.assign(start_d=seg["start_day"].round().astype(int), end_d=seg["end_day"].round().astype(int))
    mk = mk.assign(day_i=mk["day"].round().astype(int))
    y = alt.Y("patient_id:N", sort=order, title=None,
              # a static figure drawn smaller than on screen (a slide) drops labels that would overlap
              axis=alt.Axis(labelFontSize=14, ticks=False, domain=False, labelOverlap="greedy"),
              scale=alt.Scale(paddingInner=0.3))
    bars = alt.Chart(seg).mark_bar(cornerRadius=2).encode(
        x=alt.X("start_months:Q", title=f"Months from {ORIGINS[origin]}", axis=alt.Axis(tickMinStep=6)),
        x2="end_months:Q", y=y,
        color=alt.Color("phase:N", title="Phase", scale=alt.Scale(domain=list(PHASE_COLORS),
                                                                   range=list(PHASE_COLORS.values())),
                        legend=alt.Legend(orient="right", labelLimit=300)),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("phase:N", title="Phase"),
                 alt.Tooltip("start_d:Q", title="from day"), alt.Tooltip("end_d:Q", title="to day"),
                 alt.Tooltip("regimen:N", title="First-line regimen"),
                 alt.Tooltip("best_response:N", title="Best response"),
                 alt.Tooltip("status:N", title="Status at last contact"),
                 alt.Tooltip("follow_up_months:Q", title="Follow-up (months)", format=".1f")])
    shape = alt.Shape("marker:N", title="Event", scale=alt.Scale(domain=list(MARKERS),
                                                               range=list(MARKERS.values())),
                      legend=alt.Legend(orient="right", symbolFillColor="#000000",
                                        symbolStrokeColor="#000000", symbolSize=140))
    tip = [alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("marker:N", title="Event"),
           alt.Tooltip("day_i:Q", title="day"), alt.Tooltip("months:Q", title="months", format=".1f"),
           alt.Tooltip("detail:N", title="Detail")]
    main = mk[mk["marker"] != "MRD-negative"]
    mrd = mk[mk["marker"] == "MRD-negative"]
    points = alt.Chart(main).mark_point(filled=True, size=150, fill="#000000", stroke="#FFFFFF",
                                        strokeWidth=1, opacity=1).encode(
        x="months:Q", y=y, shape=shape, tooltip=tip)
    mrd_points = alt.Chart(mrd).mark_point(filled=True, size=90, fill="#FFFFFF", stroke="#000000",
                                           strokeWidth=1.5, opacity=1, yOffset=9).encode(
        x="months:Q", y=y, shape=shape, tooltip=tip)
    n = max(len(order), 1)
    return (bars + points + mrd_points).properties(
        height=max(140, 30 * n), width="container",
        title=alt.Title(f"Swimmer plot: {ORIGINS[origin]} to death or last contact",
                        subtitle="Open circle below the bar: MRD-negative CR/CRi. Hover for details."
                        + (f" First {len(order):,} of {n_total:,} patients in this sort order." if ids is not None else "")
                        + (f" Not shown (never treated): {', '.join(excluded)}." if excluded else "")))
