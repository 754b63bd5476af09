"""Overview: Table 1, latency and exposure distributions, the patient table (rows open the patient page)."""
import streamlit as st

from analytics import overview
from analytics.overview import by_group
from analytics.disclosure import table_one_for_download
from analytics.units import patients_text
from analytics.views import overview as views
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.text import md_escape
from ui.views import compute, csv_download, current, figure, show

require_entrypoint()

SHOWN_ROWS = 1000  # on-screen rows; the CSV download has every patient

st.title("Cohort overview")
spec = current(views.OverviewSpec)
cohort_filter = state.current_filter()
k = access.small_cell_k()
patients, n_patients = state.cached(overview.patient_table_head)(cohort_filter, SHOWN_ROWS)
components.require_patients(n_patients)
st.caption(f"{patients_text(n_patients)} · filters: {md_escape(cohort_filter.describe())}")

left, right = st.columns([3, 2], gap="large")
with left:
    table_one = compute(views.table_one, cohort_filter, spec, k)
    st.subheader(table_one.title)
    show(table_one, spec=spec)
    t1 = table_one.tables["Table 1"]
    shown = overview.table_one_display(t1).set_index("Characteristic")
    shown["Category"] = shown["Category"].map(md_escape)  # st.table renders Markdown; levels are data
    st.table(shown)
    csv_download("Download Table 1 (CSV)", table_one_for_download(t1, k), file_name="table1.csv",
                 key="dl_table1", page=spec.PAGE, title=table_one.title, result=table_one)

st.subheader("Table 1 by group")
st.selectbox("Compare the groups of", ["", *by_group.GROUPINGS], key=views.OverviewSpec.session_key("t1_group"),
             format_func=lambda g: "(choose a grouping)" if not g else by_group.GROUPINGS[g][0])
if spec.t1_group:
    grouped = compute(views.table_one_by_group, cohort_filter, spec, k)
    st.markdown(f"**{grouped.title}**")
    show(grouped, spec=spec)
    if "table" in grouped.tables:
        st.dataframe(grouped.tables["table"], hide_index=True, width="stretch")
        database_ = state.current_database()
        a, b = st.columns(2)
        csv_download("Download Table 1 by group (CSV)", grouped.tables["table"], container=a,
                     file_name=f"table1_by_{spec.t1_group}.csv", key="dl_table1_group", page=spec.PAGE,
                     title=grouped.title, result=grouped)
        b.download_button(
            "Download Table 1 by group (Word)",
            lambda: by_group.to_docx(by_group.table_one_by_group(database_, cohort_filter, spec.t1_group),
                                     grouped.title, views.TABLE_ONE_CAPTION),
            file_name=f"table1_by_{spec.t1_group}.docx", icon=":material/description:", key="dl_table1_docx",
            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
with right:
    st.subheader("Lenalidomide exposure")
    if not components.withheld_under_suppression("the exposure plots (one mark per patient or small bins)"):
        for view in views.EXPOSURE_VIEWS:
            show(compute(view, cohort_filter, spec, k), figure=figure(view, cohort_filter, spec, k),
                 spec=spec)

components.withheld_under_suppression("the patient-level table", stop=True)
if access.public_mode():  # public deployment: aggregates only
    st.info("Public deployment: the patient-level table and its download are not shown.",
            icon=":material/public:")
    st.stop()
st.subheader("Patients")
st.caption("Click a column header to sort; select a row (checkbox on the left) to open that "
           "patient's timeline.")
if n_patients > len(patients):
    st.info(f"Showing the first {len(patients):,} of {n_patients:,} patients (default order); "
            "the CSV download below has all of them.", icon=":material/table_rows:")
selection = st.dataframe(
    patients, hide_index=True, width="stretch", key="patient_table", on_select="rerun",
    selection_mode="single-row",
    column_config={
        "Latency (mo)": st.column_config.NumberColumn(format="%.1f"),
        "Cumulative lenalidomide (mo)": st.column_config.NumberColumn(format="%.1f"),
        "Follow-up (mo)": st.column_config.NumberColumn(format="%.1f"),
    })
rows = selection.selection.rows if selection is not None else []
if rows:
    patient_id = str(patients.iloc[rows[0]]["Patient"])
    # The link carries the filters and the patient: both pages re-seed their widgets from it.
    st.switch_page("pages/patient.py",
                   query_params=overview.patient_link_params(cohort_filter, patient_id))
database = state.current_database()  # the CSV is built on click (in its own thread), not on every rerun
csv_download("Download patient table (CSV)", lambda: overview.patient_table(database, cohort_filter),
             file_name="patients.csv", key="dl_patients", page=spec.PAGE, title="Patients of the selection")
