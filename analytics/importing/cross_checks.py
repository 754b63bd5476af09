"""Cross-table and timeline checks of typed own-format tables (plain pandas): references,
nothing after death, relapse after a remission, HCT after diagnosis, stop >= start,
duplicates, ploidy vs modal number; and one truth per fact (a stated fact the timeline
contradicts is a warning)."""
from __future__ import annotations

import pandas as pd

from analytics.consistency import contradictions
from analytics.importing.report import Report
from analytics.importing.sources import RawTable
from analytics.genomics.karyotype import ploidy_category

REMISSION = ("CR", "CRi")

def cross_checks(raws: dict[str, RawTable], typed: dict[str, pd.DataFrame], report: Report) -> None:
    patients, events = typed["patients"], typed["events"]
    info = typed["cohort_info"]
    if len(info) != 1:
        raw = raws["cohort_info"]
        report.error(raw.file, f"cohort_info must have exactly one row, it has {len(info)}",
                     "Keep one row: cohort name, synthetic (true/false), description.", sheet=raw.sheet)
    if patients.empty:
        raw = raws["patients"]
        report.error(raw.file, "no patients", "Add one row per patient.", sheet=raw.sheet)
    known = set(patients["patient_id"])
    for table in ("events", "mutations", "measurements"):
        raw, frame = raws[table], typed[table]
        for row, pid in frame["patient_id"].items():
            if pid not in known:
                report.error(raw.file, f"patient '{pid}' is not in the patients table",
                             "Add the patient to patients, or correct the id (ids are case-sensitive).",
                             sheet=raw.sheet, row=int(row), column="patient_id", value=pid)
        dupes = frame[frame.duplicated(keep="first")]
        for row in dupes.index:
            first = frame.index[(frame == frame.loc[row]).all(axis=1) | (
                frame.isna() & frame.loc[row].isna()).all(axis=1)][0] if table != "events" else None
            report.error(raw.file, "this row repeats an earlier row exactly"
                         + (f" (row {first})" if first is not None else ""),
                         "Delete the duplicate row.", sheet=raw.sheet, row=int(row))
    # Ages
    raw = raws["patients"]
    both = patients.dropna(subset=["age_at_myeloma_dx", "age_at_ball_dx"])
    for row, p in both[both["age_at_myeloma_dx"] > both["age_at_ball_dx"]].iterrows():
        report.error(raw.file, f"age at myeloma diagnosis ({p.age_at_myeloma_dx:g}) is after age at "
                               f"B-ALL diagnosis ({p.age_at_ball_dx:g})",
                     "Check both ages (completed years).", sheet=raw.sheet, row=int(row),
                     column="age_at_myeloma_dx", value=f"{p.age_at_myeloma_dx:g}")
    # Chromosome number vs ploidy category (a warning: masked hypodiploidy can look hyperdiploid)
    for row, p in patients.dropna(subset=["modal_chromosome_number", "ploidy_category"]).iterrows():
        n = int(p.modal_chromosome_number)
        expected = ploidy_category(n)
        if expected != p.ploidy_category:
            report.warning(raw.file, f"modal chromosome number {n} fits '{expected or 'no category'}', "
                                     f"but ploidy_category says '{p.ploidy_category}'",
                           "Correct one of them, unless this is a doubled (masked) hypodiploid clone.",
                           sheet=raw.sheet, row=int(row), column="ploidy_category", value=p.ploidy_category)
    # Timeline
    raw = raws["events"]
    where = {"sheet": raw.sheet}
    for row, e in events.iterrows():
        if pd.notna(e.end_day) and e.end_day < e.day:
            report.error(raw.file, f"{e.event_type} stops (end_day {e.end_day:g}) before it starts "
                                   f"(day {e.day:g})", "Swap or correct day and end_day.",
                         row=int(row), column="end_day", value=f"{e.end_day:g}", **where)
        if e.event_type == "hct" and e.day < 0:
            report.error(raw.file, f"an allogeneic HCT on day {e.day:g}, before the B-ALL diagnosis (day 0)",
                         "Days are relative to B-ALL diagnosis; a myeloma autologous transplant goes in "
                         "patients.myeloma_auto_hct.", row=int(row), column="day", value=f"{e.day:g}", **where)
        if e.event_type in ("response_assessment", "treatment_line") and pd.isna(e.line):
            report.error(raw.file, f"a {e.event_type} needs its line of therapy", "Fill in line (1 = first line).",
                         row=int(row), column="line", **where)
        if e.event_type == "response_assessment" and pd.isna(e.response):
            report.error(raw.file, "a response assessment without a response", "Fill in response "
                         "(CR, CRi, PR, refractory, not evaluable).", row=int(row), column="response", **where)
    unremitted: list[tuple[int, str, float, float | None]] = []
    for pid, group in events.groupby("patient_id"):
        deaths = group[group.event_type == "death"]
        if len(deaths) > 1:
            report.error(raw.file, f"patient {pid} has {len(deaths)} death events", "Keep one death row.",
                         row=int(deaths.index[1]), column="event_type", value="death", **where)
        if len(deaths):
            death_day = deaths.day.min()
            stop = group[["day", "end_day"]].max(axis=1)
            for row, e in group[(stop > death_day)].iterrows():
                column = "day" if e.day > death_day else "end_day"
                report.error(raw.file, f"{e.event_type} of patient {pid} on day {e[column]:g}, after death "
                                       f"(day {death_day:g})", "Correct the day, or the day of death.",
                             row=int(row), column=column, value=f"{e[column]:g}", **where)
        remissions = group[(group.event_type == "response_assessment") & group.response.isin(REMISSION)]
        first_cr = remissions.day.min() if len(remissions) else None
        for row, e in group[group.event_type == "relapse"].iterrows():
            if first_cr is None or e.day <= first_cr:
                unremitted.append((int(row), pid, e.day, first_cr))
    if unremitted:
        # Not blocking: a study may record relapses without the remission before them; the relapse
        # still counts for EFS, and durations from CR are simply not evaluable for that patient.
        row, pid, day, first_cr = unremitted[0]
        report.warning(raw.file, f"{len(unremitted)} relapse(s) without an earlier recorded remission (CR/CRi), "
                       f"first: patient {pid} on day {day:g}"
                       + ("" if first_cr is None else f", not after the first remission (day {first_cr:g})")
                       + "; they count as relapses (EFS), the time from CR is not evaluable for them",
                       "Add the response assessment with the remission if it is known.", row=row,
                       column="day", value=f"{day:g}", **where)
    followed = set(events.loc[events.event_type.isin(["death", "last_contact"]), "patient_id"])
    unfollowed = patients[~patients.patient_id.isin(followed)]
    if len(unfollowed):
        ids = unfollowed.patient_id.tolist()
        report.warning(raws["patients"].file, f"{len(ids)} patient(s) have no last_contact or death event "
                       f"({', '.join(ids[:8])}{', ...' if len(ids) > 8 else ''}): overall survival and EFS are "
                       "not evaluable for them (every other analysis includes them)",
                       "Add a last_contact event with the last day known alive.",
                       sheet=raws["patients"].sheet, row=int(unfollowed.index[0]), column="patient_id",
                       value=ids[0])
    # Sequencing: variants for a patient recorded as not sequenced would be invisible
    sequenced = set(patients.loc[patients.sequencing_assay.notna(), "patient_id"])
    raw = raws["mutations"]
    for row, m in typed["mutations"].iterrows():
        if m.patient_id in known and m.patient_id not in sequenced:
            report.error(raw.file, f"a variant for patient {m.patient_id}, whose sequencing_assay is empty "
                                   "(= not sequenced)", "Fill in patients.sequencing_assay for this patient.",
                         sheet=raw.sheet, row=int(row), column="patient_id", value=m.patient_id)
    # Measurements: value empty exactly when below detection
    raw = raws["measurements"]
    for row, m in typed["measurements"].iterrows():
        if pd.notna(m.below_detection) and bool(m.below_detection) != pd.isna(m.value):
            report.error(raw.file, "below_detection must be true exactly when value is empty",
                         "Leave value empty and set below_detection true, or give the value and set it false.",
                         sheet=raw.sheet, row=int(row), column="below_detection")



def one_truth_per_fact(raws: dict[str, RawTable], typed: dict[str, pd.DataFrame],
                        tables: dict[str, pd.DataFrame], report: Report) -> None:
    """Warn where the timeline contradicts a stated fact (both values named); a stated exposure is
    not stored for a patient with courses, whose exposure patient_summary derives."""

    raw = raws["patients"]
    rows = dict(zip(typed["patients"]["patient_id"], typed["patients"].index))
    for c in contradictions(typed["patients"], typed["events"], typed["measurements"]):
        report.warning(raw.file, c.problem, c.fix, sheet=raw.sheet, row=int(rows[c.patient_id]),
                       column=c.column, value=c.stored)
    with_courses = set(typed["events"].loc[typed["events"].event_type == "lenalidomide_course", "patient_id"])
    patients = tables["patients"]
    patients.loc[patients["patient_id"].isin(with_courses), "len_cumulative_days"] = None
