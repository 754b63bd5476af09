"""Overview: Table 1, latency and exposure distributions, the patient table."""
import streamlit as st

from analytics import cohort
from ui import components, state
from ui.routing import require_entrypoint

require_entrypoint()

st.title("Cohort overview")
cohort_filter = state.current_filter()
summary = state.cached(cohort.filtered_summary)(cohort_filter)
components.require_patients(len(summary))
st.dataframe(summary[["patient_id", "institution", "sex", "age_at_ball_dx"]], hide_index=True)
