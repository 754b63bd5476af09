import streamlit as st

from analytics import cohort, withdrawal
from analytics.export import safe_csv
from ui import components, figures, state
from ui.url import choice_parser, url_option
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

page_view = state.cached(withdrawal.page_view)  # screen-sized: counts, tests, capped tables
count_patients = state.cached(cohort.count_patients)
trajectory_figure = figures.cached_figure(withdrawal.trajectory_figure)
timing_figure = figures.cached_figure(withdrawal.timing_figure)

LAYOUTS = {"overlay": "All patients overlaid", "facet": "Small multiples (one panel per patient)"}
SCALE_LABELS = {"linear": "Linear", "log": "Log"}


def _bounded(low: float, high: float, cast=float):
    def parse(raw):
        value = cast(raw if isinstance(raw, str) else raw[0])
        if not low <= value <= high:
            raise ValueError(raw)
        return value
    return parse


PATIENTS_DRAWN_MAX = withdrawal.PATIENTS_DRAWN_MAX  # per-patient charts and links: the first N (kinetics table: first withdrawal.TABLE_ROWS_MAX)


def _first_note(shown: int, total: int) -> str:
    """A note when some patients are left out (registry-size cohorts)."""
    return "" if shown >= total else f"Showing the first {shown:,} of {total:,} patients (default order)."


def _num(x, digits=1, suffix=""):
    return "–" if x is None or x != x else f"{x:.{digits}f}{suffix}"


st.title("Withdrawal")
components.withheld_under_suppression("this page (trajectories and kinetics of individual patients)", stop=True)
st.caption("Leukemia kinetics after lenalidomide was stopped: does the B-ALL, or an immature "
           "B-cell population with a B-ALL immunophenotype, regress before any B-ALL therapy?")
f = state.current_filter()
n_patients = count_patients(f)
components.require_patients(n_patients)

# --- view options (each is a URL parameter) ---------------------------------------------------
url_option("wd_analyte", withdrawal.LEUKEMIC, parse=choice_parser(list(withdrawal.ANALYTE_OPTIONS)))
url_option("wd_specimen", "marrow", parse=choice_parser(withdrawal.SPECIMENS))
url_option("wd_axis", "withdrawal", parse=choice_parser(list(withdrawal.TIME_AXES)))
url_option("wd_scale", "linear", parse=choice_parser(withdrawal.SCALES))
url_option("wd_layout", "overlay", parse=choice_parser(list(LAYOUTS)))
default_rule = withdrawal.RegressionRule()
url_option("wd_partial", default_rule.partial_reduction_pct, parse=_bounded(1, 100),
           serialize=lambda v: f"{v:g}")
url_option("wd_rise", default_rule.progression_rise_pct, parse=_bounded(1, 1000),
           serialize=lambda v: f"{v:g}")
url_option("wd_window", default_rule.baseline_window_days, parse=_bounded(0, 365, int))

c1, c2, c3, c4, c5 = st.columns([3, 1.2, 2.4, 1.2, 2.6])
analyte = c1.selectbox("Analyte", list(withdrawal.ANALYTE_OPTIONS), key="wd_analyte",
                       format_func=withdrawal.ANALYTE_OPTIONS.get)
specimen = c2.selectbox("Specimen", withdrawal.SPECIMENS, key="wd_specimen")
axis = c3.radio("Time axis", list(withdrawal.TIME_AXES), key="wd_axis", horizontal=True,
                format_func=lambda a: "Since lenalidomide stop" if a == "withdrawal" else "Since B-ALL diagnosis")
scale = c4.radio("Y scale", withdrawal.SCALES, key="wd_scale", horizontal=True,
                 format_func=SCALE_LABELS.get)
layout = c5.radio("Layout", list(LAYOUTS), key="wd_layout", horizontal=True,
                  format_func=lambda k: "Overlaid" if k == "overlay" else "Small multiples")

with st.expander("Regression rule (adjustable)", expanded=True, icon=":material/rule:"):
    r1, r2, r3 = st.columns(3)
    partial = r1.number_input("Partial regression: reduction ≥ (%)", min_value=1.0, max_value=100.0,
                              step=5.0, key="wd_partial")
    rise = r2.number_input("Progression: rise ≥ (%)", min_value=1.0, max_value=1000.0, step=5.0,
                           key="wd_rise")
    window = r3.number_input("Baseline: first measurement within N days after stop", min_value=0,
                             max_value=365, step=1, key="wd_window")
    rule = withdrawal.RegressionRule(partial_reduction_pct=float(partial),
                                     progression_rise_pct=float(rise),
                                     baseline_window_days=int(window))
    st.markdown(rule.describe())
    if rule != default_rule:
        st.info("The rule differs from the default (partial ≥ "
                f"{default_rule.partial_reduction_pct:g}%, progression ≥ "
                f"{default_rule.progression_rise_pct:g}%, baseline window "
                f"{default_rule.baseline_window_days} days).", icon=":material/tune:")

analyte_text = withdrawal.ANALYTE_OPTIONS[analyte]
view = page_view(f, analyte, specimen, rule)
n_series = view.n_series

# --- 1. trajectories ----------------------------------------------------------------------------
st.header("1. Trajectories")
if n_series == 0:
    st.info(f"None of the {n_patients} selected patient(s) has serial measurements of "
            f"**{analyte_text}** in {specimen}: there are no trajectories or kinetics to "
            "show. Choose another analyte, or widen the cohort filters. The withdrawal timing "
            "below still covers every selected patient.", icon=":material/timeline:")
else:
    st.markdown(f"**{n_series} of {n_patients} selected patients** have measurements of "
                f"{analyte_text} ({specimen}).")
    components.show_chart(trajectory_figure(f, analyte, specimen, rule, axis, scale, layout == "facet"))
    drawn_note = _first_note(PATIENTS_DRAWN_MAX, n_series)
    if drawn_note:
        st.info(drawn_note + " The kinetics counts and tests below use every patient.",
                icon=":material/timeline:")
    dropped = view.n_nonpositive_drawn if scale == "log" else 0
    st.caption(
        "Solid line: before B-ALL therapy; dashed: after therapy started; black ◆: first B-ALL "
        "therapy (on the patient's line, interpolated); ▼: below the limit of detection, drawn at "
        "the limit. Colour: class under the rule above."
        + (f" {dropped} value(s) of 0 cannot be drawn on a log scale and are omitted." if dropped else ""))

    # --- 2. kinetics ----------------------------------------------------------------------------
    st.header("2. Kinetics per patient")
    counts = view.counts
    assessable, regressors = view.assessable, view.regressors
    if view.n_single:
        listed = ", ".join(map(md_escape, view.single_ids)) + (
            f" and {view.n_single - len(view.single_ids):,} more" if view.n_single > len(view.single_ids) else "")
        st.info(f"A single measurement only: {listed}. A trajectory needs at least "
                f"{rule.min_measurements} measurements, so these patients are not assessable and "
                "in neither group below.", icon=":material/info:")
    m = st.columns(5)
    m[0].metric("Regression", f"{regressors} of {assessable}",
                help="Complete or partial regression before therapy. Denominator: patients "
                     "assessable under the rule.")
    m[1].metric("Complete", counts[withdrawal.COMPLETE])
    m[2].metric("Partial", counts[withdrawal.PARTIAL])
    m[3].metric("None / progression", f"{counts[withdrawal.NONE]} / {counts[withdrawal.PROGRESSION]}")
    m[4].metric("Not assessable", counts[withdrawal.NOT_ASSESSABLE])
    table = view.kinetics_head
    shown = table.assign(
        classification=table["classification"].map(withdrawal.CLASS_LABELS),
        nadir_when=[("after therapy start" if a else "before therapy") if v == v and v is not None
                    else "–" for a, v in zip(table["overall_nadir_after_therapy"],
                                             table["overall_nadir_value"])])
    if view.n_series > len(shown):
        st.caption(f"Table: the first {len(shown):,} of {view.n_series:,} patients (default order); "
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
    st.download_button("Download kinetics (CSV)",
                       lambda: safe_csv(withdrawal.kinetics_table(_db, f, analyte, specimen, rule)),
                       file_name=f"withdrawal_kinetics_{analyte}_{specimen}.csv", mime="text/csv",
                       icon=":material/download:", key="dl_wd_kinetics")

    # --- 3. who regresses -----------------------------------------------------------------------
    st.header("3. Who regresses")
    cont, cat = view.continuous, view.categorical
    n_others = assessable - regressors
    if regressors == 0 or n_others == 0:
        st.info(f"A comparison needs both groups: {regressors} regressor(s) and {n_others} "
                "assessable non-regressor(s) under the current rule and filters.",
                icon=":material/compare_arrows:")
    else:
        st.warning(f"Small samples: {regressors} regressors vs {n_others} assessable others "
                   f"({counts[withdrawal.NOT_ASSESSABLE]} not assessable, in neither group). "
                   "Exact tests have little power here; p-values describe this cohort and are "
                   "not adjusted for multiple comparisons.", icon=":material/warning:")
        cont_shown = cont.assign(
            regressors=[f"{_num(md)} ({rg}), n={n}" for md, rg, n in
                        zip(cont.median_regressors, cont.range_regressors, cont.n_regressors)],
            others=[f"{_num(md)} ({rg}), n={n}" for md, rg, n in
                    zip(cont.median_others, cont.range_others, cont.n_others)],
            U=[_num(u, 1) for u in cont.U], p=[_num(p, 3) for p in cont.p_value])
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
            OR=[_num(o, 2) for o in cat.odds_ratio], p=[_num(p, 3) for p in cat.p_value])
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
st.markdown(f"Lenalidomide stop day relative to B-ALL diagnosis for **{view.n_with_stop} of "
            f"{view.n_patients} selected patients** (negative: stopped before diagnosis).")
if view.n_with_stop:
    components.show_chart(timing_figure(f, analyte, specimen, rule))
    timing_note = _first_note(PATIENTS_DRAWN_MAX, view.n_with_stop)
    if timing_note:
        st.caption(timing_note)
if view.n_with_stop < view.n_patients:
    st.caption(f"{view.n_patients - view.n_with_stop} patient(s) without a recorded lenalidomide stop "
               "day are not drawn.")

# --- 5. links -----------------------------------------------------------------------------------
st.header("5. Patient pages")
filter_params = f.to_query_params()
groups = [("With serial measurements (class under the rule)", view.with_series, view.n_series, 4, True),
          ("Without serial measurements", view.without_series, view.n_without_series, 6, False)]
for heading, pairs, total, n_columns, labelled in groups:
    if not pairs:
        continue
    st.markdown(f"**{heading}** ({total})")
    links_note = _first_note(len(pairs), total)
    if links_note:
        st.caption(links_note)
    columns = st.columns(n_columns)
    for i, (pid, label) in enumerate(pairs):
        columns[i % len(columns)].page_link("pages/patient.py", label=md_escape(f"{pid} · {label}" if labelled else pid),
                                            icon=":material/person:",
                                            query_params={"patient": pid, **filter_params})
