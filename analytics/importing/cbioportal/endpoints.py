"""Survival endpoints: cBioPortal status codes, OS (death or last contact), the EFS sources a
study offers (timeline relapses or a *_STATUS/*_MONTHS pair) and the timeline's events."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from analytics.importing.cbioportal.cells import (INTEGER, MappedTable, cell_text, days_from_months, months_value,
                                                  quoted_counts, raw_cell_text)
from analytics.importing.cbioportal.study import TIMELINE_USED, Study, collect
from analytics.importing.report import Report
from analytics.importing.sources import RawTable


_STATUS = re.compile(r"^\s*(\d+)\s*:\s*(.*?)\s*$")
_EVENT_WORDS = {"deceased", "dead", "died", "recurred/progressed", "recurred", "progressed", "progression",
                "relapsed", "relapse", "recurrence", "event", "yes", "1"}
_CENSOR_WORDS = {"living", "alive", "diseasefree", "disease free", "disease-free", "censored", "censor",
                 "no event", "no", "progressionfree", "progression free", "0"}
NO_EFS_SOURCE = "none"
TIMELINE_SOURCE = "timeline"


def status_code(value: str, prefix: str) -> tuple[str | None, str | None]:
    """A cBioPortal *_STATUS value -> ('1' event | '0' censored, None) or (None, the problem).
    The `1:`/`0:` prefix is optional; a prefix contradicting its word is a problem."""
    match = _STATUS.match(value)
    word = (match[2] if match else value).strip().lower()
    if match and match[1] not in ("0", "1"):
        return None, f"{prefix}_STATUS code {match[1]} is neither 1 (event) nor 0 (censored)"
    meaning = "1" if word in _EVENT_WORDS else "0" if word in _CENSOR_WORDS else None
    if match:
        if meaning is not None and meaning != match[1]:
            kind = "an event" if meaning == "1" else "censored"
            return None, f"the code {match[1]} contradicts '{match[2]}' ({kind})"
        return match[1], None
    if meaning is None:
        return None, f"{prefix}_STATUS is neither an event (e.g. 1:DECEASED) nor censored (e.g. 0:LIVING)"
    return meaning, None


@dataclass(frozen=True)


class EndpointSource:
    name: str          # 'OS', a pair prefix ('DFS', 'PFS', ...), 'timeline'
    columns: str       # where it comes from
    patients: int      # patients with a usable status and time
    events: int        # events (deaths for OS; relapses/progressions otherwise)
    description: str   # the study's own words for it, if any


_ATTRIBUTE_ID = re.compile(r"^[A-Za-z0-9_]+$")  # cBioPortal attribute ids; anything else is not offered


def status_month_pairs(frame: pd.DataFrame) -> list[str]:
    prefixes = ({c[:-len("_STATUS")] for c in frame.columns if c.endswith("_STATUS")}
                & {c[:-len("_MONTHS")] for c in frame.columns if c.endswith("_MONTHS")} - {"OS"})
    return sorted(p for p in prefixes if _ATTRIBUTE_ID.match(p))


def _pair_rows(study: Study, prefix: str):
    """(row, patient, code, months text) of every patient row with a usable status and time."""
    frame = study.patient.frame
    for row, p in frame.iterrows():
        status = cell_text(p[f"{prefix}_STATUS"])
        code, _ = status_code(status, prefix) if status else (None, None)
        months = cell_text(p[f"{prefix}_MONTHS"])
        if code is not None and months_value(months) is not None:
            yield int(row), cell_text(p["PATIENT_ID"]), code, months


_RELAPSE_TEXT = re.compile(r"relapse|recurren|progress")


def _timeline_relapses(study: Study) -> list[tuple[str, int, str]]:
    out = []
    for raw in study.timelines:
        for row, t in raw.frame.iterrows():
            text = " ".join(cell_text(t.get(c)) for c in ("TREATMENT_TYPE", "AGENT", "SUBTYPE", "STATUS")).lower()
            if cell_text(t.get("EVENT_TYPE")).upper() == "STATUS" and _RELAPSE_TEXT.search(text):
                out.append((raw.file, int(row), cell_text(t["PATIENT_ID"])))
    return out


def study_sources(study: Study) -> list[EndpointSource]:
    frame, pfile = study.patient.frame, study.patient.file
    out = []
    for prefix in (["OS"] if {"OS_STATUS", "OS_MONTHS"} <= set(frame.columns) else []) + status_month_pairs(frame):
        rows = list(_pair_rows(study, prefix))
        description = study.descriptions.get((pfile, f"{prefix}_MONTHS"), "")
        out.append(EndpointSource(prefix, f"{prefix}_STATUS/{prefix}_MONTHS ({pfile})", len({r[1] for r in rows}),
                                  sum(r[2] == "1" for r in rows), description))
    relapses = _timeline_relapses(study)
    if relapses:
        out.append(EndpointSource(TIMELINE_SOURCE, "relapse/progression STATUS rows of "
                                  + ", ".join(t.file for t in study.timelines),
                                  len({r[2] for r in relapses}), len(relapses), ""))
    return out


def endpoint_sources(files: list[tuple[str, bytes]]) -> list[EndpointSource]:
    """What each survival source of the study would yield (patients, events): OS, every other
    *_STATUS/*_MONTHS pair, the timeline's relapses. Empty when the study cannot be read."""
    study = collect(files, Report())
    return [] if study is None else study_sources(study)


def default_efs_source(sources_: list[EndpointSource]) -> str:
    """Without a choice: the timeline's relapses if the study has them, else none (never a
    composite pair the user did not pick)."""
    return TIMELINE_SOURCE if any(s.name == TIMELINE_SOURCE for s in sources_) else NO_EFS_SOURCE


def map_os(study: Study, events: MappedTable, report: Report) -> set[str]:
    """OS_STATUS/OS_MONTHS -> a death or a last contact; returns the patients who died."""
    pfile, pframe = study.patient.file, study.patient.frame
    deaths: set[str] = set()
    if not {"OS_STATUS", "OS_MONTHS"} <= set(pframe.columns):
        report.warning(pfile, "the study has no OS_STATUS/OS_MONTHS pair: overall survival and EFS are not "
                       "evaluable (every other analysis works)", "Add OS_STATUS and OS_MONTHS if known.")
        return deaths
    no_follow_up: list[tuple[int, str, str]] = []
    for row, p in pframe.iterrows():
        pid, status, months = cell_text(p["PATIENT_ID"]), cell_text(p["OS_STATUS"]), cell_text(p["OS_MONTHS"])
        code = None
        if status:
            code, problem = status_code(status, "OS")
            if problem:
                report.error(pfile, problem, "Use cBioPortal's 1:DECEASED or 0:LIVING (empty when unknown).",
                             row=int(row), column="OS_STATUS", value=status)
                continue
        if months and months_value(months) is None:
            report.error(pfile, "OS_MONTHS is not a number >= 0", "Enter the months from diagnosis to "
                         "death or last contact (empty or NA when unknown).", row=int(row),
                         column="OS_MONTHS", value=months)
            continue
        if code is None or not months:  # no follow-up: not evaluable for survival, nothing invented
            column = "OS_STATUS" if code is None else "OS_MONTHS"
            no_follow_up.append((int(row), column, raw_cell_text(p[column])))
            continue
        if code == "1":
            deaths.add(pid)
        events.add({"patient_id": pid, "event_type": "death" if code == "1" else "last_contact",
                    "day": str(days_from_months(months))}, pfile, int(row),
                   {"patient_id": "PATIENT_ID", "event_type": "OS_STATUS", "day": "OS_MONTHS"})
    if no_follow_up:
        row, column, value = no_follow_up[0]
        report.warning(pfile, f"{len(no_follow_up)} patient(s) have no usable OS_STATUS with OS_MONTHS "
                       f"(values: {quoted_counts(Counter(v for _, _, v in no_follow_up))}): not evaluable for survival "
                       "(kept in every other analysis)", "Fill in OS_STATUS and OS_MONTHS where they are known.",
                       row=row, column=column, value=repr(value))
    return deaths


def map_efs_source(study: Study, offered: list[EndpointSource], efs_source: str, chosen_by: str,
                    events: MappedTable, report: Report) -> EndpointSource | None:
    """The chosen pair's events as relapses; the choice said in the report; the others listed."""
    pfile = study.patient.file
    names = [s.name for s in offered if s.name != "OS"]
    for source in offered:
        if source.name not in ("OS", TIMELINE_SOURCE, efs_source):
            study.not_mapped.append(f"{pfile}: {source.columns} ({source.patients} patients, {source.events} "
                                    f"events): not the chosen EFS source (EFS source: {efs_source}).")
    if efs_source not in (NO_EFS_SOURCE, TIMELINE_SOURCE):
        _map_pair(study, efs_source, events, report)
    chosen = next((s for s in offered if s.name == efs_source), None)
    report.warning(pfile, f"EFS source ({chosen_by}): " + (
        "none: EFS counts deaths (and induction failures) only; no relapse or progression is recorded"
        if chosen is None else f"{chosen.columns}: {chosen.events} relapse/progression "
        f"event(s) in {chosen.patients} patient(s)"),
        "Choose the EFS source on the upload page (command line: --efs-source "
        + "|".join(names + [NO_EFS_SOURCE]) + ")." if names else "Nothing to do (the study offers no other source).",
        value=efs_source)
    return chosen


def map_timelines(study: Study, efs_source: str, deaths: set[str], events: MappedTable, report: Report) -> None:
    known = {cell_text(p) for p in study.patient.frame["PATIENT_ID"]}
    skipped: Counter = Counter()
    for timeline in study.timelines:
        _map_timeline(timeline, known, deaths, events, report, skipped, relapses=efs_source == TIMELINE_SOURCE)
        extra = [c for c in timeline.frame.columns if c not in TIMELINE_USED]
        if extra:
            study.not_mapped.append(f"{timeline.file}: columns {', '.join(extra)} (no place in the schema; "
                                    "not stored).")
    for (file, what), n in sorted(skipped.items()):
        study.not_mapped.append(f"{file}: {n} {what}.")
    if study.timelines:
        report.warning(", ".join(t.file for t in study.timelines), "START_DATE/STOP_DATE are taken as days "
                       "from the B-ALL diagnosis (cBioPortal lets each study choose its day 0)",
                       "Nothing to do if the study's timeline starts at diagnosis; otherwise shift the days.")
    for index, event in enumerate(events.rows, start=1):
        event["event_id"] = str(index)
    if not any(e["event_type"] == "treatment_line" for e in events.rows):
        # the schema has no 'treatment not recorded': say plainly what the pages will show
        report.warning(", ".join(t.file for t in study.timelines) or study.patient.file, "the study records no "
                       "numbered treatment line (a timeline TREATMENT row with LINE): the pages show every patient "
                       "as untreated, with no first-line regimen or response",
                       "Add a timeline file with the treatment lines if they are known.")


def _map_pair(study: Study, prefix: str, events: MappedTable, report: Report) -> None:
    """The chosen *_STATUS/*_MONTHS pair: each event (code 1) becomes a relapse event (the pair does
    not say relapse or progression; both end EFS the same way); censored rows add nothing."""
    pfile, frame = study.patient.file, study.patient.frame
    description = study.descriptions.get((pfile, f"{prefix}_MONTHS"), "")
    n, undated = 0, []
    for row, p in frame.iterrows():
        status, months = cell_text(p[f"{prefix}_STATUS"]), cell_text(p[f"{prefix}_MONTHS"])
        if not status:
            continue
        code, problem = status_code(status, prefix)
        if problem:
            report.error(pfile, problem, f"Use 1:<event> or 0:<censored> in {prefix}_STATUS (empty when unknown).",
                         row=int(row), column=f"{prefix}_STATUS", value=status)
            continue
        if code != "1":
            continue
        if months and months_value(months) is None:
            report.error(pfile, f"{prefix}_MONTHS is not a number >= 0", f"Enter the months to the {prefix} event "
                         "(empty or NA when unknown).", row=int(row), column=f"{prefix}_MONTHS", value=months)
            continue
        if not months:
            undated.append((int(row), raw_cell_text(p[f"{prefix}_MONTHS"])))
            continue  # nothing invented: an event without its time is not recorded
        n += 1
        events.add({"patient_id": cell_text(p["PATIENT_ID"]), "event_type": "relapse",
                    "day": str(days_from_months(months)),
                    "note": f"{prefix}_STATUS {status} (cBioPortal), recorded as relapse/progression"},
                   pfile, int(row), {"patient_id": "PATIENT_ID", "event_type": f"{prefix}_STATUS",
                                     "day": f"{prefix}_MONTHS", "note": f"{prefix}_STATUS"})
    if undated:
        row, value = undated[0]
        report.warning(pfile, f"{len(undated)} {prefix} event(s) have no usable {prefix}_MONTHS (values: "
                       f"{quoted_counts(Counter(v for _, v in undated))}): not recorded, so those patients' EFS "
                       "does not count them", f"Fill in {prefix}_MONTHS where it is known.", row=row,
                       column=f"{prefix}_MONTHS", value=repr(value))
    report.warning(pfile, f"{n} {prefix} event(s) recorded as relapse/progression events on day "
                   f"round({prefix}_MONTHS x 30.4375) after the B-ALL diagnosis"
                   + (f" (the study describes {prefix}_MONTHS as '{description}')" if description else "")
                   + "; patients without one are censored at their last contact (OS), not at "
                   f"{prefix}_MONTHS", f"Choose another EFS source if {prefix} does not fit.",
                   column=f"{prefix}_STATUS")


def _map_timeline(raw: RawTable, known: set[str], deaths: set[str], events: MappedTable, report: Report,
                  skipped: Counter, *, relapses: bool) -> None:
    for row, t in raw.frame.iterrows():
        pid, kind = cell_text(t["PATIENT_ID"]), cell_text(t["EVENT_TYPE"]).upper()
        start, stop = cell_text(t["START_DATE"]), cell_text(t.get("STOP_DATE"))
        if pid not in known:
            report.error(raw.file, f"patient '{pid}' is not in the patient file",
                         "Add the patient or correct PATIENT_ID.", row=int(row), column="PATIENT_ID", value=pid)
            continue
        bad = [(c, v) for c, v in (("START_DATE", start), ("STOP_DATE", stop)) if v and not INTEGER.match(v)]
        if not start or bad:
            column, value = bad[0] if bad else ("START_DATE", None)
            report.error(raw.file, "not a whole number of days" if value else "START_DATE is empty",
                         "Enter whole days relative to the B-ALL diagnosis.", row=int(row), column=column,
                         value=value)
            continue
        text = " ".join(cell_text(t.get(c)) for c in ("TREATMENT_TYPE", "AGENT", "SUBTYPE", "STATUS")).lower()
        line = cell_text(t.get("LINE"))
        where = {"patient_id": "PATIENT_ID", "day": "START_DATE", "end_day": "STOP_DATE",
                 "event_type": "EVENT_TYPE", "line": "LINE", "regimen": "AGENT", "response": "STATUS"}
        base = {"patient_id": pid, "day": str(int(float(start))),
                "end_day": str(int(float(stop))) if stop else ""}
        values = None
        if kind == "TREATMENT":
            if "lenalidomide" in text:
                values = {**base, "event_type": "lenalidomide_course"}
            elif re.search(r"transplant|\bhct\b|\bsct\b|\bbmt\b|hsct", text):
                if "auto" in text:
                    skipped[(raw.file, "autologous transplant row(s) (the app records allogeneic HCT after "
                                       "B-ALL; myeloma autografts belong in myeloma_auto_hct)")] += 1
                    continue
                values = {**base, "event_type": "hct", "end_day": ""}
            elif line:
                values = {**base, "event_type": "treatment_line", "line": line,
                          "regimen": cell_text(t.get("AGENT"))}
            else:
                skipped[(raw.file, "TREATMENT row(s) without a LINE column value (a treatment line needs "
                                   "its number)")] += 1
                continue
        elif kind == "STATUS":
            if _RELAPSE_TEXT.search(text):
                if not relapses:
                    skipped[(raw.file, "relapse/progression row(s): the timeline is not the chosen EFS "
                                       "source")] += 1
                    continue
                values = {**base, "event_type": "relapse", "end_day": ""}
            elif re.search(r"complete (remission|response)|\bcri?\b", text) and line:
                response = "CRi" if re.search(r"\bcri\b|incomplete", text) else "CR"
                values = {**base, "event_type": "response_assessment", "line": line, "response": response,
                          "end_day": ""}
            elif re.search(r"deceased|death|died", text):
                if pid in deaths:
                    skipped[(raw.file, "death row(s) already given by OS_STATUS")] += 1
                    continue
                deaths.add(pid)
                values = {**base, "event_type": "death", "end_day": ""}
            else:
                skipped[(raw.file, "STATUS row(s) that are not a relapse, a remission with LINE, or a death")] += 1
                continue
        else:
            skipped[(raw.file, f"{kind or '(empty)'} row(s) (this EVENT_TYPE has no place in the schema)")] += 1
            continue
        events.add(values, raw.file, int(row), where)
