"""The oncoprint: patients (columns) by features (rows) with clinical tracks above, its sort
order, the page's and the slide's figure, and its colour key."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics import cohort
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics.features import (ALTERATION_COLORS, ALTERED, GROUP_PLOIDY, NO_ALTERATION, PLOIDY_COLORS,
                                         cohort_genes, feature_matrix, feature_names, patient_rows, ploidy_features)
from analytics.genomics.karyotype import PLOIDY_ORDER, parse_karyotype
from analytics.theme import FONT, NEGATIVE_COLOR, NOT_EVALUATED_COLOR, PALETTE
from analytics.units import patients_text


# Clinical tracks: label -> (patient_summary-derived column, category order, colours)
CLINICAL_TRACKS = ["Age group", "Institution", "Best response", "Allogeneic HCT", "EFS"]
# Clinical track values over patient_summary (alias p): one rule for the tracks drawn and the sort.
CLINICAL_TRACK_SQL = {
    "Age group": "CASE WHEN p.age_at_ball_dx IS NULL THEN 'not evaluated' WHEN p.age_at_ball_dx < 60 THEN '< 60 y' "
                 "WHEN p.age_at_ball_dx < 70 THEN '60-69 y' ELSE '≥ 70 y' END",
    "Institution": "p.institution",
    "Best response": "coalesce(p.best_response, CASE WHEN p.treated THEN 'not assessed' ELSE 'untreated' END)",
    "Allogeneic HCT": "CASE WHEN p.hct THEN 'HCT' ELSE 'no HCT' END",
    "EFS": "CASE WHEN p.efs_event THEN 'event' ELSE 'no event (censored)' END",
}


def clinical_tracks(db: CohortDatabase, cohort_filter: CohortFilter,
                    patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Long table patient_id, track, value for the clinical tracks (only `patient_ids` when given),
    track by track, patients in the default order."""
    where, params = cohort_filter.where_sql()
    only = ""
    if patient_ids is not None:
        only, params = " AND patient_id IN (SELECT unnest(?::VARCHAR[]))", [*params, list(patient_ids)]
    selects = " UNION ALL ".join(f"SELECT p.patient_id, '{name}' AS track, {CLINICAL_TRACK_SQL[name]} AS value, "
                                 f"{i} AS track_index FROM p" for i, name in enumerate(CLINICAL_TRACKS))
    tracks = db.query(f"WITH p AS (SELECT * FROM patient_summary WHERE ({where}){only}) {selects} "
                      "ORDER BY track_index, patient_id", params)
    return tracks[["patient_id", "track", "value"]].astype(object).reset_index(drop=True)


_CLINICAL_ORDER = {
    "Age group": ["< 60 y", "60-69 y", "≥ 70 y", NOT_EVALUATED],
    "Best response": ["CR", "CRi", "PR", "refractory", "not evaluable", "not assessed", "untreated"],
    "Allogeneic HCT": ["HCT", "no HCT"],
    "EFS": ["event", "no event (censored)"],
}
_CLINICAL_COLORS = {
    "Age group": ["#C6DBEF", "#6BAED6", "#08519C", NOT_EVALUATED_COLOR],
    "Best response": [PALETTE[2], PALETTE[4], PALETTE[1], PALETTE[5], "#999999", NOT_EVALUATED_COLOR,
                      "#E3CBA0"],
    "Allogeneic HCT": [PALETTE[3], NEGATIVE_COLOR],
    "EFS": [PALETTE[7], NEGATIVE_COLOR],
}
_STATUS_RANK = {ALTERED: 0, NO_ALTERATION: 1, NOT_EVALUATED: 2}


def oncoprint_sort_options(db: CohortDatabase) -> list[str]:
    return ["Default (patient id)", "Ploidy category"] + CLINICAL_TRACKS + feature_names(db)


def oncoprint_order(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                    limit: int | None = None) -> list[str]:
    """Patient order for the oncoprint: the cohort default, optionally sorted by one row/track.

    Altered patients come first (highest VAF first for a gene), then no alteration, then not
    evaluated; ties keep the default (cohort-wide) order, so sorting is stable and reproducible.
    Sorted in DuckDB; `limit`: only the first patients of that order are fetched.
    """
    where, params = cohort_filter.where_sql()
    join, join_params, rank, rank_params = "", [], "p.patient_id", []
    features = feature_names(db)
    ploidy = {c.capitalize(): c for c in ploidy_features(db)}
    if not sort_by or sort_by.startswith("Default"):
        pass
    elif sort_by == "Ploidy category":
        rank, rank_params = "coalesce(list_position(?::VARCHAR[], p.ploidy_category), 99)", [PLOIDY_ORDER]
    elif sort_by in CLINICAL_TRACKS:
        value = CLINICAL_TRACK_SQL[sort_by]
        if sort_by in _CLINICAL_ORDER:
            rank, rank_params = f"coalesce(list_position(?::VARCHAR[], {value}), 99)", [_CLINICAL_ORDER[sort_by]]
        else:  # categories in alphabetical order
            rank = value
    elif sort_by in ploidy:
        rank = "CASE WHEN p.ploidy_category IS NULL THEN 2 WHEN p.ploidy_category = ? THEN 0 ELSE 1 END"
        rank_params = [ploidy[sort_by]]
    elif sort_by == "BCR::ABL1":
        rank = "CASE WHEN p.bcr_abl1 IS NULL THEN 2 WHEN p.bcr_abl1 = 'positive' THEN 0 ELSE 1 END"
    elif sort_by in cohort_genes(db):
        join = ("LEFT JOIN (SELECT patient_id, max(vaf) AS top_vaf FROM mutations WHERE gene = ? "
                "GROUP BY patient_id) g USING (patient_id)")
        join_params = [sort_by]
        rank = ("CASE WHEN p.sequencing_assay IS NULL THEN 2 WHEN g.patient_id IS NOT NULL THEN 0 ELSE 1 END, "
                "CASE WHEN p.sequencing_assay IS NOT NULL THEN -coalesce(g.top_vaf, 0) ELSE 0 END")
    elif sort_by in features:  # structural aberration: status per distinct karyotype text
        texts = db.query(f"SELECT DISTINCT karyotype_iscn AS k FROM patient_summary WHERE ({where}) "
                         "AND karyotype_iscn IS NOT NULL", params)["k"].tolist()
        ranks = [_STATUS_RANK[NOT_EVALUATED if not k.clones else ALTERED if sort_by in k.structural
                              else NO_ALTERATION] for k in map(parse_karyotype, texts)]
        join = ("LEFT JOIN (SELECT unnest(?::VARCHAR[]) AS karyotype_text, unnest(?::INTEGER[]) AS karyotype_rank) k "
                "ON k.karyotype_text = p.karyotype_iscn")
        join_params = [texts, ranks]
        rank = "coalesce(k.karyotype_rank, 2)"
    limit_sql, limit_params = ("LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    return db.query(
        f"WITH p AS (SELECT * FROM patient_summary WHERE {where}) SELECT p.patient_id FROM p {join} "
        f"ORDER BY {rank}, p.patient_id {limit_sql}",
        [*params, *join_params, *rank_params, *limit_params])["patient_id"].tolist()


# Patients (columns) an oncoprint draws in the app and the deck: a column per patient stops
# being readable long before a registry's size.
ONCOPRINT_MAX_PATIENTS = 60
KEY_WIDTH = 660  # px: the colour key under the grid, and the widest the grid is drawn
SLIDE_CELL = 19  # px per cell of the slide oncoprint (`oncoprint_slide_chart`): rows of 14 pt text on a slide
SLIDE_IDS_MAX = 40  # columns up to which the slide oncoprint names its patients


def oncoprint_chart(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                    cell: int = 24, max_patients: int | None = None) -> alt.VConcatChart:
    """Oncoprint: patients as columns (in `oncoprint_order`), clinical tracks, ploidy, alterations.

    'Not evaluated' cells are grey with a diagonal mark; 'no alteration' cells are near white.
    `max_patients`: draw only the first N columns of that order (the title says so); a grid of
    every patient of a registry-size cohort would be megabytes and unreadable.
    """
    order = oncoprint_order(db, cohort_filter, sort_by, limit=max_patients)
    n_total = cohort.count_patients(db, cohort_filter) if max_patients is not None else len(order)
    drawn = tuple(sorted(order))  # only the drawn patients' rows are fetched
    patients = patient_rows(db, cohort_filter, drawn).set_index("patient_id")
    karyo = {pid: (patients.at[pid, "karyotype_iscn"] if pd.notna(patients.at[pid, "karyotype_iscn"])
                   else "none recorded") for pid in order}
    width = max(min(cell * len(order), KEY_WIDTH), 120)
    x_top = alt.X("patient_id:N", sort=order, title=None,
                  axis=alt.Axis(orient="top", labelAngle=-90, labelFontSize=13, ticks=False, domain=False,
                                grid=False))
    x_hidden = alt.X("patient_id:N", sort=order, title=None, axis=None)
    y_axis = alt.Axis(labelFontSize=14, labelLimit=200, ticks=False, domain=False, grid=False, title=None)
    stroke = dict(stroke="white", strokeWidth=1.5)

    charts = []
    tracks = clinical_tracks(db, cohort_filter, drawn)
    if len(order) < n_total:
        patients = patients.loc[order]
    tracks["karyotype"] = tracks["patient_id"].map(karyo)
    for i, name in enumerate(CLINICAL_TRACKS):
        data = tracks[tracks["track"] == name]
        domain = _CLINICAL_ORDER.get(name) or sorted(data["value"].unique())
        domain = [d for d in domain if d in set(data["value"])] or domain
        colors = _CLINICAL_COLORS.get(name)
        if colors:
            full = _CLINICAL_ORDER[name]
            rng = [colors[full.index(d)] for d in domain]
        else:
            rng = PALETTE[4:4 + len(domain)] if len(domain) <= 4 else PALETTE[:len(domain)]
        charts.append(alt.Chart(data).mark_rect(**stroke).encode(
            x=x_top if i == 0 else x_hidden,
            y=alt.Y("track:N", axis=y_axis),
            color=alt.Color("value:N", scale=alt.Scale(domain=domain, range=rng),
                            legend=None),
            tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("track:N", title="Track"),
                     alt.Tooltip("value:N", title="Value")],
        ).properties(width=width, height=cell))

    # Ploidy category row (expert-assessed category, with the karyotype in the tooltip).
    p = patients.reset_index()
    ploidy = pd.DataFrame({
        "patient_id": p["patient_id"], "track": "Ploidy category",
        "value": p["ploidy_category"].fillna(NOT_EVALUATED),
        "modal": p["modal_chromosome_number"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        "karyotype": p["patient_id"].map(karyo)})
    pdomain = [c for c in PLOIDY_ORDER + [NOT_EVALUATED] if c in set(ploidy["value"])]
    ploidy_chart = alt.Chart(ploidy).mark_rect(**stroke).encode(
        x=x_hidden, y=alt.Y("track:N", axis=y_axis),
        color=alt.Color("value:N", scale=alt.Scale(domain=pdomain, range=[PLOIDY_COLORS[c] for c in pdomain]),
                        legend=None),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("value:N", title="Ploidy"),
                 alt.Tooltip("modal:N", title="Modal number"), alt.Tooltip("karyotype:N", title="Karyotype")],
    )
    ploidy_hatch = alt.Chart(ploidy).transform_filter(alt.datum.value == NOT_EVALUATED).mark_text(
        text="╱", fontSize=cell - 6, color="#7A7A7A").encode(x=x_hidden, y=alt.Y("track:N", axis=y_axis))
    charts.append((ploidy_chart + ploidy_hatch).properties(width=width, height=cell))

    # Alteration rows (mutations, ploidy classes, fusion, structural) on one shared colour scale.
    m = feature_matrix(db, cohort_filter, drawn)
    m = m[m["group"] != GROUP_PLOIDY].copy()
    m["karyotype"] = m["patient_id"].map(karyo)
    m["vaf_text"] = m["vaf"].map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}")
    m["vaf_pct"] = m["vaf"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    rows = [f for f in feature_names(db) if f in set(m["feature"])]
    adomain = [v for v in ALTERATION_COLORS if v in set(m["value"])]
    y_rows = alt.Y("feature:N", sort=rows, axis=y_axis)
    tip = [alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("feature:N", title="Alteration"),
           alt.Tooltip("status:N", title="Status"), alt.Tooltip("detail:N", title="Detail"),
           alt.Tooltip("vaf_pct:N", title="VAF"), alt.Tooltip("karyotype:N", title="Karyotype")]
    base = alt.Chart(m)
    rects = base.mark_rect(**stroke).encode(
        x=x_hidden, y=y_rows,
        color=alt.Color("value:N", scale=alt.Scale(domain=adomain, range=[ALTERATION_COLORS[v] for v in adomain]),
                        legend=None),
        tooltip=tip)
    hatch = base.transform_filter(alt.datum.status == NOT_EVALUATED).mark_text(
        text="╱", fontSize=cell - 6, color="#7A7A7A").encode(x=x_hidden, y=y_rows, tooltip=tip)
    vaf = base.transform_filter(alt.datum.vaf_text != "").mark_text(
        fontSize=11, color="white", fontWeight="bold").encode(x=x_hidden, y=y_rows, text="vaf_text:N",
                                                              tooltip=tip)
    charts.append((rects + hatch + vaf).properties(width=width, height=cell * len(rows)))
    key = _oncoprint_key(tracks, ploidy, m)
    return alt.vconcat(*charts, key, spacing=2).resolve_scale(color="independent").properties(
        title=oncoprint_title(len(order), n_total))


def oncoprint_slide_chart(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                          max_patients: int | None = None) -> alt.LayerChart:
    """The oncoprint for a slide: the same columns (`oncoprint_order`) and the ploidy and
    alteration rows of `oncoprint_chart`, as one grid with one colour legend, without the
    clinical tracks and in-cell VAF numbers (which cannot be legible at slide size). One grid:
    when a slide shrinks the figure, its rows shrink together."""
    order = oncoprint_order(db, cohort_filter, sort_by, limit=max_patients)
    n_total = cohort.count_patients(db, cohort_filter) if max_patients is not None else len(order)
    drawn = tuple(sorted(order))
    patients = patient_rows(db, cohort_filter, drawn)
    ploidy = pd.DataFrame({"patient_id": patients["patient_id"], "feature": "Ploidy category",
                           "value": patients["ploidy_category"].fillna(NOT_EVALUATED)})
    ploidy["status"] = np.where(ploidy["value"] == NOT_EVALUATED, NOT_EVALUATED, ALTERED)
    m = feature_matrix(db, cohort_filter, drawn)
    m = m[m["group"] != GROUP_PLOIDY][["patient_id", "feature", "status", "value"]]
    rows = ["Ploidy category"] + [f for f in feature_names(db) if f in set(m["feature"])]
    data = pd.concat([ploidy, m], ignore_index=True)
    colors = {**{c: PLOIDY_COLORS[c] for c in PLOIDY_ORDER if c in set(ploidy["value"])},
              **{v: ALTERATION_COLORS[v] for v in ALTERATION_COLORS if v in set(data["value"])}}
    x = alt.X("patient_id:N", sort=order, title=None,
              axis=alt.Axis(orient="top", labelAngle=-90, labelFontSize=13, ticks=False, domain=False, grid=False)
              if len(order) <= SLIDE_IDS_MAX else None)
    y = alt.Y("feature:N", sort=rows, title=None,
              axis=alt.Axis(labelFontSize=14, labelLimit=200, ticks=False, domain=False, grid=False))
    base = alt.Chart(data)
    rects = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=x, y=y, color=alt.Color("value:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                                  legend=alt.Legend(title=None, orient="bottom", columns=4, symbolType="square")))
    hatch = base.transform_filter(alt.datum.status == NOT_EVALUATED).mark_text(
        text="╱", fontSize=SLIDE_CELL, color="#7A7A7A").encode(x=x, y=y)
    return (rects + hatch).properties(width=max(min(SLIDE_CELL * len(order), KEY_WIDTH), 120),
                                      height=SLIDE_CELL * len(rows),
                                      title=oncoprint_title(len(order), n_total, vaf=False))


def oncoprint_title(drawn: int, total: int, vaf: bool = True) -> alt.TitleParams:
    """The oncoprint's title and key sentences in the theme's font, each line narrower than the
    colour key (KEY_WIDTH) even with the projector's larger text. No box-drawing glyph in it: a
    font without the glyph sets the whole line in a serif fallback."""
    heading = (f"Oncoprint: {patients_text(drawn)}" if drawn == total
               else f"Oncoprint: first {drawn} of {total} patients")
    subtitle = ["Columns are patients" + ("" if drawn == total else ", in this sort order")
                + ". Grey hatched = not evaluated.",
                "Near white = evaluated, no alteration." + (" Numbers = VAF in %." if vaf else "")]
    return alt.TitleParams(heading, subtitle=subtitle, font=FONT, subtitleFont=FONT, fontSize=18,
                           subtitleFontSize=14, subtitleColor="#333333", anchor="start")


def _oncoprint_key(tracks: pd.DataFrame, ploidy: pd.DataFrame, alterations: pd.DataFrame) -> alt.LayerChart:
    """Colour key under the grid: one line per track, swatch + value (only values present); a
    line longer than KEY_WIDTH continues on the next (labels sized for the projector's text)."""
    lines: list[tuple[str, list[tuple[str, str]]]] = []
    for name in CLINICAL_TRACKS:
        present = set(tracks.loc[tracks["track"] == name, "value"])
        if name in _CLINICAL_ORDER:
            full = _CLINICAL_ORDER[name]
            items = [(v, _CLINICAL_COLORS[name][full.index(v)]) for v in full if v in present]
        else:
            values = sorted(present)
            rng = PALETTE[4:4 + len(values)] if len(values) <= 4 else PALETTE[:len(values)]
            items = list(zip(values, rng))
        lines.append((name, items))
    lines.append(("Ploidy category", [(c, PLOIDY_COLORS[c]) for c in PLOIDY_ORDER + [NOT_EVALUATED]
                                      if c in set(ploidy["value"])]))
    lines.append(("Alterations", [(v, ALTERATION_COLORS[v]) for v in ALTERATION_COLORS
                                  if v in set(alterations["value"])]))
    rows, line_names = [], []
    for name, items in lines:
        x, continued = 0, 0
        line_names.append(name)
        for value, color in items:
            step = 36 + 11 * len(value)  # swatch, gap and label at up to 20 px (projector)
            if x and x + step > KEY_WIDTH:
                continued += 1
                x = 0
                line_names.append(name + " " * continued)  # a continuation: no label (see labelExpr)
            rows.append(dict(track=line_names[-1], value=value, color=color, x=x + 12,
                             hatch="╱" if value == NOT_EVALUATED else ""))
            x += step
    key = pd.DataFrame(rows)
    y = alt.Y("track:N", sort=line_names, title=None,
              axis=alt.Axis(labelFontSize=13, ticks=False, domain=False, grid=False, labelFontWeight="bold",
                            labelLimit=200, labelPadding=6,
                            labelExpr="trim(datum.label) == datum.label ? datum.label : ''"))
    x = alt.X("x:Q", scale=alt.Scale(domain=[0, KEY_WIDTH], nice=False), axis=None)
    base = alt.Chart(key)
    swatch = base.mark_square(size=200, stroke="#888888", strokeWidth=0.6).encode(
        x=x, y=y, color=alt.Color("color:N", scale=None))
    hatch = base.mark_text(fontSize=14, color="#7A7A7A").encode(x=x, y=y, text="hatch:N")
    label = base.mark_text(align="left", dx=11, fontSize=13).encode(x=x, y=y, text="value:N")
    return (swatch + hatch + label).properties(width=KEY_WIDTH, height=22 * len(line_names),
                                               title=alt.TitleParams("Key", fontSize=14))
