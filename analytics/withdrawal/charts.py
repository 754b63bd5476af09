"""Altair figures of the withdrawal page: trajectories per patient (before and after therapy start,
below-detection values marked) and the timing chart of what followed withdrawal."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics.withdrawal.rule import (AFTER, BEFORE, BELOW, CLASS_COLORS, CLASS_LABELS, CLASSES, DETECTED,
                                       FOLLOWED_COLORS, NOT_ASSESSABLE, SCALES, THERAPY, TIME_AXES)


def _with_therapy_split(data: pd.DataFrame, x: str) -> pd.DataFrame:
    """Line rows per patient and phase; an interpolated point at therapy start joins the phases."""
    rows = []
    for pid, s in data.groupby("patient_id", sort=False):
        s = s.sort_values(x)
        t = s["first_treatment_day"].iloc[0]
        shift = 0.0 if x == "day" else float(s["len_stop_day"].iloc[0])
        t_x = None if pd.isna(t) else float(t) - shift
        for _, r in s.iterrows():
            phase = BEFORE if t_x is None or r[x] < t_x else AFTER
            rows.append({"patient_id": pid, "x": float(r[x]), "level": r["level"], "phase": phase,
                         "classification": r["classification"]})
        if t_x is not None and s[x].min() < t_x <= s[x].max():
            y = float(np.interp(t_x, s[x].astype(float), s["level"].astype(float)))
            for phase in (BEFORE, AFTER):
                rows.append({"patient_id": pid, "x": t_x, "level": y, "phase": phase,
                             "classification": s["classification"].iloc[0]})
    return pd.DataFrame(rows)


def trajectory_chart(data: pd.DataFrame, classes: dict[str, str], time_axis: str = "withdrawal",
                     scale: str = "linear", facet: bool = False, order: list[str] | None = None,
                     y_title: str = "Level (%)") -> alt.TopLevelMixin:
    """Serial measurements; solid before B-ALL therapy, dashed after; ◆ marks therapy start.

    `data` is `measurements(...)`; `classes` maps patient to class (colour).
    """
    if time_axis not in TIME_AXES or scale not in SCALES:
        raise ValueError("unknown time axis or scale")
    x = "days_since_stop" if time_axis == "withdrawal" else "day"
    d = data.copy()
    d["classification"] = d["patient_id"].map(lambda p: CLASS_LABELS[classes.get(p, NOT_ASSESSABLE)])
    if scale == "log":
        d = d[d["level"] > 0]
    order = order or list(dict.fromkeys(d["patient_id"]))
    lines = _with_therapy_split(d, x)
    color_domain = [CLASS_LABELS[c] for c in CLASSES]
    legend_at = "bottom" if facet else "right"  # a faceted chart does not shrink to the page
    # beside the plot, room for the patient labels written right of each line's last point
    legend = dict(orient=legend_at, offset=18 if facet else 48, direction="vertical", labelLimit=320)
    color = alt.Color("classification:N", title="Class under the rule",
                      scale=alt.Scale(domain=color_domain,
                                      range=[CLASS_COLORS[c] for c in CLASSES]),
                      legend=alt.Legend(**legend, symbolSize=160, symbolStrokeWidth=3))
    x_title = TIME_AXES[time_axis] if not facet else TIME_AXES[time_axis].split(" (")[0].replace(
        "lenalidomide discontinuation", "lenalidomide stop")
    xenc = alt.X("x:Q", title=x_title)
    yscale = alt.Scale(type="log") if scale == "log" else alt.Scale(type="linear", zero=True)
    yenc = alt.Y("level:Q", title=y_title, scale=yscale)
    pts = d.assign(x=d[x].astype(float))
    therapy = _therapy_marks(d, x)
    # one day-0 row per patient in small multiples (so each panel gets its rule), else one row
    zero = pd.DataFrame({"patient_id": order if facet else [None], "x": 0.0,
                         "what": "lenalidomide stopped"})
    union = pd.concat([lines.assign(_layer="line"), pts.assign(_layer="point"),
                       therapy.assign(_layer="therapy"), zero.assign(_layer="zero")],
                      ignore_index=True)

    def base(name: str, frame: pd.DataFrame) -> alt.Chart:
        # Faceted layers must share the top-level data: each layer filters its own rows.
        return alt.Chart().transform_filter(alt.datum._layer == name) if facet else alt.Chart(frame)

    shape = alt.Shape("detection:N", title="Marker",
                      scale=alt.Scale(domain=[DETECTED, BELOW, THERAPY],
                                      range=["circle", "triangle-down", "diamond"]),
                      legend=alt.Legend(**legend, symbolSize=160, symbolStrokeWidth=2))
    line = base("line", lines).mark_line(strokeWidth=3).encode(
        x=xenc, y=yenc, color=color, detail="patient_id:N",
        strokeDash=alt.StrokeDash("phase:N", title="Line",
                                  scale=alt.Scale(domain=[BEFORE, AFTER], range=[[1, 0], [6, 4]]),
                                  legend=alt.Legend(**legend, symbolStrokeWidth=3, symbolSize=300)))
    points = base("point", pts).mark_point(size=120, filled=True, opacity=1).encode(
        x=xenc, y=yenc, color=color,
        shape=shape,
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("day:Q", title="Day from B-ALL diagnosis"),
                 alt.Tooltip("days_since_stop:Q", title="Days from lenalidomide stop"),
                 alt.Tooltip("value:Q", title="Value (empty = below detection)"),
                 alt.Tooltip("lower_limit_of_detection:Q", title="Detection limit"),
                 alt.Tooltip("detection:N", title="Status"), alt.Tooltip("method:N", title="Method")])
    tmark = base("therapy", therapy).mark_point(size=320, filled=False, strokeWidth=3,
                                                color="#000000", opacity=1).encode(
        x=xenc, y=yenc, shape=shape, tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                                 alt.Tooltip("x:Q", title="B-ALL therapy started (day)")])
    layers = [line, points, tmark]
    if time_axis == "withdrawal":
        layers.append(base("zero", zero).mark_rule(color="#000000", strokeDash=[2, 2], strokeWidth=2)
                      .encode(x="x:Q", tooltip=alt.Tooltip("what:N", title="Day 0")))
    if facet:
        layers.append(base("therapy", therapy).mark_rule(color="#000000", strokeWidth=1.5,
                                                        strokeDash=[6, 3]).encode(x="x:Q"))
        return (alt.layer(*layers, data=union)
                .properties(width=205, height=190)
                .facet(facet=alt.Facet("patient_id:N", title=None, sort=order,
                                       header=alt.Header(labelFontSize=18, labelFontWeight="bold")),
                       columns=4)
                .resolve_scale(x="shared", y="shared"))
    labels = alt.Chart(_last_points(pts)).mark_text(align="left", dx=14, dy=-10, fontSize=16,
                                                    fontWeight="bold").encode(
        x=xenc, y=yenc, text="patient_id:N", color=color)
    return alt.layer(*layers, labels).properties(height=460)


def _therapy_marks(d: pd.DataFrame, x: str) -> pd.DataFrame:
    """One ◆ per treated patient at therapy start, on the patient's line (interpolated)."""
    rows = []
    for pid, s in d.groupby("patient_id", sort=False):
        t = s["first_treatment_day"].iloc[0]
        if pd.isna(t):
            continue
        shift = 0.0 if x == "day" else float(s["len_stop_day"].iloc[0])
        t_x = float(t) - shift
        s = s.sort_values(x)
        y = float(np.interp(t_x, s[x].astype(float), s["level"].astype(float)))
        rows.append({"patient_id": pid, "x": t_x, "level": y, "detection": THERAPY})
    return pd.DataFrame(rows, columns=["patient_id", "x", "level", "detection"])


def _last_points(pts: pd.DataFrame) -> pd.DataFrame:
    return pts.sort_values("x").groupby("patient_id", as_index=False).tail(1)


def timing_chart(overview: pd.DataFrame, order: list[str]) -> alt.Chart:
    """Lenalidomide stop day relative to B-ALL diagnosis, one dot per patient, coloured by what followed."""
    d = overview.dropna(subset=["len_stop_day"])
    domain = [k for k in FOLLOWED_COLORS if k in set(d["followed"])]
    drawn = set(d["patient_id"])
    base = alt.Chart(d).encode(
        y=alt.Y("patient_id:N", sort=[p for p in order if p in drawn], title="Patient"),
        x=alt.X("len_stop_day:Q",
                title="Lenalidomide stop, days relative to B-ALL diagnosis (negative = before)"))
    dots = base.mark_point(size=200, filled=True, opacity=1).encode(
        color=alt.Color("followed:N", title="What followed",
                        scale=alt.Scale(domain=domain, range=[FOLLOWED_COLORS[k] for k in domain]),
                        legend=alt.Legend(columns=2, labelLimit=420, symbolSize=160)),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"),
                 alt.Tooltip("len_stop_day:Q", title="Stop day vs diagnosis"),
                 alt.Tooltip("first_treatment_day:Q", title="First B-ALL therapy day"),
                 alt.Tooltip("followed:N", title="What followed")])
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000000", strokeDash=[2, 2]).encode(x="x:Q")
    return alt.layer(zero, dots).properties(height=max(160, 22 * d["patient_id"].nunique()))
