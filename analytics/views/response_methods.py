"""The methods paragraph of each view of the Response page (estimators, intervals, tests and
definitions in plain English), read by the view functions in `analytics.views.response`."""
from __future__ import annotations

from analytics import response as r
from analytics.response import swimmer as sw
from analytics.stats import MAX_ENUMERATED_TABLES, MONTE_CARLO_DRAWS
from analytics.views.methods import paragraph


RESPONSE_DEFINITION = (
    "Best response was the best response recorded over all lines of B-ALL therapy (complete remission "
    "[CR], CR with incomplete count recovery [CRi], partial response [PR], refractory, not evaluable) among "
    "patients who "
    "received B-ALL treatment and had a response assessment; patients not evaluable (e.g. death before "
    "assessment) stayed in the denominator and treated patients without any recorded assessment were "
    "left out of it (unknown, not failures).")


def best_response_methods(spec) -> str:
    return paragraph([RESPONSE_DEFINITION, "Proportions are given with exact (Clopper-Pearson) 95% "
                      "confidence intervals [1]."], ("scipy",), ("clopper_pearson",))


def by_group_methods(spec) -> str:
    label = r.GROUP_FEATURES[spec.group][0]
    return paragraph([RESPONSE_DEFINITION, f"CR/CRi rates by {label} are given with exact (Clopper-Pearson) "
                      "95% confidence intervals [1] and compared with Fisher's exact test [2] for two groups "
                      "(with the conditional maximum-likelihood odds ratio and its exact CI) or the "
                      f"Fisher-Freeman-Halton exact test [3] for more (all tables with the observed margins "
                      f"enumerated; when there could be more than {MAX_ENUMERATED_TABLES:,}, the p-value is "
                      f"estimated from {MONTE_CARLO_DRAWS:,} tables drawn at a fixed seed, as (1 + hits) / "
                      "(1 + draws), and the result says so); patients not evaluated for the grouping "
                      "were shown but not tested."],
                     ("scipy",), ("clopper_pearson", "fisher", "freeman_halton"))


def mrd_methods(spec) -> str:
    return paragraph([RESPONSE_DEFINITION, "Measurable residual disease (MRD) was taken from the CR/CRi "
                      "assessments: a responder (best response CR or CRi) was MRD-negative if any CR/CRi "
                      "assessment recorded negativity, and the proportion MRD-negative among responders with "
                      "an MRD result is given with an exact (Clopper-Pearson) 95% CI [1]; a missing MRD result "
                      "is not evaluated, never negative, and outside the denominator. Method and assay "
                      "sensitivity are those of the assessment defining each status (the first negative one, "
                      "else the first with a result). Time to the first CR/CRi was measured from the "
                      f"{r.TIME_ORIGINS[spec.origin]} and summarised by median and range among treated "
                      "responders (descriptive, not a cumulative-incidence estimate)."],
                     ("scipy",), ("clopper_pearson",))


def swimmer_methods(spec) -> str:
    return paragraph(["The swimmer plot draws each patient's course from "
                      f"{sw.ORIGINS[spec.swimmer_origin]}"
                      f" to death or last contact (the first {sw.PATIENTS_DRAWN_MAX} patients of the chosen "
                      "order when there are more; from first treatment, never-treated patients are not drawn), "
                      "split into phases (relapse or later lines; after allogeneic HCT; induction: the first "
                      "line before its first response assessment; consolidation/maintenance: the rest of the "
                      "first line; observation otherwise), with the first CR/CRi, the first MRD-negative "
                      "CR/CRi assessment, allogeneic HCT, relapse and death marked as recorded; it is "
                      "descriptive (no estimation)."], (), ())


def flow_methods(spec) -> str:
    return paragraph(["Treatment pathways count patients through first-line regimen, best response, "
                      "allogeneic HCT and status at last contact as recorded; descriptive counts."], (), ())


def status_methods(spec) -> str:
    return paragraph(["Status at last contact (alive without evidence of B-ALL, alive with B-ALL, alive with "
                      "disease status unknown, dead) is derived from the timeline and counted by treatment "
                      "pathway (allogeneic HCT; B-ALL therapy without HCT; no B-ALL therapy); proportions of "
                      "all selected patients have exact (Clopper-Pearson) 95% CIs [1]."],
                     ("scipy",), ("clopper_pearson",))


def untreated_methods(spec) -> str:
    return paragraph(["Patients without a recorded B-ALL treatment line are listed with what the record "
                      "says about why (lenalidomide stop, measurements after withdrawal, notes)."], (), ())
