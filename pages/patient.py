"""Patient: one patient's timeline, key facts, mutations and measurements."""
import streamlit as st

from analytics import patient
from analytics.filters import CohortFilter
from ui import access, components, figures, state
from ui.routing import require_entrypoint
from ui.url import choice_parser, url_option
from ui.text import md_escape

require_entrypoint()

patient_choices = state.cached(patient.patient_choices)
patient_status = state.cached(patient.patient_status)
key_facts = state.cached(patient.key_facts)
timeline_events = state.cached(patient.timeline_events)
timeline_figure = figures.cached_figure(patient.timeline_figure)
mutations = state.cached(patient.mutations)
measurements = state.cached(patient.measurements)
summary_row = state.cached(patient.summary_row)
PICKER_MAX = 1000  # ids listed in the picker; any other id is found by typing it

st.title("Patient")
components.withheld_under_suppression("the patient page (one patient)", stop=True)
if access.public_mode():
    st.info("Public deployment: patient-level pages are not available. The other pages show "
            "cohort aggregates.", icon=":material/public:")
    st.stop()
cohort_filter = state.current_filter()
choices, n_filtered = patient_choices(cohort_filter, PICKER_MAX)
ids = choices["patient_id"].tolist()


def _known(raw: str | list[str]) -> str:
    """URL parser: any patient id of this cohort (looked up in the database)."""
    text = raw if isinstance(raw, str) else raw[0]
    if patient_status(CohortFilter(), text) == "unknown":
        raise ValueError(text)
    return text


requested = st.query_params.get("patient")
if requested is not None and patient_status(CohortFilter(), requested) == "unknown":
    st.warning(f"There is no patient **{md_escape(requested)}** in this cohort. Choose a patient below.",
               icon=":material/person_off:")
components.require_patients(n_filtered)

url_option("patient", ids[0], parse=_known)
chosen = st.session_state["patient"]
status = "in cohort" if chosen in ids else patient_status(cohort_filter, chosen)
if status != "in cohort":
    reason = "is not in the filtered cohort" if status == "filtered out" else "is not in this cohort"
    st.warning(f"Patient **{md_escape(chosen)}** {reason} (filters: {md_escape(cohort_filter.describe())}). Clear the "
               "filters in the sidebar to see them, or choose a patient of the filtered cohort below.",
               icon=":material/filter_alt:")
    st.session_state["patient"] = ids[0]
    url_option("patient", ids[0], parse=_known)  # drop the excluded id from the URL
    chosen = ids[0]

labels = {row.patient_id: row for row in choices.itertuples()}
if chosen not in labels:  # typed (or linked) id beyond the first PICKER_MAX: look its row up
    for row in summary_row(cohort_filter, chosen).itertuples():
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
    typed = st.session_state.get("patient_lookup", "").strip()
    if typed and patient_status(cohort_filter, typed) == "in cohort":
        st.session_state["patient"] = typed
        st.session_state["patient_lookup_missing"] = None
    elif typed:
        st.session_state["patient_lookup_missing"] = typed


shown = "" if n_filtered <= len(ids) else f", first {len(ids):,} listed"
patient_id = st.selectbox(f"Patient ({n_filtered:,} in the filtered cohort, default order{shown})",
                          options, key="patient", format_func=describe)
if n_filtered > len(ids):
    st.text_input("Or type a patient id", key="patient_lookup", on_change=_go_to_typed_id,
                  help=f"The list shows the first {len(ids):,} patients; any other id of the filtered "
                       "cohort can be typed here.")
    missing = st.session_state.get("patient_lookup_missing")
    if missing:
        st.warning(f"No patient **{md_escape(missing)}** in the filtered cohort.", icon=":material/person_off:")

facts = key_facts(cohort_filter, patient_id)
if facts.empty:  # cannot happen after the checks above; never show a traceback
    st.info(f"No data for patient {md_escape(patient_id)} in the filtered cohort.")
    st.stop()

head, option = st.columns([3, 2], vertical_alignment="bottom")
head.subheader(f"Timeline of {md_escape(patient_id)}")
windows = list(patient.WINDOWS)
url_option("window", windows[0], parse=choice_parser(windows))
window = option.segmented_control("Time axis", windows, key="window")
events = timeline_events(cohort_filter, patient_id)
if events.empty:
    st.info("No events recorded for this patient.")
else:
    components.show_chart(timeline_figure(cohort_filter, patient_id, window or windows[0]))
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
            lines = "\n".join(f"- {r.fact}: **{md_escape(r.value)}**" for r in rows.itertuples())
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
        st.info(f"Sequenced ({md_escape(assay)}): no reportable variant.", icon=":material/check:")
    else:
        st.dataframe(variants, hide_index=True, width="stretch")
with right:
    st.subheader("Measurements")
    labs = measurements(cohort_filter, patient_id)
    if labs.empty:
        st.info("No serial measurements recorded for this patient.", icon=":material/info:")
    else:
        st.dataframe(labs, hide_index=True, width="stretch")
