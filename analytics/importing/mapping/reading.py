"""Reading a group's own files as source tables, and telling them from the app's own format."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from analytics.importing import redcap, sources
from analytics.importing.redcap import SourceTable
from analytics.importing.report import Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import column_specs


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
