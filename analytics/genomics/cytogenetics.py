"""Karyotype and ploidy per patient: the recorded karyotype beside its parse (modal number,
category, masked-hypodiploidy review flag) and the modal-number chart."""
from __future__ import annotations

import altair as alt
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics.features import PLOIDY_COLORS, patient_rows
from analytics.genomics.karyotype import (PLOIDY_BANDS, PLOIDY_ORDER, masked_hypodiploidy_reason, parse_karyotype,
                                         ploidy_category)
from analytics.genomics.mutations import MARKS_PER_PATIENT_MAX
from analytics.theme import PALETTE


def karyotype_table(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient: recorded karyotype, recorded and parsed modal numbers and categories, the
    parse result ('could not parse' reason), and a masked-hypodiploidy review flag."""
    p = patient_rows(db, cohort_filter)
    parsed = {t: parse_karyotype(t) for t in p["karyotype_iscn"].drop_duplicates()}  # few distinct texts
    rows = []
    for r in p.itertuples():
        k = parsed[r.karyotype_iscn]
        recorded = None if pd.isna(r.modal_chromosome_number) else int(r.modal_chromosome_number)
        modal = recorded if recorded is not None else k.modal_number
        rows.append(dict(
            patient_id=r.patient_id,
            karyotype=r.karyotype_iscn if isinstance(r.karyotype_iscn, str) else None,
            clones=len(k.clones),
            modal_recorded=recorded, modal_parsed=k.modal_number,
            modal_number=modal, modal_source=("recorded" if recorded is not None
                                              else "parsed from ISCN" if k.modal_number is not None else None),
            category_recorded=r.ploidy_category if isinstance(r.ploidy_category, str) else None,
            category_from_modal=ploidy_category(modal) if modal is not None else None,
            parse_status="parsed" if k.parsed else f"could not parse: {k.reason}",
            agrees=(None if recorded is None or k.modal_number is None else recorded == k.modal_number),
            tp53_status=r.tp53_status if isinstance(r.tp53_status, str) else NOT_EVALUATED,
            masked_hypodiploidy_flag=masked_hypodiploidy_reason(k, r.tp53_status if isinstance(r.tp53_status, str)
                                                                else None),
        ))
    df = pd.DataFrame(rows)
    if not df.empty:
        df["modal_recorded"] = df["modal_recorded"].astype("Int64")
        df["modal_parsed"] = df["modal_parsed"].astype("Int64")
        df["modal_number"] = df["modal_number"].astype("Int64")
    return df


def modal_number_chart(kt: pd.DataFrame) -> alt.LayerChart:
    """Modal chromosome number per patient (stacked dots on a number line) over the ploidy bands.

    Above MARKS_PER_PATIENT_MAX patients: patients per modal number (bars, same bands/colours)."""
    data = kt[kt["modal_number"].notna()].copy()
    data["modal_number"] = data["modal_number"].astype(int)
    if len(data) > MARKS_PER_PATIENT_MAX:
        return _modal_number_counts(data)
    data = data.sort_values(["modal_number", "patient_id"])
    data["stack"] = data.groupby("modal_number").cumcount() + 1
    data["category"] = data["category_from_modal"]
    data["flag"] = data["masked_hypodiploidy_flag"].fillna("")
    hi_x = max(60, int(data["modal_number"].max()) + 2) if len(data) else 60
    lo_x = min(22, int(data["modal_number"].min()) - 2) if len(data) else 22
    bands = pd.DataFrame([dict(category=n, start=max(lo, lo_x) - 0.5, end=min(hi, hi_x) + 0.5,
                               mid=(max(lo, lo_x) + min(hi, hi_x)) / 2) for n, lo, hi in PLOIDY_BANDS])
    top = max(4, int(data["stack"].max()) + 1) if len(data) else 4
    cats = [c for c in PLOIDY_ORDER]
    color_scale = alt.Scale(domain=cats, range=[PLOIDY_COLORS[c] if c != "diploid" else "#DDDDDD" for c in cats])
    x = alt.X("start:Q", scale=alt.Scale(domain=[lo_x - 0.5, hi_x + 0.5], nice=False),
              title="Modal chromosome number")
    band = alt.Chart(bands).mark_rect(opacity=0.25).encode(
        x=x, x2="end:Q", color=alt.Color("category:N", scale=color_scale, legend=None))
    band_text = alt.Chart(bands).mark_text(angle=270, align="right", baseline="middle", dy=0, fontSize=13,
                                           y=8).encode(x=alt.X("mid:Q"), text="category:N")
    dots = alt.Chart(data).mark_circle(size=260, opacity=1, stroke="black", strokeWidth=0.6).encode(
        x=alt.X("modal_number:Q"), y=alt.Y("stack:Q", title="Patients", scale=alt.Scale(domain=[0, top]),
                                           axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("category:N", scale=color_scale, legend=alt.Legend(title="Ploidy category")),
        shape=alt.Shape("modal_source:N", legend=alt.Legend(title="Modal number")),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("modal_number:Q", title="Modal number"),
                 alt.Tooltip("category_recorded:N", title="Recorded category"),
                 alt.Tooltip("karyotype:N", title="Karyotype"), alt.Tooltip("flag:N", title="Review flag")])
    flags = alt.Chart(data[data["flag"] != ""]).mark_text(text="⚑", fontSize=20, dy=-18, color=PALETTE[5]).encode(
        x="modal_number:Q", y="stack:Q")
    return (band + band_text + dots + flags).properties(height=300)


def _modal_number_counts(data: pd.DataFrame) -> alt.LayerChart:
    counts = (data.assign(category=data["category_from_modal"].fillna(NOT_EVALUATED))
              .groupby(["modal_number", "category"]).size().rename("patients").reset_index())
    flagged = int((data["masked_hypodiploidy_flag"].fillna("") != "").sum())
    hi_x = max(60, int(counts["modal_number"].max()) + 2)
    lo_x = min(22, int(counts["modal_number"].min()) - 2)
    bands = pd.DataFrame([dict(category=n, start=max(lo, lo_x) - 0.5, end=min(hi, hi_x) + 0.5,
                               mid=(max(lo, lo_x) + min(hi, hi_x)) / 2) for n, lo, hi in PLOIDY_BANDS])
    cats = [c for c in PLOIDY_ORDER]
    color_scale = alt.Scale(domain=cats, range=[PLOIDY_COLORS[c] if c != "diploid" else "#DDDDDD" for c in cats])
    x = alt.X("start:Q", scale=alt.Scale(domain=[lo_x - 0.5, hi_x + 0.5], nice=False), title="Modal chromosome number")
    band = alt.Chart(bands).mark_rect(opacity=0.25).encode(
        x=x, x2="end:Q", color=alt.Color("category:N", scale=color_scale, legend=None))
    counts["start"], counts["end"] = counts["modal_number"] - 0.4, counts["modal_number"] + 0.4
    bars = alt.Chart(counts).mark_rect(stroke="black", strokeWidth=0.4).encode(
        x=x, x2="end:Q", y=alt.Y("patients:Q", title="Patients", stack="zero"),
        color=alt.Color("category:N", scale=color_scale, legend=alt.Legend(title="Ploidy category")),
        tooltip=[alt.Tooltip("modal_number:Q", title="Modal number"), alt.Tooltip("category:N", title="Category"),
                 alt.Tooltip("patients:Q", title="Patients")])
    return (band + bars).properties(
        height=300, title=f"{len(data):,} patients with a modal number, counted per number"
                          + (f"; {flagged:,} flagged for review (table below)" if flagged else ""))
