"""Survival: KM with number-at-risk table, log-rank, HCT without immortal-time bias, Cox, CIF."""
import math

import pandas as pd
import streamlit as st

from analytics import survival, survival_chart, survival_cox, survival_cr, survival_hct
from analytics.cohort import count_patients
from analytics.filters import NOT_EVALUATED
from ui import access, components, figures, state
from ui.url import choice_parser, url_option
from analytics.disclosure import suppress_count
from analytics.export import safe_csv
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

km_view = state.cached(survival.km_view)
landmark_view = state.cached(survival_hct.landmark_view)
cif_milestones = state.cached(survival_cr.cif_milestones)
km_figure = figures.cached_figure(survival_chart.km_figure)
landmark_figure = figures.cached_figure(survival_chart.landmark_figure)
forest_figure = figures.cached_figure(survival_chart.forest_figure)
cif_figure = figures.cached_figure(survival_chart.cif_figure)
patient_table = state.cached(survival.patient_table)
inclusion_summary = state.cached(survival.inclusion_summary)
TABLE_ROWS_MAX = 1000  # on-screen rows of the per-patient table (the CSV has every patient)
tv_cox = state.cached(survival_hct.hct_time_varying_cox)
cox_analysis = state.cached(survival_cox.cox_analysis)
n_patients = state.cached(count_patients)
continuous_median = state.cached(survival.continuous_median)



def _nonempty(values: list) -> list:
    if not values:
        raise ValueError("empty selection")
    return values


GROUP_CHOICES = [""] + list(survival.CATEGORICAL_GROUPS) + list(survival.CONTINUOUS_GROUPS)
GROUP_LABELS = {"": "None (whole population)", **survival.CATEGORICAL_GROUPS,
                **{k: f"{v} (split at cutoff)" for k, v in survival.CONTINUOUS_GROUPS.items()}}
PAIRWISE = {"none": "No pairwise tests", "holm": "Pairwise, Holm-adjusted",
            "bonferroni": "Pairwise, Bonferroni-adjusted"}

st.title("Survival")
cohort_filter = state.current_filter()
components.require_patients(n_patients(cohort_filter))

# --- view options (each one is a URL parameter) ------------------------------------------------
url_option("endpoint", "EFS", parse=choice_parser(list(survival.ENDPOINTS)))
url_option("efs", list(survival.ALL_EFS_EVENTS), multi=True,
           parse=lambda raw: _nonempty([e for e in survival.ALL_EFS_EVENTS if e in raw]),
           serialize=list)
url_option("origin", "diagnosis", parse=choice_parser(list(survival.ORIGINS)))
url_option("population", "all", parse=choice_parser(list(survival.POPULATIONS)))
url_option("group", "", parse=choice_parser(GROUP_CHOICES))
url_option("ci", True, parse=lambda raw: {"yes": True, "no": False}[raw],
           serialize=lambda v: "yes" if v else "no")
url_option("milestones", "12, 24, 36")
url_option("pairwise", "none", parse=choice_parser(list(PAIRWISE)))

c1, c2, c3, c4 = st.columns(4)
c1.selectbox("Endpoint", list(survival.ENDPOINTS), key="endpoint",
             format_func=survival.ENDPOINTS.get)
c2.selectbox("Time origin", list(survival.ORIGINS), key="origin", format_func=survival.ORIGINS.get)
c3.selectbox("Population", list(survival.POPULATIONS), key="population",
             format_func=survival.POPULATIONS.get)
c4.selectbox("Group by", GROUP_CHOICES, key="group", format_func=GROUP_LABELS.get)
d1, d2, d3, d4 = st.columns([2, 1, 1, 1])
endpoint = st.session_state["endpoint"]
efs_events = tuple(survival.ALL_EFS_EVENTS)
if endpoint == "EFS":
    chosen = d1.multiselect("EFS events", list(survival.ALL_EFS_EVENTS), key="efs",
                            format_func=survival.EFS_EVENT_LABELS.get)
    if not chosen:
        st.warning("Choose at least one event that ends event-free survival.")
        st.stop()
    efs_events = tuple(e for e in survival.ALL_EFS_EVENTS if e in chosen)
group = st.session_state["group"] or None
cutoff = None
if group in survival.CONTINUOUS_GROUPS:
    key = f"cutoff_{group}"
    default_cut = continuous_median(group)
    url_option(key, default_cut, parse=float, serialize=survival.format_number)
    cutoff = float(d2.number_input(f"Cutoff ({survival.CONTINUOUS_GROUPS[group]})", key=key,
                                   help="Groups: below the cutoff vs at or above it. Default: "
                                        "the whole-cohort median."))
d3.text_input("Milestones (months)", key="milestones", help="Comma-separated, e.g. 12, 24, 36")
d4.selectbox("Pairwise log-rank tests", list(PAIRWISE), key="pairwise", format_func=PAIRWISE.get)
show_ci = st.checkbox("Show 95% confidence bands", key="ci")
try:
    milestones = survival.parse_milestones(st.session_state["milestones"])
except ValueError:
    st.warning("Milestones must be 1 to 8 positive numbers of months, e.g. `12, 24, 36`; "
               "using 12, 24, 36.")
    milestones = (12.0, 24.0, 36.0)

spec = survival.SurvivalSpec(endpoint=endpoint, efs_events=efs_events,
                             origin=st.session_state["origin"],
                             population=st.session_state["population"], group=group, cutoff=cutoff)
k = access.small_cell_k()
correction = st.session_state["pairwise"]
n_included, n_excluded, exclusion_reasons = inclusion_summary(cohort_filter, spec)
if n_included == 0:
    reasons = ", ".join(exclusion_reasons) or "population restriction"
    st.warning(f"No patient in the current filters can be analysed for this view ({reasons}). "
               "Change the population, the time origin or the filters.")
    st.stop()
view = km_view(cohort_filter, spec, milestones, k, correction)
describe = survival.view_caption(cohort_filter, spec, n_included, view.events, k)
st.caption(md_escape(describe) + (f"; {suppress_count(n_excluded, k)} excluded (see the per-patient table)"
                       if n_excluded else ""))
if view.withheld_groups:
    st.info(f"Small-cell suppression: groups with fewer than {k} patients are not drawn or tested "
            f"({', '.join(map(md_escape, view.withheld_groups))}).", icon=":material/visibility_off:")
if view.summary.empty:
    st.stop()

if group in survival.POST_BASELINE_GROUPS:
    if group == "hct":
        st.warning(survival_hct.HCT_BIAS_WARNING, icon=":material/warning:")
    else:
        st.warning(survival_hct.POST_BASELINE_WARNING.format(
            label=survival.CATEGORICAL_GROUPS[group]), icon=":material/warning:")

TABS = ["Kaplan-Meier", "Cox model", "Relapse vs non-relapse mortality", "Per-patient table"]
url_option("surv_tab", TABS[0], parse=choice_parser(TABS))  # the open tab is part of the view
tab_km, tab_cox, tab_cr, tab_table = st.tabs(TABS, key="surv_tab", on_change="rerun")
_db = state.current_database()  # CSV downloads are built on click, not on every rerun

# --- Kaplan-Meier -------------------------------------------------------------------------------
with tab_km:
    if tab_km.open:  # only the open tab is computed
        summary = view.summary
        components.show_chart(km_figure(cohort_filter, spec, show_ci, k), stretch=False,
                              name=f"km_{spec.endpoint.lower()}", n_patients=int(summary["n"].sum()))
        shown_summary = survival.summary_display(summary, milestones)
        if k > 1:
            shown_summary = shown_summary.assign(
                N=[suppress_count(x, k) for x in shown_summary["N"]],
                Events=[suppress_count(x, k) for x in shown_summary["Events"]])
        st.dataframe(shown_summary, hide_index=True)
        st.caption("Median and milestone 95% CIs: log(-log) Greenwood (lifelines). Median follow-up: "
                   "reverse Kaplan-Meier. Months = days / 30.4375. NR = not reached.")
        for r in summary.itertuples():
            if r.note:
                st.info(f"**{md_escape(r.group)}**: {r.note}.", icon=":material/info:")
        fu = view.median_followup_months
        if not math.isnan(fu):
            st.markdown(f"Median follow-up (reverse Kaplan-Meier, all analysed patients): "
                        f"**{fu:.1f} months**.")
        if group:
            if (summary["group"] == NOT_EVALUATED).any():
                st.caption(f"Patients '{NOT_EVALUATED}' for this attribute are drawn as their own "
                           "curve but left out of every test.")
            if view.logrank_reason == "one group":
                st.info("Only one group has patients under these filters: no comparison is possible.")
            elif view.logrank_reason == "no events":
                st.info("No events in any group: a log-rank test has nothing to compare.")
            elif view.logrank is not None:
                lr = view.logrank
                st.markdown(f"**Log-rank test** ({len(lr.groups)} groups): χ² = {lr.statistic:.2f}, "
                            f"df = {lr.df}, {survival.p_text(lr.p_value)}.")
                if (summary["events"] == 0).any() or (summary["n"] < survival.MIN_GROUP_SIZE).any():
                    st.info("Some groups are small or have no events: the test has little power and "
                            "its p-value relies on a large-sample approximation.")
                if view.pairwise is not None:
                    shown = view.pairwise.copy()
                    for col in ("p", f"p ({correction})"):
                        shown[col] = shown[col].map(lambda p: "n/a" if pd.isna(p) else f"{p:.4f}")
                    shown["chi2"] = shown["chi2"].map(
                        lambda x: "n/a (no events)" if pd.isna(x) else f"{x:.2f}")
                    st.markdown(f"**Pairwise log-rank tests**, {correction.capitalize()}-adjusted "
                                f"for {len(shown)} comparisons")
                    st.dataframe(shown, hide_index=True)
                elif correction != "none":
                    st.caption("Pairwise tests need three or more groups.")
        # under suppression the download carries what the figure shows: no counts per step
        st.download_button("Download curve data (CSV)",
                           lambda: safe_csv(survival.curve_table(_db, cohort_filter, spec, k)),
                           file_name=f"km_{spec.endpoint.lower()}_curves.csv", mime="text/csv",
                           key="dl_curves")

        # --- HCT without immortal-time bias -----------------------------------------------------
        if group == "hct" and not components.withheld_under_suppression(
                "the landmark and time-dependent HCT analyses (small risk sets)"):
            st.subheader("HCT analysed without immortal-time bias")
            url_option("landmark", 180, parse=lambda raw: max(1, int(raw)))
            landmark = int(st.number_input("Landmark (days from the time origin)", min_value=1,
                                           max_value=3650, step=30, key="landmark"))
            lm = landmark_view(cohort_filter, spec, landmark, milestones)
            if lm.n == 0:
                st.info(f"No patient is still at risk at day {landmark}: choose an earlier landmark.")
            else:
                components.show_chart(landmark_figure(cohort_filter, spec, landmark, show_ci),
                                      stretch=False, name=f"landmark_day{landmark}", n_patients=lm.n)
                st.dataframe(survival.summary_display(lm.summary, milestones), hide_index=True)
                lm_groups = list(lm.summary["group"])
                if lm.logrank is not None:
                    st.markdown(f"**Landmark log-rank test**: χ² = {lm.logrank.statistic:.2f}, df = 1, "
                                f"{survival.p_text(lm.logrank.p_value)}. Transplants after day "
                                f"{landmark} count as no HCT (intention-to-treat at the landmark).")
                elif len(lm_groups) < 2:
                    only = lm_groups[0]
                    st.info(f"All {lm.n} patients at risk at day {landmark} are in one group "
                            f"({only}): " + ("nobody had received HCT by day "
                                             f"{landmark}." if only.startswith("no ") else
                                             "everyone at risk had received HCT.")
                            + " Choose another landmark.")
                else:
                    st.info("No events after the landmark: the groups cannot be compared.")
            tv = tv_cox(cohort_filter, spec)
            if tv is None:
                st.info("Time-dependent Cox model not estimable: no patient (or every patient) "
                        "received HCT during follow-up, there are no events, or no events before or "
                        "after HCT (the hazard ratio would be 0 or infinite).")
            else:
                st.markdown(
                    f"**Cox model with HCT as a time-dependent covariate** (lifelines "
                    f"CoxTimeVaryingFitter): HR **{tv.hr:.2f}** (95% CI {tv.hr_lower:.2f} to "
                    f"{tv.hr_upper:.2f}), {survival.p_text(tv.p_value)}; {tv.n_patients} patients, "
                    f"{tv.n_hct} transplanted during follow-up, {tv.n_events} events "
                    f"({tv.n_events_after_hct} after HCT). Each patient counts as untransplanted "
                    "until the day of HCT.")
                if tv.n_events < 10:
                    st.info(f"Only {tv.n_events} events: the hazard ratio is imprecise.")

# --- Cox proportional hazards -------------------------------------------------------------------
with tab_cox:
    if tab_cox.open and not components.withheld_under_suppression(
            "the Cox model (counts per covariate level)"):
        choices = list(survival_cox.COX_COVARIATES)
        url_option("cox", ["age_at_ball_dx", "sex"], multi=True,
                   parse=lambda raw: _nonempty([c for c in raw if c in choices]), serialize=list)
        covariates = st.multiselect("Covariates", choices, key="cox",
                                    format_func=lambda c: survival_cox.COX_COVARIATES[c][0])
        if not covariates:
            st.info("Choose one or more covariates.")
        else:
            res = cox_analysis(cohort_filter, spec, tuple(covariates))
            for message in res.messages:
                st.info(message)
            if not res.univariable.empty:
                both = pd.concat([res.univariable, res.multivariable], ignore_index=True)
                shown = both.assign(**{
                    "HR (95% CI)": [f"{h:.2f} ({lo:.2f} to {hi:.2f})" for h, lo, hi in
                                    zip(both["hr"], both["hr_lower"], both["hr_upper"])],
                    "p": both["p"].map(lambda p: "< 0.001" if p < 0.001 else f"{p:.3f}")})
                st.dataframe(shown[["model", "term", "HR (95% CI)", "p", "n", "events"]], hide_index=True)
                forest_source = res.multivariable if not res.multivariable.empty else res.univariable
                which = "multivariable" if not res.multivariable.empty else "univariable"
                components.show_chart(forest_figure(cohort_filter, spec, tuple(covariates)),
                                      stretch=False, name=f"cox_{which}",
                                      n_patients=int(forest_source["n"].max()))
                if len(covariates) > 1 and not math.isnan(res.events_per_variable):
                    epv = res.events_per_variable
                    text = (f"Multivariable model: {res.n_complete} of {res.n_total} patients with "
                            f"all covariates evaluated; {epv:.1f} events per model term.")
                    if epv < survival_cox.EPV_THRESHOLD:
                        st.warning(text + f" Below {survival_cox.EPV_THRESHOLD} events per variable "
                                   "the estimates are unstable and biased away from 1; treat them as "
                                   "exploratory.", icon=":material/warning:")
                    else:
                        st.caption(text)
                if not res.ph_test.empty:
                    ph = res.ph_test.assign(p=res.ph_test["p"].map(lambda p: f"{p:.3f}"),
                                            test_statistic=res.ph_test["test_statistic"].round(3))
                    st.markdown("**Proportional-hazards check** (Schoenfeld residuals vs rank of "
                                "time; small p suggests the hazard ratio changes over time)")
                    st.dataframe(ph, hide_index=True)

# --- Competing risks ------------------------------------------------------------------------------
with tab_cr:
    if tab_cr.open and not components.withheld_under_suppression(
            "the cumulative incidence tab (small risk sets)"):
        st.caption("Aalen-Johansen cumulative incidence from the same time origin and population. "
                   "Relapse competes with death without relapse (non-relapse mortality); deaths "
                   "after induction failure without a documented relapse count as non-relapse "
                   "mortality.")
        components.show_chart(cif_figure(cohort_filter, spec), name="cumulative_incidence",
                              n_patients=n_included)
        at = cif_milestones(cohort_filter, spec, milestones)
        at["CIF, % (95% CI)"] = [
            "beyond follow-up" if pd.isna(c) else f"{100 * c:.1f} ({100 * lo:.1f} to {100 * hi:.1f})"
            for c, lo, hi in zip(at["cif"], at["ci_lower"], at["ci_upper"])]
        st.dataframe(at[["group", "cause", "months", "CIF, % (95% CI)"]], hide_index=True)
        st.download_button("Download cumulative incidence data (CSV)",
                           lambda: safe_csv(survival_cr.cumulative_incidence(_db, cohort_filter, spec)),
                           file_name="cumulative_incidence.csv", mime="text/csv", key="dl_cif")

# --- per-patient working table ------------------------------------------------------------------------
with tab_table:
    if tab_table.open:  # only the open tab is computed
        if not components.withheld_under_suppression("the per-patient table"):
            st.caption("Each patient's derived time and status beside the source event days (days from "
                       "B-ALL diagnosis). Time = end day - origin day; the end day is the first counted "
                       "event, else the last contact.")
            if access.public_mode():
                st.info("Public deployment: the per-patient table and its download are not shown.",
                        icon=":material/public:")
                st.stop()
            table = patient_table(cohort_filter, spec, limit=TABLE_ROWS_MAX)
            if n_included + n_excluded > len(table):
                st.caption(f"The first {len(table):,} of {n_included + n_excluded:,} patients (patient id "
                           "order); the CSV download has all of them.")
            st.dataframe(table, hide_index=True)
            st.download_button("Download per-patient table (CSV)",
                               lambda: safe_csv(survival.patient_table(_db, cohort_filter, spec)),
                               file_name=f"survival_{spec.endpoint.lower()}_patients.csv", mime="text/csv",
                               key="dl_patients")
