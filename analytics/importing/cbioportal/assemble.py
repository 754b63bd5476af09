"""cBioPortal study files, as published, mapped onto the app's schema; what cannot be mapped is listed.

Files are found the way cBioPortal finds them: every `meta_*.txt` names its data file
(`data_filename:`) and says what it holds (`genetic_alteration_type`/`datatype`): CLINICAL
PATIENT_ATTRIBUTES (the patient file), SAMPLE_ATTRIBUTES (the sample file), TIMELINE, and
MUTATION_EXTENDED (a MAF). Without meta files the usual names are recognised
(`data_clinical_patient[s].txt`, `data_clinical_sample[s].txt`, `data_mutations*.txt` or
`*.maf`, `data_timeline*.txt`). `meta_study.txt` gives the study's name; a case list with stable
id `*_sequenced` (`cases_sequenced.txt`) the sequenced samples. Other data types are listed as
not mapped and not read.

Mapping (nothing is invented: what a study does not say stays empty = not evaluated, with one
warning per column; cBioPortal's NA tokens - `NA`, `[Not Available]`, `[Unknown]`,
`[Not Applicable]`, `Not Applicable`, `[Not Evaluated]`, `[Discrepancy]`, empty ... - are
not evaluated and quoted in the report):

- patients: PATIENT_ID; SEX (Male/Female/M/F); AGE -> age at B-ALL diagnosis (completed
  years); KARYOTYPE, CNS_STATUS; INSTITUTION or CENTER, else the study's name (a warning says
  so); lineage from the diagnostic sample's ONCOTREE_CODE (BLL/TLL) or CANCER_TYPE_DETAILED.
- OS_STATUS + OS_MONTHS -> a death (`1:DECEASED`, `DECEASED`) or last contact (`0:LIVING`,
  `LIVING`) on day round(OS_MONTHS x 30.4375). A code contradicting its word (`0:DECEASED`) is an
  error; a patient without both is not evaluable for survival (one warning, not an error).
- EFS source, chosen by the user (`efs_source`): the timeline's relapse/progression rows, or one
  of the study's other `*_STATUS`/`*_MONTHS` pairs (DFS, PFS, EFS...) whose events (`1:...`)
  become relapse events (relapse or progression: the pair does not say which), or none (EFS then
  counts deaths and induction failures only). `endpoint_sources` says what each would yield.
- The diagnostic sample per patient: see `SAMPLE_RULE`. Mutations: that sample's rows of the
  MAF, the app's seven protein-altering Variant_Classification values; Hugo_Symbol, HGVSp_Short,
  VAF = t_alt_count / (t_alt_count + t_ref_count). A patient is sequenced when the sample is in
  the sequenced case list, or (without one) when it appears in the MAF; otherwise not evaluated.
- timeline (START_DATE/STOP_DATE taken as days from the B-ALL diagnosis): TREATMENT with
  lenalidomide -> lenalidomide_course, an allogeneic transplant -> hct, other treatments with a
  LINE -> treatment_line; STATUS remission with LINE -> response_assessment, death -> death
  (unless OS_STATUS gave it), relapse/progression -> relapse when the timeline is the EFS source.

Only the columns the mapping uses are read, normalised (Unicode NFKC, invisible characters
removed) and stored, so only they meet the privacy guard (on the mapped values, located back at
the study file's row and column); every other column is listed as not mapped and never stored.

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
>>> status_code("DECEASED", "OS"), status_code("1:DECEASED", "OS"), status_code("0:DECEASED", "OS")[1]
(('1', None), ('1', None), "the code 0 contradicts 'DECEASED' (an event)")
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from analytics.importing import privacy, sources
from analytics.importing.report import Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import column_specs
from analytics.units import DAYS_PER_MONTH

NULL_MARKERS = {"", "na", "n/a", "nan", "null", "none", "[not available]", "[not applicable]",
                "not applicable", "not available", "[unknown]", "[not evaluated]", "not evaluated",
                "[completed]", "[discrepancy]", "[not reported]", "not reported"}
KEPT_CLASSES = ("Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins",
                "In_Frame_Del", "In_Frame_Ins", "Splice_Site")
PATIENT_USED = ("PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS", "KARYOTYPE", "CNS_STATUS",
                "INSTITUTION", "CENTER")
SAMPLE_USED = ("PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE", "CANCER_TYPE_DETAILED", "SAMPLE_TYPE")
MAF_USED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification", "HGVSp_Short",
            "t_alt_count", "t_ref_count", "Mutation_Status")
TIMELINE_USED = ("PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "TREATMENT_TYPE", "AGENT",
                 "SUBTYPE", "STATUS", "LINE")
# MAF columns that describe the variant's place and annotation, never a person (GDC MAF
# specification, VEP and vcf2maf annotation, WashU '_WU' columns): listed as such when not mapped.
_GENOMIC_COLUMN = re.compile(
    r"^(?:entrez_gene_id|center|ncbi_build|chromosome|start_position|end_position|strand|variant_type|"
    r"reference_allele|tumor_seq_allele\d|dbsnp_\w+|matched_norm_sample_barcode|match_norm_\w+|"
    r"tumor_validation_\w+|verification_status|validation_\w+|mutation_status|sequencing_phase|"
    r"sequence_source|score|bam_file|sequencer|tumor_sample_uuid|matched_norm_sample_uuid|hgvs\w*|"
    r"transcript_id|exon_number|[tn]_(?:depth|ref_count|alt_count)|all_effects|allele|gene|feature|"
    r"feature_type|consequence|cdna_position|cds_position|protein_position|amino_acids?|codons|"
    r"existing_variation|allele_num|distance|symbol|symbol_source|hgnc_id|biotype|canonical|ccds|ensp|"
    r"swissprot|trembl|uniparc|refseq|sift|polyphen|exon|intron|domains|\w*_?maf|clin_sig|somatic|"
    r"pubmed|motif_\w+|high_inf_pos|impact|pick|variant_class|tsl|hgvs_offset|pheno|amino_acid_change|"
    r"ma:\S+|cbp_driver\w*|protein_change|refseq_mrna_id|\w+_wu|\w+\.(?:name|code)|evs_\w+|"
    r"normal_\w+|tumou?rs?_\w+|ensembl_gene_id|gene_name_source\w*|filter|flanking_bps|vcf_\w+|"
    r"variant_id|variant_qual|\w*gnomad\w*|[tn]_\w+|codon_change|transcript)$", re.I)
SAMPLE_RULE = ("per patient, normal samples are ignored (SAMPLE_TYPE mentioning 'normal', or a TCGA "
               "barcode with sample code 10-19); the diagnostic sample is the first listed in the sample "
               "file whose SAMPLE_TYPE says primary or diagnosis (or a TCGA primary code 01, 03, 09), "
               "else the first listed tumour sample")
_STATUS = re.compile(r"^\s*(\d+)\s*:\s*(.*?)\s*$")
_EVENT_WORDS = {"deceased", "dead", "died", "recurred/progressed", "recurred", "progressed", "progression",
                "relapsed", "relapse", "recurrence", "event", "yes", "1"}
_CENSOR_WORDS = {"living", "alive", "diseasefree", "disease free", "disease-free", "censored", "censor",
                 "no event", "no", "progressionfree", "progression free", "0"}
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_TCGA_SAMPLE = re.compile(r"^TCGA-\w\w-\w{4}-(\d\d)")
NO_EFS_SOURCE = "none"
TIMELINE_SOURCE = "timeline"


def _text(value) -> str:
    value = "" if value is None else str(value).strip()
    return "" if value.lower() in NULL_MARKERS else value


def _raw_text(value) -> str:
    return "" if value is None else str(value).strip()


def _columns(table: str) -> list[str]:
    return list(column_specs()[table])


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


def _meta(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def _descriptions(data: bytes) -> dict[str, str]:
    """Column -> the study's own description (the second '#' row of a clinical file)."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    hashed = [line[1:].split("\t") for line in lines[:4] if line.startswith("#")]
    header = next((line.split("\t") for line in lines if not line.startswith("#")), [])
    if len(hashed) < 2:
        return {}
    return {name.strip(): text.strip() for name, text in zip(header, hashed[1])}


def _require(raw: RawTable, columns: tuple[str, ...], report: Report) -> bool:
    missing = [c for c in columns if c not in raw.frame.columns]
    for column in missing:
        report.error(raw.file, f"required column '{column}' is missing", f"Add the {column} column "
                     "(cBioPortal file format).", row=raw.header_row, column=column)
    return not missing


def _days(value: str) -> int:
    return int(math.floor(float(value) * DAYS_PER_MONTH + 0.5))


def _months(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _lineage(sample: pd.Series) -> str:
    code = _text(sample.get("ONCOTREE_CODE")).upper()
    detail = _text(sample.get("CANCER_TYPE_DETAILED")).lower()
    if code == "BLL" or "b-lymphoblastic" in detail or "b-cell acute lymphoblastic" in detail:
        return "B"
    if code == "TLL" or "t-lymphoblastic" in detail or "t-cell acute lymphoblastic" in detail:
        return "T"
    return ""


def _sample_kind(sample: pd.Series) -> str:
    """'normal', 'primary' or 'tumour' (SAMPLE_RULE)."""
    kind = _text(sample.get("SAMPLE_TYPE")).lower()
    tcga = _TCGA_SAMPLE.match(_text(sample.get("SAMPLE_ID")))
    code = int(tcga[1]) if tcga else None
    if "normal" in kind or (code is not None and 10 <= code <= 19):
        return "normal"
    if "primary" in kind or "diagnos" in kind or (not kind and code in (1, 3, 9)):
        return "primary"
    return "tumour"


# --- finding the files -------------------------------------------------------------------

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
            meta = _meta(data)
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
            meta = _meta(data)
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
            study.descriptions.update({(raw.file, c): d for c, d in _descriptions(data).items()})
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
    ok = _require(study.patient, ("PATIENT_ID",), report)
    if study.sample is not None:
        ok &= _require(study.sample, ("PATIENT_ID", "SAMPLE_ID"), report)
    for maf in study.mafs:
        ok &= _require(maf, ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification"), report)
    for timeline in study.timelines:
        ok &= _require(timeline, ("PATIENT_ID", "START_DATE", "EVENT_TYPE"), report)
    return study if ok and report.ok else None


# --- endpoint sources ----------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointSource:
    name: str          # 'OS', a pair prefix ('DFS', 'PFS', ...), 'timeline'
    columns: str       # where it comes from
    patients: int      # patients with a usable status and time
    events: int        # events (deaths for OS; relapses/progressions otherwise)
    description: str   # the study's own words for it, if any


_ATTRIBUTE_ID = re.compile(r"^[A-Za-z0-9_]+$")  # cBioPortal attribute ids; anything else is not offered


def _pairs(frame: pd.DataFrame) -> list[str]:
    prefixes = ({c[:-len("_STATUS")] for c in frame.columns if c.endswith("_STATUS")}
                & {c[:-len("_MONTHS")] for c in frame.columns if c.endswith("_MONTHS")} - {"OS"})
    return sorted(p for p in prefixes if _ATTRIBUTE_ID.match(p))


def _pair_rows(study: Study, prefix: str):
    """(row, patient, code, months text) of every patient row with a usable status and time."""
    frame = study.patient.frame
    for row, p in frame.iterrows():
        code, _ = status_code(_text(p[f"{prefix}_STATUS"]), prefix) if _text(p[f"{prefix}_STATUS"]) else (None, None)
        months = _text(p[f"{prefix}_MONTHS"])
        if code is not None and _months(months) is not None:
            yield int(row), _text(p["PATIENT_ID"]), code, months


_RELAPSE_TEXT = re.compile(r"relapse|recurren|progress")


def _timeline_relapses(study: Study) -> list[tuple[str, int, str]]:
    out = []
    for raw in study.timelines:
        for row, t in raw.frame.iterrows():
            text = " ".join(_text(t.get(c)) for c in ("TREATMENT_TYPE", "AGENT", "SUBTYPE", "STATUS")).lower()
            if _text(t.get("EVENT_TYPE")).upper() == "STATUS" and _RELAPSE_TEXT.search(text):
                out.append((raw.file, int(row), _text(t["PATIENT_ID"])))
    return out


def study_sources(study: Study) -> list[EndpointSource]:
    frame, pfile = study.patient.frame, study.patient.file
    out = []
    for prefix in (["OS"] if {"OS_STATUS", "OS_MONTHS"} <= set(frame.columns) else []) + _pairs(frame):
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


# --- mapping ------------------------------------------------------------------------------

def read_study(files: list[tuple[str, bytes]], report: Report, *, efs_source: str | None = None
               ) -> tuple[dict[str, RawTable] | None, list[str]]:
    """Map a cBioPortal study onto the five tables (or None when a problem blocks mapping)."""
    study = collect(files, report)
    if study is None:
        return None, []
    offered = study_sources(study)
    names = [s.name for s in offered if s.name != "OS"]
    chosen_by = "by default" if efs_source is None else "as chosen"
    efs_source = efs_source or default_efs_source(offered)
    if efs_source not in names + [NO_EFS_SOURCE]:
        report.error(study.patient.file, f"the EFS source '{efs_source}' is not offered by this study",
                     f"Choose one of: {', '.join(names + [NO_EFS_SOURCE])}.", value=efs_source)
        return None, study.not_mapped
    samples = _choose_samples(study, report)
    patients = _map_patients(study, samples, report)
    events = _Table("events", f"events (mapped from {study.patient.file} and the timeline)")
    deaths = _map_os(study, events, report)
    chosen_source = _map_efs_source(study, offered, efs_source, chosen_by, events, report)
    _map_timelines(study, efs_source, deaths, events, report)
    mutations = _map_mutations(study, samples, report)
    _list_what_is_left(study, samples, patients, report)
    info = _Table("cohort_info", "cohort_info (from meta_study.txt)")
    source_text = ("none (EFS counts deaths and induction failures only)" if chosen_source is None
                   else f"{chosen_source.columns} events recorded as relapse/progression")
    info.add({"cohort_name": study.name or UNNAMED, "synthetic": "false",
              "description": "Imported from cBioPortal study files: " + ", ".join(study.files)
              + f". EFS relapse source ({chosen_by}): {source_text}."},
             "meta_study.txt" if study.name else study.patient.file, 1, {})
    measurements = _Table("measurements", "measurements (none in a cBioPortal study)")
    if not report.ok:
        return None, study.not_mapped
    return {t.table: t.raw() for t in (info, patients, events, mutations, measurements)}, study.not_mapped


UNNAMED = "Uploaded cBioPortal study"


@dataclass
class _Samples:
    """Each patient's tumour samples (file order), the diagnostic one, and what was set aside."""
    by_patient: dict[str, list[pd.Series]] = field(default_factory=lambda: defaultdict(list))
    patient_of: dict[str, str] = field(default_factory=dict)     # every listed sample -> its patient
    chosen: dict[str, str] = field(default_factory=dict)         # patient -> diagnostic sample
    later: list[str] = field(default_factory=list)
    normals: list[str] = field(default_factory=list)

    def diagnostic(self, pid: str) -> pd.Series | None:
        return next((s for s in self.by_patient.get(pid, []) if _text(s["SAMPLE_ID"]) == self.chosen.get(pid)), None)


def _choose_samples(study: Study, report: Report) -> _Samples:
    """The diagnostic sample per patient, by SAMPLE_RULE (said in the report when it chose)."""
    samples = _Samples()
    raw = study.sample
    if raw is None:
        return samples
    known = {_text(p) for p in study.patient.frame["PATIENT_ID"]}
    for row, s in raw.frame.iterrows():
        pid, sid = _text(s["PATIENT_ID"]), _text(s["SAMPLE_ID"])
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
        samples.chosen[pid] = _text(pick["SAMPLE_ID"])
        samples.later += [_text(s["SAMPLE_ID"]) for s in items if s is not pick]
    if samples.later or samples.normals:
        several = sum(len(items) > 1 for items in samples.by_patient.values())
        report.warning(raw.file, f"{several} patient(s) have several tumour samples and {len(samples.normals)} "
                       f"normal sample(s) are listed: one diagnostic sample per patient is kept; rule: "
                       f"{SAMPLE_RULE}", "Nothing to do if the rule picks the diagnostic samples; otherwise "
                       "set SAMPLE_TYPE to 'Primary' for them.")
    return samples


def _map_patients(study: Study, samples: _Samples, report: Report) -> _Table:
    pfile, pframe = study.patient.file, study.patient.frame
    patients = _Table("patients", f"patients (mapped from {pfile})")
    institution_column = next((c for c in ("INSTITUTION", "CENTER") if c in pframe.columns), None)
    if institution_column is None:
        report.warning(pfile, f"the study gives no INSTITUTION or CENTER: every patient's institution is "
                              f"recorded as the study's name '{study.name or UNNAMED}'",
                       "Add an INSTITUTION column if the patients come from several centres.")
    maf_samples = {_text(s) for m in study.mafs for s in m.frame["Tumor_Sample_Barcode"]}
    assay = f"cBioPortal mutations ({', '.join(m.file for m in study.mafs)})"
    not_evaluated: dict[str, list[tuple[int, str]]] = defaultdict(list)   # (row, the file's value) per column
    fractional_age: list[tuple[int, str]] = []
    for row, p in pframe.iterrows():
        pid = _text(p["PATIENT_ID"])
        sex = _text(p.get("SEX"))
        sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex.lower(), sex)
        age = _text(p.get("AGE"))
        if age and not _INT.match(age) and _months(age) is not None:
            fractional_age.append((int(row), age))
            age = str(int(float(age)))  # completed years
        sample = samples.chosen.get(pid)
        pick = samples.diagnostic(pid)
        values = {"patient_id": pid, "sex": sex, "age_at_ball_dx": age,
                  "institution": _text(p.get(institution_column)) if institution_column else study.name or UNNAMED,
                  "lineage": _lineage(pick) if pick is not None else "",
                  "karyotype_iscn": _text(p.get("KARYOTYPE")), "cns_status": _text(p.get("CNS_STATUS"))}
        for column in ("SEX", "AGE", "KARYOTYPE", "CNS_STATUS"):
            if column in pframe.columns and not _text(p.get(column)):
                not_evaluated[column].append((int(row), _raw_text(p.get(column))))
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
                           f"in the mutation file ({_listed(unsequenced, 8)}): recorded as not sequenced (not "
                           "evaluated), never as wild-type",
                           "Upload cases_sequenced.txt (the study's case list) to mark sequenced samples.")
    return patients


def _map_os(study: Study, events: _Table, report: Report) -> set[str]:
    """OS_STATUS/OS_MONTHS -> a death or a last contact; returns the patients who died."""
    pfile, pframe = study.patient.file, study.patient.frame
    deaths: set[str] = set()
    if not {"OS_STATUS", "OS_MONTHS"} <= set(pframe.columns):
        report.warning(pfile, "the study has no OS_STATUS/OS_MONTHS pair: overall survival and EFS are not "
                       "evaluable (every other analysis works)", "Add OS_STATUS and OS_MONTHS if known.")
        return deaths
    no_follow_up: list[tuple[int, str, str]] = []
    for row, p in pframe.iterrows():
        pid, status, months = _text(p["PATIENT_ID"]), _text(p["OS_STATUS"]), _text(p["OS_MONTHS"])
        code = None
        if status:
            code, problem = status_code(status, "OS")
            if problem:
                report.error(pfile, problem, "Use cBioPortal's 1:DECEASED or 0:LIVING (empty when unknown).",
                             row=int(row), column="OS_STATUS", value=status)
                continue
        if months and _months(months) is None:
            report.error(pfile, "OS_MONTHS is not a number >= 0", "Enter the months from diagnosis to "
                         "death or last contact (empty or NA when unknown).", row=int(row),
                         column="OS_MONTHS", value=months)
            continue
        if code is None or not months:  # no follow-up: not evaluable for survival, nothing invented
            column = "OS_STATUS" if code is None else "OS_MONTHS"
            no_follow_up.append((int(row), column, _raw_text(p[column])))
            continue
        if code == "1":
            deaths.add(pid)
        events.add({"patient_id": pid, "event_type": "death" if code == "1" else "last_contact",
                    "day": str(_days(months))}, pfile, int(row),
                   {"patient_id": "PATIENT_ID", "event_type": "OS_STATUS", "day": "OS_MONTHS"})
    if no_follow_up:
        row, column, value = no_follow_up[0]
        report.warning(pfile, f"{len(no_follow_up)} patient(s) have no usable OS_STATUS with OS_MONTHS "
                       f"(values: {_quoted(Counter(v for _, _, v in no_follow_up))}): not evaluable for survival "
                       "(kept in every other analysis)", "Fill in OS_STATUS and OS_MONTHS where they are known.",
                       row=row, column=column, value=repr(value))
    return deaths


def _map_efs_source(study: Study, offered: list[EndpointSource], efs_source: str, chosen_by: str,
                    events: _Table, report: Report) -> EndpointSource | None:
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


def _map_timelines(study: Study, efs_source: str, deaths: set[str], events: _Table, report: Report) -> None:
    known = {_text(p) for p in study.patient.frame["PATIENT_ID"]}
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


def _map_mutations(study: Study, samples: _Samples, report: Report) -> _Table:
    """The diagnostic samples' protein-altering variants; everything else counted as not mapped."""
    mutations = _Table("mutations", "mutations (mapped from the MAF)")
    assay = f"cBioPortal mutations ({', '.join(m.file for m in study.mafs)})"
    for maf in study.mafs:
        dropped: Counter = Counter()
        for row, m in maf.frame.iterrows():
            sid = _text(m["Tumor_Sample_Barcode"])
            pid = samples.patient_of.get(sid)
            if pid is None:
                report.error(maf.file, f"sample '{sid}' is not in the sample file",
                             "Add the sample to the sample file or correct Tumor_Sample_Barcode.",
                             row=int(row), column="Tumor_Sample_Barcode", value=sid)
                continue
            if sid != samples.chosen.get(pid):
                dropped["variant(s) of a sample that is not the patient's diagnostic sample (a later or "
                        "normal sample)"] += 1
                continue
            if _text(m.get("Mutation_Status")).lower() in ("wildtype", "none"):
                dropped["row(s) with Mutation_Status Wildtype/None (not a variant)"] += 1
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
            study.not_mapped.append(f"{maf.file}: {n} {what}.")
        extra = [c for c in maf.frame.columns if c not in MAF_USED]
        genomic = [c for c in extra if _GENOMIC_COLUMN.match(c)]
        other = [c for c in extra if c not in genomic]
        if genomic:
            study.not_mapped.append(f"{maf.file}: {len(genomic)} standard MAF column(s) of genomic coordinates, "
                                    f"alleles and annotation not used ({_listed(genomic)}; not stored).")
        if other:
            study.not_mapped.append(f"{maf.file}: {len(other)} other column(s) not used ({_listed(other)}; "
                                    "not stored).")
    return mutations


def _list_what_is_left(study: Study, samples: _Samples, patients: _Table, report: Report) -> None:
    """Columns, samples and tables with no place in the schema: listed, never stored."""
    pframe = study.patient.frame
    paired = {f"{prefix}_{suffix}" for prefix in ["OS"] + _pairs(pframe) for suffix in ("STATUS", "MONTHS")}
    extra = [c for c in pframe.columns if c not in PATIENT_USED and c not in paired]
    if extra:
        study.not_mapped.append(f"{study.patient.file}: columns {', '.join(extra)} (no place in the schema; "
                                "not stored).")
    if study.sample is not None:
        extra = [c for c in study.sample.frame.columns if c not in SAMPLE_USED]
        if extra:
            study.not_mapped.append(f"{study.sample.file}: columns {', '.join(extra)} (no place in the schema; "
                                    "not stored).")
    if samples.later or samples.normals:
        study.not_mapped.append(f"{study.sample.file}: {len(samples.later)} later sample(s) "
                                f"({_listed(sorted(samples.later))}) and {len(samples.normals)} normal sample(s) "
                                f"not used: {SAMPLE_RULE}.")
    empty = [f"patients.{c}" for c in _columns("patients")
             if c not in ("sex", "age_at_ball_dx", "lineage", "karyotype_iscn", "cns_status")
             and all(not r.get(c) for r in patients.rows)]
    if empty:
        study.not_mapped.append("Left empty (not evaluated; a cBioPortal study does not carry them): "
                                + ", ".join(empty) + ".")
    study.not_mapped.append("measurements: none (cBioPortal files have no blast-count table).")
    if not study.mafs:
        study.not_mapped.append("No mutation file: every patient is not sequenced (genes not evaluated).")


def _listed(items: list[str], n: int = 6) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def _quoted(tokens: Counter) -> str:
    return ", ".join(f"{v!r} x{n}" for v, n in tokens.most_common(8)) + (", ..." if len(tokens) > 8 else "")


def _missing_warnings(pfile: str, pframe: pd.DataFrame, patients: _Table, raw_values: dict, sample_raw,
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
                           f"(values: {_quoted(Counter(v for _, v in cells))}): stored as empty",
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


def _map_pair(study: Study, prefix: str, events: _Table, report: Report) -> None:
    """The chosen *_STATUS/*_MONTHS pair: each event (code 1) becomes a relapse event (the pair does
    not say relapse or progression; both end EFS the same way); censored rows add nothing."""
    pfile, frame = study.patient.file, study.patient.frame
    description = study.descriptions.get((pfile, f"{prefix}_MONTHS"), "")
    n, undated = 0, []
    for row, p in frame.iterrows():
        status, months = _text(p[f"{prefix}_STATUS"]), _text(p[f"{prefix}_MONTHS"])
        if not status:
            continue
        code, problem = status_code(status, prefix)
        if problem:
            report.error(pfile, problem, f"Use 1:<event> or 0:<censored> in {prefix}_STATUS (empty when unknown).",
                         row=int(row), column=f"{prefix}_STATUS", value=status)
            continue
        if code != "1":
            continue
        if months and _months(months) is None:
            report.error(pfile, f"{prefix}_MONTHS is not a number >= 0", f"Enter the months to the {prefix} event "
                         "(empty or NA when unknown).", row=int(row), column=f"{prefix}_MONTHS", value=months)
            continue
        if not months:
            undated.append((int(row), _raw_text(p[f"{prefix}_MONTHS"])))
            continue  # nothing invented: an event without its time is not recorded
        n += 1
        events.add({"patient_id": _text(p["PATIENT_ID"]), "event_type": "relapse", "day": str(_days(months)),
                    "note": f"{prefix}_STATUS {status} (cBioPortal), recorded as relapse/progression"},
                   pfile, int(row), {"patient_id": "PATIENT_ID", "event_type": f"{prefix}_STATUS",
                                     "day": f"{prefix}_MONTHS", "note": f"{prefix}_STATUS"})
    if undated:
        row, value = undated[0]
        report.warning(pfile, f"{len(undated)} {prefix} event(s) have no usable {prefix}_MONTHS (values: "
                       f"{_quoted(Counter(v for _, v in undated))}): not recorded, so those patients' EFS does not "
                       "count them", f"Fill in {prefix}_MONTHS where it is known.", row=row,
                       column=f"{prefix}_MONTHS", value=repr(value))
    report.warning(pfile, f"{n} {prefix} event(s) recorded as relapse/progression events on day "
                   f"round({prefix}_MONTHS x 30.4375) after the B-ALL diagnosis"
                   + (f" (the study describes {prefix}_MONTHS as '{description}')" if description else "")
                   + "; patients without one are censored at their last contact (OS), not at "
                   f"{prefix}_MONTHS", f"Choose another EFS source if {prefix} does not fit.", column=f"{prefix}_STATUS")


def _map_timeline(raw: RawTable, known: set[str], deaths: set[str], events: _Table, report: Report,
                  skipped: Counter, *, relapses: bool) -> None:
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


__all__ = ["read_study", "relocate", "endpoint_sources", "EndpointSource", "collect", "OWN_TABLES"]
