"""Survival: KM with number-at-risk table, log-rank, HCT without immortal-time bias, Cox, CIF.

Every analysis is a view of analytics.views.survival: the page renders the same results the
link, the deck, the report and the exports carry.
"""
import streamlit as st

from analytics import survival
from analytics.cohort import count_patients
from analytics.format import p_value
from analytics.views import survival as views
from analytics.views.survival import SurvivalPageSpec as Spec
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.views import bind, compute, csv_download, current, figure, set_value, show, show_caveats

require_entrypoint()

TABLE_ROWS_MAX = 1000  # on-screen rows of the per-patient table (the CSV has every patient)
key = Spec.session_key
CUTOFF_GROUP = "_survival_cutoff_group"  # the grouping the cutoff widget was set for

st.title("Survival")
cohort_filter = state.current_filter()
components.require_patients(state.cached(count_patients)(cohort_filter))
k = access.small_cell_k()

# --- view options (the spec: each one is a URL parameter) --------------------------------------
bind(Spec)
c1, c2, c3, c4 = st.columns(4)
c1.selectbox("Endpoint", list(survival.ENDPOINTS), key=key("endpoint"), format_func=survival.ENDPOINTS.get)
c2.selectbox("Time origin", list(survival.ORIGINS), key=key("origin"), format_func=survival.ORIGINS.get)
c3.selectbox("Population", list(survival.POPULATIONS), key=key("population"),
             format_func=survival.POPULATIONS.get)
c4.selectbox("Group by", views.GROUP_CHOICES, key=key("group"), format_func=views.GROUP_LABELS.get)
d1, d2, d3, d4 = st.columns([2, 1, 1, 1])
if st.session_state[key("endpoint")] == "EFS":
    d1.multiselect("EFS events", list(survival.ALL_EFS_EVENTS), key=key("efs"),
                   format_func=survival.EFS_EVENT_LABELS.get)
    if not st.session_state[key("efs")]:
        st.warning("Choose at least one event that ends event-free survival.")
        st.stop()
group = st.session_state[key("group")]
overrides = {}
if group in survival.CONTINUOUS_GROUPS:
    median = state.cached(survival.continuous_median)(group)
    if st.session_state[key("cutoff")] is None or st.session_state.get(CUTOFF_GROUP) not in (None, group):
        set_value(Spec, "cutoff", median)  # a new grouping starts at its median
    st.session_state[CUTOFF_GROUP] = group
    cut = d2.number_input(f"Cutoff ({survival.CONTINUOUS_GROUPS[group]})", key=key("cutoff"),
                          help="Groups: below the cutoff vs at or above it. Default: the whole-cohort median.")
    overrides["cutoff"] = None if cut is None or float(cut) == median else float(cut)
d3.text_input("Milestones (months)", key=key("milestones"), help="Comma-separated, e.g. 12, 24, 36")
d4.selectbox("Pairwise log-rank tests", list(views.PAIRWISE), key=key("pairwise"), format_func=views.PAIRWISE.get)
e1, e2 = st.columns([1, 3])
e1.checkbox("Show 95% confidence bands", key=key("ci"))
e2.number_input("Cut each curve where fewer than this many patients remain at risk (0 = off)", min_value=0,
                max_value=1000, step=1, key=key("min_at_risk"))
try:
    survival.parse_milestones(st.session_state[key("milestones")])
except ValueError:
    st.warning("Milestones must be 1 to 8 positive numbers of months, e.g. `12, 24, 36`; using 12, 24, 36.")
    overrides["milestones"] = views.DEFAULT_MILESTONES
try:
    views.parse_landmarks(st.session_state[key("landmarks")])
except ValueError:
    overrides["landmarks"] = views.DEFAULT_LANDMARKS
spec = current(Spec, **overrides)

analysis = spec.analysis(state.current_database())
n_included, n_excluded, exclusion_reasons = state.cached(survival.inclusion_summary)(cohort_filter, analysis)
if n_included == 0:
    reasons = ", ".join(exclusion_reasons) or "population restriction"
    st.warning(f"No patient in the current filters can be analysed for this view ({reasons}). "
               "Change the population, the time origin or the filters.")
    st.stop()
km = compute(views.km, cohort_filter, spec, k)
st.caption(km.caption)
show_caveats(km)  # the bias warning stands above every tab
if km.figure is None:
    st.stop()

tab_km, tab_cox, tab_cr, tab_table = st.tabs(list(views.TABS), key=key("tab"), on_change="rerun")
_db = state.current_database()  # CSV downloads are built on click, not on every rerun

with tab_km:
    if tab_km.open:  # only the open tab is computed
        show(km, figure=figure(views.km, cohort_filter, spec, k), stretch=False, caveats=False,
             spec=spec)
        st.dataframe(km.tables["summary"], hide_index=True)
        st.caption("Median and milestone 95% CIs: log(-log) Greenwood (lifelines). Median follow-up: "
                   "reverse Kaplan-Meier. Months = days / 30.4375. NR = not reached.")
        if "pairwise" in km.tables:
            shown = km.tables["pairwise"].copy()
            for col in ("p", f"p ({spec.pairwise})"):
                shown[col] = shown[col].map(lambda p: p_value(p, missing="n/a"))
            shown["chi2"] = shown["chi2"].map(lambda x: "n/a (no events)" if x != x else f"{x:.2f}")
            st.markdown(f"**Pairwise log-rank tests**, {spec.pairwise.capitalize()}-adjusted for "
                        f"{len(shown)} comparisons")
            st.dataframe(shown, hide_index=True)
        elif spec.pairwise != "none" and spec.group:
            st.caption("Pairwise tests need three or more groups.")
        # under suppression the download carries what the figure shows: no counts per step
        csv_download("Download curve data (CSV)", lambda: survival.curve_table(_db, cohort_filter, analysis, k),
                     file_name=f"km_{analysis.endpoint.lower()}_curves.csv", key="dl_curves",
                     page=spec.PAGE, title=f"{km.title}: curve data", result=km)

        if spec.group in views.SIMON_MAKUCH_EXPOSURE and not components.withheld_under_suppression(
                "the Simon-Makuch, landmark and time-dependent analyses (small risk sets)"):
            st.subheader("Analysed without immortal-time bias")
            sm = compute(views.simon_makuch, cohort_filter, spec)
            st.markdown(f"**{sm.title.removeprefix('Survival: ')}**")
            show(sm, figure=figure(views.simon_makuch, cohort_filter, spec) if sm.figure is not None else None,
                 stretch=False, spec=spec)
        if spec.group == "hct" and k <= 1:
            st.markdown("**Landmark analysis**")
            st.number_input("Landmark (days from the time origin)", min_value=1,
                            max_value=views.LANDMARK_MAX_DAYS, step=30, key=key("landmark"))
            lm = compute(views.landmark, cohort_filter, spec)
            show(lm, figure=figure(views.landmark, cohort_filter, spec) if lm.figure is not None else None,
                 stretch=False, spec=spec)
            if not lm.tables["summary"].empty:
                st.dataframe(lm.tables["summary"], hide_index=True)
            st.markdown("**Does the answer depend on the landmark day?**")
            st.text_input("Landmark days to compare", key=key("landmarks"),
                          help="Up to 6 days from the time origin, e.g. 100, 180, 365")
            try:
                views.parse_landmarks(st.session_state[key("landmarks")])
            except ValueError as error:
                st.warning(f"{error}; showing {views.DEFAULT_LANDMARKS}.")
            sens = compute(views.landmark_sensitivity, cohort_filter, spec)
            st.dataframe(sens.tables["landmarks"], hide_index=True)
            show(sens, figure=figure(views.landmark_sensitivity, cohort_filter, spec)
                 if sens.figure is not None else None, stretch=False, spec=spec)
            tv = compute(views.time_dependent_hct, cohort_filter, spec)
            st.markdown("**Cox model with HCT as a time-dependent covariate**")
            show(tv, spec=spec)

with tab_cox:
    if tab_cox.open and not components.withheld_under_suppression("the Cox model (counts per covariate level)"):
        st.multiselect("Covariates", list(survival.cox.COX_COVARIATES), key=key("cox"),
                       format_func=lambda c: survival.cox.COX_COVARIATES[c][0])
        if not st.session_state[key("cox")]:
            st.info("Choose one or more covariates.")
        else:
            res = compute(views.cox, cohort_filter, spec)
            if "models" in res.tables:
                st.dataframe(res.tables["models"], hide_index=True)
            show(res, figure=figure(views.cox, cohort_filter, spec) if res.figure is not None else None,
                 stretch=False, spec=spec)
            if "ph_test" in res.tables:
                st.markdown("**Proportional-hazards check** (Schoenfeld residuals vs rank of time; small p "
                            "suggests the hazard ratio changes over time)")
                st.dataframe(res.tables["ph_test"], hide_index=True)

with tab_cr:
    if tab_cr.open and not components.withheld_under_suppression("the cumulative incidence tab (small risk sets)"):
        cr = compute(views.competing_risks, cohort_filter, spec)
        show(cr, figure=figure(views.competing_risks, cohort_filter, spec), spec=spec)
        st.dataframe(cr.tables["milestones"], hide_index=True)
        csv_download("Download cumulative incidence data (CSV)",
                     lambda: survival.competing_risks.cumulative_incidence(_db, cohort_filter, analysis),
                     file_name="cumulative_incidence.csv", key="dl_cif", page=spec.PAGE,
                     title=f"{cr.title}: curve data", result=cr)

with tab_table:
    if tab_table.open and not components.withheld_under_suppression("the per-patient table"):
        st.caption("Each patient's derived time and status beside the source event days (days from "
                   "B-ALL diagnosis). Time = end day - origin day; the end day is the first counted "
                   "event, else the last contact.")
        if access.public_mode():
            st.info("Public deployment: the per-patient table and its download are not shown.",
                    icon=":material/public:")
            st.stop()
        table = state.cached(survival.patient_table)(cohort_filter, analysis, limit=TABLE_ROWS_MAX)
        if n_included + n_excluded > len(table):
            st.caption(f"The first {len(table):,} of {n_included + n_excluded:,} patients (patient id "
                       "order); the CSV download has all of them.")
        st.dataframe(table, hide_index=True)
        csv_download("Download per-patient table (CSV)", lambda: survival.patient_table(_db, cohort_filter, analysis),
                     file_name=f"survival_{analysis.endpoint.lower()}_patients.csv", key="dl_patients",
                     page=spec.PAGE, title=f"{km.title}: per-patient times and status", result=km)
