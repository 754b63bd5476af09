"""REDCap's raw CSV export read with its data dictionary, as source tables for the mapping step.

Recognised by content, not by name: the data dictionary's header has "Variable / Field Name" and
"Field Type"; the export's first column is the record id (the dictionary's first field) and it
may carry `redcap_event_name`, `redcap_repeat_instrument`, `redcap_repeat_instance` and
`redcap_data_access_group`. What the dictionary says is applied before anything is suggested:
- radio / dropdown codes become their labels ("1, Male | 2, Female"), yesno and truefalse too;
  a code the dictionary does not list is an error at its file, row and column;
- a checkbox field is exported as one column per choice (`markers___1` ...): each becomes its own
  column, labelled "<field label>: <choice label>", with the values Checked / Unchecked;
- fields validated as dates (date_ymd, datetime_dmy, ...) are exported as YYYY-MM-DD: they are
  marked as dates (the mapping turns them into days and discards them);
- rows of a repeating instrument become their own table (one row per instance: treatment lines,
  response assessments, lenalidomide courses...), holding only that instrument's fields;
  non-repeating rows (one per record and event) form the table 'record'.
The `<form>_complete` status columns carry no data and are dropped (listed as not mapped).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from analytics.importing import sources
from analytics.importing.report import Report

DICTIONARY_FIELD = "Variable / Field Name"
REDCAP_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                  "redcap_data_access_group", "redcap_survey_identifier")
_DATE_VALIDATIONS = re.compile(r"^(date|datetime|datetime_seconds)_(ymd|mdy|dmy)$")
CHECKED, UNCHECKED = "Checked", "Unchecked"


@dataclass
class SourceTable:
    """One table of a source to map: text cells ('' = empty), index = the row number the user sees."""
    name: str
    file: str
    frame: pd.DataFrame
    sheet: str | None = None
    labels: dict[str, str] = field(default_factory=dict)      # column -> label (REDCap field label)
    date_columns: set[str] = field(default_factory=set)       # declared dates (REDCap validation)


def is_dictionary(header: list[str]) -> bool:
    names = {h.strip().lstrip("\ufeff") for h in header}
    return DICTIONARY_FIELD in names and "Field Type" in names


def is_export(header: list[str]) -> bool:
    names = {h.strip().lstrip("\ufeff") for h in header}
    return bool(names & {"redcap_event_name", "redcap_repeat_instrument", "redcap_data_access_group"})


def parse_choices(text: str) -> dict[str, str]:
    """'1, Male | 2, Female' -> {'1': 'Male', '2': 'Female'} (REDCap's Choices column)."""
    choices = {}
    for part in str(text or "").split("|"):
        if "," in part:
            code, label = part.split(",", 1)
            choices[code.strip()] = label.strip()
    return choices


def _checkbox_code(code: str) -> str:
    # REDCap writes a checkbox code into the column name lowercased, '-' as '_'.
    return code.strip().lower().replace("-", "_")


def read(data_file: tuple[str, bytes], dictionary_file: tuple[str, bytes], report: Report
         ) -> tuple[list[SourceTable], list[str]] | None:
    """The export as source tables (decoded), and the columns dropped as carrying no data."""
    d_raw = sources.read_delimited(dictionary_file[0], dictionary_file[1], report, table="dictionary")
    raw = sources.read_delimited(data_file[0], data_file[1], report, table="redcap")
    if d_raw is None or raw is None:
        return None
    dictionary = d_raw.frame
    for needed in (DICTIONARY_FIELD, "Form Name", "Field Type"):
        if needed not in dictionary.columns:
            report.error(d_raw.file, f"the data dictionary has no '{needed}' column",
                         "Upload the data dictionary exactly as REDCap exports it (Project Setup > "
                         "Data Dictionary > Download).", row=1, column=needed)
            return None
    choices_column = next((c for c in dictionary.columns if c.startswith("Choices")), None)
    validation_column = next((c for c in dictionary.columns if c.startswith("Text Validation Type")), None)
    label_column = "Field Label" if "Field Label" in dictionary.columns else None
    fields = dictionary.set_index(DICTIONARY_FIELD, drop=False)
    frame = raw.frame
    record_id = frame.columns[0]
    out = pd.DataFrame(index=frame.index)
    labels: dict[str, str] = {}
    dates: set[str] = set()
    form_of: dict[str, str] = {}
    dropped: list[str] = []
    for column in frame.columns:
        if column in REDCAP_COLUMNS or column == record_id:
            out[column] = frame[column]
            labels[column] = column
            continue
        base, _, code = column.partition("___")
        if column.endswith("_complete") and column not in fields.index:
            dropped.append(f"{raw.file}: column {column} (REDCap form status, no data)")
            continue
        if base not in fields.index:
            report.error(raw.file, f"column '{column}' is not a field of the data dictionary "
                                   f"({d_raw.file})", "Upload the data dictionary of the same project and "
                                                      "version as the export.", row=1, column=column)
            continue
        spec = fields.loc[base]
        kind = str(spec["Field Type"]).strip().lower()
        label = re.sub(r"<[^>]+>", "", str(spec[label_column] if label_column else base)).strip() or base
        form_of[column] = str(spec["Form Name"]).strip()
        choices = parse_choices(spec[choices_column]) if choices_column else {}
        if kind == "checkbox" and code:
            by_code = {_checkbox_code(c): lab for c, lab in choices.items()}
            if code not in by_code:
                report.error(raw.file, f"checkbox column '{column}': choice '{code}' is not in the data "
                                       "dictionary", "Upload the data dictionary of the same project.",
                             row=1, column=column)
                continue
            coded = {"1": CHECKED, "0": UNCHECKED}
            labels[column] = f"{label}: {by_code[code]}"
        elif kind in ("radio", "dropdown"):
            coded = choices
            labels[column] = label
        elif kind == "yesno":
            coded, labels[column] = {"1": "Yes", "0": "No"}, label
        elif kind == "truefalse":
            coded, labels[column] = {"1": "True", "0": "False"}, label
        else:
            coded, labels[column] = None, label
            if validation_column and _DATE_VALIDATIONS.match(str(spec[validation_column]).strip()):
                dates.add(column)
        if coded is None:
            out[column] = frame[column]
            continue
        values = frame[column]
        for row, value in values[(values != "") & ~values.isin(list(coded))].items():
            report.error(raw.file, f"code '{value}' is not a choice of field {base} in the data dictionary "
                                   f"(choices: {', '.join(f'{c} = {lab}' for c, lab in coded.items())})",
                         "Export the data and the dictionary from the same project version.", row=int(row),
                         column=column, value=value)
        out[column] = values.map(lambda v: coded.get(v, "") if v else "")
    if not report.ok:
        return None
    instrument = out["redcap_repeat_instrument"] if "redcap_repeat_instrument" in out else \
        pd.Series("", index=out.index)
    tables: list[SourceTable] = []
    keys = [c for c in (record_id, "redcap_event_name", "redcap_data_access_group") if c in out]
    repeating = sorted(set(instrument) - {""})
    main_columns = [c for c in out.columns if c not in REDCAP_COLUMNS and c != record_id
                    and form_of.get(c) not in repeating]
    main = out.loc[instrument == "", keys + main_columns]
    tables.append(SourceTable("record", raw.file, main, None, labels,
                              {c for c in dates if c in main.columns}))
    for name in repeating:
        own = [c for c in out.columns if form_of.get(c) == name]
        extra = ["redcap_repeat_instance"] if "redcap_repeat_instance" in out else []
        rows = out.loc[instrument == name, keys + extra + own]
        tables.append(SourceTable(name, raw.file, rows, None, labels, {c for c in dates if c in own}))
    return tables, dropped
