import streamlit as st
import pandas as pd

from analytics.units import patients_text
from analytics import cohort, flow, response, swimmer
from analytics.export import safe_csv
from analytics.disclosure import is_small, suppressed_cells, suppressed_label
from ui import access, components, figures, state
from ui.url import choice_parser, url_option
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

st.title("Response")

# Cached results are screen-sized (counts, tests, capped lists); figures are cached per view as specs.
best_response_summary = state.cached(response.best_response_brief)
untreated_brief = state.cached(response.untreated_brief)
response_by_group = state.cached(response.response_by_group)
mrd_summary = state.cached(response.mrd_summary_brief)  # counts only: no row per responder
time_to_cr = state.cached(response.time_to_cr_brief)
responder_table = state.cached(response.responder_table)
alive_ned_count = state.cached(response.alive_ned_count)
current_status_table = state.cached(response.current_status_table)
flow_counts = state.cached(flow.flow_counts)
count_patients = state.cached(cohort.count_patients)
best_response_figure = figures.cached_figure(response.best_response_figure)
group_rate_figure = figures.cached_figure(response.group_rate_figure)
swimmer_figure = figures.cached_figure(swimmer.swimmer_chart)
flow_figure = figures.cached_figure(flow.flow_chart)

SWIMMER_MAX_PATIENTS = swimmer.PATIENTS_DRAWN_MAX
TABLE_ROWS_MAX = 1000  # on-screen per-patient rows
f = state.current_filter()
n_patients = count_patients(f)
components.require_patients(n_patients)
st.caption(f"Cohort: {patients_text(n_patients)} ({md_escape(f.describe())}).")

fmt_pct, fmt_ci, fmt_p = response.fmt_pct, response.fmt_ci, response.fmt_p

# --- 1. best response ---------------------------------------------------------------------------
st.header("Best response")
summary = best_response_summary(f)
st.markdown(
    "Best response over all lines among **treated** patients with a recorded assessment. "
    "*Not evaluable* (e.g. death before assessment) stays in the denominator; proportions have "
    "exact (Clopper-Pearson) 95% confidence intervals.")
if summary.n_treated == 0:
    st.info(f"No patient in the current selection received B-ALL treatment "
            f"({summary.n_untreated} untreated): there is no response to assess. "
            "The untreated patients are listed below.", icon=":material/info:")
else:
    k = access.small_cell_k()
    c1, c2, c3 = st.columns(3)
    responders_small = suppressed_cells(
        [summary.n_responders, summary.n_treated_assessed - summary.n_responders], k)[0]
    c1.metric("CR or CRi among treated",
              suppressed_label(summary.n_responders, summary.n_treated_assessed, k) if responders_small else
              f"{summary.n_responders}/{summary.n_treated_assessed} ({fmt_pct(summary.rate)})")
    c2.metric("Exact 95% CI", "suppressed" if responders_small else fmt_ci(summary.ci_low, summary.ci_high))
    treated_hidden = suppressed_cells([summary.n_treated, summary.n_untreated], k)
    c3.metric("Treated / untreated", " / ".join(
        (f"<{k}" if is_small(x, k) else "suppressed") if hide else str(x)
        for x, hide in zip((summary.n_treated, summary.n_untreated), treated_hidden)))
    if summary.unassessed and k > 1:
        st.warning("Some treated patients have no response assessment recorded; they are not "
                   "counted in the denominator (unknown, not failures).")
    elif summary.unassessed:
        n_unassessed = summary.n_treated - summary.n_treated_assessed
        more = n_unassessed - len(summary.unassessed)
        st.warning(f"{n_unassessed} treated patient(s) have no response assessment "
                   f"recorded ({', '.join(map(md_escape, summary.unassessed))}{f', ... and {more:,} more' if more else ''}); "
                   "they are not counted in the denominator (unknown, not failures).")
    if summary.n_treated_assessed and summary.n_treated_assessed < 10:
        st.warning(f"Only {summary.n_treated_assessed} treated patients with an assessment: the "
                   "intervals are wide; read the counts, not the percentages.")
    if summary.n_treated_assessed:
        left, right = st.columns([3, 2])
        with left:
            components.show_chart(best_response_figure(f, k))
        with right:
            t = summary.table
            small = suppressed_cells(t["n"], k)
            st.dataframe(pd.DataFrame({
                "Best response": t["response"].map(response.RESPONSE_LABELS),
                "n/N": [suppressed_label(r.n, r.denominator, k) if hide else f"{r.n}/{r.denominator}"
                        for r, hide in zip(t.itertuples(), small)],
                "%": ["" if hide else fmt_pct(x) for x, hide in zip(t["pct"], small)],
                "Exact 95% CI": ["" if hide else fmt_ci(r.ci_low, r.ci_high)
                                 for r, hide in zip(t.itertuples(), small)]}),
                hide_index=True, width="stretch")

# Below: individual patients and tables whose small cells cannot be hidden without their margins
# giving them back: withheld as a whole under small-cell suppression.
components.withheld_under_suppression("the rest of this page (untreated patients, comparisons by "
                                      "group, MRD, time to CR, swimmer plot, treatment flow)", stop=True)
listed, n_untreated = untreated_brief(f, SWIMMER_MAX_PATIENTS)  # a list of thousands of lines helps nobody
st.subheader(f"Untreated patients ({n_untreated})")
if n_untreated == 0:
    st.caption("Every patient in the selection received B-ALL treatment.")
else:
    st.caption("Not part of the response denominator. Why, where recorded: lenalidomide stop, serial "
               "measurements after withdrawal (d = day from B-ALL diagnosis), notes, death cause.")
    st.markdown("\n".join(
        f"- **{md_escape(r.patient_id)}** ({r.age_at_ball_dx} y, {md_escape(r.vital_status)}): {md_escape(r.why)}" for r in listed.itertuples()))
    if n_untreated > len(listed):
        st.caption(f"The first {len(listed)} of {n_untreated:,} untreated patients are listed.")
        _db = state.current_database()  # built on click with every patient, not on every rerun
        st.download_button("Download untreated patients (CSV)",
                           lambda: safe_csv(response.untreated_patients(_db, f)),
                           file_name="untreated_patients.csv", mime="text/csv",
                           icon=":material/download:", key="dl_resp_untreated")

# --- 2. by group -------------------------------------------------------------------------------
st.header("CR/CRi by group")
group_keys = list(response.GROUP_FEATURES)
if st.session_state.get("group") not in (None, *group_keys):
    del st.session_state["group"]  # a value from another page's own `group` option
url_option("group", response.DEFAULT_GROUP, parse=choice_parser(group_keys))
group = st.selectbox("Compare by", group_keys, key="group",
                     format_func=lambda k: response.GROUP_FEATURES[k][0])
if summary.n_treated_assessed == 0:
    st.info("No treated patient with a response assessment in the selection: nothing to compare.")
else:
    comp = response_by_group(f, group)
    left, right = st.columns([1, 1])
    with left:
        components.show_chart(group_rate_figure(f, group))
    with right:
        r = comp.rates
        st.dataframe(pd.DataFrame({
            comp.label: r["group"], "CR/CRi": [f"{x.responders}/{x.n}" for x in r.itertuples()],
            "%": [fmt_pct(x) for x in r["rate"]],
            "Exact 95% CI": [fmt_ci(x.ci_low, x.ci_high) for x in r.itertuples()],
            "In test": ["yes" if e else "no (not evaluated)" for e in r["evaluable"]]}),
            hide_index=True, width="stretch")
    if comp.test_name == "no test":
        st.info(f"No test: {comp.method}.")
    else:
        extra = ""
        if comp.odds_ratio is not None and comp.odds_ratio == comp.odds_ratio:  # not NaN
            extra = (f"; odds ratio {comp.odds_ratio:.2f} (exact 95% CI {comp.or_ci[0]:.2f}–"
                     f"{comp.or_ci[1]:.2f})")
        st.markdown(f"**{comp.test_name}** on the CR/CRi vs no CR/CRi table below: "
                    f"p {'' if comp.p_value < 0.001 else '= '}{fmt_p(comp.p_value)} ({comp.method}){extra}.")
    if comp.note:
        st.caption(comp.note)
    st.markdown("**Contingency table** (treated patients with an assessment)")
    st.dataframe(comp.contingency.rename(columns={"group": comp.label}), hide_index=True,
                 width="stretch")
    if comp.rates["n"].min() < 5:
        st.caption("Some groups have fewer than 5 patients: exact methods are used, but power is low "
                   "and a large p-value is not evidence of no difference.")

# --- 3. MRD and time to CR ---------------------------------------------------------------------
st.header("MRD and time to CR/CRi")
mrd = mrd_summary(f)
if mrd.n_responders == 0:
    st.info("No patient in the selection reached CR/CRi: MRD and time to CR do not apply.")
else:
    c1, c2, c3 = st.columns(3)
    c1.metric("MRD-negative among responders with MRD",
              f"{mrd.n_negative}/{mrd.n_evaluated} ({fmt_pct(mrd.n_negative / mrd.n_evaluated if mrd.n_evaluated else float('nan'))})")
    c2.metric("Exact 95% CI", fmt_ci(mrd.ci_low, mrd.ci_high))
    c3.metric("Responders without MRD result", f"{mrd.n_not_evaluated} of {mrd.n_responders}")
    st.caption("Responder = best response CR or CRi. MRD-negative = MRD negativity recorded at a CR/CRi "
               "assessment; responders without an MRD result are not evaluated and not in the "
               "denominator. Method and sensitivity of the assessment that defines each status:")
    st.dataframe(mrd.methods.rename(columns={"mrd_method": "MRD method", "sensitivity":
                                             "Sensitivity (threshold)", "evaluated": "Evaluated",
                                             "negative": "MRD-negative"}),
                 hide_index=True, width="stretch")

    url_option("resp_origin", "treatment", parse=choice_parser(list(response.TIME_ORIGINS)))
    origin = st.radio("Time to CR/CRi measured from", list(response.TIME_ORIGINS), key="resp_origin",
                      format_func=lambda k: response.TIME_ORIGINS[k], horizontal=True)
    ttc = time_to_cr(f, origin)
    months = response.DAYS_PER_MONTH
    st.markdown(
        f"**Time to first CR/CRi** from the {response.TIME_ORIGINS[origin]}, among the {ttc.n} "
        f"responders: median **{ttc.median_days:g} days** ({ttc.median_days / months:.1f} months), "
        f"range {ttc.min_days:g}–{ttc.max_days:g} days ({ttc.min_days / months:.1f}–"
        f"{ttc.max_days / months:.1f} months). Descriptive, among responders only.")
    with st.expander("Per-patient MRD and time to CR/CRi"):
        per, n_per = responder_table(f, origin, TABLE_ROWS_MAX)
        if n_per > len(per):
            st.caption(f"The first {len(per):,} of {n_per:,} patients.")
        st.dataframe(per.rename(columns={"patient_id": "Patient", "best_response": "Best response",
                                         "mrd": "MRD", "mrd_method": "MRD method",
                                         "days": "Days to CR/CRi", "months": "Months to CR/CRi"})[
            ["Patient", "Best response", "MRD", "MRD method", "Days to CR/CRi", "Months to CR/CRi"]],
            hide_index=True, width="stretch")
        _db = state.current_database()  # built on click with every responder, not on every rerun
        st.download_button("Download per-patient MRD and time to CR/CRi (CSV)",
                           lambda: safe_csv(response.responder_table(_db, f, origin, None)[0]),
                           file_name=f"responders_{origin}.csv", mime="text/csv",
                           icon=":material/download:", key="dl_resp_responders")

# --- 4. swimmer --------------------------------------------------------------------------------
st.header("Swimmer plot")
url_option("resp_sort", "default", parse=choice_parser(list(swimmer.SORTS)))
sort = st.selectbox("Sort patients by", list(swimmer.SORTS), key="resp_sort",
                    format_func=lambda k: swimmer.SORTS[k])
url_option("resp_swimmer_origin", "diagnosis", parse=choice_parser(list(swimmer.ORIGINS)))
swimmer_origin = st.radio("Bars start at", list(swimmer.ORIGINS), key="resp_swimmer_origin",
                          format_func=lambda k: swimmer.ORIGINS[k], horizontal=True)
components.show_chart(swimmer_figure(f, sort, swimmer_origin, max_patients=SWIMMER_MAX_PATIENTS),
                      name=f"swimmer_{swimmer_origin}")
if n_patients > SWIMMER_MAX_PATIENTS:
    st.info(f"The swimmer plot draws the first {SWIMMER_MAX_PATIENTS} of {n_patients:,} patients in the "
            "chosen sort order; every count and test above uses all of them.", icon=":material/view_agenda:")
st.caption("Phases: induction = first line up to its first response assessment; consolidation / "
           "maintenance = rest of the first line (no end day = ongoing); after HCT; relapse / later "
           "lines; observation = no B-ALL therapy (before treatment, after it ended, or untreated). "
           "Arrow = alive at last contact.")

# --- 5. flow -----------------------------------------------------------------------------------
st.header("Treatment flow")
components.show_chart(flow_figure(f))
with st.expander("Paths and counts (the table behind the chart)"):
    st.dataframe(flow_counts(f), hide_index=True, width="stretch")

# --- 6. current status -------------------------------------------------------------------------
st.header("Current status")
n_ned, n_status = alive_ned_count(f)
st.metric("Alive without evidence of B-ALL at last contact", f"{n_ned} of {n_status} patients")
st.caption("From the last-contact and death events: disease status recorded at the last contact of "
           "patients alive then. Columns: treatment pathway.")
st.dataframe(current_status_table(f), hide_index=True, width="stretch")
