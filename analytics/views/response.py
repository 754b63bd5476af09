"""The Response page's options and views: best response, CR/CRi by group, MRD and time to CR,
the swimmer plot, the treatment flow, current status and the untreated patients, as the page,
its link, the deck and the report show them.

Under small-cell suppression (k > 1) only the best response honours it (counts below k read
'<k', with secondary suppression); every other view shows individual patients or tables whose
small cells the margins would give back, and is withheld.

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> spec, notices = ResponseSpec.from_params({"group": "tp53_status", "resp_sort": "sideways"})
>>> spec.to_params()
[('group', 'tp53_status')]
>>> notices[0]
'resp_sort: "sideways" is not one of default, duration, response, regimen; the default default is used.'
>>> best_response(db, CohortFilter(institution=("Site B",)), spec).lines[0]
'CR or CRi: 5/6 treated patients with an assessment (83.3%, exact 95% CI 35.9–99.6%).'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analytics import response as r
from analytics.response import flow, swimmer as sw
from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.disclosure import hidden_count, suppressed_cells, suppressed_label, suppression_note
from analytics.filters import CohortFilter
from analytics.format import p_text, percent, percent_range
from analytics.units import DAYS_PER_MONTH, patients_text
from analytics.views.page_views import PageViews
from analytics.views.result import Caveat, ViewResult, withheld
from analytics.views.methods import describes
from analytics.views.response_methods import (best_response_methods, by_group_methods, mrd_methods, swimmer_methods,
                                               flow_methods, status_methods, untreated_methods)
from analytics.views.spec import PageSpec, option

PAGE = "response"
SMALL_GROUP = 5  # below it a group comparison has little power (said with the test)


@dataclass(frozen=True)
class ResponseSpec(PageSpec):
    """The page's options (URL parameters as before: group, resp_origin, resp_sort, ...)."""

    PAGE = PAGE
    group: str = option(r.DEFAULT_GROUP, param="group", choices=tuple(r.GROUP_FEATURES), label="CR/CRi by")
    origin: str = option("treatment", param="resp_origin", choices=tuple(r.TIME_ORIGINS),
                         label="Time to CR/CRi from")
    sort: str = option("default", param="resp_sort", choices=tuple(sw.SORTS), label="Swimmer order")
    swimmer_origin: str = option("diagnosis", param="resp_swimmer_origin", choices=tuple(sw.ORIGINS),
                                 label="Swimmer bars start at")

    def validated(self) -> "ResponseSpec":
        """Every value one of its choices (else its default)."""
        return self.with_(**{f.name: f.default for f in self.options()
                             if getattr(self, f.name) not in f.metadata["choices"]})


def _patients(n: int) -> str:
    return "patient" if n == 1 else "patients"


def _responders(n: int) -> str:
    return "responder" if n == 1 else "responders"


def _withheld(key: str, title: str, k: int) -> ViewResult:
    return withheld(PAGE, key, title, "this view (individual patients or small counts)", k)


# --- best response --------------------------------------------------------------------------------
@describes(best_response_methods)
def best_response(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                  small_cell_k: int = 0) -> ViewResult:
    """Best response among treated patients with an assessment, with exact 95% CIs; under
    small-cell suppression counts below k read '<k' (and the cell that would give one back)."""
    title = "Response: best response among treated patients"
    k = small_cell_k
    s = r.best_response_brief(db, cohort_filter)
    n_unassessed = s.n_treated - s.n_treated_assessed
    responders_hidden = suppressed_cells([s.n_responders, s.n_treated_assessed - s.n_responders], k)[0]
    treated_hidden = suppressed_cells([s.n_treated, s.n_untreated], k)
    # numbers hidden under suppression are left out; the texts are what may be shown
    numbers = {"n_patients": s.n_patients, "n_treated_assessed": s.n_treated_assessed, "any_treated": s.n_treated > 0,
               "responders_text": (suppressed_label(s.n_responders, s.n_treated_assessed, k) if responders_hidden
                                   else f"{s.n_responders}/{s.n_treated_assessed} ({percent(s.rate)})"),
               "ci_text": "suppressed" if responders_hidden else percent_range(s.ci_low, s.ci_high),
               "treated_text": " / ".join(hidden_count(x, k) if hide else str(x)
                                          for x, hide in zip((s.n_treated, s.n_untreated), treated_hidden))}
    if not responders_hidden:
        numbers.update(n_responders=s.n_responders, rate=s.rate, ci_low=s.ci_low, ci_high=s.ci_high)
    if not any(treated_hidden):
        numbers.update(n_treated=s.n_treated, n_untreated=s.n_untreated, n_unassessed=n_unassessed)
    if s.n_treated == 0:
        return ViewResult(PAGE, f"{PAGE}.best_response", title, numbers=numbers, caveats=(Caveat(
            "No treated patient", f"No patient in the current selection received B-ALL treatment "
                                  f"({s.n_untreated} untreated): there is no response to assess.", "info"),))
    caveats = []
    if n_unassessed:
        if k > 1:
            text = ("Some treated patients have no response assessment recorded; they are not counted in "
                    "the denominator (unknown, not failures).")
        else:
            more = n_unassessed - len(s.unassessed)
            listed = ", ".join(s.unassessed) + (f", ... and {more:,} more" if more else "")
            text = (f"{patients_text(n_unassessed)} treated without a response assessment recorded ({listed}): "
                    "not counted in the denominator (unknown, not failures).")
        caveats.append(Caveat("Not assessed", text))
    if 0 < s.n_treated_assessed < 10:
        caveats.append(Caveat("Small sample", f"Only {patients_text(s.n_treated_assessed)} treated with an "
                                              "assessment: the intervals are wide; read the counts, not the "
                                              "percentages."))
    if s.n_treated_assessed == 0:
        return ViewResult(PAGE, f"{PAGE}.best_response", title, caveats=tuple(caveats), numbers=numbers)
    t = s.table
    small = suppressed_cells(t["n"], k)
    table = pd.DataFrame({
        "Best response": t["response"].map(r.RESPONSE_LABELS),
        "n/N": [suppressed_label(x.n, x.denominator, k) if hide else f"{x.n}/{x.denominator}"
                for x, hide in zip(t.itertuples(), small)],
        "%": ["" if hide else percent(x) for x, hide in zip(t["pct"], small)],
        "Exact 95% CI": ["" if hide else percent_range(x.ci_low, x.ci_high) for x, hide in zip(t.itertuples(), small)]})
    if responders_hidden:
        line = (f"CR or CRi: {suppressed_label(s.n_responders, s.n_treated_assessed, k)} treated "
                f"{_patients(s.n_treated_assessed)} with an assessment (small counts suppressed).")
    else:
        line = (f"CR or CRi: {s.n_responders}/{s.n_treated_assessed} treated {_patients(s.n_treated_assessed)} "
                "with an assessment "
                f"({percent(s.rate)}, exact 95% CI {percent_range(s.ci_low, s.ci_high)}).")
    caption = ("Best response over all lines. Not evaluable (e.g. death before assessment) stays in the "
               "denominator. Bars: exact (Clopper-Pearson) 95% CI.")
    if k > 1:
        caption += f" {suppression_note(k)} No bar is drawn for them."
    return ViewResult(PAGE, f"{PAGE}.best_response", title, caption=caption, caveats=tuple(caveats),
                      figure=r.best_response_chart(s, small_cell_k=k), figure_name="best_response",
                      n_patients=s.n_treated_assessed, tables={"best_response": table}, numbers=numbers,
                      lines=(line,))


# --- CR/CRi by group ------------------------------------------------------------------------------
@describes(by_group_methods)
def by_group(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
             small_cell_k: int = 0) -> ViewResult:
    """CR/CRi rate per group of `spec.group` with exact CIs and the exact test on the evaluable
    groups (not-evaluated patients shown apart, left out of the test)."""
    label = r.GROUP_FEATURES[spec.group][0]
    title = f"Response: CR/CRi by {label}"
    key = f"{PAGE}.by_group"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    comp = r.response_by_group(db, cohort_filter, spec.group)
    rates = comp.rates
    n = int(rates["n"].sum())
    numbers = {"n_assessed": n, "test": comp.test_name, "p_value": comp.p_value, "method": comp.method,
               "odds_ratio": comp.odds_ratio, "or_ci": comp.or_ci}
    if n == 0:
        return ViewResult(PAGE, key, title, numbers=numbers, caveats=(Caveat(
            "Nothing to compare", "No treated patient with a response assessment in the selection.", "info"),))
    caveats = []
    n_excluded = int(rates.loc[~rates["evaluable"], "n"].sum())
    if n_excluded:
        caveats.append(Caveat("Not evaluated left out", (
            f"{n_excluded} patients with {label} not evaluated are shown but left out of the test."
            if n_excluded > 1 else f"1 patient with {label} not evaluated is shown but left out of the test.")))
    evaluable = rates[rates["evaluable"]]
    if len(evaluable) >= 2 and (evaluable["responders"].sum() in (0, evaluable["n"].sum())):
        caveats.append(Caveat("Uninformative test", "All evaluable patients had the same outcome: the test "
                                                    "is uninformative (p = 1)."))
    if rates["n"].min() < SMALL_GROUP:
        caveats.append(Caveat("Small groups", f"Some groups have fewer than {SMALL_GROUP} patients: exact "
                                              "methods are used, but power is low and a large p-value is "
                                              "not evidence of no difference."))
    if comp.test_name == "no test":
        line = f"No test: {comp.method}."
    else:
        line = f"{comp.test_name} on CR/CRi vs no CR/CRi: {p_text(comp.p_value)} ({comp.method})"
        if comp.odds_ratio is not None and not math.isnan(comp.odds_ratio):
            first, second = evaluable["group"].iloc[0], evaluable["group"].iloc[1]
            line += (f"; odds ratio of CR/CRi, {first} vs {second}, {comp.odds_ratio:.2f} (exact 95% CI "
                     f"{comp.or_ci[0]:.2f}–{comp.or_ci[1]:.2f}; conditional maximum-likelihood, as R fisher.test)")
        line += "."
    table = pd.DataFrame({
        label: rates["group"], "CR/CRi": [f"{x.responders}/{x.n}" for x in rates.itertuples()],
        "%": [percent(x) for x in rates["rate"]],
        "Exact 95% CI": [percent_range(x.ci_low, x.ci_high) for x in rates.itertuples()],
        "In test": ["yes" if e else "no (not evaluated)" for e in rates["evaluable"]]})
    return ViewResult(
        PAGE, key, title, caption="Points: CR/CRi among treated patients with an assessment, with exact "
                                  "(Clopper-Pearson) 95% CIs; grey: not evaluated (left out of the test).",
        caveats=tuple(caveats), figure=r.group_rate_chart(comp), figure_name=f"cr_by_{spec.group}",
        n_patients=n, numbers=numbers, lines=(line,),
        tables={"rates": table, "contingency": comp.contingency.rename(columns={"group": label})})


# --- MRD and time to CR ---------------------------------------------------------------------------
@describes(mrd_methods)
def mrd_and_time_to_cr(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                       small_cell_k: int = 0) -> ViewResult:
    """MRD negativity among responders (exact CI) with the methods that define it, and the time to
    the first CR/CRi from `spec.origin` (median and range, among responders)."""
    title = "Response: MRD and time to CR/CRi"
    key = f"{PAGE}.mrd"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    mrd = r.mrd_summary(db, cohort_filter)
    numbers = {"n_responders": mrd.n_responders, "n_mrd_evaluated": mrd.n_evaluated,
               "n_mrd_negative": mrd.n_negative, "mrd_ci_low": mrd.ci_low, "mrd_ci_high": mrd.ci_high}
    if mrd.n_responders == 0:
        return ViewResult(PAGE, key, title, numbers=numbers, caveats=(Caveat(
            "No responder", "No patient in the selection reached CR/CRi: MRD and time to CR do not apply.",
            "info"),))
    ttc = r.time_to_cr_brief(db, cohort_filter, spec.origin)
    numbers.update(ttc_n=ttc.n, ttc_median_days=ttc.median_days, ttc_min_days=ttc.min_days,
                   ttc_max_days=ttc.max_days)
    months = DAYS_PER_MONTH
    rate = mrd.n_negative / mrd.n_evaluated if mrd.n_evaluated else math.nan
    lines = (f"MRD-negative: {mrd.n_negative}/{mrd.n_evaluated} {_responders(mrd.n_evaluated)} with an MRD "
             f"result ({percent(rate)}, exact 95% CI {percent_range(mrd.ci_low, mrd.ci_high)}); "
             f"{mrd.n_not_evaluated} of {mrd.n_responders} {_responders(mrd.n_responders)} without an MRD result.",
             f"Time to first CR/CRi from the {r.TIME_ORIGINS[spec.origin]}, among the {ttc.n} "
             f"{_responders(ttc.n)}: "
             f"median {ttc.median_days:g} days ({ttc.median_days / months:.1f} months), range "
             f"{ttc.min_days:g}–{ttc.max_days:g} days ({ttc.min_days / months:.1f}–{ttc.max_days / months:.1f} "
             "months). Descriptive, among responders only.")
    methods = mrd.methods.rename(columns={"mrd_method": "MRD method", "sensitivity": "Sensitivity (threshold)",
                                          "evaluated": "Evaluated", "negative": "MRD-negative"})
    return ViewResult(PAGE, key, title, caption=(
        "Responder: best response CR or CRi. MRD-negative: negativity recorded at a CR/CRi assessment; "
        "responders without an MRD result are not evaluated and not in the denominator."),
        n_patients=mrd.n_responders, numbers=numbers, lines=lines, tables={"methods": methods})


# --- swimmer, flow, status, untreated -------------------------------------------------------------
@describes(swimmer_methods)
def swimmer(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
            small_cell_k: int = 0) -> ViewResult:
    """One bar per patient from `spec.swimmer_origin` to death or last contact, in `spec.sort`
    order (the first `swimmer.PATIENTS_DRAWN_MAX` bars)."""
    title = "Response: swimmer plot"
    key = f"{PAGE}.swimmer"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    n = count_patients(db, cohort_filter)
    caveats = []
    if n > sw.PATIENTS_DRAWN_MAX:
        caveats.append(Caveat("Patients drawn", f"The first {sw.PATIENTS_DRAWN_MAX} of {n:,} patients in the "
                                                "chosen order are drawn; every count and test uses all of them.",
                              "info"))
    return ViewResult(
        PAGE, key, title,
        caption=(f"Sorted by {sw.SORTS[spec.sort].lower()}. Phases: induction, consolidation/maintenance, "
                 "after HCT, relapse/later lines, observation (no B-ALL therapy). Arrow: alive at last "
                 "contact; open circle: MRD-negative CR/CRi."),
        caveats=tuple(caveats),
        figure=sw.swimmer_chart(db, cohort_filter, spec.sort, spec.swimmer_origin, max_patients=sw.PATIENTS_DRAWN_MAX),
        figure_name=f"swimmer_{spec.swimmer_origin}", n_patients=min(n, sw.PATIENTS_DRAWN_MAX),
        numbers={"n_patients": n})


@describes(flow_methods)
def treatment_flow(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                   small_cell_k: int = 0) -> ViewResult:
    """First-line regimen -> best response -> allogeneic HCT -> status at last contact."""
    title = "Response: treatment flow"
    key = f"{PAGE}.flow"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    n = count_patients(db, cohort_filter)
    return ViewResult(PAGE, key, title, caption=(
        "Band colour: first-line regimen; node labels: patients per category (NE: not evaluable)."),
        figure=flow.flow_chart(db, cohort_filter), figure_name="treatment_flow", n_patients=n,
        tables={"paths": flow.flow_counts(db, cohort_filter)})


@describes(status_methods)
def current_status(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                   small_cell_k: int = 0) -> ViewResult:
    """Status at last contact by treatment pathway, with the alive-without-B-ALL headline."""
    title = "Response: current status"
    key = f"{PAGE}.status"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    n_ned, n = r.alive_ned_count(db, cohort_filter)
    return ViewResult(PAGE, key, title, caption=(
        "From the last-contact and death events: disease status recorded at the last contact of patients "
        "alive then. Columns: treatment pathway."), n_patients=n,
        numbers={"n_alive_ned": n_ned, "n_patients": n},
        lines=(f"Alive without evidence of B-ALL at last contact: {n_ned} of {patients_text(n)}.",),
        tables={"status": r.current_status_table(db, cohort_filter)})


UNTREATED_LISTED = 100  # a list of thousands of lines helps nobody (the CSV has them all)


@describes(untreated_methods)
def untreated(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
              small_cell_k: int = 0) -> ViewResult:
    """The untreated patients (first `UNTREATED_LISTED`) with why, where recorded."""
    title = "Response: untreated patients"
    key = f"{PAGE}.untreated"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    listed, n = r.untreated_brief(db, cohort_filter, UNTREATED_LISTED)
    caveats = ()
    if n > len(listed):
        caveats = (Caveat("Patients listed", f"The first {len(listed)} of {n:,} untreated patients are listed; "
                                             "the CSV download has all of them.", "info"),)
    return ViewResult(PAGE, key, title, caption=(
        "Not part of the response denominator. Why, where recorded: lenalidomide stop, serial measurements "
        "after withdrawal (d = day from B-ALL diagnosis), notes, death cause."), caveats=caveats,
        n_patients=n, numbers={"n_untreated": n}, tables={"untreated": listed})


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
           small_cell_k: int = 0) -> list[ViewResult]:
    """Best response (exact CIs), CR/CRi by the chosen group and the swimmer plot; under
    small-cell suppression only the best response (which honours it)."""
    if small_cell_k > 1:
        views = [best_response]
    else:
        views = [best_response, by_group, swimmer]
    results = [view(db, cohort_filter, spec, small_cell_k) for view in views]
    return [result for result in results if result.figure is not None]


PAGE_VIEWS = PageViews(page=PAGE, title="Response", spec=ResponseSpec, slides=slides)
