"""Bring your own cohort: read, validate (privacy first) and load uploaded cohort files.

Inputs: the app's own format (the template workbook, or the five tables as CSV files) or a
cBioPortal study as published (meta_*.txt and the data files they name, any file names; a MAF
as .txt or .maf; case lists), or a group's own spreadsheet / REDCap export read through a column
mapping (`mapping`: suggested, confirmed on the page, saved as JSON). Nothing is loaded unless the
report has no errors; the cohort is then
built in memory (session-only) or, by the command line, written atomically to a DuckDB file.

>>> from analytics.importing.template import workbook_from_tables, tables_from_folder
>>> book = workbook_from_tables(tables_from_folder("data/demo_cohort"))
>>> result = import_files([("cohort.xlsx", book)])
>>> result.report.ok, len(result.tables["patients"])
(True, 32)
>>> int(build_database(result.tables).scalar("SELECT count(*) FROM events"))
192
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd

from analytics.build import build_file, build_in_memory
from analytics.db import CohortDatabase
from analytics.importing import cbioportal, mapping as mapping_step, sources
from analytics.importing.report import ImportResult, Issue, Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import column_specs
from analytics.importing.validation import validate

__all__ = ["ImportResult", "Issue", "Report", "import_files", "build_database", "write_database",
           "content_hash"]

CBIOPORTAL_PREFIXES = ("data_", "meta_", "case_list", "cases_")
CBIOPORTAL_SUFFIXES = (".maf", ".seg", ".gmt")
OWN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


def content_hash(files: list[tuple[str, bytes]]) -> str:
    """A short hash of the uploaded names and bytes (part of the session cache token)."""
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:16]


def _kind(name: str) -> str:
    lower = Path(name).name.lower()
    if lower.endswith(CBIOPORTAL_SUFFIXES) or (lower.startswith(CBIOPORTAL_PREFIXES)
                                                and not lower.endswith(OWN_SUFFIXES)):
        return "cbioportal"
    if lower.endswith((".xlsx", ".xlsm", ".xls")):
        return "workbook"
    if lower.endswith(".csv"):
        return "csv"
    return "unknown"


def import_files(files: list[tuple[str, bytes]], mapping=None, *, efs_source: str | None = None) -> ImportResult:
    """Read and validate uploaded files (name, bytes). Never raises for a bad file: every
    problem is an issue of the report. A group's own spreadsheet or REDCap export is mapped
    (`mapping.Mapping`; None = the suggested mapping) and the result's kind is "mapped".
    `efs_source` (cBioPortal only): which of the study's sources gives relapse/progression
    events ('timeline', 'DFS', 'PFS', ..., 'none'); None = the default (the timeline if it has
    relapses, else none), said in the report."""
    if mapping is not None or mapping_step.wants_mapping(files):
        return mapping_step.import_mapped(files, mapping)
    report = Report()
    if not files:
        report.error("(no file)", "no file was uploaded", "Upload the workbook, the CSV tables or a "
                     "cBioPortal study.")
        return ImportResult(report, None, "unknown")
    kinds = {name: _kind(name) for name, _ in files}
    if "cbioportal" in kinds.values():  # a study folder's README or tags file: listed as not read
        kinds = {name: "cbioportal" if kind == "unknown" else kind for name, kind in kinds.items()}
    for name, kind in kinds.items():
        if kind == "unknown":
            report.error(name, "unrecognised file type", "Upload an .xlsx workbook, .csv tables named "
                         f"after the tables ({', '.join(t + '.csv' for t in OWN_TABLES)}) or cBioPortal "
                         "data_*.txt, meta_*.txt and .maf files.")
    distinct = set(kinds.values()) - {"unknown"}
    if len(distinct) > 1:
        report.error(", ".join(sorted(kinds)), "files of different formats were uploaded together ("
                     + ", ".join(sorted(distinct)) + ")", "Upload one cohort in one format at a time.")
    if not report.ok:
        return ImportResult(report, None, "unknown")
    kind = distinct.pop()
    if kind == "cbioportal":
        offered = cbioportal.endpoint_sources(files)
        chosen = efs_source or cbioportal.default_efs_source(offered)
        raws, not_mapped = cbioportal.read_study(files, report, efs_source=efs_source)
        if raws is None:
            return ImportResult(report, None, kind, not_mapped, offered, chosen)
        report, tables = validate(raws, report)
        cbioportal.relocate(report, raws)  # problems point at the study's own files and rows
        return ImportResult(report, tables, kind, not_mapped, offered, chosen)
    raws: dict[str, RawTable] = {}
    for name, data in files:
        if sources.too_large(name, data, report):
            continue
        if kind == "workbook":
            if name.lower().endswith(".xls"):
                report.error(name, "old Excel format (.xls)", "Open it in Excel and save as .xlsx.")
                continue
            tables = sources.read_workbook(name, data, report)
        else:
            table = Path(name).stem.strip().lower()
            if table not in OWN_TABLES:
                report.error(name, f"'{name}' is not one of the tables", "Name each CSV after its table: "
                             + ", ".join(t + ".csv" for t in OWN_TABLES) + ".")
                continue
            raw = sources.read_delimited(name, data, report, table=table)
            tables = [] if raw is None else [raw]
        for raw in tables:
            if raw.table in raws:
                report.error(name, f"the table '{raw.table}' was uploaded twice ({raws[raw.table].file})",
                             "Upload each table once.", sheet=raw.sheet)
            raws[raw.table] = raw
    if not report.ok:
        return ImportResult(report, None, kind)
    report, tables = validate(raws, report)
    return ImportResult(report, tables, kind)


def _write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    for table in OWN_TABLES:
        frame = tables[table].reindex(columns=list(column_specs()[table]))
        frame.to_csv(folder / f"{table}.csv", index=False, na_rep="")


def build_database(tables: dict[str, pd.DataFrame]) -> CohortDatabase:
    """Validated tables -> an in-memory cohort (the schema's constraints apply once more)."""
    with tempfile.TemporaryDirectory(prefix="cohort-import-") as folder:
        _write_csvs(tables, Path(folder))
        return build_in_memory(folder)


def write_database(tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """Validated tables -> a DuckDB file, atomically (temporary file, then rename)."""
    with tempfile.TemporaryDirectory(prefix="cohort-import-") as folder:
        _write_csvs(tables, Path(folder))
        return build_file(folder, out)
