"""A group's own spreadsheet or REDCap export, mapped onto the schema.

1. `read_source` reads the files as source tables: every sheet of an .xlsx workbook (not the
   template), each CSV file, or a REDCap raw export with its data dictionary (see `redcap`).
2. `suggest` proposes, for every source column, a target (by name or REDCap label similarity,
   by type and by values) and, for coded targets, what each source value means ("Male" -> M,
   "not done" -> not evaluated). The user confirms or corrects it (upload page, or the JSON file).
3. `apply` builds the five tables. Calendar dates are turned into days relative to the patient's
   B-ALL diagnosis date (the anchor column) in memory and discarded: no date reaches a table.
   Unmapped columns are dropped and listed, never stored. An empty or "not done"-like cell is
   not evaluated (NULL); nothing is invented. Every problem names the source file, row, column.
4. The mapping is a small JSON file (`Mapping.to_json`): reviewable, reusable next time on the
   page or by `python -m analytics.importing --mapping mapping.json`. It holds column names and
   the codes of coded columns, never an identifier, a date or a free-text value.

>>> source = Source("spreadsheet", [SourceTable("Sheet1", "our.csv", pd.DataFrame(
...     {"Study no": ["A1", "A2"], "Gender": ["Male", "F"], "dx_date": ["2019-03-04", "2020-01-31"],
...      "Relapse date": ["2019-09-01", ""]}, index=[2, 3]))])
>>> m = suggest(source)
>>> {c: m.tables["Sheet1"][c].target for c in ("Study no", "Gender", "dx_date", "Relapse date")}
{'Study no': 'patient_id', 'Gender': 'sex', 'dx_date': 'ball_dx_date', 'Relapse date': 'relapse_day'}
>>> m.tables["Sheet1"]["Gender"].values
{'F': 'F', 'Male': 'M'}
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path

import pandas as pd

from analytics.importing import privacy, redcap, sources
from analytics.importing.redcap import SourceTable
from analytics.importing.report import ImportResult, Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import column_specs
from analytics.importing.validation import validate

FORMAT = "ball-cohort-mapping"
VERSION = 1
NOT_EVALUATED = None
# Cells that say "no value": not evaluated (NULL), never a negative result.
NA_TOKENS = {"", "na", "n/a", "n.a.", "nd", "n.d.", "not done", "unknown", "unk", "missing", "not evaluated",
             "not tested", "not assessed", "[not available]", "[unknown]", "not applicable", ".", "none recorded"}
# Source columns never suggested for anything: direct identifiers (they are dropped).
_PERSON_NAME = re.compile(r"^(?:(?:patient|first|last|given|family|full|maiden|middle|sur) ?)?names?$|^initials$")
_NEVER = {"a name", "a record number", "a date of birth", "an address", "a phone number", "an e-mail address"}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    kind: str                 # id, text, integer, number, coded, date (the anchor), day (date or days)
    synonyms: tuple[str, ...]
    allowed: dict[str, tuple[str, ...]] | None = None   # coded: value -> source spellings
    event: str | None = None  # event kind built from this target (row level), None = patient level


_POS_NEG = {"positive": ("positive", "pos", "+", "yes", "y", "present", "detected", "expressed", "checked"),
            "negative": ("negative", "neg", "-", "no", "n", "absent", "not detected", "not expressed")}
_BOOL = {"true": ("yes", "y", "true", "1", "checked"), "false": ("no", "n", "false", "0")}


def _marker(name: str) -> Target:
    return Target(name, f"{name.upper()} on the blasts", "coded",
                  (name, f"{name} expression", f"{name} status", f"{name} flow", f"markers {name}"), _POS_NEG)


TARGETS: dict[str, Target] = {t.key: t for t in [
    Target("patient_id", "Patient pseudonym (patient_id)", "id",
           ("patient id", "patient", "record id", "study id", "study no", "study number", "subject id", "subject",
            "case id", "case", "pseudonym", "id", "upn")),
    Target("institution", "Institution / site", "text",
           ("institution", "site", "centre", "center", "hospital", "redcap data access group", "data access group")),
    Target("sex", "Sex", "coded", ("sex", "gender"),
           {"F": ("f", "female", "woman", "w"), "M": ("m", "male", "man")}),
    Target("age_at_myeloma_dx", "Age at myeloma diagnosis (years)", "integer",
           ("age at myeloma diagnosis", "age at myeloma dx", "age at mm dx", "age at mm diagnosis", "age mm",
            "myeloma age")),
    Target("age_at_ball_dx", "Age at B-ALL diagnosis (years)", "integer",
           ("age at ball diagnosis", "age at all diagnosis", "age at b all diagnosis", "age at b all dx",
            "age at ball dx", "age at diagnosis", "age at dx", "age")),
    Target("myeloma_auto_hct", "Autologous HCT for myeloma", "coded",
           ("autologous transplant", "auto hct", "auto sct", "asct", "prior asct", "prior auto hct",
            "high dose melphalan", "autologous stem cell transplant", "auto transplant"), _BOOL),
    Target("myeloma_lines_with_len", "Myeloma lines with lenalidomide", "integer",
           ("lines with lenalidomide", "myeloma lines with len", "myeloma lines with lenalidomide", "len lines",
            "number of lenalidomide lines")),
    Target("len_cumulative_days", "Cumulative lenalidomide exposure (days), only without courses", "integer",
           ("cumulative lenalidomide days", "len cumulative days", "cumulative exposure days",
            "days on lenalidomide")),
    Target("lineage", "Lineage", "coded", ("lineage", "all lineage"),
           {"B": ("b", "b all", "b lineage", "b cell", "b-all"), "T": ("t", "t all", "t lineage", "t-all")}),
    Target("wbc_k_per_ul", "WBC at diagnosis (x10^3/uL)", "number",
           ("wbc", "white blood cells", "wbc at diagnosis", "wbc at dx", "leukocytes")),
    Target("marrow_blast_pct", "Marrow blasts at diagnosis (%)", "number",
           ("marrow blasts", "bone marrow blasts", "bm blasts", "marrow blast pct", "bm blast", "blasts bm")),
    _marker("cd10"), _marker("cd19"), _marker("cd20"), _marker("cd22"),
    Target("cns_status", "CNS status", "coded", ("cns", "cns status", "cns involvement"),
           {"CNS1": ("cns1", "cns 1", "1"), "CNS2": ("cns2", "cns 2", "2"), "CNS3": ("cns3", "cns 3", "3")}),
    Target("bcr_abl1", "BCR::ABL1", "coded",
           ("bcr abl1", "bcr abl", "philadelphia", "ph status", "bcr abl fusion", "ph chromosome", "ph"), _POS_NEG),
    Target("karyotype_iscn", "Karyotype (ISCN)", "text", ("karyotype", "karyotype iscn", "iscn", "cytogenetics")),
    Target("modal_chromosome_number", "Modal chromosome number", "integer",
           ("modal chromosome number", "modal number", "chromosome number", "modal")),
    Target("ploidy_category", "Ploidy category", "coded", ("ploidy", "ploidy category"),
           {"near-haploid": ("near haploid",), "low hypodiploid": ("low hypodiploid", "low hypodiploidy"),
            "high hypodiploid": ("high hypodiploid",), "near-diploid": ("near diploid",),
            "diploid": ("diploid", "normal"), "hyperdiploid": ("hyperdiploid", "high hyperdiploid")}),
    Target("sequencing_assay", "Sequencing assay", "text", ("sequencing assay", "ngs panel", "assay", "sequencing")),
    Target("ball_dx_date", "B-ALL diagnosis date (anchor: day 0; discarded)", "date",
           ("ball diagnosis date", "ball dx date", "all dx date", "all diagnosis date", "dx date", "diagnosis date",
            "date of diagnosis", "date of all diagnosis", "date of ball diagnosis", "b all dx date")),
    Target("tp53_status", "TP53 status", "coded", ("tp53 status", "tp53", "tp53 mutation", "tp53 result"),
           {"mutated": ("mutated", "mut", "mutation", "mutant", "positive", "detected", "yes"),
            "wild-type": ("wild type", "wildtype", "wt", "wild-type", "negative", "not detected", "no mutation",
                          "no")}),
    Target("tp53_protein_change", "TP53 protein change (p.R248Q)", "text",
           ("tp53 protein change", "tp53 variant", "tp53 hgvs", "tp53 aa change", "tp53 protein", "tp53 hgvsp")),
    Target("tp53_variant_class", "TP53 variant class", "coded",
           ("tp53 variant class", "tp53 variant type", "tp53 mutation type", "tp53 class"),
           {"Missense_Mutation": ("missense", "missense mutation"), "Nonsense_Mutation": ("nonsense", "stop gain"),
            "Frame_Shift_Del": ("frameshift deletion", "frame shift del"),
            "Frame_Shift_Ins": ("frameshift insertion", "frame shift ins"),
            "In_Frame_Del": ("in frame deletion", "inframe deletion"),
            "In_Frame_Ins": ("in frame insertion", "inframe insertion"), "Splice_Site": ("splice", "splice site")}),
    # Row level: each row with a value in the event's day target is one event.
    Target("len_start", "Lenalidomide course start (date or day)", "day",
           ("lenalidomide start date", "lenalidomide start", "len start", "len start date", "first lenalidomide",
            "course start", "lenalidomide start day"), event="lenalidomide_course"),
    Target("len_stop", "Lenalidomide course stop (date or day)", "day",
           ("lenalidomide stop date", "lenalidomide stop", "len stop", "len stop date", "len end", "course stop",
            "course end", "lenalidomide end date"), event="lenalidomide_course"),
    Target("len_regimen", "Lenalidomide course label", "text",
           ("lenalidomide regimen", "len regimen", "course regimen", "course type"), event="lenalidomide_course"),
    Target("line_number", "B-ALL treatment line number", "integer",
           ("line", "line number", "line no", "treatment line", "line of therapy"), event="treatment_line"),
    Target("line_start", "B-ALL treatment start (date or day)", "day",
           ("treatment start date", "treatment start", "line start", "start of therapy", "therapy start",
            "induction start", "start date", "chemo start", "start of treatment"), event="treatment_line"),
    Target("line_stop", "B-ALL treatment stop (date or day)", "day",
           ("treatment end date", "treatment stop", "treatment end", "line stop", "line end", "therapy end",
            "end date", "stop date", "end of treatment"), event="treatment_line"),
    Target("line_regimen", "B-ALL regimen", "text",
           ("regimen", "treatment regimen", "induction regimen", "first line regimen", "therapy", "regimen name"),
           event="treatment_line"),
    Target("line_regimen_category", "B-ALL regimen category", "coded",
           ("regimen category", "regimen type", "treatment category", "treatment intensity", "intensity"),
           {"intensive chemotherapy": ("intensive", "intensive chemotherapy", "intensive chemo"),
            "reduced-intensity with inotuzumab": ("inotuzumab", "reduced intensity", "reduced intensity inotuzumab"),
            "blinatumomab-based": ("blinatumomab", "blina", "blinatumomab based"),
            "TKI-based": ("tki", "tki based"), "low-intensity": ("low intensity", "palliative", "low"),
            "CAR T": ("car t", "car-t", "cart"), "other": ("other",)}, event="treatment_line"),
    Target("response_day", "Response assessment (date or day)", "day",
           ("response date", "assessment date", "date of response", "response assessment date", "remission date",
            "date of assessment"), event="response_assessment"),
    Target("response_line", "Line the response belongs to", "integer", ("response line", "line assessed"),
           event="response_assessment"),
    Target("response", "Response", "coded",
           ("response", "best response", "response to induction", "remission status", "response category"),
           {"CR": ("cr", "complete remission", "complete response"),
            "CRi": ("cri", "cr with incomplete recovery", "cr incomplete count recovery"),
            "PR": ("pr", "partial", "partial response", "partial remission"),
            "refractory": ("refractory", "nr", "no response", "primary refractory", "resistant"),
            "not evaluable": ("not evaluable", "ne", "inevaluable")}, event="response_assessment"),
    Target("mrd_status", "MRD status", "coded", ("mrd", "mrd status", "mrd result"), _POS_NEG,
           event="response_assessment"),
    Target("mrd_method", "MRD method", "text", ("mrd method", "mrd assay"), event="response_assessment"),
    Target("hct_day", "Allogeneic HCT (date or day)", "day",
           ("hct date", "allo hct date", "transplant date", "allogeneic transplant date", "sct date",
            "allo sct date", "date of transplant", "allo hct", "date of hct"), event="hct"),
    Target("hct_conditioning", "HCT conditioning", "text", ("conditioning", "conditioning regimen"), event="hct"),
    Target("relapse_day", "Relapse (date or day)", "day",
           ("relapse date", "date of relapse", "relapse", "relapse day"), event="relapse"),
    Target("death_day", "Death (date or day)", "day",
           ("death date", "date of death", "dod", "died on", "death", "death day"), event="death"),
    Target("death_cause", "Cause of death", "text", ("cause of death", "death cause"), event="death"),
    Target("last_contact_day", "Last contact (date or day)", "day",
           ("last contact date", "last follow up", "last follow up date", "date last known alive", "last seen",
            "date of last contact", "last fu", "last contact", "date of last follow up"), event="last_contact"),
    Target("disease_status", "B-ALL status at last contact", "coded",
           ("disease status at last contact", "status at last follow up", "disease status",
            "status at last contact", "status at last fu"),
           {"no evidence of B-ALL": ("ned", "no evidence of disease", "in remission", "remission", "cr",
                                     "no evidence of b all", "continuous cr"),
            "B-ALL present": ("active disease", "disease present", "relapsed", "b all present", "present", "awd",
                              "alive with disease", "refractory")}, event="last_contact"),
]}
PATIENT_COLUMNS = ("institution", "sex", "age_at_myeloma_dx", "age_at_ball_dx", "myeloma_auto_hct",
                   "myeloma_lines_with_len", "len_cumulative_days", "lineage", "wbc_k_per_ul", "marrow_blast_pct",
                   "cd10", "cd19", "cd20", "cd22", "cns_status", "bcr_abl1", "karyotype_iscn",
                   "modal_chromosome_number", "ploidy_category", "sequencing_assay")
# Event kind -> events column -> target.
EVENT_FIELDS: dict[str, dict[str, str]] = {
    "lenalidomide_course": {"day": "len_start", "end_day": "len_stop", "regimen": "len_regimen"},
    "treatment_line": {"day": "line_start", "end_day": "line_stop", "line": "line_number",
                       "regimen": "line_regimen", "regimen_category": "line_regimen_category"},
    "response_assessment": {"day": "response_day", "line": "response_line", "response": "response",
                            "mrd_status": "mrd_status", "mrd_method": "mrd_method"},
    "hct": {"day": "hct_day", "regimen": "hct_conditioning"},
    "relapse": {"day": "relapse_day"},
    "death": {"day": "death_day", "cause": "death_cause"},
    "last_contact": {"day": "last_contact_day", "disease_status": "disease_status"},
}
# Values the mapping supplies when no column does (reviewable in the file, editable on the page).
CONSTANTS = {
    "institution": "Site label for every patient when no column gives it",
    "lineage": "Lineage for every patient when no column gives it (B or T)",
    "line_number": "Line number of a treatment row when no column gives it",
    "response_line": "Line of a response row when no column gives it",
    "tp53_assay": "Assay named for patients whose TP53 status is mutated or wild-type",
}
COHORT_FIELDS = ("cohort_name", "synthetic", "description")
DATE_ORDERS = ("DMY", "MDY")
MAX_CODES = 40   # a coded column with more different values is free text, not codes


# --- reading ------------------------------------------------------------------------------
@dataclass
class Source:
    kind: str                         # "redcap" or "spreadsheet"
    tables: list[SourceTable]
    dropped: list[str] = field(default_factory=list)   # columns without data (REDCap form status)

    def table(self, name: str) -> SourceTable | None:
        return next((t for t in self.tables if t.name == name), None)


def _header(name: str, data: bytes) -> list[str]:
    """The first line of a CSV as cells ([] when it cannot be read: the readers then say why)."""
    first = data[:65536].decode("utf-8-sig", errors="replace").splitlines()[:1]
    try:
        return next(csv.reader(first), []) if first and len(first[0]) < 65536 else []
    except csv.Error:
        return []


def _looks_own_format(header: list[str]) -> bool:
    names = set(header)
    return any(len(names & set(spec)) >= max(2, len(spec) // 2) for spec in column_specs().values())


def wants_mapping(files: list[tuple[str, bytes]]) -> bool:
    """True when every file is a source to map: a REDCap export or dictionary, a workbook that is
    not the template, or a CSV that is neither named after a table nor laid out like one."""
    if not files:
        return False
    for name, data in files:
        lower = Path(name).name.lower()
        if lower.startswith(("data_", "meta_", "case_list", "cases_")) and not lower.endswith((".xlsx", ".csv")):
            return False  # a cBioPortal study file
        if lower.endswith(".xlsx"):
            if not zipfile.is_zipfile(io.BytesIO(data)):
                return False
            try:  # sheet names from the workbook part only: nothing else is parsed here
                sheets = set(sources.sheet_names(data))
            except Exception:  # damaged: the own-format reader says so, located
                return False
            if sheets & set(OWN_TABLES):
                return False
        elif lower.endswith(".csv"):
            if Path(name).stem.strip().lower() in OWN_TABLES:
                return False
            header = _header(name, data)
            if redcap.is_dictionary(header) or redcap.is_export(header):
                continue
            if Path(name).stem.strip().lower() in OWN_TABLES or _looks_own_format(header):
                return False
        else:
            return False
    return True


def read_source(files: list[tuple[str, bytes]], report: Report) -> Source | None:
    """The uploaded files as source tables (text cells; index = the row number the user sees)."""
    dictionaries = [(n, d) for n, d in files if n.lower().endswith(".csv") and redcap.is_dictionary(_header(n, d))]
    others = [(n, d) for n, d in files if (n, d) not in dictionaries]
    for name, data in files:
        sources.too_large(name, data, report)
    if not report.ok:
        return None
    if dictionaries:
        exports = [(n, d) for n, d in others if n.lower().endswith(".csv")]
        if len(dictionaries) != 1 or len(exports) != 1 or len(others) != 1:
            report.error(", ".join(n for n, _ in files), "a REDCap export is read as exactly two files: the raw "
                         "data CSV and its data dictionary CSV", "Upload the 'CSV / Microsoft Excel (raw data)' "
                         "export and the project's data dictionary, nothing else.")
            return None
        read = redcap.read(exports[0], dictionaries[0], report)
        if read is None:
            return None
        tables, dropped = read
        return Source("redcap", tables, dropped)
    if any(redcap.is_export(_header(n, d)) for n, d in others if n.lower().endswith(".csv")):
        report.error(", ".join(n for n, _ in files), "this looks like a REDCap export (redcap_* columns) but its "
                     "data dictionary is missing", "Upload the project's data dictionary CSV with the export: "
                     "it decodes the coded values.")
        return None
    tables: list[SourceTable] = []
    for name, data in others:
        if name.lower().endswith(".xlsx"):
            for raw in _read_sheets(name, data, report):
                tables.append(SourceTable(raw.sheet, name, raw.frame, raw.sheet))
        else:
            raw = sources.read_delimited(name, data, report, table=Path(name).stem)
            if raw is not None:
                tables.append(SourceTable(Path(name).stem, name, raw.frame))
    if not report.ok:
        return None
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        report.error(", ".join(n for n, _ in files), "two tables have the same name", "Rename one sheet or file.")
        return None
    return Source("spreadsheet", tables)


def _read_sheets(name: str, data: bytes, report: Report) -> list[RawTable]:
    """Every non-empty sheet of a workbook; formulas and merged cells are refused, located.
    Read by the same bounded reader as the template (zip and row limits before parsing)."""
    return sources.read_workbook(name, data, report, every_sheet=True)


# --- values -------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", str(text).lower().replace("-", " ")).split())


def _value_key(value: str) -> str:
    value = str(value).strip()
    return value if value in ("+", "-") else _norm(value)


def is_na(value: str) -> bool:
    return str(value).strip().lower() in NA_TOKENS


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d %Y")
_INTEGER = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def parse_date(value: str, order: str | None) -> dt.date | None:
    """A calendar date, or None when `value` is not one. Numeric day/month dates follow `order`
    (DMY or MDY); with `order` None only the unambiguous ones are read."""
    value = str(value).strip()
    m = _ISO.match(value)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    m = _NUMERIC_DATE.match(value)
    if m:
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if order is None:
            order = "DMY" if a > 12 else "MDY" if b > 12 else None
        if order is None:
            return None
        day, month = (a, b) if order == "DMY" else (b, a)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for fmt in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _looks_like_date(value: str) -> bool:
    value = str(value).strip()
    return bool(_ISO.match(value) or _NUMERIC_DATE.match(value)) or parse_date(value, "DMY") is not None


def column_kind(table: SourceTable, column: str) -> str:
    """date, integer, number, coded or text, from the column's non-empty values."""
    values = [v for v in table.frame[column] if not is_na(v)]
    if column in table.date_columns:
        return "date"
    if not values:
        return "empty"
    if sum(_looks_like_date(v) for v in values) >= 0.8 * len(values):
        return "date"
    if all(_INTEGER.match(v) for v in values):
        return "integer"
    if all(re.match(r"^[+-]?(?:\d+\.?\d*|\.\d+)$", v) for v in values):
        return "number"
    if len(set(values)) <= 12:
        return "coded"
    return "text"


def suggest_values(target: Target, values) -> dict[str, str | None]:
    """Source value -> allowed value (None = not evaluated; '' = no suggestion, the user decides)."""
    out: dict[str, str | None] = {}
    for value in sorted({str(v) for v in values} - {""}):
        if is_na(value) or value == redcap.UNCHECKED:  # an unticked box is not a negative result
            out[value] = NOT_EVALUATED
            continue
        key = _value_key(value)
        match = next((allowed for allowed, spellings in (target.allowed or {}).items()
                      if key == _value_key(allowed) or key in {_value_key(s) for s in spellings}), "")
        out[value] = match
    return out


# --- suggestion ---------------------------------------------------------------------------
def _name_score(names: list[str], target: Target) -> float:
    best = 0.0
    for name in names:
        a = _norm(name)
        if not a:
            continue
        for synonym in target.synonyms:
            b = _norm(synonym)
            if a == b:
                return 1.0
            tokens_a, tokens_b = set(a.split()), set(b.split())
            jaccard = len(tokens_a & tokens_b) / len(tokens_a | tokens_b)
            best = max(best, SequenceMatcher(None, a, b).ratio(), jaccard)
    return best


def _compatible(kind: str, target: Target) -> bool:
    return {"id": kind in ("text", "coded", "integer"),
            "text": kind in ("text", "coded"),
            "integer": kind == "integer",
            "number": kind in ("integer", "number"),
            "coded": kind in ("coded", "integer", "text"),
            "date": kind == "date",
            "day": kind in ("date", "integer")}[target.kind]


@dataclass
class ColumnMapping:
    target: str | None                                   # None = not mapped (dropped, never stored)
    values: dict[str, str | None] = field(default_factory=dict)   # coded targets: source -> allowed


def _codes(values: dict[str, str | None]) -> dict[str, str | None]:
    """The codes a mapping file may hold: never a value that looks like a date or an identifier."""
    return {k: v for k, v in values.items() if privacy.looks_like_identifier(k) is None}


@dataclass
class Mapping:
    tables: dict[str, dict[str, ColumnMapping]]
    constants: dict[str, str] = field(default_factory=dict)
    date_order: str = "DMY"
    cohort: dict = field(default_factory=lambda: {"cohort_name": "Uploaded cohort", "synthetic": False,
                                                  "description": "Imported with a column mapping."})

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "version": VERSION, "date_order": self.date_order,
            "constants": dict(sorted(self.constants.items(), key=lambda kv: list(CONSTANTS).index(kv[0])
                                     if kv[0] in CONSTANTS else len(CONSTANTS))),
            "cohort": {k: self.cohort[k] for k in sorted(self.cohort, key=lambda k: COHORT_FIELDS.index(k)
                                                         if k in COHORT_FIELDS else len(COHORT_FIELDS))},
            "tables": {t: {c: {"target": m.target, **({"values": _codes(m.values)} if m.values else {})}
                           for c, m in cols.items()} for t, cols in self.tables.items()},
        }, indent=1, ensure_ascii=False, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, file: str, report: Report) -> "Mapping | None":
        """A saved mapping; every problem is a located error (never an exception)."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            report.error(file, f"the mapping file is not JSON ({exc})", "Upload the mapping file the app saved.")
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            report.error(file, "this is not a cohort mapping file (no \"format\": \"ball-cohort-mapping\")",
                         "Upload the mapping file the app saved.")
            return None
        def shaped(value) -> bool:
            """Every level of the file is a JSON object (or absent)."""
            if value is None or isinstance(value, dict):
                return True
            report.error(file, f"the mapping file's {where} should be an object",
                         "Upload the mapping file the app saved, or correct it by hand.")
            return False

        tables: dict[str, dict[str, ColumnMapping]] = {}
        where = "tables"
        if not shaped(data.get("tables")):
            return None
        for table, columns in (data.get("tables") or {}).items():
            where = f"table {table}"
            if not shaped(columns):
                continue
            tables[table] = {}
            for column, spec in (columns or {}).items():
                where = f"table {table}, column {column}"
                if not shaped(spec):
                    continue
                target = (spec or {}).get("target")
                if target is not None and target not in TARGETS:
                    report.error(file, f"table {table}, column {column}: unknown target '{target}'",
                                 f"Use one of: {', '.join(TARGETS)}; or null (not mapped).", column=column)
                    continue
                values = (spec or {}).get("values") or {}
                if not shaped(values):
                    continue
                allowed = set((TARGETS[target].allowed or {}) if target else ())
                wrong = [v for v in values.values() if v not in (None, "") and v not in allowed]
                if wrong:
                    report.error(file, f"table {table}, column {column}: '{wrong[0]}' is not a value of {target}",
                                 f"Use one of: {', '.join(sorted(allowed))}; or null (not evaluated).",
                                 column=column)
                    continue
                tables[table][column] = ColumnMapping(target, {str(k): v for k, v in values.items()})
        for name in ("constants", "cohort"):
            where = name
            if not shaped(data.get(name)):
                return None
        order = data.get("date_order", "DMY")
        if order not in DATE_ORDERS:
            report.error(file, f"date_order '{order}' is not one of {', '.join(DATE_ORDERS)}",
                         "Use DMY (day first) or MDY (month first).")
        if not report.ok:
            return None
        return cls(tables, {k: str(v) for k, v in (data.get("constants") or {}).items() if v not in (None, "")},
                   order, {**cls({}).cohort, **(data.get("cohort") or {})})


def _date_order(source: Source) -> str:
    votes = {"DMY": 0, "MDY": 0}
    for table in source.tables:
        for column in table.frame.columns:
            for value in table.frame[column]:
                m = _NUMERIC_DATE.match(str(value).strip())
                if m:
                    votes["DMY"] += int(m[1]) > 12
                    votes["MDY"] += int(m[2]) > 12
    return "MDY" if votes["MDY"] > votes["DMY"] else "DMY"


def suggest(source: Source) -> Mapping:
    """A first mapping for `source`, to be confirmed or corrected by the user."""
    tables: dict[str, dict[str, ColumnMapping]] = {}
    taken_patient_level: set[str] = set()
    for table in source.tables:
        frame = table.frame
        kinds = {c: column_kind(table, c) for c in frame.columns}
        candidates = []
        for column in frame.columns:
            label = privacy.identifier_column(column)
            if label == "a name" and not _PERSON_NAME.match(_norm(column)):
                label = None  # 'Regimen name', 'Drug name': not a person's name
            if label in _NEVER or column in ("redcap_event_name", "redcap_repeat_instrument",
                                             "redcap_survey_identifier"):
                continue
            label_text = table.labels.get(column, column)
            # A REDCap checkbox column is one choice: its choice label says what it is.
            names = [label_text.rsplit(":", 1)[-1], label_text] if "___" in column else [column, label_text]
            values = [v for v in frame[column] if not is_na(v)]
            for target in TARGETS.values():
                if not _compatible(kinds[column], target) and kinds[column] != "empty":
                    continue
                if label == "a calendar date" and target.kind not in ("date", "day"):
                    continue
                score = _name_score(names, target)
                if target.kind == "coded" and values:
                    suggested = suggest_values(target, values)
                    known = [v for v in suggested.values() if v != ""]
                    coverage = len(known) / len(suggested)
                    if coverage < 0.5:
                        continue
                    score += 0.1 * coverage
                if score >= 0.8:
                    candidates.append((score, column, target.key))
        columns: dict[str, ColumnMapping] = {c: ColumnMapping(None) for c in frame.columns}
        used: set[str] = set()
        # The record id is REDCap's first column; otherwise the best-named id column.
        if source.kind == "redcap":
            columns[frame.columns[0]] = ColumnMapping("patient_id")
            used.add("patient_id")
        for score, column, key in sorted(candidates, key=lambda c: (-c[0], c[1])):
            target = TARGETS[key]
            if columns[column].target or key in used or (target.event is None and key != "patient_id"
                                                         and key in taken_patient_level):
                continue
            values = suggest_values(target, [v for v in frame[column]]) if target.kind == "coded" else {}
            columns[column] = ColumnMapping(key, values)
            used.add(key)
            if target.event is None:
                taken_patient_level.add(key)
        if "redcap_repeat_instance" in frame.columns and "line_start" in used and "line_number" not in used:
            columns["redcap_repeat_instance"] = ColumnMapping("line_number")
        if "redcap_data_access_group" in frame.columns and "institution" not in taken_patient_level:
            columns["redcap_data_access_group"] = ColumnMapping("institution")
            taken_patient_level.add("institution")
        tables[table.name] = columns
    constants = {"line_number": "1", "response_line": "1", "tp53_assay": "TP53 status as recorded by the source"}
    if "lineage" not in taken_patient_level:
        constants["lineage"] = "B"  # the app's cohorts are B-ALL; shown on the page to confirm
    names = sorted({t.file for t in source.tables})
    return Mapping(tables, constants, _date_order(source),
                   {"cohort_name": Path(names[0]).stem if names else "Uploaded cohort", "synthetic": False,
                    "description": f"Imported from {', '.join(names)} with a column mapping."})


# --- applying -----------------------------------------------------------------------------
Origin = tuple[str, str | None, int, str]   # file, sheet, row, source column


class _Out:
    """Rows of one own-format table, each cell remembering where it came from."""

    def __init__(self, table: str):
        self.table, self.columns = table, list(column_specs()[table])
        self.rows: list[dict[str, str]] = []
        self.origins: list[dict[str, Origin]] = []

    def add(self, values: dict[str, str], origins: dict[str, Origin]) -> None:
        self.rows.append(values)
        self.origins.append(origins)

    def raw(self) -> RawTable:
        frame = pd.DataFrame([[r.get(c) or "" for c in self.columns] for r in self.rows], columns=self.columns,
                             index=pd.Index(range(2, len(self.rows) + 2), name="row"), dtype=object)
        return RawTable(self.table, frame, f"{self.table} (mapped)", None, 1)


@dataclass
class Applied:
    raws: dict[str, RawTable] | None
    origins: dict[str, list[dict[str, Origin]]]
    not_mapped: list[str]
    dates_converted: int = 0


def apply(source: Source, mapping: Mapping, report: Report) -> Applied:
    """Build the five own-format tables from `source` as `mapping` says (dates -> days, in memory)."""
    not_mapped = list(source.dropped)
    order = mapping.date_order
    per_patient: dict[str, dict[str, tuple[str, Origin]]] = {}
    patient_first: dict[str, Origin] = {}
    anchors: dict[str, tuple[dt.date, Origin]] = {}
    pending_events = []      # (pid, kind, {column: (value, origin, is_day)})
    date_columns: set[str] = set()
    converted = 0

    def located(table: SourceTable, row: int, column: str, problem: str, fix: str, value=None, warn=False):
        add = report.warning if warn else report.error
        add(table.file, problem, fix, sheet=table.sheet, row=int(row), column=column, value=value)

    for table in source.tables:
        columns = mapping.tables.get(table.name)
        if columns is None:
            report.warning(table.file, f"table '{table.name}' is not in the mapping: none of its columns is "
                                       "read", "Map its columns on the page (step 3) and save the mapping again.",
                           sheet=table.sheet)
            not_mapped.append(f"{table.file}{f', sheet {table.sheet}' if table.sheet else ''}: table "
                              f"'{table.name}' (not in the mapping)")
            continue
        unknown = [c for c in table.frame.columns if c not in columns]
        for column in unknown:
            report.warning(table.file, f"column '{column}' is not in the mapping: dropped, not stored",
                           "Map it on the page if it should be imported, then save the mapping again.",
                           sheet=table.sheet, row=1, column=column)
        for column, m in columns.items():
            if column not in table.frame.columns and m.target is not None:
                report.error(table.file, f"the mapping reads column '{column}' but the table '{table.name}' "
                                         "has no such column", "Upload the same layout the mapping was made "
                                                               "for, or correct the mapping.",
                             sheet=table.sheet, row=1, column=column)
        dropped = [c for c in table.frame.columns if columns.get(c, ColumnMapping(None)).target is None
                   and c not in ("redcap_event_name", "redcap_repeat_instrument")]
        if dropped:
            not_mapped.append(f"{table.file}{f', sheet {table.sheet}' if table.sheet else ''}"
                              f"{f' ({table.name})' if source.kind == 'redcap' else ''}: "
                              f"{', '.join(dropped)} (not mapped: dropped, never stored)")
        mapped = {c: m for c, m in columns.items() if m.target is not None and c in table.frame.columns}
        id_columns = [c for c, m in mapped.items() if m.target == "patient_id"]
        if not id_columns:
            if mapped:
                report.error(table.file, f"no column of table '{table.name}' is mapped to the patient pseudonym",
                             "Map the column holding the patient id (e.g. record_id, Study no) to patient_id.",
                             sheet=table.sheet, row=1)
            continue
        id_column = id_columns[0]
        for column, m in list(mapped.items()):
            distinct = len(set(table.frame[column]) - {""})
            if TARGETS[m.target].kind == "coded" and distinct > MAX_CODES:
                report.error(table.file, f"column '{column}' has {distinct} different values: it is not a column "
                                         f"of codes for {TARGETS[m.target].label}",
                             "Map it to another target, or leave it not mapped.", sheet=table.sheet, row=1,
                             column=column)
                del mapped[column]
        by_target = {m.target: c for c, m in mapped.items()}
        for row, cells in table.frame.iterrows():
            pid = str(cells[id_column]).strip()
            if not pid:
                if any(str(cells[c]).strip() for c in mapped if c != id_column):
                    located(table, row, id_column, "this row has values but no patient id",
                            "Fill in the patient id, or delete the row.")
                continue
            per_patient.setdefault(pid, {})
            patient_first.setdefault(pid, (table.file, table.sheet, int(row), id_column))
            values: dict[str, tuple[object, Origin]] = {}
            for column, m in mapped.items():
                if column == id_column:
                    continue
                target = TARGETS[m.target]
                raw_value = str(cells[column]).strip()
                origin = (table.file, table.sheet, int(row), column)
                if target.kind == "coded":
                    if raw_value == "":
                        continue
                    looks = privacy.looks_like_identifier(raw_value)
                    if looks is not None:  # not echoed: it may be what the app must not keep
                        located(table, row, column, f"the value looks like {looks}, not a code of "
                                f"{target.label}", "Map this column to another target, or leave it not mapped.")
                        continue
                    if raw_value not in m.values:
                        located(table, row, column, f"the value '{raw_value}' has no meaning in the mapping for "
                                f"{target.label}", "Say what it means on the page (step 3) and save the mapping "
                                                   "again, or correct the cell.", value=raw_value)
                        continue
                    meaning = m.values[raw_value]
                    if meaning in ("", None):
                        if meaning == "":
                            located(table, row, column, f"the value '{raw_value}' is not yet given a meaning for "
                                    f"{target.label}", "Choose its meaning on the page (step 3).", value=raw_value)
                        continue
                    values[m.target] = (meaning, origin)
                    continue
                if is_na(raw_value):
                    continue
                if target.kind in ("date", "day"):
                    date_columns.add(f"{table.name}: {column}")
                    if target.kind == "day" and _INTEGER.match(raw_value):
                        values[m.target] = (int(float(raw_value)), origin)
                        continue
                    date = parse_date(raw_value, order)
                    if date is None:
                        # the cell is not echoed: it may be a date the app must not keep
                        located(table, row, column, "neither a calendar date nor a whole number of days",
                                "Enter a date (e.g. 2021-03-04) or days from the B-ALL diagnosis.")
                        continue
                    values[m.target] = (date, origin)
                    continue
                values[m.target] = (raw_value, origin)
            # Patient level: one value per patient; a second, different one is a located error.
            for key, (value, origin) in values.items():
                target = TARGETS[key]
                if target.event is not None:
                    continue
                if key == "ball_dx_date":
                    if not isinstance(value, dt.date):
                        located(table, row, origin[3], "the B-ALL diagnosis date is not a calendar date",
                                "Map the calendar date of the B-ALL diagnosis (day 0) to this target.")
                        continue
                    first = anchors.get(pid)
                    if first and first[0] != value:
                        located(table, row, origin[3], f"a second, different B-ALL diagnosis date for patient {pid} "
                                f"(first at row {first[1][2]})", "Keep one diagnosis date per patient.")
                        continue
                    anchors[pid] = (value, origin)
                    continue
                seen = per_patient[pid].get(key)
                if seen and seen[0] != value:
                    located(table, row, origin[3], f"patient {pid} has a different {target.label} at row "
                            f"{seen[1][2]} ({seen[1][3]}: '{seen[0]}')", "Keep one value per patient.", value=value)
                    continue
                per_patient[pid][key] = (value, origin)
            for kind, fields in EVENT_FIELDS.items():
                start = values.get(fields["day"])
                if start is None:
                    stray = [by_target[t] for t in fields.values() if t in values]
                    if stray and fields["day"] in by_target:
                        located(table, row, stray[0], f"a {kind.replace('_', ' ')} value without its date or day: "
                                "not imported", f"Fill in {by_target[fields['day']]}.", warn=True)
                    continue
                pending_events.append((pid, kind, table, {col: values[t] for col, t in fields.items()
                                                          if t in values}))
    # Days relative to the B-ALL diagnosis; the dates themselves go no further than this loop.
    out = {t: _Out(t) for t in OWN_TABLES}
    row_lines = {f["day"][1][:3]: f["line"] for _, kind, _, f in pending_events
                 if kind == "treatment_line" and "line" in f}   # (file, sheet, row) -> (line, origin)
    event_id = 0
    # A patient only in an event table: one error for the patient (below), not one per date.
    gives_facts = any(per_patient.values()) or bool(anchors)
    orphans = {pid for pid, attrs in per_patient.items() if gives_facts and not attrs and pid not in anchors}
    for pid, kind, table, fields in pending_events:
        if pid in orphans:
            continue
        row_values: dict[str, str] = {"patient_id": pid, "event_type": kind}
        origins: dict[str, Origin] = {}
        ok = True
        for column, (value, origin) in fields.items():
            origins[column] = origin
            if isinstance(value, dt.date):
                anchor = anchors.get(pid)
                if anchor is None:
                    located(table, origin[2], origin[3], f"a calendar date for patient {pid}, who has no B-ALL "
                            "diagnosis date: it cannot be turned into days", "Map the B-ALL diagnosis date column "
                            "(day 0) and fill it in for this patient.")
                    ok = False
                    continue
                value = (value - anchor[0]).days
                converted += 1
            row_values[column] = str(value)
        if not ok:
            continue
        if kind == "treatment_line" and "line" not in row_values and mapping.constants.get("line_number"):
            row_values["line"] = mapping.constants["line_number"]
        if kind == "response_assessment" and "line" not in row_values:
            # A response on the same row as a treatment line belongs to that line.
            line = row_lines.get(fields["day"][1][:3])
            if line is not None:
                row_values["line"], origins["line"] = str(line[0]), line[1]
            elif mapping.constants.get("response_line"):
                row_values["line"] = mapping.constants["response_line"]
        event_id += 1
        row_values["event_id"] = str(event_id)
        origins.setdefault("patient_id", origins.get("day"))
        out["events"].add(row_values, origins)
    converted += sum(1 for _ in anchors)
    # Patients, TP53, cohort_info.
    for pid in per_patient:
        attrs = per_patient[pid]
        first = patient_first[pid]
        if pid in orphans:
            file, sheet, row, column = first
            report.error(file, f"patient {pid} is in this table but in no row that gives patient facts (sex, "
                               "ages, diagnosis date...)", "Add the patient to the patients' table, or correct "
                                                           "the id (ids are compared exactly).",
                         sheet=sheet, row=row, column=column, value=pid)
            continue
        row_values = {"patient_id": pid}
        origins: dict[str, Origin] = {"patient_id": first}
        for column in PATIENT_COLUMNS:
            if column in attrs:
                row_values[column], origins[column] = str(attrs[column][0]), attrs[column][1]
            elif mapping.constants.get(column):
                row_values[column] = mapping.constants[column]
        status = attrs.get("tp53_status")
        if status is not None and not row_values.get("sequencing_assay"):
            row_values["sequencing_assay"] = mapping.constants.get("tp53_assay", "")
            origins["sequencing_assay"] = status[1]
        out["patients"].add(row_values, origins)
        if status is not None and status[0] == "mutated":
            change = attrs.get("tp53_protein_change")
            klass = attrs.get("tp53_variant_class")
            inferred = variant_class(change[0]) if change and not klass else None
            if not klass and not inferred:
                file, sheet, row, column = status[1]
                report.error(file, f"TP53 is mutated for patient {pid} but the variant class is not given"
                             + (f" and cannot be read from '{change[0]}'" if change else ""),
                             "Map a TP53 variant class column, or a protein change such as p.R248Q "
                             "(missense, nonsense and in-frame changes are recognised).",
                             sheet=sheet, row=row, column=column)
                continue
            mutation = {"patient_id": pid, "gene": "TP53", "protein_change": change[0] if change else "",
                        "variant_class": klass[0] if klass else inferred,
                        "assay": row_values.get("sequencing_assay", "")}
            out["mutations"].add(mutation, {"patient_id": status[1], "gene": status[1],
                                            **({"protein_change": change[1]} if change else {}),
                                            "variant_class": (klass or change or status)[1]})
    cohort = mapping.cohort
    out["cohort_info"].add({"cohort_name": str(cohort.get("cohort_name") or ""),
                            "synthetic": "true" if str(cohort.get("synthetic")).lower() in ("true", "1") else "false",
                            "description": str(cohort.get("description") or "")}, {})
    required = [c for c, spec in column_specs()["patients"].items() if spec.required and c != "patient_id"]
    for column in required:  # an optional column nobody gives gets one warning (below)
        if not any(m.target == column for cols in mapping.tables.values() for m in cols.values()) \
                and not mapping.constants.get(column):
            report.error("(mapping)", f"no column is mapped to {TARGETS[column].label} and no value is given for "
                                      "every patient", f"Map a column to {column}"
                         + (" or enter it for every patient (step 3)." if column in CONSTANTS else "."))
    mapped_targets = {m.target for cols in mapping.tables.values() for m in cols.values()}
    for column in PATIENT_COLUMNS:
        if column not in mapped_targets and column not in required and not mapping.constants.get(column) and not (
                column == "sequencing_assay" and "tp53_status" in mapped_targets):
            report.warning("(mapping)", f"no source column gives {column}: it is not evaluated (empty) for every "
                                        "patient", f"Map a column to {column} on the page if the source has it.",
                           column=column)
    if date_columns:
        report.warning(", ".join(sorted({t.file for t in source.tables})),
                       f"{converted} calendar date(s) in {', '.join(sorted(date_columns))} were turned into days "
                       "relative to each patient's B-ALL diagnosis date in memory and then discarded: no date is "
                       "stored", "Nothing to do; the saved mapping does the same next time.")
    if not report.ok:
        return Applied(None, {}, not_mapped, converted)
    return Applied({t: o.raw() for t, o in out.items()}, {t: o.origins for t, o in out.items()}, not_mapped,
                   converted)


_PROTEIN = re.compile(r"^p\.\(?([A-Z](?:[a-z]{2})?)(\d+)"
                      r"([A-Z](?:[a-z]{2})?|\*|Ter|X|del|dup|ins\w*|delins\w*|fs\S*)\)?$")


def variant_class(change: str) -> str | None:
    """The variant class a protein change states unambiguously (frameshifts do not say del or ins)."""
    m = _PROTEIN.match(str(change).strip())
    if not m:
        return None
    tail = m[3]
    if tail in ("*", "Ter", "X"):
        return "Nonsense_Mutation"
    if tail.startswith("fs"):
        return None
    if tail == "del":
        return "In_Frame_Del"
    if tail.startswith(("ins", "dup")):
        return "In_Frame_Ins"
    if tail.startswith("delins"):
        return None
    return "Missense_Mutation" if tail != m[1] else None


def relocate(report: Report, applied: Applied) -> Report:
    """Point every problem found in a built table at the source file, sheet, row and column."""
    by_file = {f"{t} (mapped)": t for t in OWN_TABLES}
    issues = []
    for issue in report.issues:
        table = by_file.get(issue.file)
        if table is None or issue.row is None or not 2 <= issue.row < len(applied.origins.get(table, [])) + 2:
            issues.append(issue)
            continue
        cells = applied.origins[table][issue.row - 2]
        origin = cells.get(issue.column or "") or cells.get("patient_id") or next(iter(cells.values()), None)
        note = f" [{table}.{issue.column}]" if issue.column else f" [{table}]"
        if origin is None:
            issues.append(replace(issue, problem=issue.problem + note + " (a value given by the mapping)"))
            continue
        file, sheet, row, column = origin
        from_mapping = issue.column and issue.column not in cells
        issues.append(replace(issue, file=file, sheet=sheet, row=row,
                              column=column if not from_mapping else issue.column,
                              problem=issue.problem + note + (" (a value given by the mapping)" if from_mapping
                                                              else "")))
    report.issues[:] = issues
    return report


def import_mapped(files: list[tuple[str, bytes]], mapping: Mapping | None = None):
    """Read, map (the suggestion when `mapping` is None), validate: an ImportResult of kind 'mapped'."""
    report = Report()
    source = read_source(files, report)
    if source is None:
        return ImportResult(report, None, "mapped")
    used = mapping or suggest(source)
    applied = apply(source, used, report)
    result_tables = None
    if applied.raws is not None:
        report, result_tables = validate(applied.raws, report)
        relocate(report, applied)
    return ImportResult(report, result_tables, "mapped", applied.not_mapped, mapping=used, source=source)
