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
>>> {"height", "layer"} <= set(chart.to_dict()["vconcat"][0])
True
"""
from __future__ import annotations

import math
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from analytics.disclosure import suppress_count
from analytics.filters import NOT_EVALUATED
from analytics.survival import competing_risks, cox, hct
from analytics.survival.km import curves_from_counts, month_ticks, risk_table
from analytics.survival.patients import inclusion_summary, km_counts
from analytics.survival.spec import ORIGINS, POPULATIONS
from analytics.survival.summary import suppress_small_groups, view_caption
from analytics.theme import BASE_FONT_SIZE, NOT_EVALUATED_LINE_COLOR, PALETTE

WIDTH = 760
HEIGHT = 360
# Rows of curve data drawn per KM figure (all groups together). Below it every KM step is sent
# as is; above it (registry-size cohorts: thousands of distinct days per group) `thin_curves`
# keeps one exact point per x bin, so a figure stays under ~200 KB at any cohort size
# (bench/: every step of 100,000 patients in 3 groups is 4.6 MB of chart JSON).
MAX_CURVE_ROWS = 900


def group_colors(groups: Sequence[str]) -> list[str]:
    """Palette colours in group order; the "not evaluated" group is grey, as everywhere in the app.

    >>> group_colors(["mutated", "wild-type", "not evaluated"])
    ['#0072B2', '#E69F00', '#808080']
    """
    palette = iter(PALETTE)
    return [NOT_EVALUATED_LINE_COLOR if g == NOT_EVALUATED else next(palette) for g in groups]


def _color(groups: Sequence[str], title: str | None, colors: Sequence[str]) -> alt.Color:
    return alt.Color("group:N", scale=alt.Scale(domain=list(groups), range=list(colors)),
                     legend=alt.Legend(title=title, orient="top", direction="horizontal",
                                       symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1,
                                       symbolSize=300, labelFontSize=BASE_FONT_SIZE, labelLimit=0, titleLimit=0)
                     if len(groups) > 1 else None)


def km_chart(curves: pd.DataFrame, counts: pd.DataFrame, *, title: str, group_title: str | None = None,
             show_ci: bool = True, y_title: str = "Survival (%)",
             x_title: str = "Months", subtitle: str | None = None,
             small_cell_k: int = 0, colors: Sequence[str] | None = None,
             at_risk=None) -> alt.VConcatChart:
    """KM step curves (y in %, x in months), censor marks, optional 95% CI bands, tooltips,
    and the number-at-risk table under the x axis at the same ticks (one vconcat figure).

    With `small_cell_k` > 1 (small-cell suppression) numbers at risk from 1 to k-1 read "<k"
    and the tooltips carry no counts (the data sent to the browser has none). `colors`, one per
    group in drawing order, keeps a group's colour the same across the charts of a page."""
    groups = list(dict.fromkeys(curves["group"]))
    colors = list(colors) if colors is not None else group_colors(groups)
    # `at_risk(ticks)`, when given, says who is at risk at each tick (a Simon-Makuch plot's
    # patients move between rows); otherwise everyone starts at time zero (`risk_table`).
    max_months = float(curves["time_months"].max()) if len(curves) else 1.0
    data, thinned = thin_curves(curves)
    data = data.assign(survival_pct=(100 * data["survival"]).round(2),
                       lower_pct=(100 * data["ci_lower"]).round(2),
                       upper_pct=(100 * data["ci_upper"]).round(2),
                       time_months=data["time_months"].round(3),
                       time_days=data["time_days"].round().astype(int))
    suppress = small_cell_k > 1
    data = data[["group", "time_months", "time_days", "survival_pct", "lower_pct", "upper_pct",
                 "at_risk", "n_event", "n_censored"]]
    if suppress:  # keep only whether a step has a censoring (for the tick marks), not how many
        data = data.assign(censoring=data["n_censored"] > 0).drop(
            columns=["at_risk", "n_event", "n_censored"])
    ticks = month_ticks(max_months)
    domain = [0, max(ticks[-1], max_months)]
    x_scale = alt.Scale(domain=domain, nice=False, zero=True)
    x_axis = alt.Axis(values=ticks, title=x_title, format="d")
    color = _color(groups, group_title, colors)
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
    # censor marks filter the same dataset in the browser (no second copy of the rows)
    censored = "datum.censoring" if suppress else "datum.n_censored > 0"
    layers.append(base.transform_filter(censored).mark_tick(
        thickness=2, size=12, orient="vertical").encode(
        x=x, y=alt.Y("survival_pct:Q", scale=alt.Scale(domain=[0, 100])), color=color))
    since = " since previous point" if thinned else ""
    tooltip = [alt.Tooltip("group:N", title="Group"),
               alt.Tooltip("time_months:Q", title="Months", format=".1f"),
               alt.Tooltip("time_days:Q", title="Day", format="d"),
               alt.Tooltip("survival_pct:Q", title="Survival (%)", format=".1f"),
               alt.Tooltip("lower_pct:Q", title="95% CI lower (%)", format=".1f"),
               alt.Tooltip("upper_pct:Q", title="95% CI upper (%)", format=".1f")]
    if not suppress:
        tooltip += [alt.Tooltip("at_risk:Q", title="Number at risk"),
                    alt.Tooltip("n_event:Q", title="Events" + since),
                    alt.Tooltip("n_censored:Q", title="Censored" + since)]
    layers.append(base.mark_point(size=90, opacity=0, filled=True).encode(
        x=x, y=y, color=color, tooltip=tooltip))
    curve = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)

    risk = at_risk(ticks) if at_risk is not None else risk_table(counts, ticks)
    table = risk_table_chart(risk, groups, colors, x_scale, ticks, small_cell_k)
    title_params = alt.TitleParams(title, subtitle=subtitle or "", subtitleFontSize=BASE_FONT_SIZE - 1,
                                   subtitleColor="#444444")
    # bounds="flush": sub-views are laid out by their plot areas only, so the left edge of the
    # risk table's plot area is exactly under x = 0 of the curves whatever the label widths.
    return alt.vconcat(curve, table, spacing=78, bounds="flush", title=title_params).resolve_scale(
        x="shared", color="shared")


def risk_table_chart(risk: pd.DataFrame, groups: Sequence[str], colors: Sequence[str] | None,
                     x_scale: alt.Scale, ticks: Sequence[float], small_cell_k: int = 0) -> alt.Chart:
    """The number-at-risk table drawn under a figure's x axis, at the same ticks (one row per
    group, in the curves' colours; black without colours)."""
    risk = risk.copy()
    risk["row"] = risk["group"]
    risk["at_risk"] = [suppress_count(n, small_cell_k) for n in risk["at_risk"]]
    color = (alt.Color("group:N", scale=alt.Scale(domain=list(groups), range=list(colors)), legend=None)
             if colors is not None else alt.value("#000000"))
    return alt.Chart(risk).mark_text(fontSize=BASE_FONT_SIZE, fontWeight="bold").encode(
        x=alt.X("time_months:Q", scale=x_scale,
                axis=alt.Axis(values=list(ticks), labels=False, ticks=False, domain=False, grid=False,
                              title=None)),
        y=alt.Y("row:N", sort=list(groups), title=None,
                axis=alt.Axis(domain=False, ticks=False, grid=False, labelFontSize=BASE_FONT_SIZE,
                              labelLimit=0, labelPadding=22)),
        text="at_risk:N", color=color,
    ).properties(width=WIDTH, height=max(28 * len(groups), 30),
                 title=alt.TitleParams("Number at risk", fontSize=BASE_FONT_SIZE + 1,
                                       fontWeight="normal", anchor="start"))


def thin_curves(curves: pd.DataFrame, max_rows: int = MAX_CURVE_ROWS) -> tuple[pd.DataFrame, bool]:
    """The curve rows to draw, and whether they were thinned.

    Up to `max_rows` rows: unchanged. Above: the x range is cut into equal bins (as many per
    group as the budget allows, at least 100) and each group keeps its first row (time 0) and
    the LAST row of every bin: every kept point is an exact Kaplan-Meier value (S, CI, number
    at risk on that day) and a drop is drawn at most one bin (<= 1/100 of the axis) late;
    n_event and n_censored become the sums since the previous kept point. The exact curve is
    the page's CSV download.

    >>> import pandas as pd
    >>> c = pd.DataFrame({"group": "A", "time_days": range(3000), "time_months": [d / 30.4375 for d in range(3000)],
    ...                   "survival": [1 - d / 6000 for d in range(3000)], "ci_lower": 0.0, "ci_upper": 1.0,
    ...                   "at_risk": range(3000, 0, -1), "n_event": 1, "n_censored": 0})
    >>> thin, was_thinned = thin_curves(c, max_rows=300)
    >>> was_thinned, len(thin) <= 300, int(thin["n_event"].sum())
    (True, True, 3000)
    """
    if len(curves) <= max_rows:
        return curves, False
    groups = list(dict.fromkeys(curves["group"]))
    bins = max(100, max_rows // len(groups) - 1)
    span = float(curves["time_months"].max()) or 1.0
    data = curves.reset_index(drop=True)
    data["_bin"] = np.minimum((data["time_months"] / span * bins).astype(int), bins - 1)
    first = data.groupby("group", sort=False).head(1).index
    data.loc[first, "_bin"] = -1  # time 0 (S = 1) is always its own point
    keys = [data["group"], data["_bin"]]
    last = data.groupby(keys, sort=False).tail(1).index
    sums = data.groupby(keys, sort=False)[["n_event", "n_censored"]].transform("sum")
    out = data.loc[last].copy()
    out[["n_event", "n_censored"]] = sums.loc[last].to_numpy()
    return out.drop(columns="_bin").reset_index(drop=True), True


def thin_steps(steps: pd.DataFrame, keys: list[str], max_rows: int = MAX_CURVE_ROWS) -> pd.DataFrame:
    """Rows of step curves (one per `keys` combination, sorted by time) to draw: all when few;
    else each curve's first row and the last row of each x bin (exact values of those days).

    >>> import pandas as pd
    >>> d = pd.DataFrame({"g": "A", "time_months": [i / 10 for i in range(5000)], "v": range(5000)})
    >>> t = thin_steps(d, ["g"], max_rows=500)
    >>> len(t) <= 500, int(t["v"].iloc[0]), int(t["v"].iloc[-1])
    (True, 0, 4999)
    """
    if len(steps) <= max_rows:
        return steps
    n_curves = max(1, steps.groupby(keys, sort=False).ngroups)
    bins = max(100, max_rows // n_curves - 1)
    span = float(steps["time_months"].max()) or 1.0
    data = steps.reset_index(drop=True).copy()
    data["_bin"] = np.minimum((data["time_months"] / span * bins).astype(int), bins - 1)
    data.loc[data.groupby(keys, sort=False).head(1).index, "_bin"] = -1
    last = data.groupby([*keys, "_bin"], sort=False).tail(1).index
    return data.loc[sorted(last)].drop(columns="_bin").reset_index(drop=True)


def cif_chart(cif: pd.DataFrame, *, title: str, subtitle: str | None = None,
              x_title: str = "Months", counts: pd.DataFrame | None = None) -> alt.TopLevelMixin:
    """Cumulative incidence step curves (y in %, x in months), one colour per cause,
    dashed per group when grouped; 95% CI as bands; with `counts` (group, time_days, n_event,
    n_censored), the number at risk per group under the x axis at the same ticks."""
    data = thin_steps(cif, ["group", "cause"])  # exact points, at most MAX_CURVE_ROWS (see thin_curves)
    data = pd.DataFrame({"group": data["group"], "cause": data["cause"],
                         "time_months": data["time_months"].round(3),
                         "cif_pct": (100 * data["cif"]).round(2),
                         "lower_pct": (100 * data["ci_lower"]).round(2),
                         "upper_pct": (100 * data["ci_upper"]).round(2)})
    max_months = float(cif["time_months"].max()) if len(cif) else 1.0
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
    curves = alt.layer(band, line, points).properties(width=WIDTH, height=HEIGHT)
    title_params = alt.TitleParams(title, subtitle=subtitle or "")
    if counts is None:
        return curves.properties(title=title_params)
    table = risk_table_chart(risk_table(counts, ticks), groups, None, x_scale, ticks)
    return alt.vconcat(curves, table, spacing=78, bounds="flush", title=title_params).resolve_scale(
        x="shared", color="independent", strokeDash="independent")


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


# --- figures of one view (cached per view by the page: ui.figures.cached_figure) --------------
def endpoint_axis_title(spec) -> str:
    return f"{spec.endpoint_label().split(' (')[0]} (%)"


def km_figure(db, cohort_filter, spec, show_ci: bool = True, small_cell_k: int = 0) -> alt.VConcatChart:
    """The KM tab's figure for one view: curves by group, CI bands, number-at-risk table;
    groups of fewer than `small_cell_k` patients are not drawn (small-cell suppression).

    >>> from analytics.build import build_in_memory
    >>> from analytics.filters import CohortFilter
    >>> from analytics.survival import SurvivalSpec
    >>> chart = km_figure(build_in_memory("data/demo_cohort"), CohortFilter(), SurvivalSpec())
    >>> chart.to_dict()["title"]["subtitle"]
    'All patients, time from B-ALL diagnosis; filters: no filters; n = 32, 16 events'
    """
    return km_figure_from_counts(km_counts(db, cohort_filter, spec), cohort_filter, spec,
                                 show_ci, small_cell_k)


def cut_below_at_risk(curves: pd.DataFrame, min_at_risk: int) -> pd.DataFrame:
    """Each group's curve up to (not including) the first step with fewer than `min_at_risk`
    patients at risk: the tail that rests on a handful of patients is not drawn.

    >>> c = pd.DataFrame({"group": ["a"] * 4, "at_risk": [10, 6, 3, 1], "survival": [1, .9, .6, .3]})
    >>> cut_below_at_risk(c, 5)["at_risk"].tolist()
    [10, 6]
    """
    if min_at_risk <= 0:
        return curves
    below = curves["at_risk"] < min_at_risk
    after_first = below.groupby(curves["group"]).cummax()
    return curves[~after_first]


def km_figure_from_counts(counts: pd.DataFrame, cohort_filter, spec, show_ci: bool = True,
                          small_cell_k: int = 0, min_at_risk: int = 0) -> alt.VConcatChart:
    """`km_figure` of counts already aggregated (`km_counts`); curves cut where fewer
    than `min_at_risk` patients remain at risk (0: drawn to the end)."""
    n = int(counts["n_event"].sum() + counts["n_censored"].sum())
    events = int(counts["n_event"].sum())
    counts, _ = suppress_small_groups(counts, small_cell_k)
    title = spec.endpoint_label() + (" by HCT ever (naive: immortal-time bias)" if spec.group == "hct" else "")
    curves = cut_below_at_risk(curves_from_counts(counts), min_at_risk)
    return km_chart(curves, counts, title=title,
                    group_title=spec.group_label() if spec.group else None, show_ci=show_ci,
                    y_title=endpoint_axis_title(spec), x_title=f"Months from {ORIGINS[spec.origin]}",
                    subtitle=view_caption(cohort_filter, spec, n, events, small_cell_k),
                    small_cell_k=small_cell_k)


def landmark_figure(db, cohort_filter, spec, landmark_day: int, show_ci: bool = True) -> alt.VConcatChart:
    """KM by HCT status at the landmark, time reset to the landmark (patients at risk there)."""
    return landmark_figure_from_counts(hct.landmark_counts(db, cohort_filter, spec, landmark_day),
                                       spec, landmark_day, show_ci)


def landmark_figure_from_counts(counts: pd.DataFrame, spec, landmark_day: int,
                                show_ci: bool = True) -> alt.VConcatChart:
    """`landmark_figure` of counts already aggregated (`hct.landmark_counts`). HCT has
    the colour it has in the naive chart ("yes" orange, "no" blue)."""
    yes, _ = hct.landmark_labels(int(landmark_day))
    naive = dict(zip(["no", "yes"], group_colors(["no", "yes"])))
    drawn = sorted(set(counts["group"]), key=str)
    n, events = int(counts[["n_event", "n_censored"]].to_numpy().sum()), int(counts["n_event"].sum())
    subtitle = (f"Patients alive and event-free at day {landmark_day} (n = {n}, {events} events), "
                f"grouped by HCT by then; time reset to the landmark")
    return km_chart(curves_from_counts(counts), counts,
                    title=f"Landmark analysis at day {landmark_day}: {spec.endpoint_label()}",
                    group_title="HCT status at landmark", show_ci=show_ci, y_title=endpoint_axis_title(spec),
                    x_title=f"Months after day {landmark_day}", subtitle=subtitle,
                    colors=[naive["yes"] if g == yes else naive["no"] for g in drawn])


def forest_figure(db, cohort_filter, spec, covariates: tuple[str, ...]) -> alt.Chart:
    """Forest plot of the Cox model of one view: the multivariable model when there is one,
    else the univariable hazard ratios."""
    res = cox.cox_analysis(db, cohort_filter, spec, tuple(covariates))
    source = res.multivariable if not res.multivariable.empty else res.univariable
    which = "multivariable" if not res.multivariable.empty else "univariable"
    n = int(source["n"].max()) if len(source) else 0
    return forest_chart(source, title=f"{spec.endpoint_label()}: {which} hazard ratios (n = {n})")


def cif_figure(db, cohort_filter, spec) -> alt.Chart:
    """Aalen-Johansen cumulative incidence of relapse and non-relapse mortality for one view."""
    counts = competing_risks.competing_counts(db, cohort_filter, spec)
    cif = competing_risks.aalen_johansen_from_counts(counts)
    n, _, _ = inclusion_summary(db, cohort_filter, spec)
    subtitle = (f"{POPULATIONS[spec.population]}, time from {ORIGINS[spec.origin]}; "
                f"filters: {cohort_filter.describe()}; n = {n}")
    return cif_chart(cif, title="Cumulative incidence of relapse and non-relapse mortality",
                     x_title=f"Months from {ORIGINS[spec.origin]}", subtitle=subtitle,
                     counts=competing_risks.all_cause_counts(counts))
