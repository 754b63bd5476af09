"""The data dictionary: one row per column of every table and view, written for clinicians.

The dictionary is kept as reviewable text in `data/dictionary.csv` (relation, column, type,
description, allowed_values, unit); `schema_differences` compares it with a live database so a
test fails as soon as the schema and its documentation drift apart.

Examples
--------
>>> from analytics.build import build_in_memory
>>> d = load_dictionary()
>>> schema_differences(build_in_memory("data/demo_cohort"), d)
[]
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.db import CohortDatabase

DICTIONARY_CSV = Path(__file__).resolve().parent.parent / "data" / "dictionary.csv"
COLUMNS = ["relation", "column", "type", "description", "allowed_values", "unit"]
# Display order and one-line purpose of each relation.
RELATIONS: dict[str, str] = {
    "patients": "One row per patient: demographics, myeloma history, lenalidomide exposure and "
                "B-ALL features at diagnosis.",
    "events": "The timeline: one row per event, day relative to B-ALL diagnosis (day 0).",
    "mutations": "One row per reported variant (sequenced patients only).",
    "measurements": "Serial laboratory values (marrow/blood), with limits of detection.",
    "patient_summary": "Derived view, one row per patient: the endpoints computed from the "
                       "events (nothing derived is stored).",
    "cohort_info": "One row describing the cohort and whether it is synthetic.",
}


def load_dictionary(path: str | Path = DICTIONARY_CSV) -> pd.DataFrame:
    """The dictionary as text columns (empty cells as ''), in file order."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return frame[COLUMNS]


def schema_differences(db: CohortDatabase, dictionary: pd.DataFrame) -> list[str]:
    """Every disagreement between `dictionary` and the database, as readable lines.

    Checks both directions: a column in the database but not documented, a documented
    column absent from the database, and a documented type that differs from DuckDB's
    `information_schema.columns.data_type`. Also flags duplicated and undescribed rows.
    """
    problems: list[str] = []
    documented: dict[tuple[str, str], str] = {}
    for row in dictionary.itertuples(index=False):
        key = (row.relation, row.column)
        if key in documented:
            problems.append(f"{row.relation}.{row.column}: documented twice")
        documented[key] = row.type
        if not str(row.description).strip():
            problems.append(f"{row.relation}.{row.column}: no description")
    actual: dict[tuple[str, str], str] = {}
    relations = sorted(set(RELATIONS) | set(dictionary["relation"]) | set(db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")["table_name"]))
    for relation in relations:
        try:
            described = db.describe(relation)
        except ValueError:
            continue
        for column, data_type in described.itertuples(index=False):
            actual[(relation, column)] = data_type
    for key in actual.keys() - documented.keys():
        problems.append(f"{key[0]}.{key[1]}: in the database ({actual[key]}) but not in the dictionary")
    for key in documented.keys() - actual.keys():
        problems.append(f"{key[0]}.{key[1]}: in the dictionary but not in the database")
    for key in documented.keys() & actual.keys():
        if documented[key] != actual[key]:
            problems.append(f"{key[0]}.{key[1]}: dictionary says {documented[key]}, "
                            f"database has {actual[key]}")
    return sorted(problems)


def search(dictionary: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose column name, description, allowed values or unit contain `text` (any case)."""
    text = (text or "").strip().lower()
    if not text:
        return dictionary
    haystack = (dictionary["relation"] + " " + dictionary["column"] + " " + dictionary["description"]
                + " " + dictionary["allowed_values"] + " " + dictionary["unit"]).str.lower()
    return dictionary[haystack.str.contains(text, regex=False)]


def dictionary_for(db: CohortDatabase) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The dictionary and its disagreements with `db` (shown as a warning for other cohorts)."""
    dictionary = load_dictionary()
    return dictionary, tuple(schema_differences(db, dictionary))
