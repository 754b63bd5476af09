"""One truth per fact: what the timeline derives against what a source states beside it.

Cumulative lenalidomide exposure is derived from the lenalidomide_course events (the view
`patient_summary` does it in SQL; `exposure_days_before_diagnosis` is the same rule in pandas, so
an import can compare before anything is built). A value a source reports beside the courses is
compared with the derivation and then not kept: the database holds one truth per fact.

Other facts the timeline can contradict are checked here too and reported as warnings naming
both values (they are not errors: the data manager decides which one is right):
- the first lenalidomide course before the myeloma diagnosis (ages vs latency);
- the marrow blast percentage at diagnosis against a day-0 marrow blast measurement.
Treated, HCT, vital status, latency and TP53 status are never stored: patient_summary derives them.

>>> courses = pd.DataFrame({"patient_id": ["A", "A", "B"], "day": [-100, -50, -30],
...                         "end_day": [-40, 10, None]})
>>> exposure_days_before_diagnosis(courses).to_dict()   # A: -100..0 merged; B: ongoing to day 0
{'A': 100, 'B': 30}
>>> exposure_disagrees(reported=2131, derived=2831, courses=1), exposure_disagrees(101, 100, 1)
(True, False)
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.4375
# Counting a course's first and last day both (inclusive) adds one day per course: not a disagreement.
EXPOSURE_SLACK_DAYS_PER_COURSE = 1
# Marrow blasts: the same sample read twice is reported to the nearest percent.
BLAST_SLACK_PCT = 1.0


def exposure_days_before_diagnosis(courses: pd.DataFrame) -> pd.Series:
    """Days on lenalidomide before day 0 per patient (patient_id index; int): courses clipped at day 0,
    an ongoing course (no end_day) running to day 0, overlapping courses counted once."""
    spans = courses.loc[pd.to_numeric(courses["day"]) < 0, ["patient_id", "day", "end_day"]].copy()
    spans["start"] = pd.to_numeric(spans["day"]).astype(int)
    spans["stop"] = pd.to_numeric(spans["end_day"]).fillna(0).clip(upper=0).astype(int)
    totals: dict[str, int] = {}
    for pid, group in spans.sort_values(["patient_id", "start", "stop"]).groupby("patient_id", sort=False):
        total, island_start, island_stop = 0, None, None
        for start, stop in zip(group["start"], group["stop"]):
            if island_stop is None or start > island_stop:
                if island_stop is not None:
                    total += island_stop - island_start
                island_start, island_stop = start, stop
            else:
                island_stop = max(island_stop, stop)
        totals[pid] = total + island_stop - island_start
    with_courses = pd.Index(courses["patient_id"].unique())
    return pd.Series(totals, dtype="int64").reindex(with_courses, fill_value=0)


def exposure_disagrees(reported: float, derived: float, courses: int) -> bool:
    return abs(float(reported) - float(derived)) > EXPOSURE_SLACK_DAYS_PER_COURSE * courses


def months(days: float) -> str:
    return f"{float(days) / DAYS_PER_MONTH:.1f} months"


@dataclass(frozen=True)
class Contradiction:
    patient_id: str
    column: str          # the stored column (patients table) the timeline contradicts
    stored: str          # the stored value, as text
    problem: str         # both values, in words
    fix: str


def contradictions(patients: pd.DataFrame, events: pd.DataFrame,
                   measurements: pd.DataFrame | None = None) -> list[Contradiction]:
    """Every stored fact the timeline contradicts (typed frames as `validation` builds them)."""
    found: list[Contradiction] = []
    courses = events[events["event_type"] == "lenalidomide_course"]
    derived = exposure_days_before_diagnosis(courses)
    n_courses = courses.groupby("patient_id").size()
    first_day = courses.groupby("patient_id")["day"].min()
    by_id = patients.set_index("patient_id")
    for pid, p in by_id.iterrows():
        reported = p.get("len_cumulative_days")
        if pid in derived.index and pd.notna(reported) and exposure_disagrees(reported, derived[pid],
                                                                             int(n_courses[pid])):
            found.append(Contradiction(
                pid, "len_cumulative_days", f"{float(reported):g}",
                f"cumulative lenalidomide exposure of patient {pid}: the file says {float(reported):g} days "
                f"({months(reported)}), the {int(n_courses[pid])} lenalidomide course(s) give "
                f"{int(derived[pid])} days ({months(derived[pid])}); the courses are used and the stated "
                "value is not stored",
                "Correct the courses (start day, end_day) or the stated exposure so they agree; with courses "
                "the column can be left empty."))
        age_mm, age_ball = p.get("age_at_myeloma_dx"), p.get("age_at_ball_dx")
        if pid in first_day.index and pd.notna(age_mm) and pd.notna(age_ball):
            latency = -float(first_day[pid])
            # Ages in completed years: the true interval is below (age difference + 1) years.
            if latency >= (float(age_ball) - float(age_mm) + 1) * DAYS_PER_YEAR:
                found.append(Contradiction(
                    pid, "age_at_myeloma_dx", f"{float(age_mm):g}",
                    f"patient {pid}'s first lenalidomide course starts on day {int(first_day[pid])} "
                    f"({latency / DAYS_PER_YEAR:.1f} years before B-ALL), but the ages at myeloma "
                    f"({float(age_mm):g}) and B-ALL diagnosis ({float(age_ball):g}) leave at most "
                    f"{float(age_ball) - float(age_mm) + 1:g} years: lenalidomide would precede the myeloma",
                    "Check the ages and the first lenalidomide course start day."))
    if measurements is not None and not measurements.empty:
        day0 = measurements[(measurements["analyte"] == "marrow_blasts_pct") & (measurements["day"] == 0)
                            & measurements["value"].notna()]
        for pid, group in day0.groupby("patient_id"):
            stored = by_id["marrow_blast_pct"].get(pid) if pid in by_id.index else None
            if stored is None or pd.isna(stored):
                continue
            measured = group["value"].astype(float)
            if (abs(measured - float(stored)) > BLAST_SLACK_PCT).all():
                found.append(Contradiction(
                    pid, "marrow_blast_pct", f"{float(stored):g}",
                    f"marrow blasts at diagnosis of patient {pid}: the patients table says {float(stored):g}%, "
                    f"the day-0 marrow measurement says {', '.join(f'{v:g}%' for v in measured)}",
                    "Correct one of them (same sample, same method)."))
    return found
