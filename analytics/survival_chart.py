"""Altair figures for the survival page: KM curves with a number-at-risk table in ONE figure.

The risk table is a second view vconcat-ed under the curves with the x scale shared and the
same explicit tick values, so it stays aligned in the browser and in any export of the figure.

Examples
--------
>>> import pandas as pd
>>> from analytics.survival import curves_from_counts, month_ticks, risk_table
>>> counts = pd.DataFrame({"group": ["A", "A", "B"], "time_days": [30, 400, 200],
...                        "n_event": [1, 0, 1], "n_censored": [0, 1, 0]})
>>> chart = km_chart(curves_from_counts(counts), counts, title="OS")
>>> sorted(chart.to_dict()["vconcat"][0].keys())[:2]
['height', 'layer']
"""
from __future__ import annotations

import math
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from analytics.survival import month_ticks, risk_table
from analytics.theme import BASE_FONT_SIZE, PALETTE

WIDTH = 760
HEIGHT = 360


def _color(groups: Sequence[str], title: str | None) -> alt.Color:
    return alt.Color("group:N", scale=alt.Scale(domain=list(groups), range=PALETTE[:len(groups)]),
                     legend=alt.Legend(title=title, orient="top", direction="horizontal",
                                       symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1,
                                       symbolSize=300, labelFontSize=BASE_FONT_SIZE)
                     if len(groups) > 1 else None)


def km_chart(curves: pd.DataFrame, counts: pd.DataFrame, *, title: str, group_title: str | None = None,
             show_ci: bool = True, y_title: str = "Survival (%)",
             x_title: str = "Months", subtitle: str | None = None) -> alt.VConcatChart:
    """KM step curves (y in %, x in months), censor marks, optional 95% CI bands, tooltips,
    and the number-at-risk table under the x axis at the same ticks (one vconcat figure)."""
    groups = list(dict.fromkeys(curves["group"]))
    data = curves.copy()
    data["survival_pct"] = 100 * data["survival"]
    data["lower_pct"] = 100 * data["ci_lower"]
    data["upper_pct"] = 100 * data["ci_upper"]
    max_months = float(data["time_months"].max()) if len(data) else 1.0
    ticks = month_ticks(max_months)
    domain = [0, max(ticks[-1], max_months)]
    x_scale = alt.Scale(domain=domain, nice=False, zero=True)
    x_axis = alt.Axis(values=ticks, title=x_title, format="d")
    color = _color(groups, group_title)
    base = alt.Chart(data)
    x = alt.X("time_months:Q", scale=x_scale, axis=x_axis)
    y = alt.Y("survival_pct:Q", scale=alt.Scale(domain=[0, 100]), title=y_title,
              axis=alt.Axis(values=list(range(0, 101, 20))))
    layers = []
    if show_ci:
        layers.append(base.mark_area(interpolate="step-after", opacity=0.13).encode(
            x=x, y=alt.Y("lower_pct:Q", scale=alt.Scale(domain=[0, 100]), title=y_title),
            y2="upper_pct:Q", color=color))
    layers.append(base.mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        x=x, y=y, color=color))
    censored = data[data["n_censored"] > 0]
    layers.append(alt.Chart(censored).mark_tick(thickness=2, size=12, orient="vertical").encode(
        x=x, y=alt.Y("survival_pct:Q", scale=alt.Scale(domain=[0, 100])), color=color))
    tooltip = [alt.Tooltip("group:N", title="Group"),
               alt.Tooltip("time_months:Q", title="Months", format=".1f"),
               alt.Tooltip("time_days:Q", title="Day", format="d"),
               alt.Tooltip("survival_pct:Q", title="Survival (%)", format=".1f"),
               alt.Tooltip("lower_pct:Q", title="95% CI lower (%)", format=".1f"),
               alt.Tooltip("upper_pct:Q", title="95% CI upper (%)", format=".1f"),
               alt.Tooltip("at_risk:Q", title="Number at risk"),
               alt.Tooltip("n_event:Q", title="Events"),
               alt.Tooltip("n_censored:Q", title="Censored")]
    layers.append(base.mark_point(size=90, opacity=0, filled=True).encode(
        x=x, y=y, color=color, tooltip=tooltip))
    curve = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)

    risk = risk_table(counts, ticks)
    risk["row"] = risk["group"]
    table = alt.Chart(risk).mark_text(fontSize=BASE_FONT_SIZE, fontWeight="bold").encode(
        x=alt.X("time_months:Q", scale=x_scale,
                axis=alt.Axis(values=ticks, labels=False, ticks=False, domain=False, grid=False,
                              title=None)),
        y=alt.Y("row:N", sort=groups, title=None,
                axis=alt.Axis(domain=False, ticks=False, grid=False, labelFontSize=BASE_FONT_SIZE,
                              labelLimit=220, labelPadding=22)),
        text="at_risk:Q", color=alt.Color("group:N", scale=alt.Scale(domain=groups,
                                                                      range=PALETTE[:len(groups)]),
                                           legend=None),
    ).properties(width=WIDTH, height=max(28 * len(groups), 30),
                 title=alt.TitleParams("Number at risk", fontSize=BASE_FONT_SIZE + 1,
                                       fontWeight="normal", anchor="start"))
    title_params = alt.TitleParams(title, subtitle=subtitle or "", subtitleFontSize=BASE_FONT_SIZE - 1,
                                   subtitleColor="#444444")
    # bounds="flush": sub-views are laid out by their plot areas only, so the left edge of the
    # risk table's plot area is exactly under x = 0 of the curves whatever the label widths.
    return alt.vconcat(curve, table, spacing=78, bounds="flush", title=title_params).resolve_scale(
        x="shared", color="shared")


def cif_chart(cif: pd.DataFrame, *, title: str, subtitle: str | None = None,
              x_title: str = "Months") -> alt.Chart:
    """Cumulative incidence step curves (y in %, x in months), one colour per cause,
    dashed per group when grouped; 95% CI as bands."""
    data = cif.copy()
    data["cif_pct"] = 100 * data["cif"]
    data["lower_pct"] = 100 * data["ci_lower"]
    data["upper_pct"] = 100 * data["ci_upper"]
    max_months = float(data["time_months"].max()) if len(data) else 1.0
    ticks = month_ticks(max_months)
    x_scale = alt.Scale(domain=[0, max(ticks[-1], max_months)], nice=False)
    x = alt.X("time_months:Q", scale=x_scale, axis=alt.Axis(values=ticks, title=x_title, format="d"))
    ymax = max(20.0, math.ceil(float(np.nanmax(data["upper_pct"])) / 10) * 10) if len(data) else 100
    y_scale = alt.Scale(domain=[0, min(100.0, ymax)])
    causes = list(dict.fromkeys(data["cause"]))
    color = alt.Color("cause:N", scale=alt.Scale(domain=causes, range=[PALETTE[5], PALETTE[0]]),
                      legend=alt.Legend(title=None, orient="top", symbolType="stroke",
                                        symbolStrokeWidth=3, symbolOpacity=1, symbolSize=300))
    groups = list(dict.fromkeys(data["group"]))
    dash = alt.StrokeDash("group:N", legend=alt.Legend(title="Group", orient="top")
                          if len(groups) > 1 else None)
    base = alt.Chart(data)
    band = base.mark_area(interpolate="step-after", opacity=0.12).encode(
        x=x, y=alt.Y("lower_pct:Q", scale=y_scale, title="Cumulative incidence (%)"),
        y2="upper_pct:Q", color=color, detail="group:N")
    line = base.mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        x=x, y=alt.Y("cif_pct:Q", scale=y_scale, title="Cumulative incidence (%)"),
        color=color, strokeDash=dash)
    points = base.mark_point(size=90, opacity=0).encode(
        x=x, y=alt.Y("cif_pct:Q", scale=y_scale), tooltip=[
            alt.Tooltip("cause:N", title="Cause"), alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("time_months:Q", title="Months", format=".1f"),
            alt.Tooltip("cif_pct:Q", title="Cumulative incidence (%)", format=".1f"),
            alt.Tooltip("lower_pct:Q", title="95% CI lower (%)", format=".1f"),
            alt.Tooltip("upper_pct:Q", title="95% CI upper (%)", format=".1f")])
    return alt.layer(band, line, points).properties(
        width=WIDTH, height=HEIGHT, title=alt.TitleParams(title, subtitle=subtitle or ""))


def forest_chart(table: pd.DataFrame, *, title: str) -> alt.Chart:
    """Forest plot of hazard ratios (log x axis) with 95% CI and a reference line at 1."""
    data = table.dropna(subset=["hr", "hr_lower", "hr_upper"]).copy()
    data = data[np.isfinite(data[["hr", "hr_lower", "hr_upper"]]).all(axis=1)]
    data["label"] = data["term"]
    lo = float(min(data["hr_lower"].min(), 0.5)) if len(data) else 0.1
    hi = float(max(data["hr_upper"].max(), 2.0)) if len(data) else 10
    x_scale = alt.Scale(type="log", domain=[lo / 1.2, hi * 1.2], nice=False)
    x_ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
               if lo / 1.2 <= v <= hi * 1.2]
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360, grid=False),
              scale=alt.Scale(padding=0.5))
    rule = alt.Chart(data).mark_rule(strokeWidth=2, color=PALETTE[0]).encode(
        x=alt.X("hr_lower:Q", scale=x_scale, title="Hazard ratio (95% CI, log scale)",
                axis=alt.Axis(values=x_ticks, format="~g")),
        x2="hr_upper:Q", y=y)
    point = alt.Chart(data).mark_square(size=120, color=PALETTE[0]).encode(
        x=alt.X("hr:Q", scale=x_scale), y=y, tooltip=[
            alt.Tooltip("label:N", title="Term"), alt.Tooltip("hr:Q", title="HR", format=".2f"),
            alt.Tooltip("hr_lower:Q", title="95% CI lower", format=".2f"),
            alt.Tooltip("hr_upper:Q", title="95% CI upper", format=".2f"),
            alt.Tooltip("p:Q", title="p", format=".3g")])
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4], color="#666666").encode(
        x=alt.X("x:Q", scale=x_scale))
    return alt.layer(one, rule, point).properties(
        width=WIDTH, height=max(70 * len(data), 140), title=title)
