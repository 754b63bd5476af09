"""cBioPortal study files mapped onto the app's schema, with what cannot be mapped listed.

Read: `data_clinical_patient.txt` (four '#' header rows, then the header on row 5),
`data_clinical_sample.txt`, `data_mutations*.txt` (MAF), `data_timeline*.txt`, and when
uploaded `meta_study.txt` (the study's name) and `cases_sequenced.txt` (the sequenced samples).

Mapping (nothing is invented: what a study does not say stays empty = not evaluated):

- patients: PATIENT_ID; SEX (Male/Female/M/F); AGE -> age at B-ALL diagnosis; KARYOTYPE,
  CNS_STATUS when present; INSTITUTION or CENTER, else the study's name for every patient (a
  warning says so); lineage from the samples' ONCOTREE_CODE (BLL/TLL) or CANCER_TYPE_DETAILED.
- OS_STATUS + OS_MONTHS -> one event: `1:DECEASED` a death, `0:LIVING` a last contact, on day
  round(OS_MONTHS x 30.4375) after diagnosis (the data dictionary's month).
- Other *_STATUS/*_MONTHS pairs (DFS, PFS, EFS, ...) are composite endpoints that do not say
  which event (relapse, death, induction failure) occurred: listed as not mapped; the app
  derives its endpoints from the events themselves.
- mutations: one diagnostic sample per patient (SAMPLE_TYPE 'Primary' if stated, else the
  first listed); Hugo_Symbol, HGVSp_Short, the app's seven protein-altering
  Variant_Classification values, VAF = t_alt_count / (t_alt_count + t_ref_count).
  A patient is sequenced when the sample is in cases_sequenced.txt, or (without that list)
  when it appears in the MAF; otherwise not evaluated (never wild-type).
- timeline (START_DATE/STOP_DATE taken as days from the B-ALL diagnosis): TREATMENT with
  lenalidomide -> lenalidomide_course, an allogeneic transplant -> hct, other treatments with a
  LINE column -> treatment_line; STATUS relapse/progression -> relapse, remission with LINE ->
  response_assessment, death -> death (unless OS_STATUS gave it).

Row numbers in the report are the rows the user sees in the file (header = row 5 after the
four '#' rows): every problem in a mapped table is relocated to its source file, row, column.

>>> rows = ["#Patient Identifier\\tSex\\tAge\\tOS status\\tOS months",
...         "#d\\td\\td\\td\\td", "#STRING\\tSTRING\\tNUMBER\\tSTRING\\tNUMBER", "#1\\t1\\t1\\t1\\t1",
...         "PATIENT_ID\\tSEX\\tAGE\\tOS_STATUS\\tOS_MONTHS", "P1\\tFemale\\t70\\t1:DECEASED\\t10.5"]
>>> sample = "PATIENT_ID\\tSAMPLE_ID\\tONCOTREE_CODE\\nP1\\tP1-T\\tBLL\\n"
>>> report = Report()
>>> raws, not_mapped = read_study([("data_clinical_patient.txt", "\\n".join(rows).encode()),
...                                ("data_clinical_sample.txt", sample.encode())], report)
>>> raws["events"].frame[["patient_id", "event_type", "day"]].values.tolist()
[['P1', 'death', '320']]
>>> raws["patients"].frame[["sex", "age_at_ball_dx", "lineage"]].values.tolist()
[['F', '70', 'B']]
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pandas as pd

from analytics.importing import privacy, sources
from analytics.importing.report import Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.units import DAYS_PER_MONTH

NULL_MARKERS = {"", "na", "n/a", "nan", "null", "none", "[not available]", "[not applicable]",
                "[unknown]", "[not evaluated]", "[completed]", "[discrepancy]", "[not reported]"}
KEPT_CLASSES = ("Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins",
                "In_Frame_Del", "In_Frame_Ins", "Splice_Site")
PATIENT_USED = {"PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS", "KARYOTYPE", "CNS_STATUS",
                "INSTITUTION", "CENTER"}
SAMPLE_USED = {"PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE", "CANCER_TYPE_DETAILED", "SAMPLE_TYPE", "CENTER"}
MAF_USED = {"Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification", "HGVSp_Short",
            "t_alt_count", "t_ref_count"}
TIMELINE_USED = {"PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE", "AGENT",
                 "SUBTYPE", "STATUS", "LINE"}
_STATUS = re.compile(r"^\s*([01])\s*:\s*(.+?)\s*$")
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def _text(value) -> str:
    value = "" if value is None else str(value).strip()
    return "" if value.lower() in NULL_MARKERS else value


def _columns(table: str) -> list[str]:
    from analytics.importing.validation import column_specs  # avoids an import cycle
    return list(column_specs()[table])


class _Table:
    """Rows of one own-format table, each remembering its source file, row and columns."""

    def __init__(self, table: str, label: str):
        self.table, self.label = table, label
        self.rows: list[dict[str, str]] = []
        self.origins: dict[int, tuple[str, int, dict[str, str]]] = {}

    def add(self, values: dict[str, str], file: str, row: int, columns: dict[str, str]) -> None:
        self.rows.append(values)
        self.origins[len(self.rows) + 1] = (file, row, columns)  # index as a sheet: header = 1

    def raw(self) -> RawTable:
        names = _columns(self.table)
        frame = pd.DataFrame([[r.get(c, "") for c in names] for r in self.rows], columns=names,
                             index=pd.Index(range(2, len(self.rows) + 2), name="row"), dtype=object)
        raw = RawTable(self.table, frame, self.label, None, 1)
        raw.origins = self.origins  # read by relocate()
        return raw


def _read(name: str, data: bytes, report: Report) -> RawTable | None:
    if sources.too_large(name, data, report):
        return None
    return sources.read_delimited(name, data, report, delimiter="\t", comment_rows=True,
                                  table=Path(name).name)


def _meta(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def _require(raw: RawTable, columns: tuple[str, ...], report: Report) -> bool:
    missing = [c for c in columns if c not in raw.frame.columns]
    for column in missing:
        report.error(raw.file, f"required column '{column}' is missing", f"Add the {column} column "
                     "(cBioPortal file format).", row=raw.header_row, column=column)
    return not missing


def _days(value: str) -> int:
    return int(math.floor(float(value) * DAYS_PER_MONTH + 0.5))


def _lineage(sample: pd.Series) -> str:
    code = _text(sample.get("ONCOTREE_CODE")).upper()
    detail = _text(sample.get("CANCER_TYPE_DETAILED")).lower()
    if code == "BLL" or "b-lymphoblastic" in detail or "b-cell acute lymphoblastic" in detail:
        return "B"
    if code == "TLL" or "t-lymphoblastic" in detail or "t-cell acute lymphoblastic" in detail:
        return "T"
    return ""


def read_study(files: list[tuple[str, bytes]], report: Report
               ) -> tuple[dict[str, RawTable] | None, list[str]]:
    """Map a cBioPortal study onto the five tables (or None when a problem blocks mapping)."""
    not_mapped: list[str] = []
    patient_raw = sample_raw = None
    mafs: list[RawTable] = []
    timelines: list[RawTable] = []
    study_name, sequenced_ids = None, None
    for name, data in files:
        base = Path(name).name.lower()
        if base.startswith("meta_"):
            if base == "meta_study.txt":
                study_name = _meta(data).get("name") or None
            continue
        if base.startswith(("case_list", "cases_")):
            if "sequenced" in base:
                ids = _meta(data).get("case_list_ids", "")
                sequenced_ids = {s for s in re.split(r"[\t ]+", ids) if s}
            else:
                not_mapped.append(f"{name}: case lists other than cases_sequenced are not used.")
            continue
        if base == "data_clinical_patient.txt":
            patient_raw = _read(name, data, report)
        elif base == "data_clinical_sample.txt":
            sample_raw = _read(name, data, report)
        elif base.startswith("data_mutations"):
            raw = _read(name, data, report)
            if raw is not None:
                mafs.append(raw)
        elif base.startswith("data_timeline"):
            raw = _read(name, data, report)
            if raw is not None:
                timelines.append(raw)
        else:
            not_mapped.append(f"{name}: this cBioPortal file type has no place in the app's schema "
                              "(not read).")
    if patient_raw is None and report.ok:
        report.error("data_clinical_patient.txt", "the study's patient file is missing",
                     "Upload data_clinical_patient.txt with the other study files.")
    if (mafs or timelines) and sample_raw is None and report.ok and mafs:
        report.error("data_clinical_sample.txt", "the sample file is missing: mutations cannot be "
                     "attributed to patients", "Upload data_clinical_sample.txt with the mutation file.")
    if not report.ok:
        return None, not_mapped
    ok = _require(patient_raw, ("PATIENT_ID",), report)
    if sample_raw is not None:
        ok &= _require(sample_raw, ("PATIENT_ID", "SAMPLE_ID"), report)
    for maf in mafs:
        ok &= _require(maf, ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"), report)
    for timeline in timelines:
        ok &= _require(timeline, ("PATIENT_ID", "START_DATE", "EVENT_TYPE"), report)
    # Privacy first, on every column of every file (also the ones that are not mapped).
    for raw in [patient_raw, sample_raw, *mafs, *timelines]:
        if raw is not None:
            # cBioPortal's START_DATE/STOP_DATE are whole days by the format (their values are
            # still checked: a calendar date there is refused like anywhere else)
            privacy.check_table(raw.frame, raw.file, report, id_columns=("PATIENT_ID", "SAMPLE_ID"),
                                known_columns=frozenset({"START_DATE", "STOP_DATE"}),
                                header_row=raw.header_row)
    if not ok or not report.ok:
        return None, not_mapped

    cohort_name = study_name or "Uploaded cBioPortal study"
    pfile = patient_raw.file
    pframe = patient_raw.frame
    known_patients = {_text(p) for p in pframe["PATIENT_ID"]}

    # Samples: lineage, the diagnostic sample per patient
    samples_by_patient: dict[str, list[pd.Series]] = defaultdict(list)
    sample_patient: dict[str, str] = {}
    if sample_raw is not None:
        for row, s in sample_raw.frame.iterrows():
            pid, sid = _text(s["PATIENT_ID"]), _text(s["SAMPLE_ID"])
            if pid not in known_patients:
                report.error(sample_raw.file, f"sample {sid} belongs to patient '{pid}', who is not in "
                             f"{pfile}", "Add the patient to the patient file or correct PATIENT_ID.",
                             row=int(row), column="PATIENT_ID", value=pid)
                continue
            sample_patient[sid] = pid
            samples_by_patient[pid].append(s)
        extra = sorted(set(sample_raw.frame.columns) - SAMPLE_USED)
        if extra:
            not_mapped.append(f"{sample_raw.file}: columns {', '.join(extra)} (no place in the schema).")
    chosen: dict[str, str] = {}
    later: list[str] = []
    for pid, items in samples_by_patient.items():
        primary = [s for s in items if _text(s.get("SAMPLE_TYPE")).lower() == "primary"]
        pick = (primary or items)[0]
        chosen[pid] = _text(pick["SAMPLE_ID"])
        later += [_text(s["SAMPLE_ID"]) for s in items if s is not pick]

    # Patients
    patients = _Table("patients", f"patients (mapped from {pfile})")
    institution_column = next((c for c in ("INSTITUTION", "CENTER") if c in pframe.columns), None)
    if institution_column is None:
        report.warning(pfile, f"the study gives no INSTITUTION or CENTER: every patient's institution is "
                              f"recorded as the study's name '{cohort_name}'",
                       "Add an INSTITUTION column if the patients come from several centres.")
    lineage_source = "ONCOTREE_CODE/CANCER_TYPE_DETAILED of the patient's samples"
    for row, p in pframe.iterrows():
        pid = _text(p["PATIENT_ID"])
        sex = _text(p.get("SEX"))
        sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex.lower(), sex)
        lineages = {_lineage(s) for s in samples_by_patient.get(pid, [])} - {""}
        values = {"patient_id": pid, "sex": sex, "age_at_ball_dx": _text(p.get("AGE")),
                  "institution": _text(p.get(institution_column)) if institution_column else cohort_name,
                  "lineage": lineages.pop() if len(lineages) == 1 else "",
                  "karyotype_iscn": _text(p.get("KARYOTYPE")), "cns_status": _text(p.get("CNS_STATUS"))}
        sample = chosen.get(pid)
        if sample is not None and (sample in sequenced_ids if sequenced_ids is not None else
                                   any(sample in set(m.frame["Tumor_Sample_Barcode"]) for m in mafs)):
            values["sequencing_assay"] = f"cBioPortal mutations ({', '.join(m.file for m in mafs)})"
        patients.add(values, pfile, int(row), {
            "patient_id": "PATIENT_ID", "sex": "SEX", "age_at_ball_dx": "AGE", "lineage": lineage_source,
            "institution": institution_column or "(study name)", "karyotype_iscn": "KARYOTYPE",
            "cns_status": "CNS_STATUS"})

    # Events: OS, then the timeline
    events = _Table("events", f"events (mapped from {pfile} and the timeline)")
    deaths: set[str] = set()
    has_os = {"OS_STATUS", "OS_MONTHS"} <= set(pframe.columns)
    if not has_os:
        not_mapped.append(f"{pfile}: no OS_STATUS/OS_MONTHS pair: overall survival is not evaluable.")
    for row, p in pframe.iterrows() if has_os else []:
        pid, status, months = _text(p["PATIENT_ID"]), _text(p["OS_STATUS"]), _text(p["OS_MONTHS"])
        if not status and not months:
            continue
        match = _STATUS.match(status)
        word = (match[2] if match else status).upper()
        code = match[1] if match else {"DECEASED": "1", "DEAD": "1", "LIVING": "0", "ALIVE": "0"}.get(word)
        if code is None or (match and word not in ("DECEASED", "DEAD", "LIVING", "ALIVE")):
            report.error(pfile, "OS_STATUS is neither 1:DECEASED nor 0:LIVING",
                         "Use cBioPortal's 1:DECEASED or 0:LIVING (empty when unknown).",
                         row=int(row), column="OS_STATUS", value=status)
            continue
        try:
            number = float(months)
            if not math.isfinite(number) or number < 0:
                raise ValueError
        except ValueError:
            report.error(pfile, "OS_MONTHS is " + ("empty" if not months else "not a number >= 0")
                         + (": the day of death is needed" if code == "1" else
                            ": the day of the last contact is needed"),
                         "Enter the months from diagnosis to death or last contact.",
                         row=int(row), column="OS_MONTHS", value=months or None)
            continue
        event_type = "death" if code == "1" else "last_contact"
        if code == "1":
            deaths.add(pid)
        events.add({"patient_id": pid, "event_type": event_type, "day": str(_days(months))}, pfile, int(row),
                   {"patient_id": "PATIENT_ID", "event_type": "OS_STATUS", "day": "OS_MONTHS"})
    pairs = sorted({c[:-len("_STATUS")] for c in pframe.columns if c.endswith("_STATUS")}
                   & {c[:-len("_MONTHS")] for c in pframe.columns if c.endswith("_MONTHS")} - {"OS"})
    for prefix in pairs:
        not_mapped.append(f"{pfile}: {prefix}_STATUS/{prefix}_MONTHS ({prefix} endpoint): a composite "
                          "endpoint does not say which event (relapse, death, induction failure) occurred, "
                          "so it cannot become events; the app derives EFS from relapse, induction failure "
                          "and death events (add relapses to a timeline file).")
    used_pairs = {f"{p}_{s}" for p in pairs for s in ("STATUS", "MONTHS")}
    extra = sorted(set(pframe.columns) - PATIENT_USED - used_pairs)
    if extra:
        not_mapped.append(f"{pfile}: columns {', '.join(extra)} (no place in the schema).")

    skipped: Counter = Counter()
    for timeline in timelines:
        _map_timeline(timeline, known_patients, deaths, events, report, skipped)
        extra = sorted(set(timeline.frame.columns) - TIMELINE_USED)
        if extra:
            not_mapped.append(f"{timeline.file}: columns {', '.join(extra)} (no place in the schema).")
    for (file, what), n in sorted(skipped.items()):
        not_mapped.append(f"{file}: {n} {what}.")
    if timelines:
        report.warning(", ".join(t.file for t in timelines), "START_DATE/STOP_DATE are taken as days from "
                       "the B-ALL diagnosis (cBioPortal lets each study choose its day 0)",
                       "Nothing to do if the study's timeline starts at diagnosis; otherwise shift the days.")
    for index, event in enumerate(events.rows, start=1):
        event["event_id"] = str(index)

    # Mutations
    mutations = _Table("mutations", "mutations (mapped from the MAF)")
    for maf in mafs:
        assay = f"cBioPortal mutations ({', '.join(m.file for m in mafs)})"
        dropped: Counter = Counter()
        for row, m in maf.frame.iterrows():
            sid = _text(m["Tumor_Sample_Barcode"])
            pid = sample_patient.get(sid)
            if pid is None:
                report.error(maf.file, f"sample '{sid}' is not in data_clinical_sample.txt",
                             "Add the sample to the sample file or correct Tumor_Sample_Barcode.",
                             row=int(row), column="Tumor_Sample_Barcode", value=sid)
                continue
            if sid != chosen.get(pid):
                dropped["variant(s) of a later sample of the same patient (the app keeps one diagnostic "
                        "sample per patient)"] += 1
                continue
            vclass = _text(m["Variant_Classification"])
            if vclass not in KEPT_CLASSES:
                dropped[f"variant(s) of class {vclass or '(empty)'} (not a protein-altering class the "
                        "app stores)"] += 1
                continue
            vaf = ""
            alt, ref = _text(m.get("t_alt_count")), _text(m.get("t_ref_count"))
            if _INT.match(alt) and _INT.match(ref) and float(alt) > 0:
                vaf = repr(float(alt) / (float(alt) + float(ref)))
            elif alt or ref:
                dropped["allele count(s) that are not whole numbers with t_alt_count > 0 (VAF left "
                        "empty)"] += 1
            mutations.add({"patient_id": pid, "gene": _text(m["Hugo_Symbol"]),
                           "protein_change": _text(m.get("HGVSp_Short")), "variant_class": vclass,
                           "vaf": vaf, "assay": assay}, maf.file, int(row),
                          {"patient_id": "Tumor_Sample_Barcode", "gene": "Hugo_Symbol",
                           "protein_change": "HGVSp_Short", "variant_class": "Variant_Classification",
                           "vaf": "t_alt_count/t_ref_count"})
        for what, n in sorted(dropped.items()):
            not_mapped.append(f"{maf.file}: {n} {what}.")
        extra = sorted(set(maf.frame.columns) - MAF_USED)
        if extra:
            not_mapped.append(f"{maf.file}: {len(extra)} other MAF column(s) not used "
                              f"({', '.join(extra[:6])}{', ...' if len(extra) > 6 else ''}).")
    if later:
        not_mapped.append(f"{sample_raw.file}: later samples {', '.join(sorted(later))}: one diagnostic "
                          "sample per patient is kept (SAMPLE_TYPE 'Primary' if stated, else the first).")
    if mafs and sequenced_ids is None:
        unsequenced = sorted(p["patient_id"] for p in patients.rows if not p.get("sequencing_assay"))
        if unsequenced:
            report.warning(", ".join(m.file for m in mafs), f"{len(unsequenced)} patient(s) have no variant in "
                           f"the mutation file ({', '.join(unsequenced[:8])}{', ...' if len(unsequenced) > 8 else ''})"
                           ": recorded as not sequenced (not evaluated), never as wild-type",
                           "Upload cases_sequenced.txt (the study's case list) to mark sequenced samples.")
    empty = [f"patients.{c}" for c in _columns("patients")
             if all(not r.get(c) for r in patients.rows)]
    if empty:
        not_mapped.append("Left empty (not evaluated; a cBioPortal study does not carry them): "
                          + ", ".join(empty) + ".")
    not_mapped.append("measurements: none (cBioPortal files have no blast-count table).")
    if not mafs:
        not_mapped.append("No data_mutations file: every patient is not sequenced (genes not evaluated).")

    info = _Table("cohort_info", "cohort_info (from meta_study.txt)")
    info.add({"cohort_name": cohort_name, "synthetic": "false",
              "description": "Imported from cBioPortal study files: " + ", ".join(n for n, _ in files)},
             "meta_study.txt" if study_name else pfile, 1, {})
    measurements = _Table("measurements", "measurements (none in a cBioPortal study)")
    if not report.ok:
        return None, not_mapped
    return {t.table: t.raw() for t in (info, patients, events, mutations, measurements)}, not_mapped


def _map_timeline(raw: RawTable, known: set[str], deaths: set[str], events: _Table, report: Report,
                  skipped: Counter) -> None:
    for row, t in raw.frame.iterrows():
        pid, kind = _text(t["PATIENT_ID"]), _text(t["EVENT_TYPE"]).upper()
        start, stop = _text(t["START_DATE"]), _text(t.get("STOP_DATE"))
        if pid not in known:
            report.error(raw.file, f"patient '{pid}' is not in the patient file",
                         "Add the patient or correct PATIENT_ID.", row=int(row), column="PATIENT_ID", value=pid)
            continue
        bad = [(c, v) for c, v in (("START_DATE", start), ("STOP_DATE", stop)) if v and not _INT.match(v)]
        if not start or bad:
            column, value = bad[0] if bad else ("START_DATE", None)
            report.error(raw.file, "not a whole number of days" if value else "START_DATE is empty",
                         "Enter whole days relative to the B-ALL diagnosis.", row=int(row), column=column,
                         value=value)
            continue
        text = " ".join(_text(t.get(c)) for c in ("TREATMENT_TYPE", "AGENT", "SUBTYPE", "STATUS")).lower()
        line = _text(t.get("LINE"))
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
                          "regimen": _text(t.get("AGENT"))}
            else:
                skipped[(raw.file, "TREATMENT row(s) without a LINE column value (a treatment line needs "
                                   "its number)")] += 1
                continue
        elif kind == "STATUS":
            if re.search(r"relapse|recurren|progress", text):
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


def relocate(report: Report, raws: dict[str, RawTable]) -> Report:
    """Point every problem found in a mapped table at the source file, row and column."""
    by_label = {raw.file: raw for raw in raws.values() if getattr(raw, "origins", None) is not None}
    issues = []
    for issue in report.issues:
        raw = by_label.get(issue.file)
        origin = raw.origins.get(issue.row) if raw is not None and issue.row is not None else None
        if origin is None:
            issues.append(issue)
            continue
        file, row, columns = origin
        column = columns.get(issue.column) if issue.column else None
        mapped = f" [mapped to {raw.table}.{issue.column}]" if issue.column else f" [mapped to {raw.table}]"
        issues.append(replace(issue, file=file, row=row, column=column or issue.column,
                              problem=issue.problem + mapped))
    report.issues[:] = issues
    return report


__all__ = ["read_study", "relocate", "OWN_TABLES"]
