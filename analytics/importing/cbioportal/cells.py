"""Cells of a cBioPortal file (NA tokens, integers, months to days) and the mapped table that
remembers where each row came from."""
from __future__ import annotations

import math
import re
from collections import Counter

import pandas as pd

from analytics.importing.report import Report
from analytics.importing.sources import RawTable
from analytics.importing.specs import column_specs
from analytics.units import DAYS_PER_MONTH


NULL_MARKERS = {"", "na", "n/a", "nan", "null", "none", "[not available]", "[not applicable]",
                "not applicable", "not available", "[unknown]", "[not evaluated]", "not evaluated",
                "[completed]", "[discrepancy]", "[not reported]", "not reported"}
INTEGER = re.compile(r"^[+-]?\d+(?:\.0*)?$")


def cell_text(value) -> str:
    value = "" if value is None else str(value).strip()
    return "" if value.lower() in NULL_MARKERS else value


def raw_cell_text(value) -> str:
    return "" if value is None else str(value).strip()


def table_columns(table: str) -> list[str]:
    return list(column_specs()[table])


class MappedTable:
    """Rows of one own-format table, each remembering its source file, row and columns."""

    def __init__(self, table: str, label: str):
        self.table, self.label = table, label
        self.rows: list[dict[str, str]] = []
        self.origins: dict[int, tuple[str, int, dict[str, str]]] = {}

    def add(self, values: dict[str, str], file: str, row: int, columns: dict[str, str]) -> None:
        self.rows.append(values)
        self.origins[len(self.rows) + 1] = (file, row, columns)  # index as a sheet: header = 1

    def raw(self) -> RawTable:
        names = table_columns(self.table)
        frame = pd.DataFrame([[r.get(c, "") for c in names] for r in self.rows], columns=names,
                             index=pd.Index(range(2, len(self.rows) + 2), name="row"), dtype=object)
        raw = RawTable(self.table, frame, self.label, None, 1)
        raw.origins = self.origins  # read by relocate()
        return raw


def require_columns(raw: RawTable, columns: tuple[str, ...], report: Report) -> bool:
    missing = [c for c in columns if c not in raw.frame.columns]
    for column in missing:
        report.error(raw.file, f"required column '{column}' is missing", f"Add the {column} column "
                     "(cBioPortal file format).", row=raw.header_row, column=column)
    return not missing


def days_from_months(value: str) -> int:
    return int(math.floor(float(value) * DAYS_PER_MONTH + 0.5))


def months_value(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def listed_items(items: list[str], n: int = 6) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def quoted_counts(tokens: Counter) -> str:
    return ", ".join(f"{v!r} x{n}" for v, n in tokens.most_common(8)) + (", ..." if len(tokens) > 8 else "")
