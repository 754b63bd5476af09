"""Patients and samples: the diagnostic sample per patient (SAMPLE_RULE), lineage, the patient
table from the clinical attributes, and one warning per attribute a study lacks."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd

from analytics.importing.cbioportal.cells import (INTEGER, MappedTable, cell_text, listed_items, months_value,
                                                  quoted_counts, raw_cell_text)
from analytics.importing.cbioportal.study import Study
from analytics.importing.report import Report


SAMPLE_RULE = ("per patient, normal samples are ignored (SAMPLE_TYPE mentioning 'normal', or a TCGA "
               "barcode with sample code 10-19); the diagnostic sample is the first listed in the sample "
               "file whose SAMPLE_TYPE says primary or diagnosis (or a TCGA primary code 01, 03, 09), "
               "else the first listed tumour sample")
_TCGA_SAMPLE = re.compile(r"^TCGA-\w\w-\w{4}-(\d\d)")


def _lineage(sample: pd.Series) -> str:
    code = cell_text(sample.get("ONCOTREE_CODE")).upper()
    detail = cell_text(sample.get("CANCER_TYPE_DETAILED")).lower()
    if code == "BLL" or "b-lymphoblastic" in detail or "b-cell acute lymphoblastic" in detail:
        return "B"
    if code == "TLL" or "t-lymphoblastic" in detail or "t-cell acute lymphoblastic" in detail:
        return "T"
    return ""


def _sample_kind(sample: pd.Series) -> str:
    """'normal', 'primary' or 'tumour' (SAMPLE_RULE)."""
    kind = cell_text(sample.get("SAMPLE_TYPE")).lower()
    tcga = _TCGA_SAMPLE.match(cell_text(sample.get("SAMPLE_ID")))
    code = int(tcga[1]) if tcga else None
    if "normal" in kind or (code is not None and 10 <= code <= 19):
        return "normal"
    if "primary" in kind or "diagnos" in kind or (not kind and code in (1, 3, 9)):
        return "primary"
    return "tumour"


UNNAMED = "Uploaded cBioPortal study"


@dataclass


class ChosenSamples:
    """Each patient's tumour samples (file order), the diagnostic one, and what was set aside."""
    by_patient: dict[str, list[pd.Series]] = field(default_factory=lambda: defaultdict(list))
    patient_of: dict[str, str] = field(default_factory=dict)     # every listed sample -> its patient
    chosen: dict[str, str] = field(default_factory=dict)         # patient -> diagnostic sample
    later: list[str] = field(default_factory=list)
    normals: list[str] = field(default_factory=list)

    def diagnostic(self, pid: str) -> pd.Series | None:
        return next((s for s in self.by_patient.get(pid, [])
                     if cell_text(s["SAMPLE_ID"]) == self.chosen.get(pid)), None)


def choose_samples(study: Study, report: Report) -> ChosenSamples:
    """The diagnostic sample per patient, by SAMPLE_RULE (said in the report when it chose)."""
    samples = ChosenSamples()
    raw = study.sample
    if raw is None:
        return samples
    known = {cell_text(p) for p in study.patient.frame["PATIENT_ID"]}
    for row, s in raw.frame.iterrows():
        pid, sid = cell_text(s["PATIENT_ID"]), cell_text(s["SAMPLE_ID"])
        if pid not in known:
            report.error(raw.file, f"sample {sid} belongs to patient '{pid}', who is not in {study.patient.file}",
                         "Add the patient to the patient file or correct PATIENT_ID.",
                         row=int(row), column="PATIENT_ID", value=pid)
            continue
        samples.patient_of[sid] = pid
        if _sample_kind(s) == "normal":
            samples.normals.append(sid)
        else:
            samples.by_patient[pid].append(s)
    for pid, items in samples.by_patient.items():
        primary = [s for s in items if _sample_kind(s) == "primary"]
        pick = (primary or items)[0]
        samples.chosen[pid] = cell_text(pick["SAMPLE_ID"])
        samples.later += [cell_text(s["SAMPLE_ID"]) for s in items if s is not pick]
    if samples.later or samples.normals:
        several = sum(len(items) > 1 for items in samples.by_patient.values())
        report.warning(raw.file, f"{several} patient(s) have several tumour samples and {len(samples.normals)} "
                       f"normal sample(s) are listed: one diagnostic sample per patient is kept; rule: "
                       f"{SAMPLE_RULE}", "Nothing to do if the rule picks the diagnostic samples; otherwise "
                       "set SAMPLE_TYPE to 'Primary' for them.")
    return samples


def map_patients(study: Study, samples: ChosenSamples, report: Report) -> MappedTable:
    pfile, pframe = study.patient.file, study.patient.frame
    patients = MappedTable("patients", f"patients (mapped from {pfile})")
    institution_column = next((c for c in ("INSTITUTION", "CENTER") if c in pframe.columns), None)
    if institution_column is None:
        report.warning(pfile, f"the study gives no INSTITUTION or CENTER: every patient's institution is "
                              f"recorded as the study's name '{study.name or UNNAMED}'",
                       "Add an INSTITUTION column if the patients come from several centres.")
    maf_samples = {cell_text(s) for m in study.mafs for s in m.frame["Tumor_Sample_Barcode"]}
    assay = f"cBioPortal mutations ({', '.join(m.file for m in study.mafs)})"
    not_evaluated: dict[str, list[tuple[int, str]]] = defaultdict(list)   # (row, the file's value) per column
    fractional_age: list[tuple[int, str]] = []
    for row, p in pframe.iterrows():
        pid = cell_text(p["PATIENT_ID"])
        sex = cell_text(p.get("SEX"))
        sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex.lower(), sex)
        age = cell_text(p.get("AGE"))
        if age and not INTEGER.match(age) and months_value(age) is not None:
            fractional_age.append((int(row), age))
            age = str(int(float(age)))  # completed years
        sample = samples.chosen.get(pid)
        pick = samples.diagnostic(pid)
        values = {"patient_id": pid, "sex": sex, "age_at_ball_dx": age,
                  "institution": cell_text(p.get(institution_column)) if institution_column else study.name or UNNAMED,
                  "lineage": _lineage(pick) if pick is not None else "",
                  "karyotype_iscn": cell_text(p.get("KARYOTYPE")), "cns_status": cell_text(p.get("CNS_STATUS"))}
        for column in ("SEX", "AGE", "KARYOTYPE", "CNS_STATUS"):
            if column in pframe.columns and not cell_text(p.get(column)):
                not_evaluated[column].append((int(row), raw_cell_text(p.get(column))))
        if sample is not None and (sample in study.sequenced_ids if study.sequenced_ids is not None else
                                   sample in maf_samples):
            values["sequencing_assay"] = assay
        patients.add(values, pfile, int(row), {
            "patient_id": "PATIENT_ID", "sex": "SEX", "age_at_ball_dx": "AGE",
            "lineage": "ONCOTREE_CODE/CANCER_TYPE_DETAILED of the diagnostic sample",
            "institution": institution_column or "(study name)", "karyotype_iscn": "KARYOTYPE",
            "cns_status": "CNS_STATUS"})
    if fractional_age:
        row, value = fractional_age[0]
        report.warning(pfile, f"{len(fractional_age)} AGE value(s) have decimals: the completed years are "
                       "stored (e.g. 66.7 -> 66)", "Nothing to do.", row=row, column="AGE", value=value)
    _missing_warnings(pfile, pframe, patients, not_evaluated, study.sample, report)
    if study.mafs and study.sequenced_ids is None:
        unsequenced = sorted(p["patient_id"] for p in patients.rows if not p.get("sequencing_assay"))
        if unsequenced:
            report.warning(", ".join(m.file for m in study.mafs), f"{len(unsequenced)} patient(s) have no variant "
                           f"in the mutation file ({listed_items(unsequenced, 8)}): recorded as not sequenced (not "
                           "evaluated), never as wild-type",
                           "Upload cases_sequenced.txt (the study's case list) to mark sequenced samples.")
    return patients


def _missing_warnings(pfile: str, pframe: pd.DataFrame, patients: MappedTable, raw_values: dict, sample_raw,
                      report: Report) -> None:
    """One warning per attribute the study lacks for some or all patients (never an error per row)."""
    total = len(patients.rows)
    for column, target in (("SEX", "sex"), ("AGE", "age_at_ball_dx"), ("KARYOTYPE", "karyotype_iscn"),
                           ("CNS_STATUS", "cns_status")):
        if column not in pframe.columns:
            report.warning(pfile, f"the study has no {column} column: {target} is not evaluated (empty) for "
                           "every patient; analyses by it show them as not evaluated",
                           f"Add {column} to the patient file if it is known.", column=column)
        elif raw_values.get(column):
            cells = raw_values[column]
            report.warning(pfile, f"{column} is not evaluated for {len(cells)} of {total} patient(s) "
                           f"(values: {quoted_counts(Counter(v for _, v in cells))}): stored as empty",
                           "Nothing to do if they are unknown.", row=cells[0][0], column=column,
                           value=repr(cells[0][1]))
    lacking = [r for r in patients.rows if not r.get("lineage")]
    if lacking:
        has = sample_raw is not None and ({"ONCOTREE_CODE", "CANCER_TYPE_DETAILED"} & set(sample_raw.frame.columns))
        report.warning(sample_raw.file if sample_raw is not None else pfile,
                       f"lineage is not evaluated for {len(lacking)} of {total} patient(s): "
                       + ("their diagnostic sample's ONCOTREE_CODE is not BLL/TLL (nor CANCER_TYPE_DETAILED "
                          "B-/T-lymphoblastic)" if has else "the study has no sample file" if sample_raw is None
                          else "the sample file has no ONCOTREE_CODE or CANCER_TYPE_DETAILED column"),
                       "Nothing to do if the lineage is unknown.",
                       column="ONCOTREE_CODE" if has else None)
