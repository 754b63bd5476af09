"""Validate cohort tables before anything is loaded.

Column-level checks (required values, types, allowed values, ranges, unique ids) run the pandera
schemas of `specs` (built from `analytics/schema.sql` and `data/dictionary.csv`); the cross-table
and timeline checks are in `cross_checks`.

`validate(raw_tables)` returns the report and, when there are no errors, the normalised text
tables ready to load (booleans as true/false; a percent VAF converted to a fraction and said so;
a stated lenalidomide exposure dropped where courses derive it, with a warning if they disagree).
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analytics.importing import privacy
from analytics.importing.cross_checks import cross_checks, one_truth_per_fact
from analytics.importing.report import MAX_ISSUES, Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import TRUE_WORDS, check_message, column_specs, pandera_schema


def _frame_where(raw: RawTable, row) -> dict:
    return {"sheet": raw.sheet, "row": None if row is None or pd.isna(row) else int(row)}


def _columns(raw: RawTable, report: Report) -> pd.DataFrame | None:
    specs = column_specs()[raw.table]
    frame = raw.frame
    unknown = [c for c in frame.columns if c not in specs]
    for column in unknown:
        close = [n for n in specs if n.replace("_", "") == column.lower().replace("_", "").replace(" ", "")]
        report.error(raw.file, f"unknown column '{column}'",
                     f"Rename it to '{close[0]}'." if close else
                     f"Remove it; the columns of {raw.table} are: {', '.join(specs)}.",
                     sheet=raw.sheet, row=raw.header_row, column=column)
    for spec in specs.values():
        if spec.name not in frame.columns:
            if spec.required:
                report.error(raw.file, f"required column '{spec.name}' is missing",
                             f"Add the column {spec.name} ({spec.rule()}).", sheet=raw.sheet,
                             row=raw.header_row, column=spec.name)
            else:
                report.warning(raw.file, f"column '{spec.name}' is absent: every row is read as "
                                         "not evaluated (empty)",
                               f"Add the column if the data exist ({spec.rule()}).", sheet=raw.sheet,
                               row=raw.header_row, column=spec.name)
    if unknown or any(s.required and s.name not in frame.columns for s in specs.values()):
        return None
    out = frame.reindex(columns=list(specs)).fillna("")
    return out.replace("", None)


def _vaf_percent(frame: pd.DataFrame, raw: RawTable, report: Report) -> pd.DataFrame:
    numbers = pd.to_numeric(frame["vaf"], errors="coerce")
    if (numbers > 1).any() and (numbers.dropna() <= 100).all() and (numbers.dropna() > 0).all():
        row = numbers.idxmax()
        example = numbers[row]
        report.warning(raw.file, "vaf looks like a percentage (values above 1), the schema stores a "
                                 f"fraction: every vaf in this table was divided by 100 (e.g. row {row}: "
                                 f"{example:g} -> {example / 100:g})",
                       "Nothing to do if these are percentages; if some values were already fractions, "
                       "convert the column to fractions (0-1) and upload again.",
                       sheet=raw.sheet, column="vaf", value=f"{example:g}")
        frame = frame.copy()
        frame["vaf"] = [None if pd.isna(n) else repr(n / 100) for n in numbers]
    return frame


def _column_checks(raw: RawTable, frame: pd.DataFrame, report: Report) -> bool:
    specs = column_specs()[raw.table]
    schema = pandera_schema(raw.table)
    valid = True
    found: list[tuple[int, str, str, str, object, object]] = []  # row index, problem, fix, column, value, index
    # Column by column, stopping once the report would be full: a file of bad cells would
    # otherwise have every cell's failure collected (900,000 for a 2 MB file) before any is
    # reported. Reported in row order, as before.
    for name, column in schema.columns.items():
        if len(found) >= MAX_ISSUES:
            break
        try:
            pa.DataFrameSchema({name: column}, strict=False).validate(frame, lazy=True)
            continue
        except pa.errors.SchemaErrors as exc:
            valid = False
            cases = exc.failure_cases
        first_seen: dict[tuple, int] = {}
        for case in cases.sort_values("index", kind="stable").itertuples(index=False):
            spec = specs.get(case.column)
            if spec is None:
                continue
            problem, fix = check_message(spec, str(case.check))
            if case.check == "field_uniqueness":
                key = (case.column, case.failure_case)
                if key not in first_seen:  # the first occurrence is the reference, not the error
                    first_seen[key] = int(case.index)
                    continue
                problem += f" (first at row {first_seen[key]})"
            value = None if pd.isna(case.failure_case) else case.failure_case
            row = -1 if case.index is None or pd.isna(case.index) else int(case.index)  # -1: the column
            found.append((row, problem, fix, spec.name, value, case.index))
    for _, problem, fix, column_name, value, index in sorted(found, key=lambda f: f[0]):
        report.error(raw.file, problem, fix, column=column_name, value=value, **_frame_where(raw, index))
    return valid


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    out = frame.copy()
    for spec in column_specs()[table].values():
        if spec.type in ("INTEGER", "DOUBLE"):
            out[spec.name] = pd.to_numeric(out[spec.name], errors="coerce")
        elif spec.type == "BOOLEAN":
            out[spec.name] = out[spec.name].map(lambda v: None if v is None else str(v).lower() in TRUE_WORDS)
    return out


def _normalised(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    out = frame.copy()
    for spec in column_specs()[table].values():
        if spec.type == "BOOLEAN":
            out[spec.name] = out[spec.name].map(
                lambda v: None if v is None else ("true" if str(v).lower() in TRUE_WORDS else "false"))
        elif spec.type == "INTEGER":
            out[spec.name] = out[spec.name].map(lambda v: None if v is None else str(int(float(v))))
    return out


def validate(raws: dict[str, RawTable], report: Report | None = None
             ) -> tuple[Report, dict[str, pd.DataFrame] | None]:
    """Check the five own-format tables; return the report and the tables to load (None on errors)."""
    report = report or Report()
    specs = column_specs()
    workbook = next((r.file for r in raws.values() if r.sheet), None)
    for table in OWN_TABLES:
        if table not in raws:
            report.error(workbook or f"{table}.csv", f"the table '{table}' is missing",
                         f"Add the {table} sheet (workbook) or {table}.csv (header row only if it has no rows).",
                         sheet=table if workbook else None)
    if not report.ok:
        return report, None
    frames: dict[str, pd.DataFrame] = {}
    for table in OWN_TABLES:
        raw = raws[table]
        raw.frame = privacy.clean_frame(raw.frame, raw.file, report, sheet=raw.sheet)
        privacy.check_table(raw.frame, raw.file, report, sheet=raw.sheet, known_columns=frozenset(specs[table]))
        frame = _columns(raw, report)
        if frame is None:
            continue
        if table == "mutations":
            frame = _vaf_percent(frame, raw, report)
        if _column_checks(raw, frame, report):
            frames[table] = frame
    if not report.ok or len(frames) != len(OWN_TABLES):
        return report, None
    typed = {t: _typed(f, t) for t, f in frames.items()}
    cross_checks(raws, typed, report)
    if not report.ok:
        return report, None
    tables = {t: _normalised(f, t) for t, f in frames.items()}
    one_truth_per_fact(raws, typed, tables, report)
    return report, tables

