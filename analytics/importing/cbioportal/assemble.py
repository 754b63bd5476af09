"""Assembling a cBioPortal study into the five own-format tables (`read_study`), listing what has
no place in the schema, and pointing problems back at the study's own files (`relocate`)."""
from __future__ import annotations

from dataclasses import replace

from analytics.importing.cbioportal.cells import MappedTable, listed_items, table_columns
from analytics.importing.cbioportal.clinical import SAMPLE_RULE, UNNAMED, ChosenSamples, choose_samples, map_patients
from analytics.importing.cbioportal.endpoints import (NO_EFS_SOURCE, default_efs_source, map_efs_source, map_os,
                                                      map_timelines, status_month_pairs, study_sources)
from analytics.importing.cbioportal.mutations import map_mutations
from analytics.importing.cbioportal.study import PATIENT_USED, SAMPLE_USED, Study, collect
from analytics.importing.report import Report
from analytics.importing.sources import RawTable


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
    samples = choose_samples(study, report)
    patients = map_patients(study, samples, report)
    events = MappedTable("events", f"events (mapped from {study.patient.file} and the timeline)")
    deaths = map_os(study, events, report)
    chosen_source = map_efs_source(study, offered, efs_source, chosen_by, events, report)
    map_timelines(study, efs_source, deaths, events, report)
    mutations = map_mutations(study, samples, report)
    _list_what_is_left(study, samples, patients, report)
    info = MappedTable("cohort_info", "cohort_info (from meta_study.txt)")
    source_text = ("none (EFS counts deaths and induction failures only)" if chosen_source is None
                   else f"{chosen_source.columns} events recorded as relapse/progression")
    info.add({"cohort_name": study.name or UNNAMED, "synthetic": "false",
              "description": "Imported from cBioPortal study files: " + ", ".join(study.files)
              + f". EFS relapse source ({chosen_by}): {source_text}."},
             "meta_study.txt" if study.name else study.patient.file, 1, {})
    measurements = MappedTable("measurements", "measurements (none in a cBioPortal study)")
    if not report.ok:
        return None, study.not_mapped
    return {t.table: t.raw() for t in (info, patients, events, mutations, measurements)}, study.not_mapped


def _list_what_is_left(study: Study, samples: ChosenSamples, patients: MappedTable, report: Report) -> None:
    """Columns, samples and tables with no place in the schema: listed, never stored."""
    pframe = study.patient.frame
    paired = {f"{prefix}_{suffix}" for prefix in ["OS"] + status_month_pairs(pframe) for suffix in ("STATUS", "MONTHS")}
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
                                f"({listed_items(sorted(samples.later))}) and {len(samples.normals)} normal sample(s) "
                                f"not used: {SAMPLE_RULE}.")
    empty = [f"patients.{c}" for c in table_columns("patients")
             if c not in ("sex", "age_at_ball_dx", "lineage", "karyotype_iscn", "cns_status")
             and all(not r.get(c) for r in patients.rows)]
    if empty:
        study.not_mapped.append("Left empty (not evaluated; a cBioPortal study does not carry them): "
                                + ", ".join(empty) + ".")
    study.not_mapped.append("measurements: none (cBioPortal files have no blast-count table).")
    if not study.mafs:
        study.not_mapped.append("No mutation file: every patient is not sequenced (genes not evaluated).")


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
