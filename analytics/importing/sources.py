"""Reading uploaded files into raw text tables, with a clear message for every bad file.

Every cell is kept as text ('' = empty) so that validation, not a parser's guess, decides what
a value means. A table's index is the spreadsheet row number of each row (header = row 1), so
every later message can point at the row a data manager sees in Excel.

Limits (stated to the user on the upload page and in the README): a file may be at most
`MAX_FILE_BYTES` bytes and `MAX_ROWS` rows.
"""
from __future__ import annotations

import csv
import html
import datetime as dt
import io
import re
import time
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
        if "field larger than field limit" in str(exc):
            report.error(name, f"a value is longer than {csv.field_size_limit():,} characters; no "
                               "cohort value is that long", "Shorten the value (free text belongs in "
                               "a short note), or check that a quote is not left open above it.",
                         row=reader.line_num + skipped)
            return None
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


# Bounds checked on the zip's directory and while streaming, before any sheet is parsed: a
# 1.3 MB workbook can hold a million rows (hundreds of MB of XML) that a parser would build in
# memory. The legitimate maximum (MAX_ROWS rows of the template's widest table) is far below.
MAX_UNCOMPRESSED_BYTES = 100_000_000   # all members of the .xlsx zip together
MAX_COMPRESSION_RATIO = 100                   # per member larger than RATIO_CHECKED_FROM
RATIO_CHECKED_FROM = 1_000_000
MAX_ZIP_MEMBERS = 200
MAX_COLUMNS = 200                             # per sheet
MAX_CELLS = 2_000_000                         # per workbook, counted while reading
MAX_SECONDS = 60.0                            # reading one workbook


def _zip_problem(archive: zipfile.ZipFile) -> str | None:
    """Why this .xlsx zip is refused before opening (too many members, too large once
    uncompressed, compressed beyond any spreadsheet), or None."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        return f"the workbook holds {len(members):,} files (at most {MAX_ZIP_MEMBERS} expected)"
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        return (f"the workbook expands to {total / 1e6:,.0f} MB of XML (limit "
                f"{MAX_UNCOMPRESSED_BYTES / 1e6:.0f} MB)")
    for m in members:
        if m.file_size > RATIO_CHECKED_FROM and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
            return (f"part '{m.filename}' is compressed {m.file_size / max(m.compress_size, 1):,.0f} "
                    f"times (limit {MAX_COMPRESSION_RATIO}): not a spreadsheet's data")
    return None


def _count_tags(archive: zipfile.ZipFile, member: str, tags: tuple[bytes, ...],
                limits: dict[bytes, int]) -> dict[bytes, int]:
    """Occurrences of each tag in one zip member, streamed (1 MB at a time), stopping as soon as
    a count passes its limit. Bytes-level: fast, and no XML is built."""
    counts = dict.fromkeys(tags, 0)
    overlap = max(len(t) for t in tags) - 1
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            for tag in tags:  # a tag split across chunks is counted once: the tail is shorter than it
                counts[tag] += block.count(tag) - tail.count(tag)
            tail = block[-overlap:]
            if any(counts[t] > limits.get(t, float("inf")) for t in tags):
                break
    return counts


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> zip member of its XML (from the workbook's own relationships)."""
    names = set(archive.namelist())
    book = archive.read("xl/workbook.xml").decode("utf-8", "replace") if "xl/workbook.xml" in names else ""
    rels = (archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            if "xl/_rels/workbook.xml.rels" in names else "")
    targets = {m[0]: m[1] for m in re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets |= {m[1]: m[0] for m in re.findall(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    parts = {}
    for attributes in re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", book):
        title = re.search(r'\bname="([^"]*)"', attributes)
        rid = re.search(r'\br:id="([^"]+)"|\bid="([^"]+)"', attributes)
        if not title or not rid:
            continue
        target = targets.get(rid.group(1) or rid.group(2), "")
        member = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if member in names:
            parts[html.unescape(title.group(1)).strip()] = member
    return parts


def sheet_names(data: bytes) -> list[str]:
    """The sheet titles of an .xlsx workbook, from its workbook part alone (after the zip
    checks: raises ValueError for a workbook `read_workbook` would refuse before reading)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    problem = _zip_problem(archive)
    if problem:
        raise ValueError(problem)
    book = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    return [html.unescape(m).strip() for m in re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', book)]


def read_workbook(name: str, data: bytes, report: Report, *, every_sheet: bool = False) -> list[RawTable]:
    """Every table sheet of an .xlsx workbook (the template's; with `every_sheet`, every
    non-empty sheet, as a source to map); formulas and merged cells are refused.

    Bounded before parsing (zip directory: members, total uncompressed size, compression ratio;
    a streamed count of each sheet's rows and merged cells) and while reading (openpyxl
    read-only mode row by row, at most MAX_COLUMNS columns, MAX_CELLS cells and MAX_SECONDS)."""

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
    damaged = ("Re-save it from Excel as an .xlsx workbook and upload again.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        problem = _zip_problem(archive)
        parts = {} if problem else _sheet_parts(archive)
        scans = {}
        for title, member in ({} if problem else parts).items():
            if every_sheet or title in OWN_TABLES:
                scans[title] = _count_tags(archive, member, (b"<row", b"mergeCell ", b"<c"),
                                           {b"<row": MAX_ROWS + 1, b"<c": MAX_CELLS})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError, ValueError,
            NotImplementedError) as exc:
        report.error(name, f"the workbook cannot be opened ({type(exc).__name__}); it may be damaged "
                           "or truncated", damaged)
        return []
    if problem:
        report.error(name, problem + "; it is refused before reading",
                     "Upload the filled template (at most "
                     f"{MAX_ROWS:,} rows per sheet); re-save it from Excel if it came from another program.")
        return []
    refused: set[str] = set()
    for title, counts in scans.items():
        if counts[b"<row"] > MAX_ROWS + 1 or counts[b"<c"] > MAX_CELLS:
            report.error(name, f"more than {MAX_ROWS:,} rows", "Split the cohort or use the command line.",
                         sheet=title)
            refused.add(title)
    if refused:
        return []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged zip/xml
        report.error(name, f"the workbook cannot be opened ({type(exc).__name__}); it may be damaged "
                           "or truncated", damaged)
        return []
    deadline = time.monotonic() + MAX_SECONDS
    cells_read = 0
    tables: list[RawTable] = []
    known = set(OWN_TABLES) | {README_SHEET}
    try:
        for sheet in book.worksheets:
            title = sheet.title.strip()
            if not every_sheet and title not in known:
                report.warning(name, f"sheet '{title}' is not a table of the template and was not read",
                               f"Sheets read: {', '.join(OWN_TABLES)}.", sheet=title)
                continue
            if title == README_SHEET and not every_sheet:
                continue
            merged = _merged_cells(book, sheet) if scans.get(title, {}).get(b"mergeCell ") else []
            if merged:
                report.error(name, f"merged cells ({merged[0]}); a table needs one value per cell",
                             "Unmerge the cells (Home > Merge & Center > Unmerge) and fill each cell.",
                             sheet=title, value=merged[0])
                continue
            sheet.reset_dimensions()  # a forged <dimension> would pad every row to its width
            values: list[tuple] = []
            formula = None
            too_wide = too_slow = False
            for row in sheet.iter_rows():
                if len(row) > MAX_COLUMNS:
                    too_wide = True
                    break
                cells_read += len(row)
                if time.monotonic() > deadline:
                    too_slow = True
                    break
                for cell in row:
                    if cell.data_type == "f" and formula is None:
                        formula = (cell, sum(1 for c in row if c.data_type == "f"))
                values.append(tuple(getattr(c, "value", None) for c in row))
                if len(values) > MAX_ROWS + 1 or cells_read > MAX_CELLS:  # header + MAX_ROWS
                    break
            if too_wide:
                report.error(name, f"a row has more than {MAX_COLUMNS} cells", "Keep the template's "
                             "columns only; delete the unused columns to the right.", sheet=title)
                continue
            if too_slow:
                report.error(name, f"reading the sheet took more than {MAX_SECONDS:.0f} s", "Split the "
                             "cohort or ask a maintainer to import it with the command line.", sheet=title)
                return []
            if len(values) > MAX_ROWS + 1 or cells_read > MAX_CELLS:
                report.error(name, f"more than {MAX_ROWS:,} rows", "Split the cohort or use the command line.",
                             sheet=title)
                continue
            if formula is not None:
                cell, _ = formula
                n_formulas = sum(1 for r in sheet.iter_rows() for c in r if c.data_type == "f")
                header = values[0] if values else ()
                column = header[cell.column - 1] if cell.column - 1 < len(header) else None
                report.error(name, f"cell {cell.coordinate} holds a formula ({n_formulas} formula cell(s) "
                                   "in this sheet); formulas are not imported",
                             "Replace formulas by their values (Copy, then Paste Special > Values).",
                             sheet=title, row=cell.row, column=str(column or ""), value=cell.value)
                continue
            if not values or not any(_cell_text(v) for v in values[0]):
                if every_sheet:
                    continue  # an empty sheet (notes, a blank tab): nothing to map
                report.error(name, "the sheet has no header row", "Copy the header row from the template.",
                             sheet=title, row=1)
                continue
            header = [_cell_text(v) for v in values[0]]
            while header and not header[-1]:
                header.pop()
            rows = [(i + 2, [_cell_text(v) for v in r]) for i, r in enumerate(values[1:])]
            frame = _frame(header, rows, name, report, sheet=title)
            if frame is not None and not (every_sheet and frame.empty):
                tables.append(RawTable(title, frame, name, title, 1))
    except Exception as exc:  # damaged XML inside a valid zip
        report.error(name, f"the workbook cannot be read ({type(exc).__name__}); it may be damaged "
                           "or truncated", damaged)
        return []
    finally:
        book.close()
    return tables


def _merged_cells(book, sheet) -> list[str]:
    """Merged ranges of a read-only sheet (read-only mode does not parse them), from the sheet's
    XML, whose size the zip checks have bounded."""
    xml = book._archive.read(sheet._worksheet_path)
    return sorted(r.decode() for r in re.findall(rb'<(?:\w+:)?mergeCell ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"', xml))


def too_large(name: str, data: bytes, report: Report) -> bool:
    if len(data) > MAX_FILE_BYTES:
        report.error(name, f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                           f"{MAX_FILE_BYTES / 1e6:.1f} MB per file",
                     "Remove unused sheets/columns, or ask a maintainer to import it with "
                     "`python -m analytics.importing`.")
        return True
    return False
