"""Data dictionary: every column of every table and view, grouped by table, searchable."""
import streamlit as st

from analytics import dictionary
from analytics.views import dictionary as views
from analytics.views.dictionary import DictionarySpec
from ui import access, state
from ui.routing import require_entrypoint
from ui.views import bind, compute, csv_download, current, escape_markdown, reproduce_downloads, show_methods

require_entrypoint()

st.title("Data dictionary")
st.markdown(
    "Every column of the cohort database, as DuckDB reports it. Times are **days relative to "
    "B-ALL diagnosis** (day 0; negative = before); months = days / 30.4375. "
    "**NULL means not evaluated**: such patients are left out of denominators, never counted "
    "as negative. Endpoints (OS, EFS, best response, HCT, status at last contact) are derived "
    "in the `patient_summary` view from the events and never stored twice.")

bind(DictionarySpec)
search_col, download_col = st.columns([3, 1], vertical_alignment="bottom")
search_col.text_input("Search columns and descriptions", key=DictionarySpec.session_key("search"),
                      placeholder="e.g. TP53, induction, MRD, months")
spec = current(DictionarySpec)
result = compute(views.columns, state.current_filter(), spec, access.small_cell_k())
for caveat in result.caveats:  # column names of an uploaded cohort: shown as plain text
    st.warning(f"**{caveat.heading}.** {escape_markdown(caveat.text)}", icon=":material/warning:")
table, shown = result.tables["Dictionary"], result.tables["Columns"]
csv_download("Download dictionary (CSV)", table, file_name="data_dictionary.csv", key=None, container=download_col,
             page=spec.PAGE, title=result.title, result=result, use_container_width=True)
show_methods(result)
reproduce_downloads(result, spec)  # a script printing these rows (and the schema check) outside the app

if shown.empty:
    st.info(escape_markdown(result.caption), icon=":material/search_off:")
    st.stop()
st.caption(escape_markdown(result.caption))

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
    # A static table wraps long descriptions (an interactive grid would cut them off); st.table
    # renders cells as Markdown ('>= 1' would become a quote block), so they are escaped.
    cells = rows.drop(columns="relation")
    cells[["description", "allowed_values", "unit"]] = cells[["description", "allowed_values", "unit"]].map(
        lambda text: escape_markdown(str(text)))
    st.table(cells.rename(columns=HEADERS).set_index("Column"))
