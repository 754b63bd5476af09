import streamlit as st

from analytics import cohort, response
from analytics.format import percent, percent_range
from analytics.response.swimmer import ORIGINS, SORTS
from analytics.units import patients_text
from analytics.views.response import (ResponseSpec, best_response, by_group, current_status,
                                      mrd_and_time_to_cr, swimmer, treatment_flow, untreated)
from ui import access, components, state, views
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

st.title("Response")
TABLE_ROWS_MAX = 1000  # on-screen per-patient rows
f = state.current_filter()
n_patients = state.cached(cohort.count_patients)(f)
components.require_patients(n_patients)
st.caption(f"Cohort: {patients_text(n_patients)} ({md_escape(f.describe())}).")
k = access.small_cell_k()
spec = views.current(ResponseSpec)  # the widgets below hold its options (seeded from the link)


def show(view_fn, view_spec, **options):
    """A view of this page: computed once per (filter, spec, k), its figure drawn from that result.
    `view_spec` keeps only the options the view depends on (other options leave its cache alone);
    the "Reproduce in Python" downloads are built with it (the spec the view was computed with)."""
    result = views.compute(view_fn, f, view_spec, k)
    figure = views.figure(view_fn, f, view_spec, k) if result.figure is not None else None
    views.show(result, figure=figure, spec=view_spec, **options)
    return result


# --- 1. best response ---------------------------------------------------------------------------
st.header("Best response")
st.markdown(
    "Best response over all lines among **treated** patients with a recorded assessment. "
    "*Not evaluable* (e.g. death before assessment) stays in the denominator; proportions have "
    "exact (Clopper-Pearson) 95% confidence intervals.")
best = views.compute(best_response, f, ResponseSpec(), k)
if best.numbers["any_treated"]:
    c1, c2, c3 = st.columns(3)
    c1.metric("CR or CRi among treated", best.numbers["responders_text"])
    c2.metric("Exact 95% CI", best.numbers["ci_text"])
    c3.metric("Treated / untreated", best.numbers["treated_text"])
views.show_caveats(best)
if best.figure is not None:
    left, right = st.columns([3, 2])
    with left:
        views.show(best, figure=views.figure(best_response, f, ResponseSpec(), k), caveats=False,
                   spec=ResponseSpec())
    with right:
        st.dataframe(best.tables["best_response"], hide_index=True, width="stretch")

# Below: individual patients and tables whose small cells cannot be hidden without their margins
# giving them back: withheld as a whole under small-cell suppression.
components.withheld_under_suppression("the rest of this page (untreated patients, comparisons by "
                                      "group, MRD, time to CR, swimmer plot, treatment flow)", stop=True)
listed = views.compute(untreated, f, ResponseSpec(), k)
n_untreated = listed.numbers["n_untreated"]
st.subheader(f"Untreated patients ({n_untreated})")
if n_untreated == 0:
    st.caption("Every patient in the selection received B-ALL treatment.")
else:
    st.caption(listed.caption)
    st.markdown("\n".join(
        f"- **{views.escape_markdown(r.patient_id)}** ({r.age_at_ball_dx} y, "
        f"{views.escape_markdown(str(r.vital_status))}): {views.escape_markdown(str(r.why))}"
        for r in listed.tables["untreated"].itertuples()))
    views.show_caveats(listed)
    if listed.caveats:
        _db = state.current_database()  # built on click with every patient, not on every rerun
        views.csv_download("Download untreated patients (CSV)", lambda: response.untreated_patients(_db, f),
                           file_name="untreated_patients.csv", key="dl_resp_untreated", page=spec.PAGE,
                           title=listed.title, result=listed)
    views.reproduce_downloads(listed, ResponseSpec())

# --- 2. by group --------------------------------------------------------------------------------
st.header("CR/CRi by group")
st.selectbox("Compare by", list(response.GROUP_FEATURES), key=ResponseSpec.session_key("group"),
             format_func=lambda key: response.GROUP_FEATURES[key][0])
if not best.numbers["n_treated_assessed"]:
    st.info("No treated patient with a response assessment in the selection: nothing to compare.")
else:
    group_spec = ResponseSpec(group=spec.group)
    comparison = views.compute(by_group, f, group_spec, k)
    views.show_caveats(comparison)
    left, right = st.columns([1, 1])
    with left:
        views.show(comparison, figure=views.figure(by_group, f, group_spec, k), caveats=False, spec=group_spec)
    with right:
        st.dataframe(comparison.tables["rates"], hide_index=True, width="stretch")
    st.markdown("**Contingency table** (treated patients with an assessment)")
    st.dataframe(comparison.tables["contingency"], hide_index=True, width="stretch")

# --- 3. MRD and time to CR ----------------------------------------------------------------------
st.header("MRD and time to CR/CRi")
mrd = views.compute(mrd_and_time_to_cr, f, ResponseSpec(origin=spec.origin), k)
views.show_caveats(mrd)
if mrd.numbers["n_responders"]:
    n_evaluated, n_negative = mrd.numbers["n_mrd_evaluated"], mrd.numbers["n_mrd_negative"]
    c1, c2, c3 = st.columns(3)
    c1.metric("MRD-negative among responders with MRD", f"{n_negative}/{n_evaluated} ("
              f"{percent(n_negative / n_evaluated if n_evaluated else float('nan'))})")
    c2.metric("Exact 95% CI", percent_range(mrd.numbers["mrd_ci_low"], mrd.numbers["mrd_ci_high"]))
    c3.metric("Responders without MRD result",
              f"{mrd.numbers['n_responders'] - n_evaluated} of {mrd.numbers['n_responders']}")
    st.caption(mrd.caption + " Method and sensitivity of the assessment that defines each status:")
    st.dataframe(mrd.tables["methods"], hide_index=True, width="stretch")
    st.radio("Time to CR/CRi measured from", list(response.TIME_ORIGINS), key=ResponseSpec.session_key("origin"),
             format_func=lambda key: response.TIME_ORIGINS[key], horizontal=True)
    for line in mrd.lines[1:]:  # the first line is the MRD rate, in the metrics above
        st.markdown(views.escape_markdown(line))
    views.reproduce_downloads(mrd, ResponseSpec(origin=spec.origin))
    with st.expander("Per-patient MRD and time to CR/CRi"):
        per, n_per = state.cached(response.responder_table)(f, spec.origin, TABLE_ROWS_MAX)
        if n_per > len(per):
            st.caption(f"The first {len(per):,} of {n_per:,} patients.")
        st.dataframe(per.rename(columns={"patient_id": "Patient", "best_response": "Best response",
                                         "mrd": "MRD", "mrd_method": "MRD method",
                                         "days": "Days to CR/CRi", "months": "Months to CR/CRi"})[
            ["Patient", "Best response", "MRD", "MRD method", "Days to CR/CRi", "Months to CR/CRi"]],
            hide_index=True, width="stretch")
        _db = state.current_database()  # built on click with every responder, not on every rerun
        views.csv_download("Download per-patient MRD and time to CR/CRi (CSV)",
                           lambda: response.responder_table(_db, f, spec.origin, None)[0],
                           file_name=f"responders_{spec.origin}.csv", key="dl_resp_responders", page=spec.PAGE,
                           title=f"{mrd.title}: per patient", result=mrd)

# --- 4. swimmer ---------------------------------------------------------------------------------
st.header("Swimmer plot")
st.selectbox("Sort patients by", list(SORTS), key=ResponseSpec.session_key("sort"), format_func=SORTS.get)
st.radio("Bars start at", list(ORIGINS), key=ResponseSpec.session_key("swimmer_origin"), format_func=ORIGINS.get,
         horizontal=True)
show(swimmer, ResponseSpec(sort=spec.sort, swimmer_origin=spec.swimmer_origin))

# --- 5. flow ------------------------------------------------------------------------------------
st.header("Treatment flow")
flow = show(treatment_flow, ResponseSpec())
with st.expander("Paths and counts (the table behind the chart)"):
    st.dataframe(flow.tables["paths"], hide_index=True, width="stretch")

# --- 6. current status --------------------------------------------------------------------------
st.header("Current status")
status = views.compute(current_status, f, ResponseSpec(), k)
st.metric("Alive without evidence of B-ALL at last contact",
          f"{status.numbers['n_alive_ned']} of {patients_text(status.numbers['n_patients'])}")
st.caption(status.caption)
st.dataframe(status.tables["status"], hide_index=True, width="stretch")
views.reproduce_downloads(status, ResponseSpec())
