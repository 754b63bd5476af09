"""Scripts that reproduce the survival page's HCT analyses without immortal-time bias: the
landmark analysis, the landmark sensitivity table, the Simon-Makuch plot and the Cox model with
HCT as a time-dependent covariate (lifelines: KaplanMeierFitter with delayed entry, CoxPHFitter,
CoxTimeVaryingFitter, log-rank tests)."""
from __future__ import annotations

from analytics import survival
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, preamble, register
from analytics.reproduce.survival import (CONSTANTS, formats, KM_CONSTANTS, KM_IMPORTS, KM_TABLE,
                                          km_figure_cell, only_if, patients_cell)
from analytics.views import survival as views
from analytics.views.survival import SurvivalPageSpec

BASE_IMPORTS = ["import duckdb", "import numpy as np", "import pandas as pd"]
COX_IMPORTS = ["from lifelines import CoxPHFitter", "from lifelines.exceptions import ConvergenceError"]
COX_FIT_OPTIONS = """
# lifelines' default stopping rule (damped Newton steps, precision 1e-7) can stop before the
# estimate has settled: with few events and large hazard ratios a CI limit then moves in the
# second decimal. Iterating to convergence gives the page's numbers.
FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-14}
"""

# The landmark set: patients still at risk at the day, grouped by HCT on or before it, time restarted.
LANDMARK_SET = '''
def landmark_set(day):
    """Patients alive and event-free at `day` from time zero, grouped by HCT on or before that day
    (later transplants count as no HCT), time restarted at the landmark."""
    at_risk = analysed[analysed["time_days"] > day].copy()
    transplanted = at_risk["hct_day"].notna() & (at_risk["hct_day"] - at_risk["origin_day"] <= day)
    at_risk["group"] = np.where(transplanted, f"HCT by day {day}", f"no HCT by day {day}")
    at_risk["time_days"] = at_risk["time_days"] - day
    return at_risk
'''

# A one-term Cox model (Efron ties, Wald CI) or None where the app says "not estimable".
HAZARD_RATIO = '''
def hazard_ratio(fit_model):
    """(HR, lower, upper, p) of a one-term Cox fit (Efron ties, Wald 95% CI), or None when not
    estimable: the fit fails, or a monotone likelihood sends the estimate towards 0 or infinity."""
    try:
        row = fit_model().summary.iloc[0]
    except (ConvergenceError, np.linalg.LinAlgError, ValueError):
        return None
    if abs(row["coef"]) > 10 and row["se(coef)"] > 50:
        return None
    return (row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"], row["p"])


def hr_text(hr):
    return f"HR {hr[0]:.2f} (95% CI {hr[1]:.2f} to {hr[2]:.2f}), {p_text(hr[3])}"
'''


def _start(title: str, provenance: Provenance, spec: SurvivalPageSpec, db: CohortDatabase,
           cohort_filter: CohortFilter, imports: list[str], constants: str,
           extra_columns: tuple[str, ...] = ("hct_day",)) -> str:
    """Preamble and the patients of an HCT script (each patient's HCT day beside the endpoint)."""
    analysis = spec.analysis(db)
    return preamble(title, provenance, imports, constants) + patients_cell(cohort_filter, analysis, extra_columns,
                                                                           grouped=False)


@register("survival.landmark")
def landmark_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                    provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    day = spec.landmark
    title = f"Survival: landmark analysis of HCT at day {day} ({analysis.endpoint_label()})"
    return _start(title, provenance, spec, db, cohort_filter, [*KM_IMPORTS, "import numpy as np"], KM_CONSTANTS + f"""
LANDMARK_DAY = {day}  # days from time zero
MILESTONES_MONTHS = {tuple(spec.milestone_months())!r}  # from the landmark
""") + f'''
# %% 3. The landmark set and Kaplan-Meier per HCT group from the landmark (lifelines)
{formats("months", "pct", "p_text", "patients_text")}


{KM_TABLE.strip()}


{LANDMARK_SET.strip()}


landmark = landmark_set(LANDMARK_DAY)
n, events = len(landmark), int(landmark["event"].sum())
curves = km_table(landmark, MILESTONES_MONTHS)

# %% 4. Log-rank test between the two groups, or why there is none
groups = sorted(landmark["group"].unique())
if n == 0:
    print(f"No patient is still at risk at day {{LANDMARK_DAY}}: choose an earlier landmark.")
elif len(groups) >= 2 and events > 0:
    test = multivariate_logrank_test(landmark["time_days"], landmark["group"], landmark["event"])
    print(f"Landmark log-rank test: chi-square {{test.test_statistic:.2f}}, df 1, {{p_text(test.p_value)}}.")
elif len(groups) < 2:
    print(f"All {{patients_text(n)}} at risk at day {{LANDMARK_DAY}} are in one group ({{groups[0]}}): "
          + (f"nobody had received HCT by day {{LANDMARK_DAY}}." if groups[0].startswith("no ")
             else "everyone at risk had received HCT.") + " Choose another landmark.")
else:
    print("No events after the landmark: the groups cannot be compared.")
if 0 < n and events < 10:
    print(f"Few events: only {{events}} events after the landmark: estimates are imprecise.")
''' + only_if("n > 0", km_figure_cell(
        f"Landmark analysis at day {day}: {analysis.endpoint_label()}", f"{analysis.endpoint_label()} (%)",
        f"Months after day {day}", f"landmark_day{day}", 5), "nobody at risk: nothing to draw")


@register("survival.landmark_sensitivity")
def landmark_sensitivity_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                                provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    title = f"Survival: landmark sensitivity of HCT ({analysis.endpoint_label()})"
    imports = [*BASE_IMPORTS, "import altair as alt", *COX_IMPORTS,
               "from lifelines.statistics import multivariate_logrank_test"]
    return _start(title, provenance, spec, db, cohort_filter, imports, CONSTANTS + COX_FIT_OPTIONS + f"""
LANDMARK_DAYS = {spec.landmark_days()!r}  # days from time zero
""") + f'''
# %% 3. At each landmark: patients at risk, HCT by then, log-rank test and Cox HR (Efron ties, lifelines)
{formats("p_text")}


{LANDMARK_SET.strip()}


{HAZARD_RATIO.strip()}


rows = []
for day in LANDMARK_DAYS:
    landmark = landmark_set(day)
    yes, no = f"HCT by day {{day}}", f"no HCT by day {{day}}"
    landmark["hct"] = (landmark["group"] == yes).astype(float)
    both = landmark["group"].nunique() == 2 and landmark["event"].sum() > 0
    p = "n/a"
    hr = None
    if both:
        p = p_text(multivariate_logrank_test(landmark["time_days"], landmark["group"], landmark["event"]).p_value)
        p = p.removeprefix("p = ").removeprefix("p ")
        hr = hazard_ratio(lambda: CoxPHFitter().fit(landmark[["time_days", "event", "hct"]], "time_days", "event",
                                                     fit_options=FIT_OPTIONS))
    rows.append({{"Landmark day": day, "At risk": len(landmark), "Events after": int(landmark["event"].sum()),
                 "HCT by then": int((landmark["group"] == yes).sum()),
                 "No HCT by then": int((landmark["group"] == no).sum()), "Log-rank p": p,
                 "HR (95% CI), HCT vs none": "not estimable" if hr is None else
                 f"{{hr[0]:.2f}} ({{hr[1]:.2f}} to {{hr[2]:.2f}})", "hr": hr}})
table = pd.DataFrame(rows)
print("\\t".join(table.columns[:-1]))
for row in rows:
    print("\\t".join(str(row[c]) for c in table.columns[:-1]))
for row in rows:
    print(f"Day {{row['Landmark day']}}: {{row['At risk']}} at risk ({{row['HCT by then']}} transplanted), "
          f"{{row['Events after']}} events; HR {{row['HR (95% CI), HCT vs none']}}")

# %% 4. Does the answer move? Direction (HR below 1) or significance (upper limit below 1) changing
estimable = [row["hr"] for row in rows if row["hr"] is not None]
below = [hr[0] < 1 for hr in estimable]
significant = [hr[2] < 1 for hr in estimable]
if len(estimable) >= 2 and (len(set(below)) > 1 or len(set(significant)) > 1):
    print("The answer depends on the landmark: the direction or the significance of the HCT comparison "
          "changes between landmark days; report all of them.")
# %% 5. The figure: hazard ratio per landmark day (log scale), saved beside the script as PNG
if estimable:  # no hazard ratio estimable: nothing to draw
    forest = pd.DataFrame([{{"term": f"Landmark day {{row['Landmark day']}}", "hr": row["hr"][0],
                            "lower": row["hr"][1], "upper": row["hr"][2]}} for row in rows if row["hr"] is not None])
    x_scale = alt.Scale(type="log")
    chart = (alt.Chart(forest).mark_rule().encode(x=alt.X("lower:Q", scale=x_scale, title="Hazard ratio (95% CI, log scale)"),
                                                  x2="upper:Q", y=alt.Y("term:N", title=None))
             + alt.Chart(forest).mark_point(filled=True, size=80).encode(x=alt.X("hr:Q", scale=x_scale), y="term:N")
             + alt.Chart(pd.DataFrame({{"one": [1.0]}})).mark_rule(strokeDash=[4, 4]).encode(x="one:Q")
             ).properties(width=560, height=max(70 * len(forest), 140),
                          title="HCT by the landmark vs none: {analysis.endpoint_label()}")
    chart.save("landmark_sensitivity.png")
    print("Figure: landmark_sensitivity.png")
'''


@register("survival.time_dependent_hct")
def time_dependent_hct_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                              provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    title = f"Survival: HCT as a time-dependent covariate ({analysis.endpoint_label()})"
    return _start(title, provenance, spec, db, cohort_filter,
                  [*BASE_IMPORTS, *COX_IMPORTS, "from lifelines import CoxTimeVaryingFitter"],
                  CONSTANTS + COX_FIT_OPTIONS) + f'''
# %% 3. Counting-process rows: untransplanted time (0, HCT day], transplanted time (HCT day, end]
# A transplant at or before time zero makes the patient transplanted throughout; one on or after
# the end of follow-up is ignored; patients without follow-up time contribute nothing.
{formats("p_text", "patients_text")}


{HAZARD_RATIO.strip()}


followed = analysed[analysed["time_days"] > 0].copy()
followed["hct_time"] = (followed["hct_day"] - followed["origin_day"]).astype(float)  # NaN: no HCT
splits = followed["hct_time"].gt(0) & followed["hct_time"].lt(followed["time_days"])
before = followed[splits].assign(start=0.0, stop=followed["hct_time"], hct=0, event=0)
after = followed[splits].assign(start=followed["hct_time"], stop=followed["time_days"], hct=1)
whole = followed[~splits].assign(start=0.0, stop=followed["time_days"],
                                 hct=followed["hct_time"].le(0).astype(int))
intervals = pd.concat([before, after, whole])[["patient_id", "start", "stop", "hct", "event"]]
n_hct = int(followed["hct_time"].lt(followed["time_days"]).sum())
events = int(intervals["event"].sum())
events_after = int(intervals.loc[intervals["hct"] == 1, "event"].sum())

# %% 4. Cox model with HCT as a time-dependent covariate (lifelines CoxTimeVaryingFitter, Efron ties)
hr = None
if events > 0 and intervals["hct"].nunique() == 2:
    hr = hazard_ratio(lambda: CoxTimeVaryingFitter().fit(intervals, id_col="patient_id", event_col="event",
                                                        start_col="start", stop_col="stop",
                                                        fit_options=FIT_OPTIONS))
if hr is None:
    print("Time-dependent Cox model not estimable: no patient (or every patient) received HCT "
          "during follow-up, there are no events, or no events before or after HCT (the hazard "
          "ratio would be 0 or infinite).")
else:
    print(f"{{hr_text(hr)}}; {{patients_text(len(followed))}}, {{n_hct}} transplanted during follow-up, "
          f"{{events}} events ({{events_after}} after HCT).")

# %% 5. For comparison only: the naive "HCT ever" Cox model from time zero (biased by immortal time)
if hr is not None:  # the naive model is shown only beside the time-dependent one
    # Patients with HCT not recorded ("not evaluated") are left out of this comparison.
    naive = con.execute("""
        SELECT patient_id, hct
        FROM patient_summary
        WHERE hct IS NOT NULL  -- {views.GROUP_LABELS["hct"]}: yes / no
    """).df().merge(analysed, on="patient_id")
    naive["hct"] = naive["hct"].astype(float)
    naive_hr = None
    if naive["hct"].nunique() == 2 and naive["event"].sum() > 0:
        naive_hr = hazard_ratio(lambda: CoxPHFitter().fit(naive[["time_days", "event", "hct"]], "time_days", "event",
                                                            fit_options=FIT_OPTIONS))
    if naive_hr is not None:
        print(f"For comparison only, the naive 'HCT ever' Cox model from time zero: {{hr_text(naive_hr)}}: "
              "biased by immortal time, not an estimate of the effect of HCT.")
        print("Immortal-time bias: the naive 'HCT ever' hazard ratio is shown only beside the time-dependent "
              "one, to show the size of the bias.")
    if events < 10:
        print(f"Few events: only {{events}} events: the hazard ratio is imprecise.")
'''


MONTH_TICKS = '''
def month_ticks(max_months):
    """The figure's x ticks (months), shared by the number-at-risk table: at most about ten."""
    span = max_months if math.isfinite(max_months) and max_months > 1.0 else 1.0
    step = next((s for s in (3, 6, 12, 24, 36, 60) if span / s <= 10), 60 * math.ceil(span / 600))
    return [float(x) for x in np.arange(0, span + 1e-9, step)]
'''


@register("survival.simon_makuch")
def simon_makuch_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                        provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    key = views.SIMON_MAKUCH_EXPOSURE.get(spec.group, "hct")
    column, label, before, after = {"hct": ("hct_day", "allogeneic HCT", "no HCT (yet)", "after HCT"),
                                    "cr": ("first_cr_day", "first CR/CRi", "before CR/CRi", "after CR/CRi")}[key]
    title = f"Survival: Simon-Makuch plot of {analysis.endpoint_label()} by {label}"
    imports = ["import math", *BASE_IMPORTS, "import altair as alt", "from lifelines import KaplanMeierFitter"]
    return _start(title, provenance, spec, db, cohort_filter, imports, CONSTANTS + f"""
EXPOSURE = {label!r}  # the day it happens: patient_summary.{column}
BEFORE, AFTER = {before!r}, {after!r}  # the two states
""", extra_columns=(column,)) + f'''
# %% 3. Each patient's time in each state: '{before}' from time zero until {label}, '{after}' from then on
# An exposure at or before time zero puts the patient in '{after}' throughout; one on or after the end
# of follow-up is ignored; patients without follow-up time contribute nothing.
{formats("pct", "patients_text")}


{MONTH_TICKS.strip()}


followed = analysed[analysed["time_days"] > 0].copy()
followed["switch"] = (followed["{column}"] - followed["origin_day"]).astype(float)  # NaN: never
switches = followed["switch"].gt(0) & followed["switch"].lt(followed["time_days"])  # during follow-up
from_start = followed["switch"].le(0)  # at or before time zero
never = ~switches & ~from_start
switched, exposed, unexposed = followed[switches], followed[from_start], followed[never]
states = {{
    BEFORE: pd.concat([
        # leaving '{before}' by switching ends the interval without an event (and is not a censoring)
        pd.DataFrame({{"start": 0.0, "stop": switched["switch"], "event": 0}}),
        pd.DataFrame({{"start": 0.0, "stop": unexposed["time_days"], "event": unexposed["event"]}})]),
    AFTER: pd.concat([
        pd.DataFrame({{"start": switched["switch"], "stop": switched["time_days"], "event": switched["event"]}}),
        pd.DataFrame({{"start": 0.0, "stop": exposed["time_days"], "event": exposed["event"]}})]),
}}
states = {{name: rows.astype(float) for name, rows in states.items() if len(rows)}}
events = int(followed["event"].sum())
events_after = int(states[AFTER]["event"].sum()) if AFTER in states else 0
print(f"n = {{patients_text(len(followed))}}, {{len(switched) + len(exposed)}} with {{EXPOSURE}} "
      f"during follow-up, {{events}} events ({{events_after}} after {{EXPOSURE}}).")
print(f"How to read it: the curves compare survival while in each state; they do not estimate what "
      f"{{EXPOSURE}} does for a given patient, and the '{{AFTER}}' curve at early times rests on the few "
      f"patients with an early {{EXPOSURE}}.")
# %% 4. Product-limit estimate per state with delayed entry (lifelines), log(-log) Greenwood 95% CI
if states:  # nobody with follow-up time: nothing to estimate
    # Days are whole numbers. lifelines counts a patient at risk on the day of entry, but on the day of
    # the switch the patient still belongs to '{before}' (intervals are (start, stop]): entering half
    # a day later puts them in the '{after}' risk set from the next day, without counting them twice.
    fits = {{}}
    for name, rows in states.items():
        entry = np.where(rows["start"] > 0, rows["start"] + 0.5, 0.0)
        fits[name] = KaplanMeierFitter().fit(rows["stop"], rows["event"], entry=entry, label=name)
    ticks = month_ticks(max(rows["stop"].max() for rows in states.values()) / DAYS_PER_MONTH)
    print("Number at risk")
    print("\\t".join(["State"] + [f"{{tick:g}}" for tick in ticks]))


    def in_state(rows, t):
        """Patients in the state at day t: entered before t (at time zero: started in it), not yet left."""
        entered = rows["start"] <= t if t == 0 else rows["start"] < t
        return int((entered & (rows["stop"] >= t)).sum())


    at_risk = {{}}
    for name, rows in states.items():
        at_risk[name] = [in_state(rows, tick * DAYS_PER_MONTH) for tick in ticks]
        print("\\t".join([name] + [str(n) for n in at_risk[name]]))
    print("Survival, % (95% CI), at the same ticks (n/a: nobody at risk in that state)")
    print("\\t".join(["State"] + [f"{{tick:g}}" for tick in ticks]))
    for name, km in fits.items():
        cells = []
        for tick, n in zip(ticks, at_risk[name]):
            t = tick * DAYS_PER_MONTH
            upto = km.survival_function_.join(km.confidence_interval_).loc[lambda f: f.index <= t]
            s, lower, upper = upto.iloc[-1] if len(upto) else (1.0, 1.0, 1.0)
            if s >= 1:  # no drop yet: the interval is the point itself
                lower = upper = 1.0
            cells.append("n/a" if n == 0 else f"{{pct(s)}} ({{pct(lower)}} to {{pct(upper)}})")
        print("\\t".join([name] + cells))
    curves = pd.concat([km.survival_function_.join(km.confidence_interval_).reset_index()
                        .set_axis(["time_days", "survival", "lower", "upper"], axis=1).assign(group=name)
                        for name, km in fits.items()], ignore_index=True)
    curves[["lower", "upper"]] = curves[["lower", "upper"]].fillna(1.0)  # before the first drop
''' + only_if("states", km_figure_cell(
        title.removeprefix("Survival: "), f"{analysis.endpoint_label()} (%)",
        f"Months from {survival.ORIGINS[analysis.origin]}", f"simon_makuch_{analysis.endpoint.lower()}", 5,
        risk_table=True), "nothing to draw")
