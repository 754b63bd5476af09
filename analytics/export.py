"""CSV export safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) is read
by Excel, LibreOffice and Google Sheets as a formula ("CSV injection"). `safe_csv` prefixes
such text cells with a single quote so they are shown as text. Numeric columns are written as
numbers (a negative day such as -1644 stays a number: a number cannot carry a formula).
"""
from __future__ import annotations

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


def safe_csv(df: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes (RFC 4180: header, CRLF line ends, no index) with formula cells neutralised.

    >>> safe_csv(pd.DataFrame({"a": ["=1+1", "ok"], "b": [-1, 2]})).decode()
    "a,b\\r\\n'=1+1,-1\\r\\nok,2\\r\\n"
    """
    out = df.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(neutralise_cell)
    # RFC 4180 line ends: the csv writer then quotes any cell holding a CR or LF.
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
