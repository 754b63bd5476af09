"""Data dictionary: every column of every table and view, grouped by table, searchable."""
import streamlit as st

from analytics import dictionary
from analytics.export import safe_csv
from ui import state
from ui.routing import require_entrypoint
from ui.url import url_option
from ui.text import md_escape

require_entrypoint()

dictionary_for = state.cached(dictionary.dictionary_for)

st.title("Data dictionary")
st.markdown(
    "Every column of the cohort database, as DuckDB reports it. Times are **days relative to "
    "B-ALL diagnosis** (day 0; negative = before); months = days / 30.4375. "
    "**NULL means not evaluated**: such patients are left out of denominators, never counted "
    "as negative. Endpoints (OS, EFS, best response, HCT, status at last contact) are derived "
    "in the `patient_summary` view from the events and never stored twice.")

table, differences = dictionary_for()
if differences:
    st.warning("This cohort's database differs from the documented schema:\n\n"
               + "\n".join(f"- {d}" for d in differences), icon=":material/warning:")

search_col, download_col = st.columns([3, 1], vertical_alignment="bottom")
url_option("dict_search", "")
query = search_col.text_input("Search columns and descriptions", key="dict_search",
                              placeholder="e.g. TP53, induction, MRD, months")
shown = dictionary.search(table, query)
download_col.download_button("Download dictionary (CSV)", safe_csv(table), file_name="data_dictionary.csv",
                             mime="text/csv", use_container_width=True,
                             icon=":material/download:")

if shown.empty:
    st.info(f"No column matches '{md_escape(query)}'.", icon=":material/search_off:")
    st.stop()
st.caption(f"{len(shown)} of {len(table)} columns shown" + (f" (search: '{md_escape(query)}')" if query else ""))

HEADERS = {"column": "Column", "type": "Type", "description": "Description",
           "allowed_values": "Allowed values", "unit": "Unit"}
relations = list(dictionary.RELATIONS) + sorted(set(shown["relation"]) - set(dictionary.RELATIONS))
for relation in relations:
    rows = shown[shown["relation"] == relation]
    if rows.empty:
        continue
    st.subheader(f"{relation}  ·  {len(rows)} columns")
    if relation in dictionary.RELATIONS:
        st.caption(dictionary.RELATIONS[relation])
    # A static table wraps long descriptions (an interactive grid would cut them off).
    cells = rows.drop(columns="relation")
    cells[["description", "allowed_values", "unit"]] = cells[["description", "allowed_values", "unit"]].map(md_escape)  # st.table renders Markdown
    st.table(cells.rename(columns=HEADERS).set_index("Column"))
