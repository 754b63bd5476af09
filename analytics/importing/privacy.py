"""Privacy guard: refuse direct identifiers (names, record numbers, birth dates, calendar dates,
addresses, phone numbers, e-mail addresses) in column names or cell values.

Nothing is removed or rewritten: every hit is an error naming the file, column and row, and
the data manager removes it at the source. Times in this app are days relative to diagnosis,
so a calendar date is never needed.

>>> looks_like_identifier("2021-03-04"), looks_like_identifier("4 Mar 2021")
('a calendar date', 'a calendar date')
>>> looks_like_identifier("46,XY,-7[10]/46,XY[10]") is None, looks_like_identifier("p.R248Q") is None
(True, True)
>>> identifier_column("patient_name"), identifier_column("patient_id")
('a name', None)
"""
from __future__ import annotations

import re

import pandas as pd

from analytics.importing.report import Report

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_VALUE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("a calendar date", re.compile(
        r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"                 # 2021-03-04, 2021/3/4
        r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"                   # 03/04/2021, 4.3.21, 04-03-2021
        r"|\d{1,2}[-\s]?" + _MONTHS + r"[-\s,.]*\d{2,4}"         # 4 Mar 2021, 04-MAR-21
        r"|" + _MONTHS + r"\.? \d{1,2},? \d{4}"               # March 4, 2021
        r"|\d{1,2}/(?:19|20)\d{2}"                              # 12/2021
        r"|" + _MONTHS + r"\.?,? (?:19|20)\d{2}"                # March 2021
        r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2})\b", re.I)),
    ("a phone number", re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w.])")),
    ("a medical record number", re.compile(r"\b(?:MRN|med(?:ical)? ?rec(?:ord)?|chart|NHS|SSN)\s*[#:no.]*\s*\d{3,}"
                                           r"|(?<![\w.])\d{7,}(?![\w.])", re.I)),
    ("a street address", re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:St|Street|Ave|Avenue|Rd|Road|"
                                    r"Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl)\b\.?")),
    ("a person's name", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.? [A-Z][a-z]+")),
]
_NAME_ID = re.compile(r"^[A-Z][a-z]+(?:[ ,]+[A-Z][a-z]+)+$")  # 'John Smith', 'Smith, John' as an id
_COLUMN_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("a name", re.compile(r"(^|_)(first|last|given|family|sur|full|patient|maiden)?_?name($|_)|^initials$")),
    ("a record number", re.compile(r"(^|_)(mrn|medical_record|record_number|chart_number|hospital_number|"
                                   r"nhs|ssn|social_security|insurance|accession)(_|$)")),
    ("a date of birth", re.compile(r"(^|_)(dob|birth|birthdate|date_of_birth|born)(_|$)")),
    ("a calendar date", re.compile(r"(^|_)(date|datetime|timestamp)(_|$)|_date$|^date")),
    ("an address", re.compile(r"(^|_)(address|street|zip|zipcode|postcode|postal_code|city)(_|$)")),
    ("a phone number", re.compile(r"(^|_)(phone|telephone|mobile|fax)(_|$)")),
    ("an e-mail address", re.compile(r"(^|_)e_?mail(_|$)")),
]


def identifier_column(name: str) -> str | None:
    """What a column name says it holds, if that is a direct identifier."""
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    for label, pattern in _COLUMN_PATTERNS:
        if pattern.search(key):
            return label
    return None


def looks_like_identifier(value: str) -> str | None:
    """What a cell value looks like, if it looks like a direct identifier."""
    for label, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return label
    return None


def check_table(frame: pd.DataFrame, file: str, report: Report, *, sheet: str | None = None,
                id_columns: tuple[str, ...] = ("patient_id",), known_columns: frozenset[str] = frozenset(),
                skip_columns: tuple[str, ...] = (), header_row: int = 1) -> None:
    """Add an error for every identifier-looking column name and cell (first 3 cells per column).

    `known_columns` (the schema's own columns, e.g. cohort_info.cohort_name) are exempt from the
    column-name check; their values are still checked.
    """
    for column in frame.columns:
        label = None if column in known_columns else identifier_column(column)
        if label is not None:
            report.error(file, f"column name '{column}' suggests {label}, a direct identifier; "
                               "the app never stores identifiers",
                         "Delete this column before uploading (times are days relative to diagnosis).",
                         sheet=sheet, row=header_row, column=column)
            continue
        if column in skip_columns:
            continue
        hits = 0
        for row, value in frame[column].items():
            if not value:
                continue
            label = looks_like_identifier(value)
            if label is None and column in id_columns and _NAME_ID.match(value):
                label = "a person's name"
            if label is not None:
                hits += 1
                if hits <= 3:
                    report.error(file, f"the value looks like {label}, a direct identifier",
                                 "Remove it at the source: use pseudonymous ids (e.g. S01) and days "
                                 "relative to diagnosis instead of dates.",
                                 sheet=sheet, row=int(row), column=column, value=value)
        if hits > 3:
            report.error(file, f"{hits - 3} more value(s) in this column look like identifiers",
                         "Remove them at the source.", sheet=sheet, column=column)
