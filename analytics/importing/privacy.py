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
>>> looks_like_identifier("A1234567", id_column=True), looks_like_identifier("S01", id_column=True)
('a record number used as an id', None)
>>> looks_like_identifier("seen March 4th", free_text=True), looks_like_identifier("2021年3月4日")
('a calendar date', 'a calendar date')
>>> normalised_text("\uff3301\u200b")
'S01'
"""
from __future__ import annotations

import re
import unicodedata

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
# An id that is a record number, not a study pseudonym: all digits (6+), a letter or two glued to
# 6+ digits (A1234567, a passport/MRN shape) or a social security number (123-45-6789).
_NUMBER_ID = re.compile(r"^(?:[A-Za-z]{0,2}\d{6,}|\d{3}-\d{2}-\d{4})$")
# Free text (notes, causes, descriptions) also gets the shorter date forms that a coded column
# could hold legitimately (a karyotype's "+8/47" is not a date, a note's "4/3" is).
_FREE_TEXT_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("a calendar date", re.compile(
        r"\b" + _MONTHS + r"\.? \d{1,2}(?:st|nd|rd|th)?\b"        # March 4th, Mar 4
        r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS + r"\b"  # 3rd of March, 4 March
        r"|(?<![\w./])\d{1,2}/\d{1,2}(?![\w/])"                       # 4/3
        r"|\b\d{4}-?W\d{2}(?:-?\d)?\b", re.I)),                         # 2021-W09
    ("a person's name", re.compile(
        r"\b(?:James|John|Robert|Michael|William|David|Richard|Joseph|Thomas|Charles|Mary|Patricia|"
        r"Jennifer|Linda|Elizabeth|Barbara|Susan|Jessica|Sarah|Karen|Anna|Maria|Peter|Paul|George|"
        r"Hans|Jean|Pierre|Marie|Juan|Jose|Carlos|Luis|Ana|Giuseppe|Giovanni|Francesca|Mohammed|"
        r"Ahmed|Fatima|Wei|Li|Yuki|Hiroshi|Olga|Ivan|Sven|Lars|Emma|Laura|Julia|Daniel|Mark|"
        r"Andrew|Steven|Kevin|Brian|Helen|Margaret|Dorothy|Nancy|Lisa|Betty|Sandra|Ashley)"
        r"\s+[A-Z][a-z]+\b")),                                          # John Smith
]
# Dates written with CJK year/month/day signs (after NFKC, digits are ASCII): 2021年3月4日, 3月4日.
_CJK_DATE = re.compile(r"\d{2,4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*\d{1,2}\s*日")
# Characters with no visible form that make 'S01' and 'S01<ZWSP>' two ids: zero-width space,
# joiners, word joiner, BOM, soft hyphen, bidi marks and the other Unicode format characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
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


def looks_like_identifier(value: str, *, id_column: bool = False, free_text: bool = False) -> str | None:
    """What a cell value looks like, if it looks like a direct identifier. `id_column`: the value
    is a patient id (names and record numbers are refused as pseudonyms); `free_text`: a note,
    cause or description (short date forms and full names are refused too)."""
    for label, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return label
    if _CJK_DATE.search(value):
        return "a calendar date"
    if id_column:
        if _NAME_ID.match(value):
            return "a person's name"
        if _NUMBER_ID.match(value):
            return "a record number used as an id"
    if free_text:
        for label, pattern in _FREE_TEXT_PATTERNS:
            if pattern.search(value):
                return label
    return None


def normalised_text(value: str) -> str:
    """The value as compared and stored: Unicode NFKC (fullwidth 'Ｓ' is 'S') without format
    characters (zero-width space, joiners, BOM, soft hyphen, bidi marks), trimmed."""
    value = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf").strip()


def control_character(value: str) -> str | None:
    """The first control character (NUL, ESC of an ANSI code, ...) in a value, named; tabs and
    line breaks inside a quoted cell are text."""
    match = _CONTROL.search(value)
    if match is None:
        return None
    code = ord(match[0])
    return {0: "NUL", 0x1b: "ESC (an ANSI terminal code)", 0x7f: "DEL"}.get(code, f"U+{code:04X}")


def clean_frame(frame: pd.DataFrame, file: str, report: Report, *, sheet: str | None = None,
                columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Refuse control characters (an error per cell, first 3 per column) and normalise every text
    cell (NFKC, invisible characters removed) so that ids compare as a reader sees them; each
    column whose values changed gets one warning with the first example."""
    out = frame.copy()
    for column in (frame.columns if columns is None else [c for c in columns if c in frame.columns]):
        hits, changed = 0, []
        values = frame[column]
        text = values.map(lambda v: v if isinstance(v, str) else "")
        # plain ASCII without control characters is already what is compared and stored
        suspect = ~text.map(str.isascii) | text.str.contains(_CONTROL)
        for row, value in values[suspect].items():
            if not isinstance(value, str) or not value:
                continue
            control = control_character(value)
            if control is not None:
                hits += 1
                if hits <= 3:
                    report.error(file, f"the value contains a control character ({control})",
                                 "Remove it at the source (re-export the table as plain text).",
                                 sheet=sheet, row=int(row), column=column, value=value.encode("unicode_escape")
                                 .decode("ascii"))
                continue
            clean = normalised_text(value)
            if clean != value:
                changed.append((row, value, clean))
                out.at[row, column] = clean
        if hits > 3:
            report.error(file, f"{hits - 3} more value(s) in this column contain control characters",
                         "Remove them at the source.", sheet=sheet, column=column)
        if changed:
            row, before, after = changed[0]
            report.warning(file, f"{len(changed)} value(s) contained invisible characters or compatibility "
                                 f"forms (e.g. fullwidth letters) and were normalised (Unicode NFKC): row "
                                 f"{row} {before.encode('unicode_escape').decode('ascii')!s} is read as "
                                 f"'{after}'", "Nothing to do if these are the same ids; otherwise correct "
                                 "them at the source.", sheet=sheet, row=int(row), column=column,
                           value=before.encode("unicode_escape").decode("ascii"))
    return out


FREE_TEXT_COLUMNS = ("note", "cause", "description")


def check_table(frame: pd.DataFrame, file: str, report: Report, *, sheet: str | None = None,
                id_columns: tuple[str, ...] = ("patient_id",), known_columns: frozenset[str] = frozenset(),
                skip_columns: tuple[str, ...] = (), header_row: int = 1,
                free_text_columns: tuple[str, ...] = FREE_TEXT_COLUMNS) -> None:
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
            label = looks_like_identifier(value, id_column=column in id_columns,
                                          free_text=column in free_text_columns)
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
