"""A group's own spreadsheet or REDCap export, mapped onto the schema.

1. `read_source` reads the files as source tables: every sheet of an .xlsx workbook (not the
   template), each CSV file, or a REDCap raw export with its data dictionary (see `redcap`).
2. `suggest` proposes, for every source column, a target (by name or REDCap label similarity,
   by type and by values) and, for coded targets, what each source value means ("Male" -> M,
   "not done" -> not evaluated). The user confirms or corrects it (upload page, or the JSON file).
3. `apply` builds the five tables. Calendar dates are turned into days relative to the patient's
   B-ALL diagnosis date (the anchor column) in memory and discarded: no date reaches a table.
   Unmapped columns are dropped and listed, never stored. An empty or "not done"-like cell is
   not evaluated (NULL); nothing is invented. Every problem names the source file, row, column.
4. The mapping is a small JSON file (`Mapping.to_json`): reviewable, reusable next time on the
   page or by `python -m analytics.importing --mapping mapping.json`. It holds column names and
   the codes of coded columns, never an identifier, a date or a free-text value.

>>> import pandas as pd
>>> source = Source("spreadsheet", [SourceTable("Sheet1", "our.csv", pd.DataFrame(
...     {"Study no": ["A1", "A2"], "Gender": ["Male", "F"], "dx_date": ["2019-03-04", "2020-01-31"],
...      "Relapse date": ["2019-09-01", ""]}, index=[2, 3]))])
>>> m = suggest(source)
>>> {c: m.tables["Sheet1"][c].target for c in ("Study no", "Gender", "dx_date", "Relapse date")}
{'Study no': 'patient_id', 'Gender': 'sex', 'dx_date': 'ball_dx_date', 'Relapse date': 'relapse_day'}
>>> m.tables["Sheet1"]["Gender"].values
{'F': 'F', 'Male': 'M'}
"""
from analytics.importing.mapping.apply import Applied, apply, import_mapped, relocate, variant_class
from analytics.importing.mapping.reading import Source, read_source, wants_mapping
from analytics.importing.mapping.suggestion import ColumnMapping, Mapping, suggest
from analytics.importing.mapping.targets import (CONSTANTS, DATE_ORDERS, MAX_CODES, NA_TOKENS, TARGETS,
                                                 Target)
from analytics.importing.mapping.values import column_kind, is_na, parse_date, suggest_values
from analytics.importing.redcap import SourceTable

__all__ = ["Applied", "CONSTANTS", "ColumnMapping", "DATE_ORDERS", "MAX_CODES", "Mapping", "NA_TOKENS", "Source",
           "SourceTable", "TARGETS", "Target", "apply", "column_kind", "import_mapped", "is_na", "parse_date",
           "read_source", "relocate", "suggest", "suggest_values", "variant_class", "wants_mapping"]
