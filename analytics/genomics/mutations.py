"""Mutations: the variant table, TP53 variants, the VAF chart and the TP53 lollipop plot."""
from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.genomics.features import ALTERATION_COLORS, CLASS_GROUPS
from analytics.theme import PALETTE


TP53_LENGTH = 393  # amino acids, UniProt P04637
# Approximate TP53 domains (UniProt P04637 / IARC TP53 database), amino-acid positions.
TP53_DOMAINS = [("Transactivation", 1, 61), ("Proline-rich", 64, 92), ("DNA-binding", 94, 292),
                ("Tetramerisation", 323, 356)]
# Their usual abbreviations, drawn on the domains (full names would not fit the narrow ones).
TP53_DOMAIN_ABBREVIATIONS = {"Transactivation": "TAD", "Proline-rich": "PRD", "DNA-binding": "DBD",
                             "Tetramerisation": "TD"}
_POSITION = re.compile(r"^p\.[A-Z*]?[a-z]{0,2}(\d+)")


def protein_position(protein_change: str | None) -> int | None:
    """Amino-acid position from short HGVS ('p.R248Q' -> 248, 'p.X187_splice' -> 187), else None."""
    if not isinstance(protein_change, str):
        return None
    m = _POSITION.match(protein_change.strip())
    return int(m.group(1)) if m else None


def mutation_table(db: CohortDatabase, cohort_filter: CohortFilter, genes: tuple[str, ...] = (),
                   classes: tuple[str, ...] = (), min_vaf: float = 0.0) -> pd.DataFrame:
    """Recorded mutations of the filtered cohort (parameterized filters on gene/class/VAF)."""
    sub, params = cohort_filter.patient_ids_sql()
    clauses, extra = [f"m.patient_id IN ({sub})"], list(params)
    if genes:
        clauses.append(f"m.gene IN ({', '.join('?' for _ in genes)})")
        extra.extend(genes)
    if classes:
        clauses.append(f"m.variant_class IN ({', '.join('?' for _ in classes)})")
        extra.extend(classes)
    if min_vaf > 0:
        clauses.append("m.vaf >= ?")
        extra.append(float(min_vaf))
    df = db.query("SELECT m.patient_id, m.gene, m.protein_change, m.variant_class, m.vaf, m.assay "
                  f"FROM mutations m WHERE {' AND '.join(clauses)} ORDER BY m.gene, m.patient_id, m.protein_change",
                  extra)
    df["position"] = df["protein_change"].map(protein_position).astype("Int64")
    return df


def tp53_variants(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    df = mutation_table(db, cohort_filter, genes=("TP53",))
    df["class_group"] = df["variant_class"].map(CLASS_GROUPS)
    return df


MARKS_PER_PATIENT_MAX = 300  # above: counts per bin instead of a mark per patient/variant


def vaf_chart(variants: pd.DataFrame) -> alt.Chart:
    """VAF of each variant as a dot on 0-100 %, one row per gene group (strip plot).

    Above MARKS_PER_PATIENT_MAX variants: variants per 5 % VAF bin and class (stacked bars)."""
    d = variants.dropna(subset=["vaf"]).copy()
    d["vaf_pct"] = d["vaf"] * 100
    d["class_group"] = d["variant_class"].map(CLASS_GROUPS)
    classes = [c for c in ALTERATION_COLORS if c in set(d["class_group"])]
    if len(d) > MARKS_PER_PATIENT_MAX:
        d["start"] = np.minimum(np.floor(d["vaf_pct"] / 5) * 5, 95)
        bins = d.groupby(["gene", "class_group", "start"]).size().rename("variants").reset_index()
        bins["end"] = bins["start"] + 5
        return alt.Chart(bins).mark_bar().encode(
            x=alt.X("start:Q", scale=alt.Scale(domain=[0, 100]), title="Variant allele fraction (%), 5 % bins"),
            x2="end:Q", y=alt.Y("variants:Q", title="Variants", stack="zero"),
            color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                            legend=alt.Legend(title="Variant class", orient="right")),
            row=alt.Row("gene:N", title=None),
            tooltip=[alt.Tooltip("gene:N"), alt.Tooltip("class_group:N", title="Class"),
                     alt.Tooltip("start:Q", title="VAF from %"), alt.Tooltip("end:Q", title="to %"),
                     alt.Tooltip("variants:Q", title="Variants")],
        ).properties(height=160, title=f"{len(d):,} variants with a VAF, counted per 5 % bin")
    return alt.Chart(d).mark_circle(size=220, opacity=0.9, stroke="black", strokeWidth=0.5).encode(
        x=alt.X("vaf_pct:Q", scale=alt.Scale(domain=[0, 100]), title="Variant allele fraction (%)"),
        y=alt.Y("gene:N", title=None, axis=alt.Axis(labelFontSize=15)),
        color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                        legend=alt.Legend(title="Variant class", orient="right")),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("protein_change:N", title="Protein"),
                 alt.Tooltip("variant_class:N", title="Class"), alt.Tooltip("vaf_pct:Q", title="VAF %", format=".0f")],
    ).properties(height=max(140, 70 * d["gene"].nunique()))


TOOLTIP_IDS_MAX = 10  # patient ids listed in one tooltip (a registry position has thousands)


def _some_ids(ids: pd.Series) -> str:
    """'S01, S02' or, above TOOLTIP_IDS_MAX ids, the first ones and how many more."""
    ids = list(ids)
    shown = ", ".join(ids[:TOOLTIP_IDS_MAX])
    return shown if len(ids) <= TOOLTIP_IDS_MAX else f"{shown} … and {len(ids) - TOOLTIP_IDS_MAX:,} more"


def lollipop_chart(variants: pd.DataFrame) -> alt.LayerChart:
    """TP53 variants along the 393-aa protein (positions parsed from HGVS), with domains."""
    d = variants.dropna(subset=["position"]).copy()
    d["position"] = d["position"].astype(int)
    d["class_group"] = d["variant_class"].map(CLASS_GROUPS)
    counts = (d.groupby(["position", "class_group"]).agg(
        n=("patient_id", "size"), proteins=("protein_change", lambda s: ", ".join(sorted(set(s)))),
        patients=("patient_id", _some_ids)).reset_index())
    classes = [c for c in ALTERATION_COLORS if c in set(counts["class_group"])]
    x = alt.X("position:Q", scale=alt.Scale(domain=[0, TP53_LENGTH], nice=False),
              title=f"TP53 amino-acid position (1-{TP53_LENGTH})")
    counts["label_y"] = _label_heights(counts)
    top = max(4, int(np.ceil(counts["label_y"].max())) + 1) if len(counts) else 4
    most = max(4, int(counts["n"].max()) + 1) if len(counts) else 4  # the axis counts patients, not label rows
    sticks = alt.Chart(counts).mark_rule(strokeWidth=2, color="#555555").encode(
        x=x, y=alt.Y("zero:Q", scale=alt.Scale(domain=[-0.6, top]), title="Patients",
                     axis=alt.Axis(tickMinStep=1, values=list(range(0, most + 1)))), y2="n:Q"
    ).transform_calculate(zero="0")
    heads = alt.Chart(counts).mark_circle(size=300, stroke="black", strokeWidth=0.6, opacity=1).encode(
        x="position:Q", y="n:Q",
        color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                        legend=alt.Legend(title="Variant class")),
        tooltip=[alt.Tooltip("proteins:N", title="Protein change"), alt.Tooltip("position:Q", title="Position"),
                 alt.Tooltip("n:Q", title="Patients"), alt.Tooltip("patients:N", title="Patient ids")])
    leaders = alt.Chart(counts).mark_rule(strokeWidth=0.8, strokeDash=[2, 2], color="#777777").encode(
        x="position:Q", y="n:Q", y2="label_y:Q")
    labels = alt.Chart(counts).mark_text(dx=3, fontSize=13, align="left", baseline="bottom").encode(
        x="position:Q", y="label_y:Q", text="proteins:N")
    domains = pd.DataFrame([dict(domain=n, short=TP53_DOMAIN_ABBREVIATIONS[n], start=s, end=e, mid=(s + e) / 2)
                            for n, s, e in TP53_DOMAINS])
    dom = alt.Chart(domains).mark_rect(color=PALETTE[4], opacity=0.55).encode(
        x=alt.X("start:Q"), x2="end:Q", y=alt.datum(-0.55), y2=alt.datum(-0.1),
        tooltip=[alt.Tooltip("domain:N", title="Domain"), alt.Tooltip("start:Q"), alt.Tooltip("end:Q")])
    dom_text = alt.Chart(domains).mark_text(fontSize=13, baseline="middle").encode(
        x="mid:Q", y=alt.datum(-0.33), text="short:N",
        tooltip=[alt.Tooltip("domain:N", title="Domain"), alt.Tooltip("start:Q"), alt.Tooltip("end:Q")])
    return (dom + dom_text + sticks + leaders + heads + labels).properties(height=340)


_LABEL_AA_PER_CHAR = 6.5  # amino acids one label character spans at the projector's text size
_LABEL_LEVEL = 0.55       # patients (y units) between label rows


def _label_heights(counts: pd.DataFrame) -> list[float]:
    """A height per lollipop label: labels are horizontal, above the heads, and a label that
    would run into an earlier one at its height goes one row up (greedy, by position)."""
    base = float(counts["n"].max()) + 0.7 if len(counts) else 0.0
    ends: list[float] = []  # per row: where its last label ends (amino acids)
    heights = {}
    for i in counts.sort_values("position").index:
        start = float(counts.at[i, "position"])
        end = start + _LABEL_AA_PER_CHAR * len(str(counts.at[i, "proteins"]))
        row = next((r for r, last in enumerate(ends) if start > last), len(ends))
        if row == len(ends):
            ends.append(end)
        ends[row] = end
        heights[i] = base + _LABEL_LEVEL * row
    return [heights[i] for i in counts.index]
