"""Patient: one patient's timeline, key facts, mutations and measurements."""
import streamlit as st

from analytics import cohort, patient
from analytics.filters import CohortFilter
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.url import choice_parser, url_option

require_entrypoint()

patient_order = state.cached(cohort.patient_order)
patient_status = state.cached(patient.patient_status)
key_facts = state.cached(patient.key_facts)
timeline_events = state.cached(patient.timeline_events)
mutations = state.cached(patient.mutations)
measurements = state.cached(patient.measurements)
summary_row = state.cached(patient.summary_row)

st.title("Patient")
if access.public_mode():
    st.info("Public deployment: patient-level pages are not available. The other pages show "
            "cohort aggregates.", icon=":material/public:")
    st.stop()
cohort_filter = state.current_filter()
ids = patient_order(cohort_filter)
all_ids = patient_order(CohortFilter())

requested = st.query_params.get("patient")
if requested is not None and requested not in all_ids:
    st.warning(f"There is no patient **{requested}** in this cohort. Choose a patient below.",
               icon=":material/person_off:")
components.require_patients(len(ids))

url_option("patient", ids[0], parse=choice_parser(all_ids))
chosen = st.session_state["patient"]
if chosen not in ids:
    reason = ("is not in the filtered cohort" if patient_status(cohort_filter, chosen) == "filtered out"
              else "is not in this cohort")
    st.warning(f"Patient **{chosen}** {reason} (filters: {cohort_filter.describe()}). Clear the "
               "filters in the sidebar to see them, or choose a patient of the filtered cohort below.",
               icon=":material/filter_alt:")
    st.session_state["patient"] = ids[0]
    url_option("patient", ids[0], parse=choice_parser(all_ids))  # drop the excluded id from the URL

def _md(text: str) -> str:
    """Escape markdown in data values (karyotypes contain brackets, commas and minus signs)."""
    for char in "\\`*_[]<>#+-!|~":
        text = str(text).replace(char, "\\" + char)
    return text


labels = {row.patient_id: row for row in state.cached(cohort.filtered_summary)(cohort_filter).itertuples()}


def describe(pid: str) -> str:
    r = labels.get(pid)
    return pid if r is None else f"{pid} · {r.institution} · {r.sex} · {r.age_at_ball_dx} y"


patient_id = st.selectbox(f"Patient ({len(ids)} in the filtered cohort, default order)", ids,
                          key="patient", format_func=describe)

facts = key_facts(cohort_filter, patient_id)
if facts.empty:  # cannot happen after the checks above; never show a traceback
    st.info(f"No data for patient {patient_id} in the filtered cohort.")
    st.stop()

head, option = st.columns([3, 2], vertical_alignment="bottom")
head.subheader(f"Timeline of {patient_id}")
windows = list(patient.WINDOWS)
url_option("window", windows[0], parse=choice_parser(windows))
window = option.segmented_control("Time axis", windows, key="window")
events = timeline_events(cohort_filter, patient_id)
if events.empty:
    st.info("No events recorded for this patient.")
else:
    components.show_chart(patient.timeline_chart(events, window=window or windows[0]))
    st.caption("Bars: lenalidomide courses and B-ALL treatment lines (colour = regimen category). "
               "Markers: response assessments (colour = MRD), allogeneic HCT, relapse, death or last "
               "contact. Dashed line: B-ALL diagnosis (day 0). Hover for details.")

st.subheader("Key facts")
sections = list(dict.fromkeys(facts["section"]))
columns = st.columns(3, gap="large")
groups = [sections[:2], sections[2:3], sections[3:]]
for column, group in zip(columns, groups):
    with column:
        for section in group:
            rows = facts[facts.section == section]
            lines = "\n".join(f"- {r.fact}: **{_md(r.value)}**" for r in rows.itertuples())
            st.markdown(f"##### {section}\n{lines}")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Mutations")
    variants = mutations(cohort_filter, patient_id)
    assay = summary_row(cohort_filter, patient_id).iloc[0]["sequencing_assay"]
    if assay is None or assay != assay:
        st.info("Not sequenced: mutations **not evaluated** (this is not a negative result).",
                icon=":material/help:")
    elif variants.empty:
        st.info(f"Sequenced ({assay}): no reportable variant.", icon=":material/check:")
    else:
        st.dataframe(variants, hide_index=True, width="stretch")
with right:
    st.subheader("Measurements")
    labs = measurements(cohort_filter, patient_id)
    if labs.empty:
        st.info("No serial measurements recorded for this patient.", icon=":material/info:")
    else:
        st.dataframe(labs, hide_index=True, width="stretch")
