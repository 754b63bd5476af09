"""Cell values of a source: not-evaluated tokens, calendar dates (ISO, day/month order, named
months), column kinds, and the suggested meaning of coded values."""
from __future__ import annotations

import datetime as dt
import re

from analytics.importing import redcap
from analytics.importing.mapping.targets import NA_TOKENS, NOT_EVALUATED, Target
from analytics.importing.redcap import SourceTable


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", str(text).lower().replace("-", " ")).split())


def _value_key(value: str) -> str:
    value = str(value).strip()
    return value if value in ("+", "-") else normalised(value)


def is_na(value: str) -> bool:
    return str(value).strip().lower() in NA_TOKENS


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d %Y")
INTEGER = re.compile(r"^[+-]?\d+(?:\.0*)?$")


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
    m = NUMERIC_DATE.match(value)
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
    return bool(_ISO.match(value) or NUMERIC_DATE.match(value)) or parse_date(value, "DMY") is not None


def column_kind(table: SourceTable, column: str) -> str:
    """date, integer, number, coded or text, from the column's non-empty values."""
    values = [v for v in table.frame[column] if not is_na(v)]
    if column in table.date_columns:
        return "date"
    if not values:
        return "empty"
    if sum(_looks_like_date(v) for v in values) >= 0.8 * len(values):
        return "date"
    if all(INTEGER.match(v) for v in values):
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
