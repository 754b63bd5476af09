"""CSV export safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) is read
by Excel, LibreOffice and Google Sheets as a formula ("CSV injection"). `safe_csv` prefixes
such text cells with a single quote so they are shown as text. Numeric columns are written as
numbers (a negative day such as -1644 stays a number: a number cannot carry a formula).

A CSV of a view starts with its provenance (`provenance_lines`): a few lines beginning with
"#" that name the view, its link, the cohort file's SHA-256, the app version and every caveat
of the view, so a table that leaves the app still says where it came from and what to read
with it. The first line says how many lines to skip to read the table.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Return `value` with a leading single quote if it is text that a spreadsheet would run.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("S01"), neutralise_cell(-3)
    ('S01', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def provenance_lines(title: str, link: str, data: str, app_version: str, filters: str,
                     caveats: Sequence[str] = (), created: str = "") -> list[str]:
    """The lines a view's CSV starts with (without the leading "# ").

    >>> provenance_lines("Table 1", "https://lab.org/overview", "cohort.duckdb SHA-256 ab12",
    ...                  "1a2b3c", "no filters", ["Small sample: n = 6"], "2026-12-02")[0]
    'Provenance: the first 7 lines start with "#"; read the table with pandas.read_csv(path, skiprows=7)'
    """
    lines = [f"View: {title}", f"Link: {link}", f"Data: {data}", f"Filters: {filters}",
             f"App version: {app_version}; exported {created or date.today().isoformat()}"]
    lines += [f"Caveat: {c}" for c in caveats]
    head = f'Provenance: the first {len(lines) + 1} lines start with "#"; read the table with ' \
           f'pandas.read_csv(path, skiprows={len(lines) + 1})'
    return [head] + [" ".join(line.split()) for line in lines]  # one physical line each


def safe_csv(df: pd.DataFrame, provenance: Sequence[str] = ()) -> bytes:
    """The frame as UTF-8 CSV bytes (RFC 4180: header, CRLF line ends, no index) with formula
    cells neutralised, after the `provenance` lines (each written as "# line").

    >>> safe_csv(pd.DataFrame({"a": ["=1+1", "ok"], "b": [-1, 2]})).decode()
    "a,b\\r\\n'=1+1,-1\\r\\nok,2\\r\\n"
    >>> safe_csv(pd.DataFrame({"a": [1]}), ["View: x"]).decode()
    '# View: x\\r\\na\\r\\n1\\r\\n'
    """
    out = df.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(neutralise_cell)
    # RFC 4180 line ends: the csv writer then quotes any cell holding a CR or LF.
    head = "".join(f"# {line}\r\n" for line in provenance)
    return (head + out.to_csv(index=False, lineterminator="\r\n")).encode("utf-8")
