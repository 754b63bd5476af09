"""Hostile upload files: bombs, forged workbooks, numbers and days out of any range.

Each case of `expected.csv` is built by the function of the same name (without extension).
Small cases are also stored beside this file (`python -m tests.hostile.corpus` writes them);
the large ones (`generated = yes`: zip bombs, a million rows) are built in a temporary folder
at test time so that the repository holds no bomb.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent.parent / "data" / "demo_cohort"
PATIENT_HEADER = (DEMO / "patients.csv").read_text().splitlines()[0].split(",")  # 21 columns


# --- CSV: one demo table with one cell replaced ---------------------------------------------
def _demo_with(table: str, row: int, column: str, value: str) -> bytes:
    rows = list(csv.reader(io.StringIO((DEMO / f"{table}.csv").read_text())))
    rows[row - 1][rows[0].index(column)] = value  # row = spreadsheet row (header = 1)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def wbc_1e309():
    return _demo_with("patients", 2, "wbc_k_per_ul", "1e309")


def wbc_minus_1e309():
    return _demo_with("patients", 3, "wbc_k_per_ul", "-1e309")


def blasts_inf():
    return _demo_with("patients", 2, "marrow_blast_pct", "inf")


def measurement_nan():
    return _demo_with("measurements", 2, "value", "NaN")


def event_day_999999():
    return _demo_with("events", 4, "day", "999999")


def event_end_day_40000():
    return _demo_with("events", 2, "end_day", "40000")


def event_day_minus_huge():
    return _demo_with("events", 3, "day", "-99999999")


def event_id_over_integer():
    return _demo_with("events", 2, "event_id", "2147483648")


def line_400_digits():
    rows = list(csv.reader(io.StringIO((DEMO / "events.csv").read_text())))
    row = next(i for i, r in enumerate(rows[1:], start=1) if r[rows[0].index("line")]) + 1
    return _demo_with("events", row, "line", "7" * 400)


def measurement_day_minus_40000():
    return _demo_with("measurements", 2, "day", "-40000")


def cumulative_days_huge():
    return _demo_with("patients", 2, "len_cumulative_days", "99999")


def age_1e3():
    return _demo_with("patients", 2, "age_at_ball_dx", "1e3")


def cell_200kb():
    return _demo_with("events", 3, "note", "x" * 200_000)


def end_day_inf():
    return _demo_with("events", 2, "end_day", "inf")


def day_1e5():
    return _demo_with("events", 5, "day", "1e5")


def mrd_sensitivity_nan():
    rows = list(csv.reader(io.StringIO((DEMO / "events.csv").read_text())))
    row = next(i for i, r in enumerate(rows[1:], start=1) if r[rows[0].index("mrd_sensitivity")]) + 1
    return _demo_with("events", row, "mrd_sensitivity", "nan")


def vaf_underflow():
    """1e-400 is a number to the eye and 0.0 to a float: out of (0, 1]."""
    return _demo_with("mutations", 2, "vaf", "1e-400")


def detection_limit_1e309():
    return _demo_with("measurements", 3, "lower_limit_of_detection", "1e309")


def header_200k_columns():
    text = (DEMO / "patients.csv").read_text()
    header, rest = text.split("\n", 1)
    return (header + ",extra" + ",".join(f"c{i}" for i in range(200_000)) + "\n" + rest).encode()


def every_cell_bad():
    """50,000 patient rows of 'x' in every column (2 MB): 900,000 problems, 900 MB and a minute
    before the report was capped."""
    header = PATIENT_HEADER
    return (",".join(header) + "\n" + ("," .join(["x"] * len(header)) + "\n") * 50_000).encode()


# --- workbooks -------------------------------------------------------------------------------
def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed time stamp, so a stored case equals its builder's output."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _workbook(sheet_xml: bytes | None = None, *, extra_members: dict[str, bytes] | None = None,
              member_chunks=None, zeros: int = 0) -> bytes:
    """A one-sheet ('patients') .xlsx whose sheet XML is `sheet_xml` (or streamed from
    `member_chunks`, an iterable of bytes, so a bomb is never held whole in memory)."""
    members = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType='
            b'"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            b'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
            b'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
            b'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            b'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            b'"xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships"><sheets><sheet name="patients" sheetId="1" r:id="rId1"/>'
            b'</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
            b'"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            b'Target="worksheets/sheet1.xml"/></Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(_entry(name), data)
        if member_chunks is not None:
            with archive.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as stream:
                for chunk in member_chunks:
                    stream.write(chunk)
        else:
            archive.writestr(_entry("xl/worksheets/sheet1.xml"), sheet_xml)
        for name, data in (extra_members or {}).items():
            archive.writestr(_entry(name), data)
        if zeros:  # streamed: the bomb is never whole in this process's memory either
            with archive.open(_entry("xl/media/pad.bin"), "w", force_zip64=True) as stream:
                for _ in range(zeros >> 20):
                    stream.write(bytes(1 << 20))
    return out.getvalue()


SHEET_OPEN = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              b'spreadsheetml/2006/main">')


def _header_row() -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in PATIENT_HEADER)
    return f"<row>{cells}</row>".encode()


def _rows_without_r(n_rows: int, batch: int = 10_000, varied: bool = False):
    """The sheet XML of `n_rows` data rows of 21 numeric cells, no `r` attributes (so a parser
    cannot skip ahead), streamed in batches; `varied` numbers compress like real data."""
    yield SHEET_OPEN + b"<sheetData>" + _header_row()
    row = b"<row>" + b"<c><v>1</v></c>" * len(PATIENT_HEADER) + b"</row>"
    for start in range(0, n_rows, batch):
        if varied:
            yield b"".join(b"<row>" + b"".join(b"<c><v>%d</v></c>" % ((i * 7919 + j * 104729) % 99991)
                                               for j in range(len(PATIENT_HEADER))) + b"</row>"
                           for i in range(start, min(start + batch, n_rows)))
        else:
            yield row * min(batch, n_rows - start)
    yield b"</sheetData></worksheet>"


def rows_60000():
    return _workbook(member_chunks=_rows_without_r(60_000))


def rows_60000_varied():
    """60,000 rows of varied numbers: under the zip limits, refused by the streamed row count."""
    return _workbook(member_chunks=_rows_without_r(60_000, varied=True))


def rows_1000000():
    """About 1.3 MB, a million rows of 21 cells: 7.6 GB of server memory before the fix."""
    return _workbook(member_chunks=_rows_without_r(1_000_000))


def zip_bomb():
    """A 200 MB part of zeros (compressed to about 200 KB)."""
    return _workbook(member_chunks=_rows_without_r(10), zeros=200 << 20)


def ratio_bomb():
    """A 30 MB part under the size limit, compressed about 1000 times."""
    return _workbook(member_chunks=_rows_without_r(10), zeros=30 << 20)


def many_members():
    return _workbook(b"".join(_rows_without_r(3)),
                     extra_members={f"xl/media/p{i}.bin": b"x" for i in range(300)})


def far_row():
    """One row numbered 1,048,576: a reader fills in the million rows before it."""
    return _workbook(SHEET_OPEN + b"<sheetData>" + _header_row()
                     + b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>')


def wide_row():
    """A data row with a cell in the last column (XFD): 16,384 cells."""
    return _workbook(SHEET_OPEN + b"<sheetData>" + _header_row()
                     + b'<row r="2"><c r="XFD2"><v>1</v></c></row></sheetData></worksheet>')


def missing_sheet_part():
    """The workbook names a sheet whose XML part is not in the zip."""
    book = _workbook(b"".join(_rows_without_r(3)))
    source, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(_entry(item.filename), source.read(item))
    return out.getvalue()


def forged_dimension_template():
    """The filled template (valid) with the patients sheet claiming to span A1:XFD1048576: must
    import, quickly (the reader must not pad every row to 16,384 cells)."""
    from analytics.importing.template import tables_from_folder, workbook_from_tables
    book = workbook_from_tables(tables_from_folder(DEMO))
    source, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
            target.writestr(item, data)
    return out.getvalue()


def billion_laughs():
    """Nested entities in the sheet XML (a few hundred bytes that expand to gigabytes)."""
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    return _workbook(b'<?xml version="1.0"?><!DOCTYPE worksheet [' + entities.encode() + b']>'
                     + SHEET_OPEN[SHEET_OPEN.index(b"<worksheet"):] + b"<sheetData>" + _header_row()
                     + b'<row><c t="inlineStr"><is><t>&a9;</t></is></c></row></sheetData></worksheet>')


def external_entity():
    """An external entity naming a server file (XXE): never read into a cell."""
    return _workbook(b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                     + SHEET_OPEN[SHEET_OPEN.index(b"<worksheet"):] + b"<sheetData>" + _header_row()
                     + b'<row><c t="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>')


def build(case: str) -> bytes:
    return globals()[Path(case).stem]()


def main() -> None:
    """Write the cases that are not generated at test time beside this file."""
    with open(HERE / "expected.csv") as handle:
        for case in csv.DictReader(handle):
            if case["generated"] != "yes":
                (HERE / case["case"]).write_bytes(build(case["case"]))


if __name__ == "__main__":
    main()
