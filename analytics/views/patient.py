"""The Patient page as a view: one patient's timeline (with key facts, mutations, measurements).

The patient is an option of the link (`patient=S05`); which ids exist depends on the cohort and
the filters, so the id is checked against the database here (`resolve`): an unknown id or one
the filters exclude falls back to the first patient of the filtered cohort, with a notice.
An empty id means "the first patient of the filtered cohort" (the default view).

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> result = timeline(db, CohortFilter(), PatientSpec(patient="S05"))
>>> result.title, result.n_patients
('Patient S05: timeline (whole history)', 1)
>>> resolve(db, CohortFilter(age=(48, 48)), PatientSpec(patient="S05")).status
'filtered out'
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import altair as alt

from analytics import patient
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.patient import WINDOWS
from analytics.views.page_views import PageViews
from analytics.views.methods import describes, paragraph
from analytics.views.result import Caveat, ViewResult
from analytics.views.spec import OptionError, PageSpec, option

PAGE = "patient"
PATIENT_ID_MAX_LENGTH = 64


def _patient_id(raw) -> str:
    """A URL patient id: printable text of at most PATIENT_ID_MAX_LENGTH characters (whether
    the cohort has that patient is checked against the database by `resolve`)."""
    text = (raw if isinstance(raw, str) else (raw[-1] if raw else "")).strip()
    if not text or len(text) > PATIENT_ID_MAX_LENGTH or not text.isprintable():
        raise OptionError(f"a patient id (up to {PATIENT_ID_MAX_LENGTH} printable characters)")
    return text


@dataclass(frozen=True)
class PatientSpec(PageSpec):
    """patient: the id ('' = first patient of the filtered cohort); window: the time axis."""

    PAGE = PAGE
    patient: str = option("", param="patient", parse=_patient_id, label="patient")
    window: str = option(next(iter(WINDOWS)), param="window", choices=tuple(WINDOWS),
                         label="time axis")

    def validated(self) -> "PatientSpec":
        window = self.window if self.window in WINDOWS else next(iter(WINDOWS))
        return self.with_(patient=(self.patient or "").strip(), window=window)


@dataclass(frozen=True)
class Resolution:
    """The patient a spec shows: `patient_id` (None when the filtered cohort is empty);
    `requested` the id of the link; `status` of the requested id: 'in cohort', 'filtered out',
    'unknown' or 'default' (no id requested)."""

    patient_id: str | None
    requested: str
    status: str
    n_filtered: int


def resolve(db: CohortDatabase, cohort_filter: CohortFilter, spec: PatientSpec) -> Resolution:
    first, n = patient.patient_choices(db, cohort_filter, limit=1)
    fallback = first["patient_id"].iloc[0] if len(first) else None
    if not spec.patient:
        return Resolution(fallback, "", "default", n)
    status = patient.patient_status(db, cohort_filter, spec.patient)
    return Resolution(spec.patient if status == "in cohort" else fallback, spec.patient, status, n)


def notice(resolution: Resolution, cohort_filter: CohortFilter) -> str:
    """Why the requested patient is not shown ('' when it is)."""
    if resolution.status == "unknown":
        return f"There is no patient {resolution.requested} in this cohort."
    if resolution.status == "filtered out":
        return (f"Patient {resolution.requested} is not in the filtered cohort "
                f"(filters: {cohort_filter.describe()}).")
    return ""


TIMELINE_CAPTION = ("Bars: lenalidomide courses and B-ALL treatment lines (colour = regimen category). "
                    "Markers: response assessments (colour = MRD), allogeneic HCT, relapse, death or last "
                    "contact. Dashed line: B-ALL diagnosis (day 0).")


def _timeline_methods(spec) -> str:
    return paragraph(["The patient timeline shows the recorded events in days relative to B-ALL diagnosis "
                      "(day 0): lenalidomide courses, B-ALL treatment lines, response assessments with MRD, "
                      "allogeneic HCT, relapse, death or last contact. Descriptive; no estimation. Derived "
                      "facts (latency, cumulative exposure, endpoints) follow the same rules as the cohort "
                      "pages."], (), ())


@describes(_timeline_methods)
def timeline(db: CohortDatabase, cohort_filter: CohortFilter, spec: PatientSpec = PatientSpec(),
             small_cell_k: int = 0) -> ViewResult:
    """The timeline of the spec's patient (or the fallback patient, with a caveat saying so).

    numbers: patient_id (None when nobody is in the filtered cohort); tables: "Key facts"."""
    key = "patient.timeline"
    if small_cell_k > 1:
        return ViewResult(PAGE, key, "Patient timeline", caveats=(Caveat(
            "Withheld", f"Small-cell suppression is on (counts below {small_cell_k} are not shown): the "
                        "patient page (one patient) is withheld on this deployment.", level="info"),),
            figure_name="timeline")
    resolution = resolve(db, cohort_filter, spec)
    pid = resolution.patient_id
    if pid is None:
        return ViewResult(PAGE, key, "Patient timeline", caption="No patient matches the cohort filters.",
                          numbers={"patient_id": None}, figure_name="timeline")
    caveats = ()
    text = notice(resolution, cohort_filter)
    if text:
        caveats = (Caveat("Patient not shown", f"{text} Patient {pid} is shown instead."),)
    events = patient.timeline_events(db, cohort_filter, pid)
    chart = patient.timeline_chart(events, window=spec.window) if len(events) else None
    return ViewResult(PAGE, key, f"Patient {pid}: timeline ({spec.window})",
                      caption=TIMELINE_CAPTION if chart is not None else "No events recorded for this patient.",
                      caveats=caveats, figure=chart, figure_name=f"timeline_{pid}", n_patients=1,
                      numbers={"patient_id": pid},
                      tables={"Key facts": patient.key_facts(db, cohort_filter, pid), "Timeline events": events})


STATIC_WIDTH = 720  # px of the plot on a slide or in a file; the legends go one item per line beside each other


def static_figure(result: ViewResult, window: str) -> alt.TopLevelMixin:
    """The timeline of `result` at a fixed width: the page's chart fits its container
    (autosize), which a static figure (its caveats and footer stacked below) cannot do."""
    return patient.timeline_chart(result.tables["Timeline events"], window=window, width=STATIC_WIDTH,
                                  legend_columns=(1, 1))


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: PatientSpec = PatientSpec(),
           small_cell_k: int = 0) -> list[ViewResult]:
    """The chosen patient's timeline in the chosen window (nothing under small-cell suppression)."""
    if small_cell_k > 1:
        return []
    result = timeline(db, cohort_filter, spec, small_cell_k)
    if result.figure is None:
        return []
    return [dataclasses.replace(result, figure=static_figure(result, spec.window))]


PAGE_VIEWS = PageViews(PAGE, "Patient", PatientSpec, slides, patient_level=True)
