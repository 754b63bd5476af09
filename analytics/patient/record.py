"""One patient: key facts, timeline chart, mutations and measurements.

Every function takes the cohort filter and returns nothing for a patient outside it, so a
page can never show a patient the current filters exclude. Times are days from B-ALL
diagnosis (day 0); months = days / 30.4375.

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> patient_status(db, CohortFilter(), "S05"), patient_status(db, CohortFilter(), "S99")
('in cohort', 'unknown')
>>> chart = timeline_chart(timeline_events(db, CohortFilter(), "S05"))
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics import consistency, theme
from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.survival import EFS_EVENT_COLUMNS, EFS_EVENT_LABELS
from analytics.units import DAYS_PER_MONTH, days_to_months

LANES = ["Lenalidomide", "B-ALL treatment", "Response", "HCT / relapse", "Outcome"]

# Bar colours: lenalidomide and the regimen categories of the schema (fixed, so a category has
# the same colour for every patient).
BAR_COLORS = {
    "Lenalidomide": theme.PALETTE[4],
    "intensive chemotherapy": theme.PALETTE[0],
    "reduced-intensity with inotuzumab": theme.PALETTE[1],
    "blinatumomab-based": theme.PALETTE[2],
    "TKI-based": theme.PALETTE[3],
    "low-intensity": theme.PALETTE[6],
    "CAR T": theme.PALETTE[5],
    "other": theme.NOT_EVALUATED_COLOR,
}
# Point markers: (colour, shape) per marker category, in legend order.
MARKERS = {
    "CR/CRi, MRD-negative": (theme.PALETTE[2], "circle"),
    "CR/CRi, MRD-positive": (theme.PALETTE[1], "circle"),
    "CR/CRi, MRD not evaluated": (theme.NOT_EVALUATED_COLOR, "circle"),
    "PR": (theme.PALETTE[4], "square"),
    "Refractory": (theme.PALETTE[5], "triangle-down"),
    "Response not evaluable": (theme.NOT_EVALUATED_COLOR, "square"),
    "Allogeneic HCT": (theme.PALETTE[0], "diamond"),
    "Relapse": (theme.PALETTE[5], "triangle-up"),
    "Death": (theme.PALETTE[7], "cross"),
    "Alive, no evidence of B-ALL": (theme.PALETTE[2], "triangle-right"),
    "Alive, B-ALL present": (theme.PALETTE[3], "triangle-right"),
    "Alive, disease status unknown": (theme.NOT_EVALUATED_COLOR, "triangle-right"),
}


def _in_filter(db: CohortDatabase, cohort_filter: CohortFilter, sql: str, patient_id: str) -> pd.DataFrame:
    sub, params = cohort_filter.patient_ids_sql()
    return db.query(sql.format(sub=sub), [patient_id, *params])


def patient_status(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> str:
    """'in cohort', 'filtered out' (exists, excluded by the filters) or 'unknown'."""
    if not db.scalar("SELECT count(*) FROM patients WHERE patient_id = ?", [patient_id]):
        return "unknown"
    found = _in_filter(db, cohort_filter,
                       "SELECT patient_id FROM patients WHERE patient_id = ? AND patient_id IN ({sub})",
                       patient_id)
    return "in cohort" if len(found) else "filtered out"


def summary_row(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's patient_summary row (empty when outside the filtered cohort)."""
    return _in_filter(db, cohort_filter,
                      "SELECT * FROM patient_summary WHERE patient_id = ? AND patient_id IN ({sub})",
                      patient_id)


def _months(days) -> str:
    if _missing(days):
        return "not recorded"
    return f"{days_to_months(float(days)):.1f} months"


def _day(days) -> str:
    if _missing(days):
        return "day not recorded"
    days = int(days)
    return f"day {days:+d}" if days else "day 0"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or \
        (not isinstance(value, str) and pd.isna(value))


is_missing = _missing  # for pages: not evaluated (NULL/NaN/NA)


def _or_not_evaluated(value, fmt=str) -> str:
    return NOT_EVALUATED if _missing(value) else fmt(value)


def efs_event_kind(row: pd.Series) -> str | None:
    """Which event ended event-free survival (None = censored), by the EFS definition the survival
    page uses (`survival.EFS_EVENT_COLUMNS`): the first of its events on the EFS event day."""
    if _missing(row["efs_event_day"]):
        return None
    day = row["efs_event_day"]
    for event, column in EFS_EVENT_COLUMNS.items():
        if not _missing(row[column]) and row[column] == day:
            return EFS_EVENT_LABELS[event]
    return "event"


def _exposure_text(db: CohortDatabase, r: pd.Series) -> str:
    """Cumulative exposure as patient_summary derives it; a value the source stored beside the
    courses (a cohort built from CSV files, not through the import) is shown when it disagrees."""
    text = _or_not_evaluated(r["len_cumulative_days"], _months)
    courses = int(db.scalar("SELECT count(*) FROM events WHERE patient_id = ? "
                            "AND event_type = 'lenalidomide_course'", [r["patient_id"]]))
    if not courses or _missing(r["len_cumulative_days"]):
        return text
    reported = db.scalar("SELECT len_cumulative_days FROM patients WHERE patient_id = ?", [r["patient_id"]])
    if reported is None or not consistency.exposure_disagrees(reported, r["len_cumulative_days"], courses):
        return text + " (from the lenalidomide courses)" if reported is None else text
    return (f"{text} from the lenalidomide courses; the source states {int(reported)} days "
            f"({_months(reported)}), which disagrees")


def key_facts(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """Key facts (section, fact, value) for one patient; empty outside the filtered cohort."""
    rows = summary_row(db, cohort_filter, patient_id)
    if rows.empty:
        return pd.DataFrame(columns=["section", "fact", "value"])
    r = rows.iloc[0]
    yes_no = {True: "yes", False: "no"}
    immuno = " ".join(f"{m.upper()}{'+' if r[m] == 'positive' else '−'}" if not _missing(r[m])
                      else f"{m.upper()} n.e." for m in ("cd10", "cd19", "cd20", "cd22"))
    tp53 = _or_not_evaluated(r["tp53_status"])
    if not _missing(r["sequencing_assay"]):
        tp53 += f" ({r['sequencing_assay']})"
    else:
        tp53 += " (not sequenced)"
    facts = [
        ("Patient", "Institution", r["institution"]),
        ("Patient", "Sex", _or_not_evaluated(r["sex"], lambda v: {"F": "female", "M": "male"}.get(v, v))),
        ("Patient", "Age at B-ALL diagnosis", _or_not_evaluated(r["age_at_ball_dx"], lambda v: f"{int(v)} years")),
        ("Patient", "Age at myeloma diagnosis", _or_not_evaluated(r["age_at_myeloma_dx"], lambda v: f"{int(v)} years")),
        ("Patient", "Autologous HCT for myeloma", _or_not_evaluated(r["myeloma_auto_hct"], yes_no.get)),
        ("Lenalidomide", "Latency from first exposure", _or_not_evaluated(r["latency_days"], _months)),
        ("Lenalidomide", "Cumulative exposure", _exposure_text(db, r)),
        ("Lenalidomide", "Myeloma lines with lenalidomide", _or_not_evaluated(r["myeloma_lines_with_len"], lambda v: str(int(v)))),
        ("Lenalidomide", "Last stopped", _or_not_evaluated(r["len_stop_day"], _day)),
        ("B-ALL at diagnosis", "WBC", _or_not_evaluated(r["wbc_k_per_ul"], lambda v: f"{v:g} ×10³/µL")),
        ("B-ALL at diagnosis", "Marrow blasts", _or_not_evaluated(r["marrow_blast_pct"], lambda v: f"{v:g}%")),
        ("B-ALL at diagnosis", "Immunophenotype", immuno),
        ("B-ALL at diagnosis", "CNS status", _or_not_evaluated(r["cns_status"])),
        ("B-ALL at diagnosis", "BCR::ABL1", _or_not_evaluated(r["bcr_abl1"])),
        ("B-ALL at diagnosis", "Karyotype", _or_not_evaluated(r["karyotype_iscn"])),
        ("B-ALL at diagnosis", "Ploidy", _or_not_evaluated(r["ploidy_category"]) + (
            "" if _missing(r["modal_chromosome_number"]) else f" (modal number {int(r['modal_chromosome_number'])})")),
        ("B-ALL at diagnosis", "TP53", tp53),
    ]
    treated = bool(r["treated"])
    efs_kind = efs_event_kind(r)
    if _missing(r["os_days"]):  # no follow-up recorded: not evaluable, never zero
        os_text = efs_text = f"{NOT_EVALUATED} (no last contact or death recorded)"
    else:
        cause = "cause not recorded" if _missing(r["death_cause"]) else r["death_cause"]
        os_text = _months(r["os_days"]) + (f", died ({cause})" if bool(r["os_event"])
                                            else ", alive (censored at last contact)")
        efs_text = (_months(r["efs_days"]) + (f", event: {efs_kind} ({_day(r['efs_event_day'])})" if efs_kind
                                              else ", censored at last contact"))
    facts += [
        ("Course", "First-line regimen", f"{r['first_line_regimen']} ({r['first_line_regimen_category']})"
         if treated else "untreated"),
        ("Course", "Best response", _or_not_evaluated(r["best_response"]) if treated else "untreated"),
        ("Course", "First CR/CRi", "never" if _missing(r["first_cr_day"]) else _day(r["first_cr_day"])),
        ("Course", "Allogeneic HCT", _day(r["hct_day"]) if bool(r["hct"]) else "no"),
        ("Course", "Relapse", "none recorded" if _missing(r["relapse_day"]) else _day(r["relapse_day"])),
        ("Endpoints", "Overall survival", os_text),
        ("Endpoints", "Event-free survival", efs_text),
        ("Endpoints", "Status at last contact", r["status_at_last_contact"] + (
            "" if _missing(r["last_contact_day"]) else f" ({_day(r['last_contact_day'])})")),
    ]
    return pd.DataFrame(facts, columns=["section", "fact", "value"])


def raw_events(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    return _in_filter(db, cohort_filter,
                      "SELECT * FROM events WHERE patient_id = ? AND patient_id IN ({sub}) "
                      "ORDER BY day, event_id", patient_id)


def _response_marker(response, mrd) -> str:
    if response in ("CR", "CRi"):
        return {"negative": "CR/CRi, MRD-negative", "positive": "CR/CRi, MRD-positive"}.get(
            mrd, "CR/CRi, MRD not evaluated")
    return {"PR": "PR", "refractory": "Refractory"}.get(response, "Response not evaluable")


def timeline_events(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's events as drawable rows: lane, kind (bar/point), start, end, category, label, detail."""
    events = raw_events(db, cohort_filter, patient_id)
    rows: list[dict] = []
    for e in events.itertuples(index=False):
        def get(name):
            value = getattr(e, name)
            return None if _missing(value) else value
        end = get("end_day")
        if e.event_type == "lenalidomide_course":
            rows.append(dict(lane="Lenalidomide", kind="bar", start=e.day, end=e.day if end is None else end,
                             category="Lenalidomide", label="", detail=get("regimen") or "lenalidomide"))
        elif e.event_type == "treatment_line":
            rows.append(dict(lane="B-ALL treatment", kind="bar", start=e.day, end=e.day if end is None else end,
                             category=get("regimen_category") or "other",
                             label=f"L{int(e.line)} {get('regimen') or ''}".strip() if get("line") else (get("regimen") or ""),
                             detail=f"line {get('line') and int(e.line)}: {get('regimen')} ({get('regimen_category')})"))
        elif e.event_type == "response_assessment":
            mrd = get("mrd_status")
            mrd_text = "MRD not evaluated" if mrd is None else (
                f"MRD {mrd} ({get('mrd_method')}" + (f", sensitivity {get('mrd_sensitivity'):g}" if get("mrd_sensitivity") else "") + ")")
            short = {"negative": " MRD−", "positive": " MRD+"}.get(mrd, "") if e.response in ("CR", "CRi") else ""
            rows.append(dict(lane="Response", kind="point", start=e.day, end=e.day,
                             category=_response_marker(get("response"), mrd),
                             label=f"{get('response') or 'n.e.'}{short}",
                             detail=f"line {int(e.line) if get('line') else '?'}: {get('response')}; {mrd_text}"))
        elif e.event_type == "hct":
            rows.append(dict(lane="HCT / relapse", kind="point", start=e.day, end=e.day, category="Allogeneic HCT",
                             label="HCT", detail="; ".join(x for x in (get("regimen"), get("note")) if x)
                             or "allogeneic HCT"))
        elif e.event_type == "relapse":
            rows.append(dict(lane="HCT / relapse", kind="point", start=e.day, end=e.day, category="Relapse",
                             label="Relapse", detail=get("note") or "B-ALL relapse"))
        elif e.event_type == "death":
            rows.append(dict(lane="Outcome", kind="point", start=e.day, end=e.day, category="Death",
                             label="Death", detail=f"death: {get('cause') or 'cause not recorded'}"))
        elif e.event_type == "last_contact":
            status = get("disease_status")
            category = {"no evidence of B-ALL": "Alive, no evidence of B-ALL",
                        "B-ALL present": "Alive, B-ALL present"}.get(status, "Alive, disease status unknown")
            rows.append(dict(lane="Outcome", kind="point", start=e.day, end=e.day, category=category,
                             label="Last contact", detail=f"last contact: {status or 'disease status unknown'}"))
    frame = pd.DataFrame(rows, columns=["lane", "kind", "start", "end", "category", "label", "detail"])
    if (frame["category"] == "Death").any():  # dead: the last-contact marker would only repeat it
        last_death = frame.loc[frame.category == "Death", "start"].max()
        frame = frame[~(frame.category.str.startswith("Alive") & (frame.start <= last_death))]
    frame = frame.astype({"start": int, "end": int})
    frame["start_months"] = days_to_months(frame["start"]).round(1)
    frame["end_months"] = days_to_months(frame["end"]).round(1)
    return frame.reset_index(drop=True)


def _alternating_labels(rows: pd.DataFrame, x_field: str, x_scale: alt.Scale, lanes: alt.Y,
                        align: str) -> alt.LayerChart:
    """Text labels alternately above and below their mark within a lane, so neighbours don't collide."""
    rows = rows.sort_values(["lane", x_field]).copy()
    rows["below"] = rows.groupby("lane").cumcount() % 2 == 1
    layers = []
    for below, part in ((False, rows[~rows["below"]]), (True, rows[rows["below"]])):
        layers.append(alt.Chart(part).mark_text(
            align=align, baseline="top" if below else "bottom", dy=14 if below else -14,
            fontSize=theme.BASE_FONT_SIZE - 1, color="#222222", limit=280).encode(
            x=alt.X(f"{x_field}:Q", scale=x_scale), y=lanes, text="label:N"))
    return alt.layer(*layers)


WINDOWS = {"whole history": None, "B-ALL course": -90}  # window name -> first day shown


def timeline_chart(events: pd.DataFrame, title: str = "", window: str = "whole history",
                   width: int | None = None, legend_columns: tuple[int, int] = (4, 3)) -> alt.LayerChart:
    """Swim-lane timeline: bars for lenalidomide courses and treatment lines, markers for the rest.

    x = days from B-ALL diagnosis (bottom axis) with the same scale in months on the top axis;
    a rule marks diagnosis at day 0. `window` "B-ALL course" starts the axis 90 days before
    diagnosis (earlier lenalidomide is cut at the edge; the tooltip keeps the true days).
    `width`: None fits the page's container; a number of pixels for a static figure (a slide),
    whose legends (`legend_columns`: therapy, events) then take fewer columns.
    """
    first_day = WINDOWS[window]
    if first_day is not None:
        events = events[events["end"] >= first_day].copy()
    height = 380
    low = min(0, int(events["start"].min())) if len(events) else -30
    if first_day is not None:
        low = max(low, first_day)
    high = max(0, int(events["end"].max())) if len(events) else 30
    pad = max(30, int(0.04 * (high - low)))
    domain = [low - pad, high + pad]
    x_scale = alt.Scale(domain=domain, nice=False)
    lanes = alt.Y("lane:N", sort=LANES, scale=alt.Scale(domain=LANES), title=None,
                  axis=alt.Axis(labelFontSize=theme.BASE_FONT_SIZE + 1, labelLimit=200, grid=False))
    tooltip = [alt.Tooltip("detail:N", title="Event"), alt.Tooltip("start:Q", title="Day (start)"),
               alt.Tooltip("end:Q", title="Day (end)"), alt.Tooltip("start_months:Q", title="Months (start)"),
               alt.Tooltip("end_months:Q", title="Months (end)")]
    bars = events[events.kind == "bar"].copy()
    min_width = (domain[1] - domain[0]) / 250.0  # one-day lines stay visible
    bars["start_drawn"] = np.maximum(bars["start"], domain[0])
    bars["end_drawn"] = np.maximum(bars["end"], bars["start_drawn"] + min_width)
    bar_categories = [c for c in BAR_COLORS if c in set(bars["category"])]
    bar_layer = alt.Chart(bars).mark_bar(height=22, cornerRadius=3, stroke="#333333", strokeWidth=0.5).encode(
        x=alt.X("start_drawn:Q", scale=x_scale, title="Days from B-ALL diagnosis (day 0)",
                axis=alt.Axis(tickCount=12, format="d")),
        x2="end_drawn:Q", y=lanes,
        color=alt.Color("category:N", title="Therapy", scale=alt.Scale(
            domain=bar_categories, range=[BAR_COLORS[c] for c in bar_categories]),
            legend=alt.Legend(orient="bottom", columns=legend_columns[0], labelLimit=320)),
        tooltip=tooltip)
    bar_labels = _alternating_labels(bars[bars.label != ""], "start_drawn", x_scale, lanes, align="left")
    points = events[events.kind == "point"]
    point_categories = [c for c in MARKERS if c in set(points["category"])]
    point_layer = alt.Chart(points).mark_point(size=260, filled=True, opacity=1, stroke="#222222",
                                               strokeWidth=0.8).encode(
        x=alt.X("start:Q", scale=x_scale), y=lanes,
        color=alt.Color("category:N", title="Events", scale=alt.Scale(
            domain=point_categories, range=[MARKERS[c][0] for c in point_categories]),
            legend=alt.Legend(orient="bottom", columns=legend_columns[1], labelLimit=320)),
        shape=alt.Shape("category:N", title="Events", scale=alt.Scale(
            domain=point_categories, range=[MARKERS[c][1] for c in point_categories])),
        tooltip=tooltip)
    point_labels = _alternating_labels(points, "start", x_scale, lanes, align="center")
    diagnosis = pd.DataFrame({"start": [0], "label": ["B-ALL diagnosis"]})
    dx_rule = alt.Chart(diagnosis).mark_rule(color=theme.PALETTE[5], size=2, strokeDash=[5, 3]).encode(
        x=alt.X("start:Q", scale=x_scale))
    # Bottom right of the rule, below the outcome lane markers.
    dx_text = alt.Chart(diagnosis).mark_text(align="left", dx=6, baseline="bottom", y=alt.expr("height - 4"),
                                             color=theme.PALETTE[5], fontSize=theme.BASE_FONT_SIZE,
                                             fontWeight="bold").encode(
        x=alt.X("start:Q", scale=x_scale), text="label:N")
    # Same scale in months on the top axis (an invisible layer with its own x).
    months_domain = [domain[0] / DAYS_PER_MONTH, domain[1] / DAYS_PER_MONTH]
    months_axis = alt.Chart(pd.DataFrame({"m": months_domain})).mark_point(opacity=0).encode(
        x=alt.X("m:Q", scale=alt.Scale(domain=months_domain, nice=False),
                title="Months from B-ALL diagnosis (days / 30.4375)",
                axis=alt.Axis(orient="top", tickCount=12, format="d", grid=False)))
    body = alt.layer(bar_layer, bar_labels, point_layer, point_labels, dx_rule, dx_text).resolve_scale(
        color="independent", shape="independent")
    chart = alt.layer(body, months_axis).resolve_scale(x="independent")
    if width is None:
        chart = chart.properties(height=height, width="container",
                                 autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))  # legends must not squash lanes
    else:
        chart = chart.properties(height=height, width=width)
    if title:
        chart = chart.properties(title=title)
    return chart


def timeline_figure(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str,
                    window: str = "whole history") -> alt.LayerChart:
    """The patient's timeline figure (one view: cohort, filter, patient, window)."""
    return timeline_chart(timeline_events(db, cohort_filter, patient_id), window=window)


def mutations(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's reported variants (readable headers), VAF in %."""
    frame = _in_filter(db, cohort_filter,
                       "SELECT gene, protein_change, variant_class, vaf, assay FROM mutations "
                       "WHERE patient_id = ? AND patient_id IN ({sub}) ORDER BY gene, protein_change",
                       patient_id)
    frame["vaf"] = (frame["vaf"].astype(float) * 100).round(1)
    frame["variant_class"] = frame["variant_class"].str.replace("_", " ")
    return frame.rename(columns={"gene": "Gene", "protein_change": "Protein change",
                                 "variant_class": "Variant class", "vaf": "VAF (%)", "assay": "Assay"})


def measurements(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's serial lab values; below-detection results say so (with the limit)."""
    frame = _in_filter(db, cohort_filter,
                       "SELECT day, specimen, analyte, value, unit, lower_limit_of_detection, below_detection, "
                       "method FROM measurements WHERE patient_id = ? AND patient_id IN ({sub}) "
                       "ORDER BY day, analyte", patient_id)
    analytes = {"b_lymphoblasts_pct": "B lymphoblasts (flow)", "immature_b_pct": "Immature B cells",
                "marrow_blasts_pct": "Marrow blasts (morphology)"}

    def result(r) -> str:
        if bool(r.below_detection):
            limit = "" if _missing(r.lower_limit_of_detection) else f" (< {r.lower_limit_of_detection:g} {r.unit})"
            return "below detection" + limit
        return f"{r.value:g} {r.unit}"
    out = pd.DataFrame({
        "Day": frame["day"].astype(int),
        "Months": days_to_months(frame["day"].astype(float)).round(1),
        "Specimen": frame["specimen"],
        "Analyte": frame["analyte"].map(lambda a: analytes.get(a, a)),
        "Result": [result(r) for r in frame.itertuples(index=False)],
        "Method": frame["method"],
    })
    return out


def patient_choices(db: CohortDatabase, cohort_filter: CohortFilter,
                    limit: int = 1000) -> tuple[pd.DataFrame, int]:
    """The first `limit` patients of the filtered cohort (default order) with what a picker
    shows (institution, sex, age), and the number of patients in the filtered cohort.

    A picker listing a million ids would send them all to the browser on every rerun; pages
    list the first `limit` and look any other id up with `patient_status`.

    >>> from analytics.build import build_in_memory
    >>> rows, n = patient_choices(build_in_memory("data/demo_cohort"), CohortFilter(), limit=3)
    >>> rows["patient_id"].tolist(), n
    (['S01', 'S02', 'S03'], 32)
    """
    where, params = cohort_filter.where_sql()
    n = count_patients(db, cohort_filter)
    rows = db.query(f"SELECT patient_id, institution, sex, age_at_ball_dx FROM patient_summary "
                    f"WHERE {where} ORDER BY patient_id LIMIT ?", [*params, int(limit)])
    return rows, n
