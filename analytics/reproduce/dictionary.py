"""Script that reproduces the data dictionary page's view: the documented columns matching the
search, and where the cohort file's schema differs from the documentation (DuckDB, pandas)."""
from __future__ import annotations

from analytics import dictionary
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, preamble, register
from analytics.views.dictionary import DictionarySpec


def _text_literal(text: str) -> str:
    """`text` as a Python literal: a readable triple-quoted block when it can be one."""
    if '"""' in text or "\\" in text or text.endswith('"'):
        return repr(text)
    return '"""' + text + '"""'


SCRIPT = '''
# %% 2. The data dictionary: the app's documentation of every column (data/dictionary.csv of
# the app version above), one row per column of each table and view; empty cells as ""
from io import StringIO  # noqa: E402  (standard library: reads the text above as a file)

dictionary = pd.read_csv(StringIO(DICTIONARY_CSV), dtype=str, keep_default_na=False)

# %% 3. Where this cohort file's schema differs from the documentation (DuckDB's catalog)
actual = {(t, c): data_type for t, c, data_type in con.execute(
    "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
).fetchall()}
documented, differences = {}, []
for row in dictionary.itertuples(index=False):
    if (row.relation, row.column) in documented:
        differences.append(f"{row.relation}.{row.column}: documented twice")
    documented[(row.relation, row.column)] = row.type
    if not row.description.strip():
        differences.append(f"{row.relation}.{row.column}: no description")
for relation, column in actual.keys() - documented.keys():
    differences.append(f"{relation}.{column}: in the database ({actual[(relation, column)]}) but not in the dictionary")
for relation, column in documented.keys() - actual.keys():
    differences.append(f"{relation}.{column}: in the dictionary but not in the database")
for key in documented.keys() & actual.keys():
    if documented[key] != actual[key]:
        differences.append(f"{key[0]}.{key[1]}: dictionary says {documented[key]}, database has {actual[key]}")
if differences:
    print("This cohort's database differs from the documented schema: " + "; ".join(sorted(differences)) + ".")

# %% 4. The rows matching the search (any case, in the relation, column name, description,
# allowed values or unit); the dictionary describes the schema, so cohort filters do not apply
haystack = (dictionary["relation"] + " " + dictionary["column"] + " " + dictionary["description"] + " "
            + dictionary["allowed_values"] + " " + dictionary["unit"]).str.lower()
shown = dictionary[haystack.str.contains(SEARCH.lower(), regex=False)] if SEARCH else dictionary
if shown.empty:
    print(f"No column matches '{SEARCH}'.")
else:
    print(f"{len(shown)} of {len(dictionary)} columns shown" + (f" (search: '{SEARCH}')." if SEARCH else "."))
print("\\t".join(shown.columns))
for row in shown.itertuples(index=False):
    print("\\t".join(row))
dictionary.to_csv("data_dictionary.csv", index=False)  # the whole dictionary, as the page's download
print("Whole dictionary: data_dictionary.csv")
'''


@register("dictionary.columns")
def columns_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: DictionarySpec,
                   provenance: Provenance) -> str:
    search = spec.validated().search
    constants = (f"SEARCH = {search!r}  # the page's search text ('' = every column)\n"
                 f"DICTIONARY_CSV = {_text_literal(dictionary.DICTIONARY_CSV.read_text())}")
    return preamble("Data dictionary" + (f": columns matching '{search}'" if search else ""), provenance,
                    ["import duckdb", "import pandas as pd"], constants) + SCRIPT
