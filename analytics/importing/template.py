"""The template workbook: a README sheet from the data dictionary, then one sheet per table.

`template_workbook()` gives the empty template; `workbook_from_tables(tables)` the same layout
filled (the demo cohort is downloadable this way). Text that a spreadsheet would run as a
formula is stored as text, never as a formula.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from analytics.importing.sources import OWN_TABLES, README_SHEET
from analytics.importing.specs import column_specs

INSTRUCTIONS = [
    "How to fill this workbook",
    "One sheet per table; keep the header row (row 1) exactly as it is; one row per record below it.",
    "Times are whole days relative to the B-ALL diagnosis (day 0; negative = before). Never enter "
    "calendar dates, names, record numbers, addresses, phone numbers or e-mail addresses: the upload "
    "refuses them.",
    "Leave a cell EMPTY when the item was not evaluated: it is then left out of denominators, never "
    "counted as negative.",
    "Enter values, not formulas; do not merge cells. cohort_info has exactly one row. Every patient_id "
    "in events, mutations and measurements must exist in patients.",
    "Upload the workbook on the app's 'Load a cohort' page; it is validated before anything is loaded "
    "and lives only in your browser session.",
]


def _typed_value(value: str, type_: str):
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    value = str(value)
    if type_ == "INTEGER":
        return int(float(value))
    if type_ == "DOUBLE":
        return float(value)
    if type_ == "BOOLEAN":
        return value.lower() in ("true", "1", "yes")
    return value


def workbook_from_tables(tables: dict[str, pd.DataFrame] | None = None) -> bytes:
    """The workbook (.xlsx bytes): README + one sheet per table, filled with `tables` if given."""
    from openpyxl import Workbook  # imported here: only the template download needs it
    from openpyxl.styles import Alignment, Font

    specs = column_specs()
    book = Workbook()
    readme = book.active
    readme.title = README_SHEET
    for i, line in enumerate(INSTRUCTIONS, start=1):
        readme.cell(i, 1, line).font = Font(bold=i == 1, size=12)
    start = len(INSTRUCTIONS) + 2
    header = ["sheet", "column", "type", "required", "rule", "description", "unit"]
    for j, name in enumerate(header, start=1):
        readme.cell(start, j, name).font = Font(bold=True)
    r = start + 1
    for table in OWN_TABLES:
        for spec in specs[table].values():
            values = [table, spec.name, spec.type, "yes" if spec.required else "no", spec.rule(),
                      spec.description, spec.unit]
            for j, v in enumerate(values, start=1):
                cell = readme.cell(r, j, v)
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=j == 6, vertical="top")
            r += 1
    for letter, width in zip("ABCDEFG", (14, 26, 10, 9, 40, 90, 12)):
        readme.column_dimensions[letter].width = width
    for table in OWN_TABLES:
        sheet = book.create_sheet(table)
        columns = list(specs[table])
        for j, name in enumerate(columns, start=1):
            sheet.cell(1, j, name).font = Font(bold=True)
            sheet.column_dimensions[sheet.cell(1, j).column_letter].width = max(12, len(name) + 2)
        sheet.freeze_panes = "A2"
        frame = (tables or {}).get(table)
        if frame is None:
            continue
        for i, row in enumerate(frame.reindex(columns=columns).itertuples(index=False), start=2):
            for j, (name, value) in enumerate(zip(columns, row), start=1):
                typed = _typed_value(value, specs[table][name].type)
                if typed is None:
                    continue
                cell = sheet.cell(i, j, typed)
                if isinstance(typed, str):
                    cell.data_type = "s"  # '=...' stays text, never a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_workbook() -> bytes:
    """The empty template (header rows only)."""
    return workbook_from_tables(None)


def tables_from_folder(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The own-format CSV tables of a folder (e.g. data/demo_cohort) as text frames."""
    folder = Path(folder)
    return {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False) for t in OWN_TABLES}
