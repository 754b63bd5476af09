"""Survival page views: Kaplan-Meier, HCT without immortal-time bias (landmark and time-dependent
Cox), Cox model, competing risks. The page, the deck and the report render these results.

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> spec, _ = SurvivalPageSpec.from_params({"group": "hct"})
>>> result = km(db, CohortFilter(), spec)
>>> result.caveats[0].heading
'Immortal-time bias'
>>> [r.key for r in slides(db, CohortFilter(), spec, 0)]
['survival.km', 'survival.simon_makuch', 'survival.landmark', 'survival.landmark_sensitivity', 'survival.time_dependent_hct']
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analytics import survival
from analytics.db import CohortDatabase
from analytics.disclosure import suppress_count
from analytics.filters import CohortFilter
from analytics.format import p_value, round_half_up
from analytics.views.page_views import PageViews
from analytics.views.result import Caveat, ViewResult
from analytics.views.survival_text import (km_notes, landmark_notes, landmark_sensitivity_row,
                                            simon_makuch_notes, time_dependent_notes)
from analytics.views.survival_methods import (  # endpoint_sentence: re-exported for the reproduce scripts
    competing_risks_methods, cox_methods, endpoint_sentence, km_methods, landmark_methods,
    landmark_sensitivity_methods, simon_makuch_methods, time_dependent_hct_methods)
from analytics.views.spec import OptionError, PageSpec, number, option

GROUP_CHOICES = ("", *survival.CATEGORICAL_GROUPS, *survival.CONTINUOUS_GROUPS)
GROUP_LABELS = {"": "None (whole population)", **survival.CATEGORICAL_GROUPS,
                **{k: f"{v} (split at cutoff)" for k, v in survival.CONTINUOUS_GROUPS.items()}}
PAIRWISE = {"none": "No pairwise tests", "holm": "Pairwise, Holm-adjusted",
            "bonferroni": "Pairwise, Bonferroni-adjusted"}
TABS = ("Kaplan-Meier", "Cox model", "Relapse vs non-relapse mortality", "Per-patient table")
DEFAULT_MILESTONES = "12, 24, 36"
LANDMARK_MAX_DAYS = 3650
TIME_DEPENDENT_METHOD = ("Cox model with HCT as a time-dependent covariate (counting-process rows, "
                         "Efron ties; fitted by the app's Newton-Raphson, which equals lifelines' "
                         "CoxTimeVaryingFitter)")


DEFAULT_LANDMARKS = "100, 180, 365"


def parse_landmarks(text: str) -> tuple[int, ...]:
    """'100, 180, 365' -> (100, 180, 365): 1 to 6 whole days from 1 to LANDMARK_MAX_DAYS.

    >>> parse_landmarks("365;100 180")
    (100, 180, 365)
    """
    parts = [p for p in text.replace(";", " ").replace(",", " ").split() if p]
    try:
        values = tuple(sorted({int(p) for p in parts}))
    except ValueError:
        raise ValueError("landmarks must be whole days") from None
    if not values or len(values) > 6 or any(not 1 <= v <= LANDMARK_MAX_DAYS for v in values):
        raise ValueError(f"1 to 6 landmark days from 1 to {LANDMARK_MAX_DAYS}")
    return values


def _landmarks(raw) -> str:
    text = raw if isinstance(raw, str) else raw[-1]
    try:
        parse_landmarks(text)
    except ValueError:
        raise OptionError(f"1 to 6 whole days from 1 to {LANDMARK_MAX_DAYS}, e.g. 100, 180, 365") from None
    return text


def _milestones(raw) -> str:
    text = raw if isinstance(raw, str) else raw[-1]
    try:
        survival.parse_milestones(text)
    except ValueError:
        raise OptionError("1 to 8 positive numbers of months, e.g. 12, 24, 36") from None
    return text


@dataclass(frozen=True)
class SurvivalPageSpec(PageSpec):
    """The survival page's options. `cutoff` None = the whole-cohort median of the grouping."""

    PAGE = "survival"
    endpoint: str = option("EFS", param="endpoint", choices=tuple(survival.ENDPOINTS), label="endpoint")
    efs: tuple = option(survival.ALL_EFS_EVENTS, param="efs", choices=survival.ALL_EFS_EVENTS, multi=True,
                        label="EFS events")
    origin: str = option("diagnosis", param="origin", choices=tuple(survival.ORIGINS), label="time origin")
    population: str = option("all", param="population", choices=tuple(survival.POPULATIONS),
                             label="population")
    group: str = option("", param="group", choices=GROUP_CHOICES, label="group by")
    cutoff: float | None = option(None, param="cutoff", parse=number(-1e9, 1e9), label="cutoff")
    ci: bool = option(True, param="ci", label="confidence bands")
    milestones: str = option(DEFAULT_MILESTONES, param="milestones", parse=_milestones, label="milestones")
    pairwise: str = option("none", param="pairwise", choices=tuple(PAIRWISE), label="pairwise tests")
    tab: str = option(TABS[0], param="surv_tab", choices=TABS, label="tab")
    landmark: int = option(180, param="landmark", parse=number(1, LANDMARK_MAX_DAYS, integer=True),
                           label="landmark day")
    cox: tuple = option(("age_at_ball_dx", "sex"), param="cox", choices=tuple(survival.cox.COX_COVARIATES),
                        multi=True, label="Cox covariates")
    landmarks: str = option(DEFAULT_LANDMARKS, param="landmarks", parse=_landmarks, label="landmark days")
    min_at_risk: int = option(0, param="min_at_risk", parse=number(0, 1000, integer=True),
                              label="cut curves below this many at risk")

    def landmark_days(self) -> tuple[int, ...]:
        return parse_landmarks(self.landmarks)

    def validated(self) -> "SurvivalPageSpec":
        changes = {}
        if self.group not in survival.CONTINUOUS_GROUPS and self.cutoff is not None:
            changes["cutoff"] = None  # a cutoff means nothing without a continuous grouping
        if self.cutoff is not None and not math.isfinite(self.cutoff):
            changes["cutoff"] = None
        if not self.efs:
            changes["efs"] = survival.ALL_EFS_EVENTS
        return self.with_(**changes) if changes else self

    def milestone_months(self) -> tuple[float, ...]:
        try:
            return survival.parse_milestones(self.milestones)
        except ValueError:
            return survival.parse_milestones(DEFAULT_MILESTONES)

    def analysis(self, db: CohortDatabase) -> survival.SurvivalSpec:
        """What is estimated (endpoint, events, origin, population, group and its cutoff)."""
        group = self.group or None
        cutoff = None
        if group in survival.CONTINUOUS_GROUPS:
            cutoff = self.cutoff if self.cutoff is not None else survival.continuous_median(db, group)
        return survival.SurvivalSpec(
            endpoint=self.endpoint, efs_events=self.efs if self.endpoint == "EFS" else survival.ALL_EFS_EVENTS,
            origin=self.origin, population=self.population, group=group, cutoff=cutoff).validate()


def km(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
       small_cell_k: int = 0) -> ViewResult:
    """The Kaplan-Meier view: curves with number at risk, per-group summary, log-rank test."""
    analysis = spec.analysis(db)
    milestones = spec.milestone_months()
    counts = survival.km_counts(db, cohort_filter, analysis)
    view = survival.view_from_counts(counts, milestones, small_cell_k, spec.pairwise,
                                     grouped=analysis.group is not None)
    n_included, n_excluded, reasons = survival.inclusion_summary(db, cohort_filter, analysis)
    title = f"Survival: {analysis.endpoint_label()}" + (f" by {analysis.group_label()}" if analysis.group else "")
    summary = view.summary
    lines, caveats = km_notes(analysis, view, small_cell_k)
    caption = (f"Kaplan-Meier with 95% CI (log(-log) Greenwood) and number at risk. "
               f"{survival.view_caption(cohort_filter, analysis, n_included, view.events, small_cell_k)}"
               + (f"; {suppress_count(n_excluded, small_cell_k)} excluded ({', '.join(reasons)})"
                  if n_excluded else "") + ".")
    shown = survival.summary_display(summary, milestones) if not summary.empty else pd.DataFrame()
    # per-group median follow-up (reverse Kaplan-Meier) is a column of this table
    if small_cell_k > 1 and not shown.empty:
        shown = shown.assign(N=[suppress_count(x, small_cell_k) for x in shown["N"]],
                             Events=[suppress_count(x, small_cell_k) for x in shown["Events"]])
    figure = (survival.chart.km_figure_from_counts(counts, cohort_filter, analysis, spec.ci, small_cell_k,
                                                   spec.min_at_risk)
              if not summary.empty else None)
    if spec.min_at_risk > 0:
        caption += f" Curves end where fewer than {spec.min_at_risk} patients remain at risk."
    numbers = {"n": view.n, "events": view.events, "n_included": n_included, "n_excluded": n_excluded,
               "median_followup_months": view.median_followup_months}
    if analysis.group is None and not summary.empty:
        first = summary.iloc[0]
        numbers |= {"median_months": float(first["median_months"]),
                    "median_ci_lower_months": float(first["median_ci_lower_months"]),
                    "median_ci_upper_months": float(first["median_ci_upper_months"])}
    return ViewResult(
        page="survival", key="survival.km", title=title, caption=caption, caveats=tuple(caveats),
        figure=figure, figure_name=f"km_{analysis.endpoint.lower()}", n_patients=view.n,
        tables={"summary": shown, "summary_raw": summary,
                **({"pairwise": view.pairwise} if view.pairwise is not None else {})},
        numbers=numbers | {"withheld_groups": view.withheld_groups, "logrank_reason": view.logrank_reason,
                           "logrank": view.logrank},
        lines=tuple(lines), methods=km_methods(analysis, spec.pairwise if view.pairwise is not None else "none",
                                              spec.min_at_risk))


def landmark(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
             small_cell_k: int = 0) -> ViewResult:
    """HCT by the landmark day: KM from the landmark of patients still at risk then."""
    analysis = spec.analysis(db)
    day = spec.landmark
    counts = survival.hct.landmark_counts(db, cohort_filter, analysis, day)
    view = survival.view_from_counts(counts, spec.milestone_months())
    title = f"Survival: landmark analysis of HCT at day {day} ({analysis.endpoint_label()})"
    caption = (f"Patients alive and event-free at day {day} from {survival.ORIGINS[analysis.origin]}, "
               f"grouped by HCT on or before that day; time restarts at the landmark. Transplants "
               f"after day {day} count as no HCT (intention-to-treat at the landmark).")
    lines, caveats = landmark_notes(view, day)
    return ViewResult(
        page="survival", key="survival.landmark", title=title, caption=caption, caveats=tuple(caveats),
        figure=(survival.chart.landmark_figure_from_counts(counts, analysis, day, spec.ci)
                if view.n else None),
        figure_name=f"landmark_day{day}", n_patients=view.n,
        tables={"summary": survival.summary_display(view.summary, spec.milestone_months())
                if not view.summary.empty else pd.DataFrame()},
        numbers={"n": view.n, "events": view.events, "logrank": view.logrank}, lines=tuple(lines),
        methods=landmark_methods(analysis, day))


def time_dependent_hct(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                       small_cell_k: int = 0) -> ViewResult:
    """Hazard ratio of HCT as a time-dependent covariate: each patient counts as untransplanted
    until the day of HCT."""
    analysis = spec.analysis(db)
    tv = survival.hct.hct_time_varying_cox(db, cohort_filter, analysis)
    title = f"Survival: HCT as a time-dependent covariate ({analysis.endpoint_label()})"
    naive = None if tv is None else survival.hct.group_hazard_ratio(
        survival.km_counts(db, cohort_filter, analysis.with_(group="hct", cutoff=None)), "yes", "no")
    lines, caveats, numbers = time_dependent_notes(tv, naive)
    methods = time_dependent_hct_methods(analysis)
    return ViewResult(page="survival", key="survival.time_dependent_hct", title=title,
                      caption=TIME_DEPENDENT_METHOD + ". Each patient counts as untransplanted until the day "
                      "of HCT.", caveats=tuple(caveats), n_patients=numbers.get("n", 0), numbers=numbers,
                      lines=lines, methods=methods)


# Which time-dependent exposure a post-baseline grouping is drawn as in a Simon-Makuch plot.
SIMON_MAKUCH_EXPOSURE = {"hct": "hct", "best_response": "cr"}


def simon_makuch(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                 small_cell_k: int = 0) -> ViewResult:
    """Survival by a time-dependent exposure (HCT, or first CR/CRi for the best-response
    grouping): patients switch from the "before" to the "after" curve on the day it happens."""
    analysis = spec.analysis(db)
    exposure = survival.hct.EXPOSURES[SIMON_MAKUCH_EXPOSURE.get(spec.group, "hct")]
    rows = survival.hct.counting_process_counts(db, cohort_filter, analysis,
                                                SIMON_MAKUCH_EXPOSURE.get(spec.group, "hct"))
    labels = (exposure.before, exposure.after)
    curves = survival.simon_makuch.extended_km(rows, labels)
    title = f"Survival: Simon-Makuch plot of {analysis.endpoint_label()} by {exposure.label}"
    n = int(rows["n_patients"].iloc[0]) if len(rows) else 0
    switched = int(rows["n_exposed"].iloc[0]) if len(rows) else 0
    events = rows["event"] * rows["weight"]
    caption, caveats = simon_makuch_notes(analysis, exposure, rows, n, switched)
    figure = None
    if len(curves):
        drawn = list(dict.fromkeys(curves["group"]))
        naive = dict(zip(labels, survival.chart.group_colors(["no", "yes"])))
        figure = survival.chart.km_chart(
            curves, rows, title=title.removeprefix("Survival: "), group_title=f"State ({exposure.label})",
            show_ci=spec.ci, y_title=survival.chart.endpoint_axis_title(analysis),
            x_title=f"Months from {survival.ORIGINS[analysis.origin]}", small_cell_k=small_cell_k,
            colors=[naive[g] for g in drawn],
            at_risk=lambda ticks: survival.simon_makuch.at_risk_table(rows, labels, ticks))
    return ViewResult(page="survival", key="survival.simon_makuch", title=title, caption=caption,
                      caveats=caveats, figure=figure, figure_name=f"simon_makuch_{analysis.endpoint.lower()}",
                      n_patients=n, tables={"curves": curves},
                      numbers={"n": n, "switched": switched, "events": int(events.sum())},
                      methods=simon_makuch_methods(analysis, exposure))


def landmark_sensitivity(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                         small_cell_k: int = 0) -> ViewResult:
    """The landmark analysis at several days side by side: does the answer move with the day?"""
    analysis = spec.analysis(db)
    rows = []
    for day in spec.landmark_days():
        counts = survival.hct.landmark_counts(db, cohort_filter, analysis, day)
        view = survival.view_from_counts(counts, spec.milestone_months())
        rows.append(landmark_sensitivity_row(day, counts, view))
    table = pd.DataFrame(rows)
    estimable = table.dropna(subset=["hr"])
    figure = None
    if len(estimable):
        figure = survival.chart.forest_chart(estimable.assign(term=[f"Landmark day {d}" for d in estimable["Landmark day"]]),
                                             title=f"HCT by the landmark vs none: {analysis.endpoint_label()}")
    lines = tuple(f"Day {r['Landmark day']}: {r['At risk']} at risk ({r['HCT by then']} transplanted), "
                  f"{r['Events after']} events; HR {r['HR (95% CI), HCT vs none']}" for r in rows)
    caveats = []
    if len(estimable) >= 2 and ((estimable["hr_upper"] < 1).any() != (estimable["hr_upper"] < 1).all()
                                or (estimable["hr"] < 1).any() != (estimable["hr"] < 1).all()):
        caveats.append(Caveat("The answer depends on the landmark", "the direction or the significance of the "
                              "HCT comparison changes between landmark days; report all of them.", "warning"))
    return ViewResult(page="survival", key="survival.landmark_sensitivity",
                      title=f"Survival: landmark sensitivity of HCT ({analysis.endpoint_label()})",
                      caption="Each row: patients alive and event-free at the landmark day, grouped by HCT on or "
                              "before it, time restarted there; Cox hazard ratio (Efron ties, Wald CI) of HCT by "
                              "the landmark and log-rank test.",
                      caveats=tuple(caveats), figure=figure, figure_name="landmark_sensitivity",
                      n_patients=int(table["At risk"].max()) if len(table) else 0,
                      tables={"landmarks": table.drop(columns=["hr", "hr_lower", "hr_upper", "p"])}, lines=lines,
                      methods=landmark_sensitivity_methods(analysis, spec.landmark_days()))


def cox(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
        small_cell_k: int = 0) -> ViewResult:
    """Cox proportional-hazards models of the chosen covariates (univariable and multivariable)."""
    analysis = spec.analysis(db)
    covariates = tuple(spec.cox)
    res = survival.cox.cox_analysis(db, cohort_filter, analysis, covariates)
    caveats = [Caveat("", message, "info") for message in res.messages]
    tables: dict[str, pd.DataFrame] = {}
    figure, n = None, 0
    if not res.univariable.empty:
        both = pd.concat([res.univariable, res.multivariable], ignore_index=True)
        tables["models"] = both.assign(**{
            "HR (95% CI)": [f"{h:.2f} ({lo:.2f} to {hi:.2f})" for h, lo, hi in
                            zip(both["hr"], both["hr_lower"], both["hr_upper"])],
            "p": both["p"].map(p_value)}
        )[["model", "term", "HR (95% CI)", "p", "n", "events"]]
        source = res.multivariable if not res.multivariable.empty else res.univariable
        which = "multivariable" if not res.multivariable.empty else "univariable"
        n = int(source["n"].max())
        figure = survival.chart.forest_chart(
            source, title=f"{analysis.endpoint_label()}: {which} hazard ratios (n = {n})")
    if len(covariates) > 1 and not math.isnan(res.events_per_variable):
        epv = res.events_per_variable
        text = (f"Multivariable model: {res.n_complete} of {res.n_total} patients with all covariates "
                f"evaluated; {epv:.1f} events per model term.")
        if epv < survival.cox.EPV_THRESHOLD:
            caveats.append(Caveat("Few events per variable", text + f" Below {survival.cox.EPV_THRESHOLD} "
                                  "events per variable the estimates are unstable and biased away from 1; "
                                  "treat them as exploratory."))
        else:
            caveats.append(Caveat("", text, "info"))
    if "hct" in covariates:
        caveats.insert(0, Caveat("Immortal-time bias", survival.hct.HCT_BIAS_TEXT))
    if not res.ph_test.empty:
        tables["ph_test"] = res.ph_test.assign(p=res.ph_test["p"].map(p_value),
                                               test_statistic=res.ph_test["test_statistic"].map(lambda x: round_half_up(x, 3)))
    labels = ", ".join(survival.cox.COX_COVARIATES[c][0] for c in covariates)
    return ViewResult(
        page="survival", key="survival.cox", title=f"Survival: Cox model of {analysis.endpoint_label()}",
        caption=f"Cox proportional hazards (Efron ties), covariates: {labels}. Hazard ratios with 95% "
                "Wald CIs; univariable models on each covariate's complete cases.",
        caveats=tuple(caveats), figure=figure, figure_name="cox_forest", n_patients=n, tables=tables,
        methods=cox_methods(analysis, labels))


def competing_risks(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                    small_cell_k: int = 0) -> ViewResult:
    """Aalen-Johansen cumulative incidence of relapse and non-relapse mortality."""
    analysis = spec.analysis(db)
    counts = survival.competing_risks.competing_counts(db, cohort_filter, analysis)
    cif = survival.competing_risks.aalen_johansen_from_counts(counts)
    n, _, _ = survival.inclusion_summary(db, cohort_filter, analysis)
    at = pd.concat([survival.competing_risks.cif_at(cif, m) for m in spec.milestone_months()], ignore_index=True)
    at["CIF, % (95% CI)"] = [
        "beyond follow-up" if pd.isna(c) else f"{100 * c:.1f} ({100 * lo:.1f} to {100 * hi:.1f})"
        for c, lo, hi in zip(at["cif"], at["ci_lower"], at["ci_upper"])]
    subtitle = (f"{survival.POPULATIONS[analysis.population]}, time from {survival.ORIGINS[analysis.origin]}; "
                f"filters: {cohort_filter.describe()}; n = {n}")
    figure = survival.chart.cif_chart(cif, title="Cumulative incidence of relapse and non-relapse mortality",
                                      x_title=f"Months from {survival.ORIGINS[analysis.origin]}", subtitle=subtitle,
                                      counts=survival.competing_risks.all_cause_counts(counts))
    return ViewResult(
        page="survival", key="survival.competing_risks",
        title="Survival: cumulative incidence of relapse and non-relapse mortality",
        caption="Aalen-Johansen cumulative incidence (95% CI, log(-log)) from the same time origin and "
                "population, number at risk under the axis. Relapse competes with death without relapse "
                "(non-relapse mortality); deaths after induction failure without a documented relapse count "
                "as non-relapse mortality. No test between groups is shown: Gray's test is not in the "
                "libraries the app uses (lifelines, scipy, statsmodels).",
        figure=figure, figure_name="cumulative_incidence", n_patients=n,
        tables={"milestones": at[["group", "cause", "months", "CIF, % (95% CI)"]]},
        methods=competing_risks_methods(analysis))


def hct_views_apply(spec: SurvivalPageSpec, small_cell_k: int) -> bool:
    """The landmark and time-dependent HCT analyses go with any view grouped by HCT (withheld
    under small-cell suppression: their risk sets are small)."""
    return spec.group == "hct" and small_cell_k <= 1


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
           small_cell_k: int = 0) -> list[ViewResult]:
    """Kaplan-Meier always; with HCT as the grouping, also the landmark and time-dependent Cox
    results; the open tab's view when it is the Cox model or competing risks."""
    if survival.inclusion_summary(db, cohort_filter, spec.analysis(db))[0] == 0:
        return []
    results = [km(db, cohort_filter, spec, small_cell_k)]
    if results[0].figure is None:
        return []
    if hct_views_apply(spec, small_cell_k):
        results += [simon_makuch(db, cohort_filter, spec), landmark(db, cohort_filter, spec),
                    landmark_sensitivity(db, cohort_filter, spec), time_dependent_hct(db, cohort_filter, spec)]
    elif spec.group in SIMON_MAKUCH_EXPOSURE and small_cell_k <= 1:
        results.append(simon_makuch(db, cohort_filter, spec))
    if small_cell_k <= 1 and spec.tab == TABS[1] and spec.cox:
        results.append(cox(db, cohort_filter, spec))
    elif small_cell_k <= 1 and spec.tab == TABS[2]:
        results.append(competing_risks(db, cohort_filter, spec))
    return results


PAGE_VIEWS = PageViews(page="survival", title="Survival", spec=SurvivalPageSpec, slides=slides)
