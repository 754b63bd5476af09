"""Reading uploaded files into raw text tables, with a clear message for every bad file.

Every cell is kept as text ('' = empty) so that validation, not a parser's guess, decides what
a value means. A table's index is the spreadsheet row number of each row (header = row 1), so
every later message can point at the row a data manager sees in Excel.

Limits (stated to the user on the upload page and in the README): a file may be at most
`MAX_FILE_BYTES` bytes and `MAX_ROWS` rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pandas as pd

from analytics.importing.report import Report

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
OWN_TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")
README_SHEET = "README"


@dataclass
class RawTable:
    table: str                 # target table (own format) or cBioPortal file kind
    frame: pd.DataFrame        # text cells, '' = empty; index = spreadsheet row number
    file: str
    sheet: str | None = None
    header_row: int = 1


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()  # kept so the privacy guard sees and refuses the calendar date
    return str(value).strip()


def _frame(header: list[str], rows: list[tuple[int, list[str]]], file: str, report: Report,
           sheet: str | None = None) -> pd.DataFrame | None:
    header = [h.strip().lstrip("\ufeff") for h in header]
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank and any(any(cells[i - 1] for _, cells in rows if len(cells) >= i) for i in blank):
        report.error(file, f"column {blank[0]} has values but no name in the header row",
                     "Give every column a header (see the README sheet for the names).",
                     sheet=sheet, row=1)
        return None
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            report.error(file, f"the header names column '{name}' twice",
                         "Keep one column per name.", sheet=sheet, row=1, column=name)
            return None
        seen.add(name)
    keep = [i for i, h in enumerate(header) if h]
    records, index = [], []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank line
        extra = any(c.strip() for c in cells[len(header):])
        if extra or (sheet is None and len(cells) != len(header)):
            report.error(file, f"this row has {len(cells)} values but the header has {len(header)}: "
                               "the file looks truncated or a value contains an unquoted separator",
                         "Re-export the table from the spreadsheet; quote values that contain commas.",
                         sheet=sheet, row=number)
            return None
        cells = cells + [""] * (len(header) - len(cells))
        records.append([cells[i].strip() for i in keep])
        index.append(number)
    return pd.DataFrame(records, columns=[header[i] for i in keep], index=pd.Index(index, name="row"),
                        dtype=object)


def _decode(name: str, data: bytes, report: Report) -> str | None:
    if len(data) == 0 or not data.strip():
        report.error(name, "the file is empty", "Upload the table with its header row and data rows.")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        report.error(name, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
                     "Save it as 'CSV UTF-8' (Excel) or re-encode it as UTF-8.", row=line)
        return None


def read_delimited(name: str, data: bytes, report: Report, *, delimiter: str = ",",
                   comment_rows: bool = False, table: str = "") -> RawTable | None:
    """A CSV (or a tab-separated cBioPortal file with `comment_rows`) as a RawTable."""
    text = _decode(name, data, report)
    if text is None:
        return None
    lines = text.splitlines(keepends=True)
    skipped = 0
    if comment_rows:
        while skipped < len(lines) and lines[skipped].startswith("#"):
            skipped += 1
        text = "".join(lines[skipped:])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, None)
        if header is None:
            report.error(name, "the file has no header row", "Add the header row (column names).")
            return None
        for cells in reader:
            rows.append((reader.line_num + skipped, cells))
            if len(rows) > MAX_ROWS:
                report.error(name, f"more than {MAX_ROWS:,} rows", "Split the file or ask a maintainer "
                             "to import it with the command line.")
                return None
    except csv.Error as exc:
        report.error(name, f"the file cannot be read as {'tab-separated' if delimiter == chr(9) else 'CSV'} "
                           f"text ({exc}); it looks truncated (a quoted value is never closed)",
                     "Re-export the table; check the last rows are complete.", row=reader.line_num + skipped)
        return None
    expected = "tab" if delimiter == "\t" else "comma"
    if len(header) == 1:
        for other, label in ((";", "semicolon"), ("\t", "tab"), (",", "comma"), ("|", "pipe")):
            if other != delimiter and other in header[0]:
                report.error(name, f"the header is one column containing {label}s: the file uses "
                                   f"{label}s as separators, {expected}s are expected",
                             f"Save it with {expected}s as separators (Excel: 'CSV UTF-8 (comma delimited)')."
                             if delimiter == "," else "Save it as tab-separated text.",
                             row=skipped + 1, value=header[0])
                return None
    frame = _frame(header, rows, name, report)
    if frame is None:
        return None
    return RawTable(table, frame, name, None, skipped + 1)


def read_workbook(name: str, data: bytes, report: Report) -> list[RawTable]:
    """Every table sheet of an .xlsx workbook; formulas and merged cells are refused."""
    from openpyxl import load_workbook  # imported here: only workbook uploads need it

    if len(data) == 0:
        report.error(name, "the file is empty", "Upload the filled template workbook.")
        return []
    if not zipfile.is_zipfile(io.BytesIO(data)):
        hint = ("It looks like an old .xls file: open it in Excel and save as .xlsx."
                if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" else
                "Re-save it from Excel as an .xlsx workbook; the file may be truncated.")
        report.error(name, "the file cannot be opened as an Excel (.xlsx) workbook", hint)
        return []
    try:
        book = load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged zip/xml
        report.error(name, f"the workbook cannot be opened ({type(exc).__name__}); it may be damaged "
                           "or truncated", "Re-save it from Excel as an .xlsx workbook and upload again.")
        return []
    tables: list[RawTable] = []
    known = set(OWN_TABLES) | {README_SHEET}
    for sheet in book.worksheets:
        title = sheet.title.strip()
        if title not in known:
            report.warning(name, f"sheet '{title}' is not a table of the template and was not read",
                           f"Sheets read: {', '.join(OWN_TABLES)}.", sheet=title)
            continue
        if title == README_SHEET:
            continue
        if sheet.merged_cells.ranges:
            first = sorted(str(r) for r in sheet.merged_cells.ranges)[0]
            report.error(name, f"merged cells ({first}); a table needs one value per cell",
                         "Unmerge the cells (Home > Merge & Center > Unmerge) and fill each cell.",
                         sheet=title, value=first)
            continue
        formulas = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
        if formulas:
            cell = formulas[0]
            report.error(name, f"cell {cell.coordinate} holds a formula ({len(formulas)} formula cell(s) "
                               "in this sheet); formulas are not imported",
                         "Replace formulas by their values (Copy, then Paste Special > Values).",
                         sheet=title, row=cell.row, column=str(sheet.cell(1, cell.column).value or ""),
                         value=cell.value)
            continue
        if sheet.max_row > MAX_ROWS + 1:
            report.error(name, f"more than {MAX_ROWS:,} rows", "Split the cohort or use the command line.",
                         sheet=title)
            continue
        values = list(sheet.iter_rows(values_only=True))
        if not values or not any(_cell_text(v) for v in values[0]):
            report.error(name, "the sheet has no header row", "Copy the header row from the template.",
                         sheet=title, row=1)
            continue
        header = [_cell_text(v) for v in values[0]]
        while header and not header[-1]:
            header.pop()
        rows = [(i + 2, [_cell_text(v) for v in r]) for i, r in enumerate(values[1:])]
        frame = _frame(header, rows, name, report, sheet=title)
        if frame is not None:
            tables.append(RawTable(title, frame, name, title, 1))
    return tables


def too_large(name: str, data: bytes, report: Report) -> bool:
    if len(data) > MAX_FILE_BYTES:
        report.error(name, f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                           f"{MAX_FILE_BYTES / 1e6:.1f} MB per file",
                     "Remove unused sheets/columns, or ask a maintainer to import it with "
                     "`python -m analytics.importing`.")
        return True
    return False
