"""What a source column can be mapped to (targets, with synonyms and the codes of coded
targets), the constants a mapping may supply, and the tokens that mean "not evaluated"."""
from __future__ import annotations

import re
from dataclasses import dataclass

FORMAT = "ball-cohort-mapping"
VERSION = 1
NOT_EVALUATED = None
# Cells that say "no value": not evaluated (NULL), never a negative result.
NA_TOKENS = {"", "na", "n/a", "n.a.", "nd", "n.d.", "not done", "unknown", "unk", "missing", "not evaluated",
             "not tested", "not assessed", "[not available]", "[unknown]", "not applicable", ".", "none recorded"}
# Source columns never suggested for anything: direct identifiers (they are dropped).
PERSON_NAME = re.compile(r"^(?:(?:patient|first|last|given|family|full|maiden|middle|sur) ?)?names?$|^initials$")
NEVER_SUGGESTED = {"a name", "a record number", "a date of birth", "an address", "a phone number", "an e-mail address"}


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
