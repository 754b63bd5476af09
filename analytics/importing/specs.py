"""Column rules of the five own-format tables, read from the two sources of truth:
`analytics/schema.sql` (types, NOT NULL, CHECK ranges) and `data/dictionary.csv` (allowed
values), and the pandera schema and fix texts built from them.

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

from analytics.dictionary import load_dictionary

SCHEMA_SQL = Path(__file__).resolve().parent.parent / "schema.sql"
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_NUM = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no"}


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


def pandera_schema(table: str) -> pa.DataFrameSchema:
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
            checks.append(pa.Check(lambda s: s.isna() | s.astype(str).str.lower().isin(TRUE_WORDS | FALSE_WORDS),
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


def check_message(spec: ColumnSpec, check: str) -> tuple[str, str]:
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


