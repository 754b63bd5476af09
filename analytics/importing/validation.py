"""Validate cohort tables before anything is loaded.

Column-level checks (required values, types, allowed values, ranges, unique ids) are pandera
schemas generated from the two sources of truth: `analytics/schema.sql` (types, NOT NULL,
CHECK ranges) and `data/dictionary.csv` (allowed values). Cross-table and timeline logic
(references, nothing after death, relapse after a remission, HCT after diagnosis, stop >=
start, duplicates, VAF percent/fraction, ploidy vs modal number) is plain pandas.

`validate(raw_tables)` returns the report and, when there are no errors, the normalised text
tables ready to load (booleans as true/false; a percent VAF converted to a fraction and said so;
a stated lenalidomide exposure dropped where courses derive it, with a warning if they disagree).

>>> specs = column_specs()
>>> specs["patients"]["sex"].allowed, specs["patients"]["age_at_ball_dx"].bounds
(('F', 'M'), (18.0, True, 110.0, True))
>>> specs["events"]["event_id"].required, specs["events"]["end_day"].required
(True, False)
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analytics.consistency import contradictions
from analytics.dictionary import load_dictionary
from analytics.importing import privacy
from analytics.importing.report import MAX_ISSUES, Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.genomics.karyotype import ploidy_category

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "schema.sql"
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_NUM = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
REMISSION = ("CR", "CRi")


@dataclass(frozen=True)
class ColumnSpec:
    table: str
    name: str
    type: str                           # VARCHAR, INTEGER, DOUBLE, BOOLEAN
    required: bool
    allowed: tuple[str, ...] | None     # from the dictionary
    bounds: tuple[float | None, bool, float | None, bool] | None  # low, low inclusive, high, high incl.
    description: str
    unit: str

    def rule(self) -> str:
        """The column's rule in words (README sheet, fix texts)."""
        parts = [{"VARCHAR": "text", "INTEGER": "whole number", "DOUBLE": "number",
                  "BOOLEAN": "true or false"}[self.type]]
        if self.allowed:
            parts.append("one of: " + "; ".join(self.allowed))
        if self.bounds:
            low, low_inc, high, high_inc = self.bounds
            if low is not None:
                parts.append(f"{'>=' if low_inc else '>'} {low:g}")
            if high is not None:
                parts.append(f"{'<=' if high_inc else '<'} {high:g}")
        parts.append("required" if self.required else "may be empty (= not evaluated)")
        return ", ".join(parts)


def _split_top(body: str) -> list[str]:
    pieces, depth, current = [], 0, ""
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += ch
    return pieces + [current]


def _bounds(column: str, check: str):
    m = re.search(rf"\b{column}\s+BETWEEN\s+(-?[\d.]+)\s+AND\s+(-?[\d.]+)", check)
    if m:
        return float(m[1]), True, float(m[2]), True
    low = high = None
    low_inc = high_inc = True
    for op, number in re.findall(rf"\b{column}\s*(>=|<=|>|<)\s*(-?[\d.]+)", check):
        if op.startswith(">"):
            low, low_inc = float(number), op == ">="
        else:
            high, high_inc = float(number), op == "<="
    return None if low is None and high is None else (low, low_inc, high, high_inc)


@functools.cache
def column_specs() -> dict[str, dict[str, ColumnSpec]]:
    """Per table, per column (schema order): type, NOT NULL and CHECK ranges from schema.sql,
    allowed values, description and unit from the data dictionary."""
    sql = re.sub(r"--[^\n]*", "", SCHEMA_SQL.read_text())
    dictionary = load_dictionary().set_index(["relation", "column"])
    specs: dict[str, dict[str, ColumnSpec]] = {}
    for table, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\);", sql, re.S):
        specs[table] = {}
        for piece in _split_top(body):
            piece = " ".join(piece.split())
            if not piece or piece.upper().startswith("CHECK"):
                continue
            name, type_ = piece.split()[:2]
            check = piece[piece.upper().find("CHECK"):] if "CHECK" in piece.upper() else ""
            row = dictionary.loc[(table, name)]
            allowed_text = row["allowed_values"]
            allowed = tuple(v.strip() for v in allowed_text.split(";")) if ";" in allowed_text else None
            if type_ == "BOOLEAN":
                allowed = None
            specs[table][name] = ColumnSpec(
                table, name, type_, "NOT NULL" in piece or "PRIMARY KEY" in piece, allowed,
                _bounds(name, check) if " IN " not in check else None, row["description"], row["unit"])
    return specs


UNIQUE = {"patients": ("patient_id",), "events": ("event_id",)}
KEY_COLUMNS = {"cohort_info": [], "patients": ["patient_id"], "events": ["event_id", "patient_id"],
               "mutations": ["patient_id", "gene"], "measurements": ["patient_id", "day"]}


def _in_bounds(values: pd.Series, bounds) -> pd.Series:
    low, low_inc, high, high_inc = bounds
    ok = pd.Series(True, index=values.index)
    if low is not None:
        ok &= values >= low if low_inc else values > low
    if high is not None:
        ok &= values <= high if high_inc else values < high
    return ok


MAX_INTEGER = 2**31 - 1  # DuckDB INTEGER


def _representable(values: pd.Series, type_: str) -> pd.Series:
    """Finite numbers (DOUBLE), whole numbers that fit a DuckDB INTEGER; text that is not a
    number at all is left to the type check (one message per cell).

    >>> _representable(pd.Series(["1e309", "-1e309", "2.5", "x"]), "DOUBLE").tolist()
    [False, False, True, True]
    >>> _representable(pd.Series(["9" * 400, "2147483648", "-12"]), "INTEGER").tolist()
    [False, False, True]
    """
    pattern = _NUM if type_ == "DOUBLE" else _INT
    limit = float("inf") if type_ == "DOUBLE" else MAX_INTEGER

    def fits(text: str) -> bool:
        return not pattern.fullmatch(text) or abs(float(text)) <= limit and abs(float(text)) != float("inf")
    return values.astype(str).map(fits).astype(bool)


def _pandera_schema(table: str) -> pa.DataFrameSchema:
    columns = {}
    for spec in column_specs()[table].values():
        checks = []
        if spec.type == "INTEGER":
            checks.append(pa.Check(lambda s: s.isna() | s.astype(str).str.fullmatch(_INT.pattern),
                                   name="is_whole_number"))
        elif spec.type == "DOUBLE":
            checks.append(pa.Check(lambda s: s.isna() | s.astype(str).str.fullmatch(_NUM.pattern),
                                   name="is_number"))
        elif spec.type == "BOOLEAN":
            checks.append(pa.Check(lambda s: s.isna() | s.astype(str).str.lower().isin(_TRUE | _FALSE),
                                   name="is_boolean"))
        if spec.type in ("INTEGER", "DOUBLE"):  # '1e309' is a number to the regex, inf to float
            checks.append(pa.Check(lambda s, t=spec.type: s.isna() | _representable(s, t),
                                   name="is_representable"))
        if spec.allowed:
            checks.append(pa.Check(lambda s, a=spec.allowed: s.isna() | s.isin(a), name="is_allowed_value"))
        if spec.bounds:
            def within_bounds(s, b=spec.bounds):
                numbers = pd.to_numeric(s, errors="coerce")
                return numbers.isna() | _in_bounds(numbers, b)
            checks.append(pa.Check(within_bounds, name="is_within_range"))
        columns[spec.name] = pa.Column(object, checks=checks, nullable=not spec.required,
                                       unique=spec.name in UNIQUE.get(table, ()), required=False,
                                       coerce=False)
    return pa.DataFrameSchema(columns, strict=False)


def _message(spec: ColumnSpec, check: str) -> tuple[str, str]:
    if check == "not_nullable":
        return "a value is required here", f"Fill in {spec.name} ({spec.rule()})."
    if check == "field_uniqueness":
        return f"{spec.name} must be unique; this value appears more than once", \
            "Give each row its own id."
    if check == "is_whole_number":
        return "not a whole number", f"Enter a whole number ({spec.unit or 'no unit'}), or leave it empty " \
                                     "if not evaluated." if not spec.required else "Enter a whole number."
    if check == "is_number":
        return "not a number", "Enter a plain number (decimal point, no unit or % sign)."
    if check == "is_boolean":
        return "not true/false", "Enter true or false (empty = not evaluated)."
    if check == "is_allowed_value":
        return "not an allowed value", f"Use one of: {'; '.join(spec.allowed or ())} (exact spelling)."
    if check == "is_representable":
        return ("too large to be a value of this column" if spec.type == "INTEGER" else
                "not a finite number (too large to represent)"), f"Allowed: {spec.rule()}."
    if check == "is_within_range":
        return "out of the allowed range", f"Allowed: {spec.rule()}."
    return f"failed check {check}", spec.rule()


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
    schema = _pandera_schema(raw.table)
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
            problem, fix = _message(spec, str(case.check))
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
            out[spec.name] = out[spec.name].map(lambda v: None if v is None else str(v).lower() in _TRUE)
    return out


def _normalised(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    out = frame.copy()
    for spec in column_specs()[table].values():
        if spec.type == "BOOLEAN":
            out[spec.name] = out[spec.name].map(
                lambda v: None if v is None else ("true" if str(v).lower() in _TRUE else "false"))
        elif spec.type == "INTEGER":
            out[spec.name] = out[spec.name].map(lambda v: None if v is None else str(int(float(v))))
    return out


def _cross_checks(raws: dict[str, RawTable], typed: dict[str, pd.DataFrame], report: Report) -> None:
    patients, events = typed["patients"], typed["events"]
    info = typed["cohort_info"]
    if len(info) != 1:
        raw = raws["cohort_info"]
        report.error(raw.file, f"cohort_info must have exactly one row, it has {len(info)}",
                     "Keep one row: cohort name, synthetic (true/false), description.", sheet=raw.sheet)
    if patients.empty:
        raw = raws["patients"]
        report.error(raw.file, "no patients", "Add one row per patient.", sheet=raw.sheet)
    known = set(patients["patient_id"])
    for table in ("events", "mutations", "measurements"):
        raw, frame = raws[table], typed[table]
        for row, pid in frame["patient_id"].items():
            if pid not in known:
                report.error(raw.file, f"patient '{pid}' is not in the patients table",
                             "Add the patient to patients, or correct the id (ids are case-sensitive).",
                             sheet=raw.sheet, row=int(row), column="patient_id", value=pid)
        dupes = frame[frame.duplicated(keep="first")]
        for row in dupes.index:
            first = frame.index[(frame == frame.loc[row]).all(axis=1) | (
                frame.isna() & frame.loc[row].isna()).all(axis=1)][0] if table != "events" else None
            report.error(raw.file, "this row repeats an earlier row exactly"
                         + (f" (row {first})" if first is not None else ""),
                         "Delete the duplicate row.", sheet=raw.sheet, row=int(row))
    # Ages
    raw = raws["patients"]
    both = patients.dropna(subset=["age_at_myeloma_dx", "age_at_ball_dx"])
    for row, p in both[both["age_at_myeloma_dx"] > both["age_at_ball_dx"]].iterrows():
        report.error(raw.file, f"age at myeloma diagnosis ({p.age_at_myeloma_dx:g}) is after age at "
                               f"B-ALL diagnosis ({p.age_at_ball_dx:g})",
                     "Check both ages (completed years).", sheet=raw.sheet, row=int(row),
                     column="age_at_myeloma_dx", value=f"{p.age_at_myeloma_dx:g}")
    # Chromosome number vs ploidy category (a warning: masked hypodiploidy can look hyperdiploid)
    for row, p in patients.dropna(subset=["modal_chromosome_number", "ploidy_category"]).iterrows():
        n = int(p.modal_chromosome_number)
        expected = ploidy_category(n)
        if expected != p.ploidy_category:
            report.warning(raw.file, f"modal chromosome number {n} fits '{expected or 'no category'}', "
                                     f"but ploidy_category says '{p.ploidy_category}'",
                           "Correct one of them, unless this is a doubled (masked) hypodiploid clone.",
                           sheet=raw.sheet, row=int(row), column="ploidy_category", value=p.ploidy_category)
    # Timeline
    raw = raws["events"]
    where = {"sheet": raw.sheet}
    for row, e in events.iterrows():
        if pd.notna(e.end_day) and e.end_day < e.day:
            report.error(raw.file, f"{e.event_type} stops (end_day {e.end_day:g}) before it starts "
                                   f"(day {e.day:g})", "Swap or correct day and end_day.",
                         row=int(row), column="end_day", value=f"{e.end_day:g}", **where)
        if e.event_type == "hct" and e.day < 0:
            report.error(raw.file, f"an allogeneic HCT on day {e.day:g}, before the B-ALL diagnosis (day 0)",
                         "Days are relative to B-ALL diagnosis; a myeloma autologous transplant goes in "
                         "patients.myeloma_auto_hct.", row=int(row), column="day", value=f"{e.day:g}", **where)
        if e.event_type in ("response_assessment", "treatment_line") and pd.isna(e.line):
            report.error(raw.file, f"a {e.event_type} needs its line of therapy", "Fill in line (1 = first line).",
                         row=int(row), column="line", **where)
        if e.event_type == "response_assessment" and pd.isna(e.response):
            report.error(raw.file, "a response assessment without a response", "Fill in response "
                         "(CR, CRi, PR, refractory, not evaluable).", row=int(row), column="response", **where)
    unremitted: list[tuple[int, str, float, float | None]] = []
    for pid, group in events.groupby("patient_id"):
        deaths = group[group.event_type == "death"]
        if len(deaths) > 1:
            report.error(raw.file, f"patient {pid} has {len(deaths)} death events", "Keep one death row.",
                         row=int(deaths.index[1]), column="event_type", value="death", **where)
        if len(deaths):
            death_day = deaths.day.min()
            stop = group[["day", "end_day"]].max(axis=1)
            for row, e in group[(stop > death_day)].iterrows():
                column = "day" if e.day > death_day else "end_day"
                report.error(raw.file, f"{e.event_type} of patient {pid} on day {e[column]:g}, after death "
                                       f"(day {death_day:g})", "Correct the day, or the day of death.",
                             row=int(row), column=column, value=f"{e[column]:g}", **where)
        remissions = group[(group.event_type == "response_assessment") & group.response.isin(REMISSION)]
        first_cr = remissions.day.min() if len(remissions) else None
        for row, e in group[group.event_type == "relapse"].iterrows():
            if first_cr is None or e.day <= first_cr:
                unremitted.append((int(row), pid, e.day, first_cr))
    if unremitted:
        # Not blocking: a study may record relapses without the remission before them; the relapse
        # still counts for EFS, and durations from CR are simply not evaluable for that patient.
        row, pid, day, first_cr = unremitted[0]
        report.warning(raw.file, f"{len(unremitted)} relapse(s) without an earlier recorded remission (CR/CRi), "
                       f"first: patient {pid} on day {day:g}"
                       + ("" if first_cr is None else f", not after the first remission (day {first_cr:g})")
                       + "; they count as relapses (EFS), the time from CR is not evaluable for them",
                       "Add the response assessment with the remission if it is known.", row=row,
                       column="day", value=f"{day:g}", **where)
    followed = set(events.loc[events.event_type.isin(["death", "last_contact"]), "patient_id"])
    unfollowed = patients[~patients.patient_id.isin(followed)]
    if len(unfollowed):
        ids = unfollowed.patient_id.tolist()
        report.warning(raws["patients"].file, f"{len(ids)} patient(s) have no last_contact or death event "
                       f"({', '.join(ids[:8])}{', ...' if len(ids) > 8 else ''}): overall survival and EFS are "
                       "not evaluable for them (every other analysis includes them)",
                       "Add a last_contact event with the last day known alive.",
                       sheet=raws["patients"].sheet, row=int(unfollowed.index[0]), column="patient_id",
                       value=ids[0])
    # Sequencing: variants for a patient recorded as not sequenced would be invisible
    sequenced = set(patients.loc[patients.sequencing_assay.notna(), "patient_id"])
    raw = raws["mutations"]
    for row, m in typed["mutations"].iterrows():
        if m.patient_id in known and m.patient_id not in sequenced:
            report.error(raw.file, f"a variant for patient {m.patient_id}, whose sequencing_assay is empty "
                                   "(= not sequenced)", "Fill in patients.sequencing_assay for this patient.",
                         sheet=raw.sheet, row=int(row), column="patient_id", value=m.patient_id)
    # Measurements: value empty exactly when below detection
    raw = raws["measurements"]
    for row, m in typed["measurements"].iterrows():
        if pd.notna(m.below_detection) and bool(m.below_detection) != pd.isna(m.value):
            report.error(raw.file, "below_detection must be true exactly when value is empty",
                         "Leave value empty and set below_detection true, or give the value and set it false.",
                         sheet=raw.sheet, row=int(row), column="below_detection")


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
    _cross_checks(raws, typed, report)
    if not report.ok:
        return report, None
    tables = {t: _normalised(f, t) for t, f in frames.items()}
    _one_truth_per_fact(raws, typed, tables, report)
    return report, tables


def _one_truth_per_fact(raws: dict[str, RawTable], typed: dict[str, pd.DataFrame],
                        tables: dict[str, pd.DataFrame], report: Report) -> None:
    """Warn where the timeline contradicts a stated fact (both values named); a stated exposure is
    not stored for a patient with courses, whose exposure patient_summary derives."""

    raw = raws["patients"]
    rows = dict(zip(typed["patients"]["patient_id"], typed["patients"].index))
    for c in contradictions(typed["patients"], typed["events"], typed["measurements"]):
        report.warning(raw.file, c.problem, c.fix, sheet=raw.sheet, row=int(rows[c.patient_id]),
                       column=c.column, value=c.stored)
    with_courses = set(typed["events"].loc[typed["events"].event_type == "lenalidomide_course", "patient_id"])
    patients = tables["patients"]
    patients.loc[patients["patient_id"].isin(with_courses), "len_cumulative_days"] = None
