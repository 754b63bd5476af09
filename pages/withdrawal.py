import dataclasses

import streamlit as st

from analytics import cohort, withdrawal
from analytics.format import number, p_value
from analytics.views.withdrawal import (LAYOUTS, NO_COMPARISON, SINGLE_MEASUREMENT, SMALL_SAMPLES,
                                        WithdrawalSpec, kinetics, timing, trajectories)
from ui import components, state, views
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

SCALE_LABELS = {"linear": "Linear", "log": "Log"}


def _caveats(result, headings):
    """The result's caveats with these headings, where their section is on the page."""
    views.show_caveats(dataclasses.replace(result, caveats=tuple(c for c in result.caveats if c.heading in headings)))


st.title("Withdrawal")
components.withheld_under_suppression("this page (trajectories and kinetics of individual patients)", stop=True)
st.caption("Leukemia kinetics after lenalidomide was stopped: does the B-ALL, or an immature "
           "B-cell population with a B-ALL immunophenotype, regress before any B-ALL therapy?")
f = state.current_filter()
n_patients = state.cached(cohort.count_patients)(f)
components.require_patients(n_patients)

# --- view options (the page's spec: each is a URL parameter) ------------------------------------
views.bind(WithdrawalSpec)
c1, c2, c3, c4, c5 = st.columns([3, 1.2, 2.4, 1.2, 2.6])
c1.selectbox("Analyte", list(withdrawal.ANALYTE_OPTIONS), key=WithdrawalSpec.session_key("analyte"),
             format_func=withdrawal.ANALYTE_OPTIONS.get)
c2.selectbox("Specimen", withdrawal.SPECIMENS, key=WithdrawalSpec.session_key("specimen"))
c3.radio("Time axis", list(withdrawal.TIME_AXES), key=WithdrawalSpec.session_key("axis"), horizontal=True,
         format_func=lambda a: "Since lenalidomide stop" if a == "withdrawal" else "Since B-ALL diagnosis")
c4.radio("Y scale", withdrawal.SCALES, key=WithdrawalSpec.session_key("scale"), horizontal=True,
         format_func=SCALE_LABELS.get)
c5.radio("Layout", list(LAYOUTS), key=WithdrawalSpec.session_key("layout"), horizontal=True,
         format_func=lambda k: "Overlaid" if k == "overlay" else "Small multiples")

with st.expander("Regression rule (adjustable)", expanded=True, icon=":material/rule:"):
    r1, r2, r3 = st.columns(3)
    r1.number_input("Partial regression: reduction ≥ (%)", min_value=1.0, max_value=100.0, step=5.0,
                    key=WithdrawalSpec.session_key("partial"))
    r2.number_input("Progression: rise ≥ (%)", min_value=1.0, max_value=1000.0, step=5.0,
                    key=WithdrawalSpec.session_key("rise"))
    r3.number_input("Baseline: first measurement within N days after stop", min_value=0, max_value=365,
                    step=1, key=WithdrawalSpec.session_key("window"))
    spec = views.current(WithdrawalSpec)
    rule = spec.rule
    st.markdown(rule.describe())
    default_rule = withdrawal.RegressionRule()
    if rule != default_rule:
        st.info("The rule differs from the default (partial ≥ "
                f"{default_rule.partial_reduction_pct:g}%, progression ≥ "
                f"{default_rule.progression_rise_pct:g}%, baseline window "
                f"{default_rule.baseline_window_days} days).", icon=":material/tune:")

# The kinetics and timing depend on the analysis options only: drawing options never recompute them.
analysis = spec.analysis()
kin = views.compute(kinetics, f, analysis, 0)
n_series = kin.numbers["n_series"]

# --- 1. trajectories ----------------------------------------------------------------------------
st.header("1. Trajectories")
traj = views.compute(trajectories, f, spec, 0)
views.show(traj, figure=views.figure(trajectories, f, spec, 0) if traj.figure is not None else None, spec=spec)
if n_series:
    st.caption("Solid line: before B-ALL therapy; dashed: after therapy started; black ◆: first B-ALL "
               "therapy (on the patient's line, interpolated); ▼: below the limit of detection, drawn at "
               "the limit. Colour: class under the rule above.")

    # --- 2. kinetics ----------------------------------------------------------------------------
    st.header("2. Kinetics per patient")
    _caveats(kin, {SINGLE_MEASUREMENT})
    counts = kin.numbers["counts"]
    m = st.columns(5)
    m[0].metric("Regression", f"{kin.numbers['regressors']} of {kin.numbers['assessable']}",
                help="Complete or partial regression before therapy. Denominator: patients "
                     "assessable under the rule.")
    m[1].metric("Complete", counts[withdrawal.COMPLETE])
    m[2].metric("Partial", counts[withdrawal.PARTIAL])
    m[3].metric("None / progression", f"{counts[withdrawal.NONE]} / {counts[withdrawal.PROGRESSION]}")
    m[4].metric("Not assessable", counts[withdrawal.NOT_ASSESSABLE])
    table = kin.tables["kinetics"]
    shown = table.assign(
        classification=table["classification"].map(withdrawal.CLASS_LABELS),
        nadir_when=[("after therapy start" if a else "before therapy") if v == v and v is not None
                    else "–" for a, v in zip(table["overall_nadir_after_therapy"],
                                             table["overall_nadir_value"])])
    if n_series > len(shown):
        st.caption(f"Table: the first {len(shown):,} of {n_series:,} patients (default order); "
                   "the CSV download below has all of them.")
    st.dataframe(
        shown[["patient_id", "classification", "baseline_value", "nadir_value", "reduction_pct",
               "days_to_half_from_stop", "days_to_nadir_from_stop", "therapy_days_from_stop",
               "nadir_when", "max_rise_pct", "nadir_below_detection", "n_measurements", "n_assessed",
               "baseline_day", "reason", "analyte"]],
        hide_index=True, width="stretch",
        column_config={
            "patient_id": "Patient", "classification": "Class", "reason": "Why",
            "analyte": "Analyte", "n_measurements": "Measurements",
            "n_assessed": st.column_config.NumberColumn(
                "Before therapy", help="Measurements from the level at withdrawal up to (not "
                "including) the first B-ALL therapy day"),
            "baseline_day": st.column_config.NumberColumn("Baseline day", format="%+d",
                                                          help="Days from lenalidomide stop"),
            "baseline_value": st.column_config.NumberColumn("At withdrawal (%)", format="%.2f"),
            "nadir_value": st.column_config.NumberColumn("Nadir before therapy (%)", format="%.2f",
                                                         help="Below detection: the detection limit"),
            "nadir_below_detection": st.column_config.CheckboxColumn("Nadir below detection"),
            "days_to_nadir_from_stop": st.column_config.NumberColumn("Days to nadir", format="%d",
                                                                     help="From lenalidomide stop"),
            "reduction_pct": st.column_config.NumberColumn("Reduction (%)", format="%.1f"),
            "max_rise_pct": st.column_config.NumberColumn("Max rise (%)", format="%.1f"),
            "days_to_half_from_stop": st.column_config.NumberColumn(
                "Days to 50% (interpolated)", format="%.1f",
                help="Linear interpolation between the bracketing measurements, from the stop day; "
                     "below-detection values at the detection limit; None = not reached before therapy"),
            "therapy_days_from_stop": st.column_config.NumberColumn(
                "B-ALL therapy day", format="%+d", help="Days from lenalidomide stop; None = no B-ALL therapy"),
            "nadir_when": st.column_config.TextColumn(
                "Lowest level overall", help="When the lowest level after withdrawal, including "
                "after therapy, was reached: after therapy start = response to therapy"),
        })
    st.caption("Days are counted from the lenalidomide stop day (end of the last course). "
               "Below-detection values are taken at the detection limit.")
    _db = state.current_database()  # the CSV is built on click (every patient), not on every rerun
    views.csv_download("Download kinetics (CSV)",
                       lambda: withdrawal.kinetics_table(_db, f, spec.analyte, spec.specimen, rule),
                       file_name=f"withdrawal_kinetics_{spec.analyte}_{spec.specimen}.csv", key="dl_wd_kinetics",
                       page=spec.PAGE, title=kin.title, result=kin)
    views.reproduce_downloads(kin, analysis)  # the kinetics table and the who-regresses tests below

    # --- 3. who regresses -----------------------------------------------------------------------
    st.header("3. Who regresses")
    _caveats(kin, {SMALL_SAMPLES, NO_COMPARISON})
    cont, cat = kin.tables["continuous"], kin.tables["categorical"]
    if not any(c.heading == NO_COMPARISON for c in kin.caveats):
        cont_shown = cont.assign(
            regressors=[f"{number(md)} ({rg}), n={n}" for md, rg, n in
                        zip(cont.median_regressors, cont.range_regressors, cont.n_regressors)],
            others=[f"{number(md)} ({rg}), n={n}" for md, rg, n in
                    zip(cont.median_others, cont.range_others, cont.n_others)],
            U=[number(u, 1) for u in cont.U], p=[p_value(p) for p in cont.p_value])
        approximate = cont["test"].str.contains("approximation").any()
        st.markdown("**Continuous**: median (range); " + (
            f"two-sided Mann-Whitney U, exact up to {withdrawal.EXACT_MWU_MAX} patients per group, "
            "normal approximation (tie-corrected) above." if approximate else
            "exact two-sided Mann-Whitney U."))
        st.dataframe(cont_shown[["feature", "regressors", "others", "U", "p", "not_evaluated"]],
                     hide_index=True, width="stretch",
                     column_config={"feature": "Feature", "regressors": "Regressors",
                                    "others": "Others (none / progression)",
                                    "p": "p (approximate)" if approximate else "p (exact)",
                                    "not_evaluated": "Not evaluated"})
        cat_shown = cat.assign(
            regressors=[f"{a}/{n}" for a, n in zip(cat.regressors_positive, cat.regressors_evaluable)],
            others=[f"{a}/{n}" for a, n in zip(cat.others_positive, cat.others_evaluable)],
            OR=[number(o, 2) for o in cat.sample_odds_ratio], p=[p_value(p) for p in cat.p_value])
        st.markdown("**Categorical**: positive / evaluable; two-sided Fisher exact test among "
                    "evaluable patients (not evaluated are excluded, never counted as negative).")
        st.dataframe(cat_shown[["feature", "regressors", "others", "OR", "p", "not_evaluated"]],
                     hide_index=True, width="stretch",
                     column_config={"feature": "Feature", "regressors": "Regressors",
                                    "others": "Others (none / progression)",
                                    "OR": "Odds ratio (sample)", "p": "p (exact)",
                                    "not_evaluated": "Not evaluated"})

# --- 4. timing ----------------------------------------------------------------------------------
st.header("4. Withdrawal timing across the cohort")
when = views.compute(timing, f, analysis, 0)
views.show(when, figure=views.figure(timing, f, analysis, 0) if when.figure is not None else None,
           spec=analysis)

# --- 5. links -----------------------------------------------------------------------------------
st.header("5. Patient pages")
filter_params = f.to_query_params()
numbers = kin.numbers
groups = [("With serial measurements (class under the rule)", numbers["with_series"], numbers["n_series"], 4, True),
          ("Without serial measurements", numbers["without_series"], numbers["n_without_series"], 6, False)]
for heading, pairs, total, n_columns, labelled in groups:
    if not pairs:
        continue
    st.markdown(f"**{heading}** ({total})")
    if len(pairs) < total:
        st.caption(f"Showing the first {len(pairs):,} of {total:,} patients (default order).")
    columns = st.columns(n_columns)
    for i, (pid, label) in enumerate(pairs):
        columns[i % len(columns)].page_link("pages/patient.py", label=md_escape(f"{pid} · {label}" if labelled else pid),
                                            icon=":material/person:",
                                            query_params={"patient": pid, **filter_params})
