"""The Withdrawal page's options and views: trajectories, kinetics (with who regresses) and the
withdrawal timing, as the page, its link, the deck and the report show them.

The kinetics and timing depend only on the analysis options (analyte, specimen, rule), not on
how the trajectories are drawn: their view functions take `spec.analysis()`, so changing the
time axis, scale or layout never recomputes every patient's kinetics.

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> spec, notices = WithdrawalSpec.from_params({"wd_partial": "65", "wd_scale": "log"})
>>> spec.to_params()
[('wd_scale', 'log'), ('wd_partial', '65')]
>>> kinetics(db, CohortFilter(), spec).numbers["regressors"]
3
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from analytics import withdrawal as w
from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.units import patients_text
from analytics.views.page_views import PageViews
from analytics.views.result import Caveat, ViewResult, withheld
from analytics.views.methods import describes, paragraph
from analytics.views.spec import PageSpec, number, option

PAGE = "withdrawal"
LAYOUTS = {"overlay": "All patients overlaid", "facet": "Small multiples (one panel per patient)"}
_RULE = w.RegressionRule()
PARTIAL_RANGE, RISE_RANGE, WINDOW_RANGE = (1.0, 100.0), (1.0, 1000.0), (0, 365)

# caveat headings: the page shows each where its section is
SINGLE_MEASUREMENT = "Single measurement"
SMALL_SAMPLES = "Small samples"
NO_COMPARISON = "No comparison"


@dataclass(frozen=True)
class WithdrawalSpec(PageSpec):
    """The page's options (URL parameters as before: wd_analyte, wd_specimen, ...)."""

    PAGE = PAGE
    analyte: str = option(w.LEUKEMIC, param="wd_analyte", choices=tuple(w.ANALYTE_OPTIONS), label="Analyte")
    specimen: str = option("marrow", param="wd_specimen", choices=w.SPECIMENS, label="Specimen")
    axis: str = option("withdrawal", param="wd_axis", choices=tuple(w.TIME_AXES), label="Time axis")
    scale: str = option("linear", param="wd_scale", choices=w.SCALES, label="Y scale")
    layout: str = option("overlay", param="wd_layout", choices=tuple(LAYOUTS), label="Layout")
    partial: float = option(_RULE.partial_reduction_pct, param="wd_partial", parse=number(*PARTIAL_RANGE),
                            label="Partial regression, reduction (%)")
    rise: float = option(_RULE.progression_rise_pct, param="wd_rise", parse=number(*RISE_RANGE),
                         label="Progression, rise (%)")
    window: int = option(_RULE.baseline_window_days, param="wd_window",
                         parse=number(*WINDOW_RANGE, integer=True), label="Baseline window (days)")

    def validated(self) -> "WithdrawalSpec":
        """Every value allowed (a choice not offered or a number out of range: its default)."""
        changes = {}
        for f in self.options():
            value, choices = getattr(self, f.name), f.metadata["choices"]
            if choices is not None and value not in choices:
                changes[f.name] = f.default
        for name, (low, high), cast in (("partial", PARTIAL_RANGE, float), ("rise", RISE_RANGE, float),
                                        ("window", WINDOW_RANGE, int)):
            value = getattr(self, name)
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                  and low <= value <= high and (cast is float or value == int(value)))
            changes[name] = cast(value) if ok else type(self).__dataclass_fields__[name].default
        return self.with_(**changes)

    @property
    def rule(self) -> w.RegressionRule:
        return w.RegressionRule(partial_reduction_pct=float(self.partial), progression_rise_pct=float(self.rise),
                                baseline_window_days=int(self.window))

    def analysis(self) -> "WithdrawalSpec":
        """This spec with the drawing options at their defaults: what the kinetics depend on."""
        return type(self)(analyte=self.analyte, specimen=self.specimen, partial=self.partial,
                          rise=self.rise, window=self.window)


def _withdrawal_methods(spec) -> str:
    """The trajectories and the timing: the classes under the rule, counted (no test)."""
    return paragraph([*_rule_sentences(spec), "Counts are descriptive; no test."], ("numpy", "pandas"), ())


def _kinetics_methods(spec) -> str:
    """The kinetics view: the classes, and regressors compared with the other assessable patients."""
    # the features as the tables name them
    continuous = "; ".join(label[0].lower() + label[1:] for label, _ in w.CONTINUOUS.values())
    categorical = "; ".join(f"{label}: {positive} vs {other}" for label, positive, other in w.CATEGORICAL.values())
    return paragraph([
        *_rule_sentences(spec),
        "Patients with regression (complete or partial) were compared with the other assessable patients (no "
        "regression or progression; patients not assessable were in neither group): continuous characteristics "
        f"({continuous}) by the two-sided Mann-Whitney U test [1], exact up to {w.EXACT_MWU_MAX} patients per "
        "group and with the tie-corrected normal approximation above, and categorical characteristics "
        f"({categorical}) by the two-sided Fisher exact test [2] among the patients evaluated for them (not "
        "evaluated is never counted as negative). P-values describe this cohort and are not adjusted for "
        "multiple comparisons."], ("numpy", "pandas", "scipy"), ("mann_whitney", "fisher"))


def _rule_sentences(spec) -> list[str]:
    rule = spec.rule
    return [
        f"Regression after lenalidomide withdrawal was assessed on serial {_series_text(spec)} measurements. "
        f"The level at withdrawal was the last measurement on or before the lenalidomide stop day, else the "
        f"first within {rule.baseline_window_days} days after it; only measurements before the first B-ALL "
        "therapy counted, and values below the detection limit were taken at the limit. Each patient was "
        f"classified as complete regression (a below-detection value before therapy), partial (a reduction "
        f"of at least {rule.partial_reduction_pct:g}% from the level at withdrawal), progression (a rise of at "
        f"least {rule.progression_rise_pct:g}%), none, or not assessable (fewer than {rule.min_measurements} "
        "measurements, no level at withdrawal, or a level already below detection). Nadir and the day of a "
        "50% reduction (linear interpolation between measurements) describe the kinetics."]


def _patients(n: int) -> str:
    return "patient" if n == 1 else "patients"


SERIES_WORDS = {w.LEUKEMIC: "leukemic B cells (B lymphoblasts, else immature B cells)",
                "b_lymphoblasts_pct": "B lymphoblasts", "immature_b_pct": "immature B cells",
                "marrow_blasts_pct": "marrow blasts"}


def _series_text(spec: WithdrawalSpec) -> str:
    return f"{SERIES_WORDS[spec.analyte]} in {spec.specimen}"


def _regression_line(counts: dict) -> str:
    regressors = sum(counts[c] for c in w.REGRESSION_CLASSES)
    assessable = sum(counts.values()) - counts[w.NOT_ASSESSABLE]
    return (f"Regression before B-ALL therapy: {regressors} of {assessable} assessable patients "
            f"({counts[w.COMPLETE]} complete, {counts[w.PARTIAL]} partial); {counts[w.NONE]} no regression, "
            f"{counts[w.PROGRESSION]} progression, {counts[w.NOT_ASSESSABLE]} not assessable.")


def _drawn_note(shown: int, total: int, what: str) -> Caveat | None:
    if shown >= total:
        return None
    return Caveat("Patients drawn", f"The first {shown:,} of {total:,} {what} are drawn (default order); "
                                    "every count and test uses all of them.", "info")


def _withheld(key: str, title: str, k: int) -> ViewResult:
    return withheld(PAGE, key, title, "this view of individual patients", k)


@describes(_withdrawal_methods)
def trajectories(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
                 small_cell_k: int = 0) -> ViewResult:
    """Serial measurements after the lenalidomide stop of the first `PATIENTS_DRAWN_MAX`
    patients with a series, coloured by their class under the spec's rule."""
    title = f"Withdrawal: {w.SHORT_LABELS[spec.analyte]} ({spec.specimen}) after lenalidomide stop"
    key = f"{PAGE}.trajectories"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    n_patients = count_patients(db, cohort_filter)
    rule = spec.rule
    ids, n_series, data, classes = w.drawn_trajectories(db, cohort_filter, spec.analyte, spec.specimen, rule)
    numbers = {"n_patients": n_patients, "n_series": n_series, "n_drawn": len(ids)}
    if not ids:
        return ViewResult(PAGE, key, title, caveats=(Caveat(
            "No trajectories", f"None of the {patients_text(n_patients)} selected has serial measurements of "
                               f"{_series_text(spec)}: there are no trajectories or kinetics to show. Choose "
                               "another analyte, or widen the cohort filters.", "info"),),
            numbers=numbers)
    chart = w.trajectory_chart(data, classes, spec.axis, spec.scale, spec.layout == "facet", ids,
                               y_title=w.trajectory_y_title(spec.analyte, spec.specimen, data))
    caveats = [c for c in (_drawn_note(len(ids), n_series, "patients with measurements"),) if c]
    # every series drawn: their classes are every patient's (the same kinetics_of the kinetics view runs)
    regression = () if len(ids) < n_series else (_regression_line(
        {c: sum(1 for p in ids if classes.get(p, w.NOT_ASSESSABLE) == c) for c in w.CLASSES}),)
    n_zero = int((data["level"] <= 0).sum()) if spec.scale == "log" else 0
    if n_zero:
        caveats.append(Caveat("Log scale", (f"{n_zero} values of 0 cannot be drawn on a log scale and are "
                                            "omitted." if n_zero > 1 else
                                            "1 value of 0 cannot be drawn on a log scale and is omitted."),
                              "info"))
    return ViewResult(
        PAGE, key, title, caption=rule.summary(), caveats=tuple(caveats), figure=chart,
        figure_name=f"withdrawal_{spec.analyte}_{spec.specimen}", n_patients=n_series, numbers=numbers,
        lines=(f"{n_series} of {n_patients} selected {_patients(n_patients)} {'has' if n_series == 1 else 'have'} "
               f"measurements of {_series_text(spec)}.", *regression))


@describes(_kinetics_methods)
def kinetics(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
             small_cell_k: int = 0) -> ViewResult:
    """Kinetics per patient, the class counts and the comparison of regressors with the other
    assessable patients (from one pass over every series; tables capped for the screen).

    Depends on `spec.analysis()` only. Tables: kinetics (first `TABLE_ROWS_MAX` patients),
    continuous and categorical (the tests). Numbers: class counts, assessable, regressors and
    the patient lists the page links to."""
    spec = spec.analysis()
    title = f"Withdrawal: kinetics of {w.SHORT_LABELS[spec.analyte]} ({spec.specimen})"
    key = f"{PAGE}.kinetics"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    rule = spec.rule
    view = w.page_view(db, cohort_filter, spec.analyte, spec.specimen, rule)
    counts = view.counts
    numbers = {"n_patients": view.n_patients, "n_series": view.n_series, "counts": dict(counts),
               "assessable": view.assessable, "regressors": view.regressors,
               "n_single": view.n_single, "single_ids": view.single_ids, "n_with_stop": view.n_with_stop,
               "with_series": view.with_series, "without_series": view.without_series,
               "n_without_series": view.n_without_series}
    if view.n_series == 0:
        return ViewResult(PAGE, key, title, numbers=numbers)
    caveats = []
    if view.n_single:
        more = view.n_single - len(view.single_ids)
        listed = ", ".join(view.single_ids) + (f" and {more:,} more" if more else "")
        one = view.n_single == 1
        caveats.append(Caveat(SINGLE_MEASUREMENT, f"{listed} {'has' if one else 'have'} one measurement only: a "
                                                  f"trajectory needs at least {rule.min_measurements}, so "
                                                  f"{'this patient is' if one else 'these patients are'} "
                                                  "not assessable and in neither group.", "info"))
    others = view.assessable - view.regressors
    if view.regressors == 0 or others == 0:
        caveats.append(Caveat(NO_COMPARISON, f"Both groups are needed: {view.regressors} regressors "
                                             f"and {others} assessable non-regressors under the current rule "
                                             "and filters.", "info"))
    else:
        caveats.append(Caveat(SMALL_SAMPLES, f"{view.regressors} regressors vs {others} assessable others "
                                             f"({counts[w.NOT_ASSESSABLE]} not assessable, in neither group). "
                                             "Exact tests have little power here; p-values describe this "
                                             "cohort and are not adjusted for multiple comparisons."))
    return ViewResult(PAGE, key, title, caption=rule.summary(), caveats=tuple(caveats),
                      n_patients=view.n_series, numbers=numbers, lines=(_regression_line(counts),),
                      tables={"kinetics": view.kinetics_head, "continuous": view.continuous,
                              "categorical": view.categorical})


@describes(_withdrawal_methods)
def timing(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
           small_cell_k: int = 0) -> ViewResult:
    """Lenalidomide stop day relative to B-ALL diagnosis, coloured by what followed (the first
    `PATIENTS_DRAWN_MAX` patients with a stop day). Depends on `spec.analysis()` only."""
    spec = spec.analysis()
    title = "Withdrawal: lenalidomide stop relative to B-ALL diagnosis"
    key = f"{PAGE}.timing"
    if small_cell_k > 1:
        return _withheld(key, title, small_cell_k)
    where, params = cohort_filter.where_sql()
    row = db.query(f"SELECT count(*) AS n, count(len_stop_day) AS n_stop FROM patient_summary WHERE {where}",
                   params).iloc[0]
    n_patients, n_stop = int(row["n"]), int(row["n_stop"])
    numbers = {"n_patients": n_patients, "n_with_stop": n_stop}
    line = (f"Lenalidomide stop day relative to B-ALL diagnosis for {n_stop} of {n_patients} selected "
            f"{_patients(n_patients)} (negative: stopped before diagnosis).")
    caveats = [c for c in (_drawn_note(w.PATIENTS_DRAWN_MAX, n_stop, "patients with a stop day"),) if c]
    if n_stop < n_patients:
        missing = n_patients - n_stop
        caveats.append(Caveat("Not drawn", f"{patients_text(missing)} without a recorded lenalidomide stop day "
                                           f"{'is' if missing == 1 else 'are'} not drawn.", "info"))
    chart = w.timing_figure(db, cohort_filter, spec.analyte, spec.specimen, spec.rule) if n_stop else None
    return ViewResult(PAGE, key, title, caption="One dot per patient; colour: what followed the stop "
                                                "(class under the rule, or no serial measurements).",
                      caveats=tuple(caveats), figure=chart, figure_name="withdrawal_timing",
                      n_patients=n_stop, numbers=numbers, lines=(line,))


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
           small_cell_k: int = 0) -> list[ViewResult]:
    """The trajectories with the rule (none under small-cell suppression or without a series)."""
    if small_cell_k > 1:
        return []
    result = trajectories(db, cohort_filter, spec, small_cell_k)
    return [result] if result.figure is not None else []


PAGE_VIEWS = PageViews(page=PAGE, title="Withdrawal", spec=WithdrawalSpec, slides=slides, patient_level=False)
