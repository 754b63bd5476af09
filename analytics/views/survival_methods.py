"""The methods paragraph of each view of the Survival page (endpoint definition, estimators,
intervals and tests in plain English), read by the view functions in `analytics.views.survival`."""
from __future__ import annotations

from analytics import survival
from analytics.views.methods import paragraph


def endpoint_sentence(analysis: survival.SurvivalSpec) -> str:
    """How the endpoint was defined: events, time origin, population and censoring."""
    if analysis.endpoint == "OS":
        events = "death from any cause"
    else:
        names = [survival.EFS_EVENT_LABELS[e] for e in analysis.event_names]
        events = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
        events = events.replace("death", "death from any cause")
    return (f"{analysis.endpoint_label()} was measured from {survival.ORIGINS[analysis.origin]} to the first of "
            f"{events}; patients without an event were censored at last contact. "
            f"Population: {survival.POPULATIONS[analysis.population].lower()}"
            + ("" if analysis.origin == "diagnosis" else "; patients never treated have no time origin and were "
               "excluded") + ". Months are days / 30.4375.")


def km_methods(analysis: survival.SurvivalSpec, pairwise: str, min_at_risk: int) -> str:
    """`pairwise` is the adjustment of the pairwise tests that ran ("none" when none ran)."""
    sentences = [endpoint_sentence(analysis),
                 "Survival was estimated with the Kaplan-Meier method [1]; 95% confidence intervals for the "
                 "survival function and the median used Greenwood's variance [2] with the log(-log) "
                 "transformation [3]."]
    references = ["kaplan_meier", "greenwood", "loglog", "reverse_km"]
    if analysis.group:
        sentences.append(f"Groups ({analysis.group_label()}) were compared with the log-rank test [5]; patients "
                         "not evaluated for the grouping attribute were shown but left out of the test.")
        references.append("logrank")
        if pairwise != "none":
            sentences.append(f"Pairwise log-rank p-values were adjusted by the {pairwise.capitalize()} method"
                             + (" [6]." if pairwise == "holm" else "."))
            references += ["holm"] if pairwise == "holm" else []
    sentences.insert(2, "Median follow-up was estimated by the reverse Kaplan-Meier method [4].")
    if min_at_risk:
        sentences.append(f"Curves are not drawn where fewer than {min_at_risk} patients remained at risk.")
    if analysis.group in survival.POST_BASELINE_GROUPS:
        sentences.append("The grouping is defined after time zero; the naive comparison is subject to "
                         "immortal-time bias and is descriptive only.")
    return paragraph(sentences, ("lifelines",), tuple(references))


def landmark_methods(analysis: survival.SurvivalSpec, day: int) -> str:
    return paragraph([endpoint_sentence(analysis),
                      f"To avoid immortal-time bias [1], a landmark analysis [2] at day {day} included the "
                      "patients alive and event-free at the landmark, grouped them by allogeneic HCT on or "
                      "before that day (later transplants counted as no HCT), and restarted time at the "
                      "landmark. Survival was estimated by Kaplan-Meier [3] with log(-log) Greenwood 95% "
                      "intervals [4] and compared by the log-rank test [5]."],
                     ("lifelines",), ("immortal_time", "landmark", "kaplan_meier", "loglog", "logrank"))


def time_dependent_hct_methods(analysis: survival.SurvivalSpec) -> str:
    return paragraph([
        endpoint_sentence(analysis),
        "The association of allogeneic HCT with the endpoint was estimated with a Cox proportional-hazards "
        "model [1] with HCT as a time-dependent covariate [2] (counting-process data: each patient "
        "contributes untransplanted time until the day of HCT and transplanted time afterwards), Efron's "
        "method for ties [3] and Wald 95% confidence intervals. The model was fitted by Newton-Raphson "
        "on rows collapsed by identical (start, stop, state, event), which gives the same estimates as "
        "lifelines' CoxTimeVaryingFitter on one row per interval. The naive comparison by HCT ever, "
        "which credits pre-transplant time to the transplanted group, is subject to immortal-time "
        "bias [4] and is reported for comparison only."],
        ("lifelines", "scipy", "numpy"), ("cox", "time_dependent", "efron", "immortal_time"))


def simon_makuch_methods(analysis: survival.SurvivalSpec, exposure) -> str:
    """`exposure` is one of `survival.hct.EXPOSURES` (label, before and after states)."""
    return paragraph([
        endpoint_sentence(analysis),
        f"Survival by {exposure.label} as a time-dependent state was shown as a Simon-Makuch "
        f"plot [1]: each patient contributed to the '{exposure.before}' estimate from time zero "
        f"until {exposure.label} and to the '{exposure.after}' estimate afterwards (delayed "
        "entry), with product-limit estimates [2], Greenwood variance [3] and log(-log) 95% "
        "intervals [4]. The plot describes survival while in each state and avoids "
        "immortal-time bias [5]; it does not estimate a causal effect."],
        ("numpy", "scipy"), ("simon_makuch", "kaplan_meier", "greenwood", "loglog", "immortal_time"))


def landmark_sensitivity_methods(analysis: survival.SurvivalSpec, days: tuple[int, ...]) -> str:
    return paragraph([
        endpoint_sentence(analysis),
        "The landmark analysis [1] was repeated at days "
        + ", ".join(str(d) for d in days) + " from the time origin: at each "
        "landmark, patients alive and event-free were grouped by allogeneic HCT by then and "
        "compared from the landmark with a Cox model [2] (Efron ties [3], Wald 95% CI) and "
        "the log-rank test [4], to show whether the conclusion depends on the landmark day."],
        ("lifelines", "scipy"), ("landmark", "cox", "efron", "logrank"))


def cox_methods(analysis: survival.SurvivalSpec, labels: str) -> str:
    """`labels` names the covariates, comma-separated."""
    return paragraph([
        endpoint_sentence(analysis),
        f"Hazard ratios for {labels} were estimated with Cox proportional-hazards models [1] with Efron's "
        "method for ties [2] and Wald 95% confidence intervals: univariable models on each covariate's "
        "complete cases and one multivariable model on the patients with every covariate evaluated. "
        "Proportional hazards were checked with scaled Schoenfeld residuals against the rank of time [3]. "
        f"Fewer than {survival.cox.EPV_THRESHOLD} events per model term were flagged as unstable [4]."],
        ("lifelines", "scipy"), ("cox", "efron", "schoenfeld", "epv"))


def competing_risks_methods(analysis: survival.SurvivalSpec) -> str:
    return paragraph([
        f"Time was measured from {survival.ORIGINS[analysis.origin]} "
        f"({survival.POPULATIONS[analysis.population].lower()}); relapse and death without relapse "
        "(non-relapse mortality) were competing events and patients without either were censored at last "
        "contact. Cumulative incidence was estimated by the Aalen-Johansen method [1] with delta-method "
        "variance and log(-log) 95% intervals [2]. No test between groups was performed."],
        ("numpy", "scipy"), ("aalen_johansen", "loglog"))
