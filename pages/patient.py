"""Patient: one patient's timeline, key facts, mutations and measurements."""
import streamlit as st

from analytics import patient
from analytics.views import patient as views
from analytics.views.patient import PatientSpec
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.text import md_escape
from ui.views import bind, compute, current, escape_markdown, figure, set_value, show

require_entrypoint()

PICKER_MAX = 1000  # ids listed in the picker; any other id is found by typing it
PATIENT_KEY = PatientSpec.session_key("patient")
LOOKUP_KEY, LOOKUP_MISSING_KEY = "patient.lookup", "patient.lookup_missing"

st.title("Patient")
components.withheld_under_suppression("the patient page (one patient)", stop=True)
if access.public_mode():
    st.info("Public deployment: patient-level pages are not available. The other pages show "
            "cohort aggregates.", icon=":material/public:")
    st.stop()
cohort_filter = state.current_filter()
choices, n_filtered = state.cached(patient.patient_choices)(cohort_filter, PICKER_MAX)
ids = choices["patient_id"].tolist()
bind(PatientSpec)
requested = PatientSpec(patient=st.session_state.get(PATIENT_KEY) or "")
resolution = compute(views.resolve, cohort_filter, requested)
if resolution.status == "unknown":
    st.warning(f"There is no patient **{escape_markdown(resolution.requested)}** in this cohort. "
               "Choose a patient below.", icon=":material/person_off:")
components.require_patients(n_filtered)
if resolution.status == "filtered out":
    st.warning(f"Patient **{escape_markdown(resolution.requested)}** is not in the filtered cohort (filters: "
               f"{escape_markdown(cohort_filter.describe())}). Clear the filters in the sidebar to see them, "
               "or choose a patient of the filtered cohort below.", icon=":material/filter_alt:")
chosen = resolution.patient_id
set_value(PatientSpec, "patient", chosen)


labels = {row.patient_id: row for row in choices.itertuples()}
if chosen not in labels:  # typed (or linked) id beyond the first PICKER_MAX: look its row up
    for row in state.cached(patient.summary_row)(cohort_filter, chosen).itertuples():
        labels[chosen] = row
options = ids if chosen in ids else ids + [chosen]


def describe(pid: str) -> str:
    r = labels.get(pid)
    if r is None:
        return pid
    sex = "sex n.e." if patient.is_missing(r.sex) else r.sex
    age = "age n.e." if patient.is_missing(r.age_at_ball_dx) else f"{r.age_at_ball_dx} y"
    return f"{pid} · {r.institution} · {sex} · {age}"


def _go_to_typed_id() -> None:
    typed = st.session_state.get(LOOKUP_KEY, "").strip()
    if typed and patient.patient_status(state.current_database(), cohort_filter, typed) == "in cohort":
        st.session_state[PATIENT_KEY] = typed
        st.session_state[LOOKUP_MISSING_KEY] = None
    elif typed:
        st.session_state[LOOKUP_MISSING_KEY] = typed


shown = "" if n_filtered <= len(ids) else f", first {len(ids):,} listed"
patient_id = st.selectbox(f"Patient ({n_filtered:,} in the filtered cohort, default order{shown})",
                          options, key=PATIENT_KEY, format_func=describe)
if n_filtered > len(ids):
    st.text_input("Or type a patient id", key=LOOKUP_KEY, on_change=_go_to_typed_id,
                  help=f"The list shows the first {len(ids):,} patients; any other id of the filtered "
                       "cohort can be typed here.")
    missing = st.session_state.get(LOOKUP_MISSING_KEY)
    if missing:
        st.warning(f"No patient **{escape_markdown(missing)}** in the filtered cohort.",
                   icon=":material/person_off:")

head, option = st.columns([3, 2], vertical_alignment="bottom")
head.subheader(f"Timeline of {patient_id}")
WINDOW_KEY = PatientSpec.session_key("window")
if st.session_state.get(WINDOW_KEY) not in patient.WINDOWS:  # a segmented control can be cleared
    set_value(PatientSpec, "window", PatientSpec().window)
option.segmented_control("Time axis", list(patient.WINDOWS), key=WINDOW_KEY)
# The first patient of the filtered cohort is the default view: its link names no patient.
spec = current(PatientSpec, patient="" if patient_id == ids[0] else patient_id)
result = compute(views.timeline, cohort_filter, spec, access.small_cell_k())
show(result, figure=figure(views.timeline, cohort_filter, spec, access.small_cell_k())
     if result.figure is not None else None, spec=spec)

facts = result.tables["Key facts"]
st.subheader("Key facts")
sections = list(dict.fromkeys(facts["section"]))
columns = st.columns(3, gap="large")
groups = [sections[:2], sections[2:3], sections[3:]]
for column, group in zip(columns, groups):
    with column:
        for section in group:
            rows = facts[facts.section == section]
            lines = "\n".join(f"- {r.fact}: **{escape_markdown(str(r.value))}**" for r in rows.itertuples())
            st.markdown(f"##### {section}\n{lines}")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Mutations")
    variants = state.cached(patient.mutations)(cohort_filter, patient_id)
    assay = state.cached(patient.summary_row)(cohort_filter, patient_id).iloc[0]["sequencing_assay"]
    if assay is None or assay != assay:
        st.info("Not sequenced: mutations **not evaluated** (this is not a negative result).",
                icon=":material/help:")
    elif variants.empty:
        st.info(f"Sequenced ({md_escape(assay)}): no reportable variant.", icon=":material/check:")
    else:
        st.dataframe(variants, hide_index=True, width="stretch")
with right:
    st.subheader("Measurements")
    labs = state.cached(patient.measurements)(cohort_filter, patient_id)
    if labs.empty:
        st.info("No serial measurements recorded for this patient.", icon=":material/info:")
    else:
        st.dataframe(labs, hide_index=True, width="stretch")
