"""Finding a study's files the way cBioPortal does (meta_*.txt name their data files and types;
usual names without them), reading only the columns the mapping uses."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from analytics.importing import privacy, sources
from analytics.importing.cbioportal.cells import require_columns
from analytics.importing.report import Report
from analytics.importing.sources import RawTable


PATIENT_USED = ("PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS", "KARYOTYPE", "CNS_STATUS",
                "INSTITUTION", "CENTER")
SAMPLE_USED = ("PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE", "CANCER_TYPE_DETAILED", "SAMPLE_TYPE")
MAF_USED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification", "HGVSp_Short",
            "t_alt_count", "t_ref_count", "Mutation_Status")
TIMELINE_USED = ("PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE", "AGENT",
                 "SUBTYPE", "STATUS", "LINE")


def meta_fields(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def column_descriptions(data: bytes) -> dict[str, str]:
    """Column -> the study's own description (the second '#' row of a clinical file)."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    hashed = [line[1:].split("\t") for line in lines[:4] if line.startswith("#")]
    header = next((line.split("\t") for line in lines if not line.startswith("#")), [])
    if len(hashed) < 2:
        return {}
    return {name.strip(): text.strip() for name, text in zip(header, hashed[1])}


META_ROLES = {("CLINICAL", "PATIENT_ATTRIBUTES"): "patient", ("CLINICAL", "SAMPLE_ATTRIBUTES"): "sample",
              ("CLINICAL", "TIMELINE"): "timeline", ("MUTATION_EXTENDED", "MAF"): "maf"}


def _role_by_name(base: str) -> str | None:
    if base.startswith("data_clinical_patient"):
        return "patient"
    if base.startswith("data_clinical_sample"):
        return "sample"
    if base.startswith(("data_timeline", "data_clinical_timeline")):
        return "timeline"
    if base.startswith(("data_mutation", "data_maf")) or base.endswith(".maf"):
        return "maf"
    return None


@dataclass


class Study:
    """The study's files, read as text tables, before mapping."""
    patient: RawTable | None = None
    sample: RawTable | None = None
    mafs: list[RawTable] = field(default_factory=list)
    timelines: list[RawTable] = field(default_factory=list)
    name: str | None = None
    sequenced_ids: set[str] | None = None
    descriptions: dict[tuple[str, str], str] = field(default_factory=dict)
    not_mapped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _read(name: str, data: bytes, report: Report, used: tuple[str, ...]) -> RawTable | None:
    if sources.too_large(name, data, report):
        return None
    raw = sources.read_delimited(name, data, report, delimiter="\t", comment_rows=True, table=Path(name).name)
    if raw is not None:
        # only the columns the mapping reads are normalised and checked (the others are dropped)
        raw.frame = privacy.clean_frame(raw.frame, raw.file, report, columns=used)
    return raw


def collect(files: list[tuple[str, bytes]], report: Report) -> Study | None:
    """Find and read the study's files (meta files first, then the usual names)."""
    study = Study(files=[n for n, _ in files])
    by_base = {Path(name).name: (name, data) for name, data in files}
    roles: dict[str, str] = {}
    for base, (name, data) in sorted(by_base.items()):
        lower = base.lower()
        if lower.startswith("meta_"):
            meta = meta_fields(data)
            if lower == "meta_study.txt" or "type_of_cancer" in meta and "data_filename" not in meta:
                study.name = meta.get("name") or study.name
                continue
            target = meta.get("data_filename", "")
            role = META_ROLES.get((meta.get("genetic_alteration_type", "").upper(), meta.get("datatype", "").upper()))
            if role is None:
                if target:
                    study.not_mapped.append(
                        f"{target} ({meta.get('genetic_alteration_type', '?')} {meta.get('datatype', '?')}, "
                        f"named by {base}): this data type has no place in the app's schema (not read).")
                    roles[target] = "unused"
                continue
            if target and target not in by_base:
                if role != "patient":
                    report.warning(base, f"names the data file {target}, which was not uploaded",
                                   f"Upload {target} with the other study files if its data are wanted.",
                                   value=target)
                continue
            roles[target] = role
        elif lower.startswith(("case_list", "cases_")):
            meta = meta_fields(data)
            stable = meta.get("stable_id", "")
            if ("sequenced" in lower or stable.endswith("_sequenced")
                    or meta.get("case_list_category", "") == "all_cases_with_mutation_data"):
                ids = meta.get("case_list_ids", "")
                study.sequenced_ids = (study.sequenced_ids or set()) | {
                    privacy.normalised_text(s) for s in re.split(r"[\t ]+", ids) if s}
            else:
                study.not_mapped.append(f"{base}: case lists other than the sequenced samples are not used.")
    for base, (name, data) in sorted(by_base.items()):
        lower = base.lower()
        if lower.startswith(("meta_", "case_list", "cases_")):
            continue
        role = roles.get(base) or _role_by_name(lower)
        if role == "unused":
            continue
        if role is None:
            study.not_mapped.append(f"{base}: this file is not a cBioPortal file type the app reads (not read).")
            continue
        used = {"patient": PATIENT_USED, "sample": SAMPLE_USED, "maf": MAF_USED, "timeline": TIMELINE_USED}[role]
        if role in ("patient", "sample") and getattr(study, role) is not None:
            report.error(name, f"a second {role} file ({getattr(study, role).file} was the first)",
                         f"Upload one {role} file per study.")
            continue
        raw = _read(name, data, report, used)
        if raw is None:
            continue
        if role in ("patient", "sample"):
            setattr(study, role, raw)
            study.descriptions.update({(raw.file, c): d for c, d in column_descriptions(data).items()})
        elif role == "maf":
            study.mafs.append(raw)
        else:
            study.timelines.append(raw)
    if study.patient is None and report.ok:
        report.error("data_clinical_patient.txt", "the study's patient file is missing",
                     "Upload the patient file (data_clinical_patient.txt or the file named by "
                     "meta_clinical_patient.txt) with the other study files.")
    if study.mafs and study.sample is None and report.ok:
        report.error("data_clinical_sample.txt", "the sample file is missing: mutations cannot be "
                     "attributed to patients", "Upload the sample file with the mutation file.")
    if not report.ok:
        return None
    ok = require_columns(study.patient, ("PATIENT_ID",), report)
    if study.sample is not None:
        ok &= require_columns(study.sample, ("PATIENT_ID", "SAMPLE_ID"), report)
    for maf in study.mafs:
        ok &= require_columns(maf, ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"), report)
    for timeline in study.timelines:
        ok &= require_columns(timeline, ("PATIENT_ID", "START_DATE", "EVENT_TYPE"), report)
    return study if ok and report.ok else None
