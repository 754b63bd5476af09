"""Overview: Table 1, latency and exposure distributions, the patient table (rows open the patient page)."""
import streamlit as st

from analytics.units import patients_text
from analytics import overview
from analytics.export import safe_csv
from analytics.disclosure import suppress_table_one, table_one_for_download
from ui import access, components, figures, state
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

table_one = state.cached(overview.table_one)
exposure_chart = figures.cached_figure(overview.exposure_chart)
patient_table_head = state.cached(overview.patient_table_head)
SHOWN_ROWS = 1000  # on-screen rows; the CSV download has every patient

st.title("Cohort overview")
cohort_filter = state.current_filter()
patients, n_patients = patient_table_head(cohort_filter, SHOWN_ROWS)
components.require_patients(n_patients)
st.caption(f"{patients_text(n_patients)} · filters: {md_escape(cohort_filter.describe())}")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Table 1")
    t1 = suppress_table_one(table_one(cohort_filter), access.small_cell_k())
    st.caption("Continuous: median (range). Categorical: n / evaluable (%), with an exact "
               "(Clopper-Pearson) 95% CI. *Not evaluated* is counted separately and never enters "
               "a denominator.")
    shown = overview.table_one_display(t1).set_index("Characteristic")
    shown["Category"] = shown["Category"].map(md_escape)  # st.table renders Markdown; levels are data
    st.table(shown)
    st.download_button("Download Table 1 (CSV)", safe_csv(table_one_for_download(t1, access.small_cell_k())), file_name="table1.csv", mime="text/csv",
                       icon=":material/download:", key="dl_table1")
with right:
    st.subheader("Lenalidomide exposure")
    if not components.withheld_under_suppression("the exposure plots (one mark per patient or small bins)"):
        for measure in overview.EXPOSURE_MEASURES:
            components.show_chart(exposure_chart(cohort_filter, measure))

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
_db = state.current_database()  # the CSV is built on click (in its own thread), not on every rerun
st.download_button("Download patient table (CSV)",
                   lambda: safe_csv(overview.patient_table(_db, cohort_filter)), file_name="patients.csv",
                   mime="text/csv", icon=":material/download:", key="dl_patients")
