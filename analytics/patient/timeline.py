"""One patient's timeline: the recorded events as drawable rows (lanes of bars and points) and
the Altair chart, over the whole history or the B-ALL course.

>>> from analytics.build import build_in_memory
>>> events = timeline_events(build_in_memory("data/demo_cohort"), CohortFilter(), "S05")
>>> sorted(set(events["lane"])) == sorted(LANES)
True
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics import theme
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.patient.record import is_missing, raw_events
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
            return None if is_missing(value) else value
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
