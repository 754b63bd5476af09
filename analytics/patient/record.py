"""One patient: key facts, recorded events, mutations and measurements (the timeline: `timeline`).

Every function takes the cohort filter and returns nothing for a patient outside it, so a
page can never show a patient the current filters exclude. Times are days from B-ALL
diagnosis (day 0); months = days / 30.4375.

Examples
--------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> patient_status(db, CohortFilter(), "S05"), patient_status(db, CohortFilter(), "S99")
('in cohort', 'unknown')
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import consistency
from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.survival import EFS_EVENT_COLUMNS, EFS_EVENT_LABELS
from analytics.units import days_to_months


def _in_filter(db: CohortDatabase, cohort_filter: CohortFilter, sql: str, patient_id: str) -> pd.DataFrame:
    sub, params = cohort_filter.patient_ids_sql()
    return db.query(sql.format(sub=sub), [patient_id, *params])


def patient_status(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> str:
    """'in cohort', 'filtered out' (exists, excluded by the filters) or 'unknown'."""
    if not db.scalar("SELECT count(*) FROM patients WHERE patient_id = ?", [patient_id]):
        return "unknown"
    found = _in_filter(db, cohort_filter,
                       "SELECT patient_id FROM patients WHERE patient_id = ? AND patient_id IN ({sub})",
                       patient_id)
    return "in cohort" if len(found) else "filtered out"


def summary_row(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's patient_summary row (empty when outside the filtered cohort)."""
    return _in_filter(db, cohort_filter,
                      "SELECT * FROM patient_summary WHERE patient_id = ? AND patient_id IN ({sub})",
                      patient_id)


def _months(days) -> str:
    if _missing(days):
        return "not recorded"
    return f"{days_to_months(float(days)):.1f} months"


def _day(days) -> str:
    if _missing(days):
        return "day not recorded"
    days = int(days)
    return f"day {days:+d}" if days else "day 0"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or \
        (not isinstance(value, str) and pd.isna(value))


is_missing = _missing  # for pages: not evaluated (NULL/NaN/NA)


def _or_not_evaluated(value, fmt=str) -> str:
    return NOT_EVALUATED if _missing(value) else fmt(value)


def efs_event_kind(row: pd.Series) -> str | None:
    """Which event ended event-free survival (None = censored), by the EFS definition the survival
    page uses (`survival.EFS_EVENT_COLUMNS`): the first of its events on the EFS event day."""
    if _missing(row["efs_event_day"]):
        return None
    day = row["efs_event_day"]
    for event, column in EFS_EVENT_COLUMNS.items():
        if not _missing(row[column]) and row[column] == day:
            return EFS_EVENT_LABELS[event]
    return "event"


def _exposure_text(db: CohortDatabase, r: pd.Series) -> str:
    """Cumulative exposure as patient_summary derives it; a value the source stored beside the
    courses (a cohort built from CSV files, not through the import) is shown when it disagrees."""
    text = _or_not_evaluated(r["len_cumulative_days"], _months)
    courses = int(db.scalar("SELECT count(*) FROM events WHERE patient_id = ? "
                            "AND event_type = 'lenalidomide_course'", [r["patient_id"]]))
    if not courses or _missing(r["len_cumulative_days"]):
        return text
    reported = db.scalar("SELECT len_cumulative_days FROM patients WHERE patient_id = ?", [r["patient_id"]])
    if reported is None or not consistency.exposure_disagrees(reported, r["len_cumulative_days"], courses):
        return text + " (from the lenalidomide courses)" if reported is None else text
    return (f"{text} from the lenalidomide courses; the source states {int(reported)} days "
            f"({_months(reported)}), which disagrees")


def key_facts(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """Key facts (section, fact, value) for one patient; empty outside the filtered cohort."""
    rows = summary_row(db, cohort_filter, patient_id)
    if rows.empty:
        return pd.DataFrame(columns=["section", "fact", "value"])
    r = rows.iloc[0]
    yes_no = {True: "yes", False: "no"}
    immuno = " ".join(f"{m.upper()}{'+' if r[m] == 'positive' else '−'}" if not _missing(r[m])
                      else f"{m.upper()} n.e." for m in ("cd10", "cd19", "cd20", "cd22"))
    tp53 = _or_not_evaluated(r["tp53_status"])
    if not _missing(r["sequencing_assay"]):
        tp53 += f" ({r['sequencing_assay']})"
    else:
        tp53 += " (not sequenced)"
    facts = [
        ("Patient", "Institution", r["institution"]),
        ("Patient", "Sex", _or_not_evaluated(r["sex"], lambda v: {"F": "female", "M": "male"}.get(v, v))),
        ("Patient", "Age at B-ALL diagnosis", _or_not_evaluated(r["age_at_ball_dx"], lambda v: f"{int(v)} years")),
        ("Patient", "Age at myeloma diagnosis", _or_not_evaluated(r["age_at_myeloma_dx"], lambda v: f"{int(v)} years")),
        ("Patient", "Autologous HCT for myeloma", _or_not_evaluated(r["myeloma_auto_hct"], yes_no.get)),
        ("Lenalidomide", "Latency from first exposure", _or_not_evaluated(r["latency_days"], _months)),
        ("Lenalidomide", "Cumulative exposure", _exposure_text(db, r)),
        ("Lenalidomide", "Myeloma lines with lenalidomide", _or_not_evaluated(r["myeloma_lines_with_len"], lambda v: str(int(v)))),
        ("Lenalidomide", "Last stopped", _or_not_evaluated(r["len_stop_day"], _day)),
        ("B-ALL at diagnosis", "WBC", _or_not_evaluated(r["wbc_k_per_ul"], lambda v: f"{v:g} ×10³/µL")),
        ("B-ALL at diagnosis", "Marrow blasts", _or_not_evaluated(r["marrow_blast_pct"], lambda v: f"{v:g}%")),
        ("B-ALL at diagnosis", "Immunophenotype", immuno),
        ("B-ALL at diagnosis", "CNS status", _or_not_evaluated(r["cns_status"])),
        ("B-ALL at diagnosis", "BCR::ABL1", _or_not_evaluated(r["bcr_abl1"])),
        ("B-ALL at diagnosis", "Karyotype", _or_not_evaluated(r["karyotype_iscn"])),
        ("B-ALL at diagnosis", "Ploidy", _or_not_evaluated(r["ploidy_category"]) + (
            "" if _missing(r["modal_chromosome_number"]) else f" (modal number {int(r['modal_chromosome_number'])})")),
        ("B-ALL at diagnosis", "TP53", tp53),
    ]
    treated = bool(r["treated"])
    efs_kind = efs_event_kind(r)
    if _missing(r["os_days"]):  # no follow-up recorded: not evaluable, never zero
        os_text = efs_text = f"{NOT_EVALUATED} (no last contact or death recorded)"
    else:
        cause = "cause not recorded" if _missing(r["death_cause"]) else r["death_cause"]
        os_text = _months(r["os_days"]) + (f", died ({cause})" if bool(r["os_event"])
                                            else ", alive (censored at last contact)")
        efs_text = (_months(r["efs_days"]) + (f", event: {efs_kind} ({_day(r['efs_event_day'])})" if efs_kind
                                              else ", censored at last contact"))
    facts += [
        ("Course", "First-line regimen", f"{r['first_line_regimen']} ({r['first_line_regimen_category']})"
         if treated else "untreated"),
        ("Course", "Best response", _or_not_evaluated(r["best_response"]) if treated else "untreated"),
        ("Course", "First CR/CRi", "never" if _missing(r["first_cr_day"]) else _day(r["first_cr_day"])),
        ("Course", "Allogeneic HCT", _day(r["hct_day"]) if bool(r["hct"]) else "no"),
        ("Course", "Relapse", "none recorded" if _missing(r["relapse_day"]) else _day(r["relapse_day"])),
        ("Endpoints", "Overall survival", os_text),
        ("Endpoints", "Event-free survival", efs_text),
        ("Endpoints", "Status at last contact", r["status_at_last_contact"] + (
            "" if _missing(r["last_contact_day"]) else f" ({_day(r['last_contact_day'])})")),
    ]
    return pd.DataFrame(facts, columns=["section", "fact", "value"])


def raw_events(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    return _in_filter(db, cohort_filter,
                      "SELECT * FROM events WHERE patient_id = ? AND patient_id IN ({sub}) "
                      "ORDER BY day, event_id", patient_id)


def mutations(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's reported variants (readable headers), VAF in %."""
    frame = _in_filter(db, cohort_filter,
                       "SELECT gene, protein_change, variant_class, vaf, assay FROM mutations "
                       "WHERE patient_id = ? AND patient_id IN ({sub}) ORDER BY gene, protein_change",
                       patient_id)
    frame["vaf"] = (frame["vaf"].astype(float) * 100).round(1)
    frame["variant_class"] = frame["variant_class"].str.replace("_", " ")
    return frame.rename(columns={"gene": "Gene", "protein_change": "Protein change",
                                 "variant_class": "Variant class", "vaf": "VAF (%)", "assay": "Assay"})


def measurements(db: CohortDatabase, cohort_filter: CohortFilter, patient_id: str) -> pd.DataFrame:
    """The patient's serial lab values; below-detection results say so (with the limit)."""
    frame = _in_filter(db, cohort_filter,
                       "SELECT day, specimen, analyte, value, unit, lower_limit_of_detection, below_detection, "
                       "method FROM measurements WHERE patient_id = ? AND patient_id IN ({sub}) "
                       "ORDER BY day, analyte", patient_id)
    analytes = {"b_lymphoblasts_pct": "B lymphoblasts (flow)", "immature_b_pct": "Immature B cells",
                "marrow_blasts_pct": "Marrow blasts (morphology)"}

    def result(r) -> str:
        if bool(r.below_detection):
            limit = "" if _missing(r.lower_limit_of_detection) else f" (< {r.lower_limit_of_detection:g} {r.unit})"
            return "below detection" + limit
        return f"{r.value:g} {r.unit}"
    out = pd.DataFrame({
        "Day": frame["day"].astype(int),
        "Months": days_to_months(frame["day"].astype(float)).round(1),
        "Specimen": frame["specimen"],
        "Analyte": frame["analyte"].map(lambda a: analytes.get(a, a)),
        "Result": [result(r) for r in frame.itertuples(index=False)],
        "Method": frame["method"],
    })
    return out


def patient_choices(db: CohortDatabase, cohort_filter: CohortFilter,
                    limit: int = 1000) -> tuple[pd.DataFrame, int]:
    """The first `limit` patients of the filtered cohort (default order) with what a picker
    shows (institution, sex, age), and the number of patients in the filtered cohort.

    A picker listing a million ids would send them all to the browser on every rerun; pages
    list the first `limit` and look any other id up with `patient_status`.

    >>> from analytics.build import build_in_memory
    >>> rows, n = patient_choices(build_in_memory("data/demo_cohort"), CohortFilter(), limit=3)
    >>> rows["patient_id"].tolist(), n
    (['S01', 'S02', 'S03'], 32)
    """
    where, params = cohort_filter.where_sql()
    n = count_patients(db, cohort_filter)
    rows = db.query(f"SELECT patient_id, institution, sex, age_at_ball_dx FROM patient_summary "
                    f"WHERE {where} ORDER BY patient_id LIMIT ?", [*params, int(limit)])
    return rows, n
