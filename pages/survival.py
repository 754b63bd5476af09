"""Survival: KM with number-at-risk table, log-rank, HCT without immortal-time bias, Cox, CIF."""
import math

import pandas as pd
import streamlit as st

from analytics import survival, survival_chart, survival_cox, survival_cr, survival_hct
from analytics.cohort import count_patients
from analytics.filters import NOT_EVALUATED
from ui import access, components, state
from ui.url import choice_parser, url_option
from analytics.disclosure import suppress_count
from analytics.export import safe_csv
from ui.routing import require_entrypoint

require_entrypoint()

km_counts = state.cached(survival.km_counts)
patient_table = state.cached(survival.patient_table)
inclusion_summary = state.cached(survival.inclusion_summary)
TABLE_ROWS_MAX = 1000  # on-screen rows of the per-patient table (the CSV has every patient)
median_followup = state.cached(survival.median_followup)
pairwise_logrank = state.cached(survival.pairwise_logrank)
landmark_counts = state.cached(survival_hct.landmark_counts)
tv_cox = state.cached(survival_hct.hct_time_varying_cox)
cox_analysis = state.cached(survival_cox.cox_analysis)
cumulative_incidence = state.cached(survival_cr.cumulative_incidence)
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
counts = km_counts(cohort_filter, spec)
n_included, n_excluded, exclusion_reasons = inclusion_summary(cohort_filter, spec)
if n_included == 0:
    reasons = ", ".join(exclusion_reasons) or "population restriction"
    st.warning(f"No patient in the current filters can be analysed for this view ({reasons}). "
               "Change the population, the time origin or the filters.")
    st.stop()
events = int(counts["n_event"].sum())
k = access.small_cell_k()
withheld_groups: list[str] = []
if k > 1:  # small-cell suppression: a group of fewer than k patients is not drawn at all
    group_sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1)
    withheld_groups = sorted(g for g, size in group_sizes.items() if 0 < size < k)
    counts = counts[~counts["group"].isin(withheld_groups)]
describe = (f"{survival.POPULATIONS[spec.population]}, time from {survival.ORIGINS[spec.origin]}; "
            f"filters: {cohort_filter.describe()}; n = {suppress_count(n_included, k)}, "
            f"{suppress_count(events, k)} events")
st.caption(describe + (f"; {suppress_count(n_excluded, k)} excluded (see the per-patient table)"
                       if n_excluded else ""))
if withheld_groups:
    st.info(f"Small-cell suppression: groups with fewer than {k} patients are not drawn or tested "
            f"({', '.join(withheld_groups)}).", icon=":material/visibility_off:")
if counts.empty:
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

# --- Kaplan-Meier -------------------------------------------------------------------------------
with tab_km:
    if tab_km.open:  # only the open tab is computed
        curves = survival.curves_from_counts(counts)
        summary = survival.summary_from_counts(counts, milestones)
        title = spec.endpoint_label() + (" (naive, by HCT ever)" if group == "hct" else "")
        chart = survival_chart.km_chart(curves, counts, title=title, group_title=spec.group_label()
                                        if group else None, show_ci=show_ci,
                                        y_title=f"{spec.endpoint_label().split(' (')[0]} (%)",
                                        x_title=f"Months from {survival.ORIGINS[spec.origin]}",
                                        subtitle=describe, small_cell_k=k)
        components.show_chart(chart, stretch=False, name=f"km_{spec.endpoint.lower()}",
                              n_patients=int(summary["n"].sum()))
        shown_summary = survival.summary_display(summary, milestones)
        if k > 1:
            shown_summary = shown_summary.assign(N=[suppress_count(x, k) for x in shown_summary["N"]],
                                                 Events=[suppress_count(x, k) for x in shown_summary["Events"]])
        st.dataframe(shown_summary, hide_index=True)
        st.caption("Median and milestone 95% CIs: log(-log) Greenwood (lifelines). Median follow-up: "
                   "reverse Kaplan-Meier. Months = days / 30.4375. NR = not reached.")
        for r in summary.itertuples():
            if r.note:
                st.info(f"**{r.group}**: {r.note}.", icon=":material/info:")
        fu = median_followup(cohort_filter, spec)
        if not math.isnan(fu):
            st.markdown(f"Median follow-up (reverse Kaplan-Meier, all analysed patients): "
                        f"**{fu:.1f} months**.")
        if group:
            with_patients = summary[(summary["n"] > 0) & (summary["group"] != NOT_EVALUATED)]
            if (summary["group"] == NOT_EVALUATED).any():
                st.caption(f"Patients '{NOT_EVALUATED}' for this attribute are drawn as their own curve "
                           "but left out of every test.")
            if len(with_patients) < 2:
                st.info("Only one group has patients under these filters: no comparison is possible.")
            elif with_patients["events"].sum() == 0:
                st.info("No events in any group: a log-rank test has nothing to compare.")
            else:
                lr = survival.logrank_from_counts(counts)
                st.markdown(f"**Log-rank test** ({len(lr.groups)} groups): χ² = {lr.statistic:.2f}, "
                            f"df = {lr.df}, {survival.p_text(lr.p_value)}.")
                if (summary["events"] == 0).any() or (summary["n"] < survival.MIN_GROUP_SIZE).any():
                    st.info("Some groups are small or have no events: the test has little power and "
                            "its p-value relies on a large-sample approximation.")
                correction = st.session_state["pairwise"]
                if correction != "none" and len(lr.groups) > 2:
                    pairs = pairwise_logrank(cohort_filter, spec, correction)
                    shown = pairs.copy()
                    for col in ("p", f"p ({correction})"):
                        shown[col] = shown[col].map(lambda p: "n/a" if pd.isna(p) else f"{p:.4f}")
                    shown["chi2"] = shown["chi2"].map(lambda x: "n/a (no events)" if pd.isna(x) else f"{x:.2f}")
                    st.markdown(f"**Pairwise log-rank tests**, {correction.capitalize()}-adjusted "
                                f"for {len(pairs)} comparisons")
                    st.dataframe(shown, hide_index=True)
                elif correction != "none":
                    st.caption("Pairwise tests need three or more groups.")
        # under suppression the download carries what the figure shows: no counts per step
        st.download_button("Download curve data (CSV)",
                           safe_csv(curves.drop(columns=["at_risk", "n_event", "n_censored"], errors="ignore")
                                    if k > 1 else curves),
                           file_name=f"km_{spec.endpoint.lower()}_curves.csv", mime="text/csv",
                           key="dl_curves")

        # --- HCT without immortal-time bias ---------------------------------------------------------
        if group == "hct" and not components.withheld_under_suppression(
                "the landmark and time-dependent HCT analyses (small risk sets)"):
            st.subheader("HCT analysed without immortal-time bias")
            url_option("landmark", 180, parse=lambda raw: max(1, int(raw)))
            landmark = int(st.number_input("Landmark (days from the time origin)", min_value=1,
                                           max_value=3650, step=30, key="landmark"))
            lm_counts = landmark_counts(cohort_filter, spec, landmark)
            if lm_counts.empty:
                st.info(f"No patient is still at risk at day {landmark}: choose an earlier landmark.")
            else:
                lm_curves = survival.curves_from_counts(lm_counts)
                lm_summary = survival.summary_from_counts(lm_counts, milestones)
                lm_n = int(lm_summary["n"].sum())
                lm_subtitle = (f"Patients alive and event-free at day {landmark} (n = {lm_n}, "
                               f"{int(lm_summary['events'].sum())} events), grouped by HCT by then; "
                               f"time reset to the landmark")
                lm_chart = survival_chart.km_chart(
                    lm_curves, lm_counts, title=f"Landmark analysis at day {landmark}: "
                                                f"{spec.endpoint_label()}",
                    group_title="HCT status at landmark", show_ci=show_ci,
                    y_title=f"{spec.endpoint_label().split(' (')[0]} (%)",
                    x_title=f"Months after day {landmark}", subtitle=lm_subtitle)
                components.show_chart(lm_chart, stretch=False, name=f"landmark_day{landmark}", n_patients=lm_n)
                st.dataframe(survival.summary_display(lm_summary, milestones), hide_index=True)
                if lm_counts["group"].nunique() == 2 and lm_counts["n_event"].sum() > 0:
                    lr = survival.logrank_from_counts(lm_counts)
                    st.markdown(f"**Landmark log-rank test**: χ² = {lr.statistic:.2f}, df = 1, "
                                f"{survival.p_text(lr.p_value)}. Transplants after day {landmark} "
                                "count as no HCT (intention-to-treat at the landmark).")
                elif lm_counts["group"].nunique() < 2:
                    only = lm_counts["group"].iloc[0]
                    st.info(f"All {lm_n} patients at risk at day {landmark} are in one group "
                            f"({only}): " + ("nobody had received HCT by day "
                                             f"{landmark}." if only.startswith("no ") else
                                             "everyone at risk had received HCT.")
                            + " Choose another landmark.")
                else:
                    st.info("No events after the landmark: the groups cannot be compared.")
            tv = tv_cox(cohort_filter, spec)
            if tv is None:
                st.info("Time-dependent Cox model not estimable: no patient (or every patient) "
                        "received HCT during follow-up, or there are no events.")
            else:
                st.markdown(
                    f"**Cox model with HCT as a time-dependent covariate** (lifelines "
                    f"CoxTimeVaryingFitter): HR **{tv.hr:.2f}** (95% CI {tv.hr_lower:.2f} to "
                    f"{tv.hr_upper:.2f}), {survival.p_text(tv.p_value)}; {tv.n_patients} patients, "
                    f"{tv.n_hct} transplanted during follow-up, {tv.n_events} events "
                    f"({tv.n_events_after_hct} after HCT). Each patient counts as untransplanted until "
                    "the day of HCT.")
                if tv.n_events < 10:
                    st.info(f"Only {tv.n_events} events: the hazard ratio is imprecise.")

# --- Cox proportional hazards -------------------------------------------------------------------
with tab_cox:
    if tab_cox.open:  # only the open tab is computed
        if not components.withheld_under_suppression("the Cox model (counts per covariate level)"):
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
                    forest = survival_chart.forest_chart(
                        forest_source, title=f"{spec.endpoint_label()}: {which} hazard ratios "
                                             f"(n = {int(forest_source['n'].max())})")
                    components.show_chart(forest, stretch=False, name=f"cox_{which}",
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
                        st.markdown("**Proportional-hazards check** (Schoenfeld residuals vs rank of time; "
                                    "small p suggests the hazard ratio changes over time)")
                        st.dataframe(ph, hide_index=True)

# --- Competing risks ------------------------------------------------------------------------------
with tab_cr:
    if tab_cr.open:  # only the open tab is computed
        if not components.withheld_under_suppression("the cumulative incidence tab (small risk sets)"):
            cif = cumulative_incidence(cohort_filter, spec)
            st.caption("Aalen-Johansen cumulative incidence from the same time origin and population. "
                       "Relapse competes with death without relapse (non-relapse mortality); deaths after "
                       "induction failure without a documented relapse count as non-relapse mortality.")
            cif_figure = survival_chart.cif_chart(
                cif, title="Cumulative incidence of relapse and non-relapse mortality",
                x_title=f"Months from {survival.ORIGINS[spec.origin]}",
                subtitle=describe.split("; n =")[0] + f"; n = {n_included}")
            components.show_chart(cif_figure, name="cumulative_incidence", n_patients=n_included)
            at = pd.concat([survival_cr.cif_at(cif, m) for m in milestones], ignore_index=True)
            at["CIF, % (95% CI)"] = [
                "beyond follow-up" if pd.isna(c) else f"{100 * c:.1f} ({100 * lo:.1f} to {100 * hi:.1f})"
                for c, lo, hi in zip(at["cif"], at["ci_lower"], at["ci_upper"])]
            st.dataframe(at[["group", "cause", "months", "CIF, % (95% CI)"]], hide_index=True)
            st.download_button("Download cumulative incidence data (CSV)", safe_csv(cif),
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
            _db = state.current_database()  # the full CSV is built on click, not on every rerun
            st.download_button("Download per-patient table (CSV)",
                               lambda: safe_csv(survival.patient_table(_db, cohort_filter, spec)),
                               file_name=f"survival_{spec.endpoint.lower()}_patients.csv", mime="text/csv",
                               key="dl_patients")
