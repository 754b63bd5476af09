"""Captions, lines and caveats of the Survival page's views (what the numbers say and what to
beware of), built for the view functions in `analytics.views.survival`."""
from __future__ import annotations

import math

from analytics import survival
from analytics.filters import NOT_EVALUATED
from analytics.format import p_text, p_value
from analytics.units import patients_text
from analytics.views.result import Caveat


def bias_caveats(analysis: survival.SurvivalSpec) -> tuple[Caveat, ...]:
    if analysis.group == "hct":
        return (Caveat("Immortal-time bias", survival.hct.HCT_BIAS_TEXT),)
    if analysis.group in survival.POST_BASELINE_GROUPS:
        return (Caveat("Guarantee-time bias", survival.hct.POST_BASELINE_TEXT.format(
            label=survival.CATEGORICAL_GROUPS[analysis.group])),)
    return ()


def km_notes(analysis: survival.SurvivalSpec, view, small_cell_k: int) -> tuple[list[str], list[Caveat]]:
    """The Kaplan-Meier view's lines (log-rank test, median follow-up) and caveats."""
    caveats = list(bias_caveats(analysis))
    if view.withheld_groups:
        caveats.append(Caveat("Small-cell suppression", f"groups with fewer than {small_cell_k} patients are "
                              f"not drawn or tested ({', '.join(view.withheld_groups)}).", "info"))
    summary = view.summary
    for row in summary.itertuples():
        if row.note:
            caveats.append(Caveat(f"{row.group}" if analysis.group else "Small sample", f"{row.note}.", "info"))
    lines = []
    if analysis.group and not summary.empty:
        if (summary["group"] == NOT_EVALUATED).any():
            caveats.append(Caveat("Not evaluated", f"patients '{NOT_EVALUATED}' for this attribute are drawn as "
                                  "their own curve but left out of every test.", "info"))
        if view.logrank_reason == "one group":
            lines.append("Only one group has patients under these filters: no comparison is possible.")
        elif view.logrank_reason == "no events":
            lines.append("No events in any group: a log-rank test has nothing to compare.")
        elif view.logrank is not None:
            lr = view.logrank
            lines.append(f"Log-rank test ({len(lr.groups)} groups): chi-square {lr.statistic:.2f}, df {lr.df}, "
                         f"{p_text(lr.p_value, missing='n/a')}.")
            if (summary["events"] == 0).any() or (summary["n"] < survival.MIN_GROUP_SIZE).any():
                caveats.append(Caveat("Low power", "some groups are small or have no events: the log-rank "
                                      "test has little power and its p-value relies on a large-sample "
                                      "approximation.", "info"))
    if not math.isnan(view.median_followup_months):
        lines.append(f"Median follow-up (reverse Kaplan-Meier, all analysed patients): "
                     f"{view.median_followup_months:.1f} months.")
    return lines, caveats


def landmark_notes(view, day: int) -> tuple[list[str], list[Caveat]]:
    """The landmark view's lines (log-rank test or why there is none) and caveats."""
    lines, caveats = [], []
    groups = list(view.summary["group"]) if not view.summary.empty else []
    if view.n == 0:
        lines.append(f"No patient is still at risk at day {day}: choose an earlier landmark.")
    elif view.logrank is not None:
        lines.append(f"Landmark log-rank test: chi-square {view.logrank.statistic:.2f}, df 1, "
                     f"{p_text(view.logrank.p_value, missing='n/a')}.")
    elif len(groups) < 2:
        only = groups[0]
        lines.append(f"All {patients_text(view.n)} at risk at day {day} are in one group ({only}): "
                     + (f"nobody had received HCT by day {day}." if only.startswith("no ")
                        else "everyone at risk had received HCT.") + " Choose another landmark.")
    else:
        lines.append("No events after the landmark: the groups cannot be compared.")
    if 0 < view.n and view.events < 10:
        caveats.append(Caveat("Few events", f"only {view.events} events after the landmark: estimates are "
                              "imprecise.", "info"))
    return lines, caveats


def time_dependent_notes(tv, naive) -> tuple[tuple[str, ...], list[Caveat], dict]:
    """Lines, caveats and numbers of the time-dependent HCT view from the time-varying Cox fit `tv`
    (None: not estimable) and the naive 'HCT ever' hazard ratio `naive` (None: not estimable)."""
    caveats: list[Caveat] = []
    if tv is None:
        lines = ("Time-dependent Cox model not estimable: no patient (or every patient) received HCT "
                 "during follow-up, there are no events, or no events before or after HCT (the hazard "
                 "ratio would be 0 or infinite).",)
        numbers: dict = {}
    else:
        lines = (f"HR {tv.hr:.2f} (95% CI {tv.hr_lower:.2f} to {tv.hr_upper:.2f}), {p_text(tv.p_value, missing='n/a')}; "
                 f"{patients_text(tv.n_patients)}, {tv.n_hct} transplanted during follow-up, {tv.n_events} events "
                 f"({tv.n_events_after_hct} after HCT).",)
        numbers = {"hr": tv.hr, "hr_lower": tv.hr_lower, "hr_upper": tv.hr_upper, "p": tv.p_value,
                   "n": tv.n_patients, "events": tv.n_events, "n_hct": tv.n_hct}
        if naive is not None:
            lines += (f"For comparison only, the naive 'HCT ever' Cox model from time zero: {naive.text()}: "
                      "biased by immortal time, not an estimate of the effect of HCT.",)
            caveats.append(Caveat("Immortal-time bias", "the naive 'HCT ever' hazard ratio is shown only beside "
                                  "the time-dependent one, to show the size of the bias."))
            numbers["naive_hr"] = naive.hr
        if tv.n_events < 10:
            caveats.append(Caveat("Few events", f"only {tv.n_events} events: the hazard ratio is imprecise.",
                                  "info"))
    return lines, caveats, numbers


def landmark_sensitivity_row(day: int, counts, view) -> dict:
    """One row of the landmark-sensitivity table: who is at risk at `day`, grouped by HCT by then,
    with the log-rank p-value and the Cox hazard ratio (the raw hr columns are dropped for display)."""
    yes, no = survival.hct.landmark_labels(day)
    sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1) if len(counts) else {}
    hr = survival.hct.group_hazard_ratio(counts, yes, no)
    return {"Landmark day": day, "At risk": view.n, "Events after": view.events,
            "HCT by then": int(sizes.get(yes, 0)), "No HCT by then": int(sizes.get(no, 0)),
            "Log-rank p": "n/a" if view.logrank is None else p_value(view.logrank.p_value),
            "HR (95% CI), HCT vs none": "not estimable" if hr is None else
            f"{hr.hr:.2f} ({hr.lower:.2f} to {hr.upper:.2f})",
            "hr": math.nan if hr is None else hr.hr, "hr_lower": math.nan if hr is None else hr.lower,
            "hr_upper": math.nan if hr is None else hr.upper, "p": math.nan if hr is None else hr.p_value}


def simon_makuch_notes(analysis: survival.SurvivalSpec, exposure, rows, n: int,
                       switched: int) -> tuple[str, tuple[Caveat, ...]]:
    """The Simon-Makuch view's caption and caveats; `rows` are its counting-process counts."""
    events = rows["event"] * rows["weight"]
    after_events = int(events[rows["exposed"] == 1].sum()) if len(rows) else 0
    caption = (f"Patients count in '{exposure.before}' from {survival.ORIGINS[analysis.origin]} until the day of "
               f"{exposure.label} and in '{exposure.after}' from then on (delayed entry); product-limit "
               "estimates with 95% CI (log(-log) Greenwood). The number at risk shows patients moving "
               f"between the rows. n = {patients_text(n)}, {switched} with {exposure.label} during follow-up, "
               f"{int(events.sum())} events ({after_events} after {exposure.label}).")
    caveats = (Caveat("How to read it", f"the curves compare survival while in each state; they do not "
                      f"estimate what {exposure.label} does for a given patient, and the '{exposure.after}' "
                      f"curve at early times rests on the few patients with an early {exposure.label}.", "info"),)
    return caption, caveats
