"""Scripts that reproduce the survival page's Kaplan-Meier view (lifelines, no app code)."""
from __future__ import annotations

from analytics import survival
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.reproduce import Provenance, cohort_where, inline, preamble, register
from analytics.views.survival import SurvivalPageSpec, endpoint_sentence


def _selection_sql(cohort_filter: CohortFilter, analysis: survival.SurvivalSpec) -> str:
    """The view's patients and endpoint as one readable SELECT (parameters written as literals)."""
    group_sql = inline(*survival.group_expression(analysis))
    columns = analysis.event_columns
    event_day = columns[0] if len(columns) == 1 else f"least({', '.join(columns)})"
    origin = "0" if analysis.origin == "diagnosis" else "first_treatment_day"
    population = "TRUE" if analysis.population == "all" else "treated"
    return f"""SELECT patient_id,
           {group_sql} AS "group",
           {origin} AS origin_day,               -- time zero: {survival.ORIGINS[analysis.origin]}
           {event_day} AS event_day,   -- first counted event
           last_contact_day
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND {population}                       -- population: {survival.POPULATIONS[analysis.population].lower()}"""


@register("survival.km")
def km_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
              provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    title = f"Survival: {analysis.endpoint_label()}" + (f" by {analysis.group_label()}" if analysis.group else "")
    milestones = spec.milestone_months()
    return preamble(title, provenance, [
        "import math", "import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd",
        "from lifelines import KaplanMeierFitter", "from lifelines.statistics import multivariate_logrank_test",
        "from lifelines.utils import median_survival_times"], f"""
DAYS_PER_MONTH = 30.4375
MILESTONES_MONTHS = {tuple(milestones)!r}
NOT_EVALUATED = {NOT_EVALUATED!r}
GROUPED = {analysis.group is not None}  # a grouping was chosen: test the groups
""") + f'''
# %% 2. The view's patients and endpoint
# {endpoint_sentence(analysis)}
patients = con.execute("""
    {_selection_sql(cohort_filter, analysis)}
""").df()
patients["end_day"] = patients["event_day"].fillna(patients["last_contact_day"])
patients["time_days"] = patients["end_day"] - patients["origin_day"]
patients["event"] = patients["event_day"].notna().astype(int)
# Not analysed: no time origin (never treated), no follow-up recorded, or the end before time zero.
analysed = patients[patients["origin_day"].notna() & patients["end_day"].notna()
                    & (patients["time_days"] >= 0)].copy()
print(f"n = {{len(analysed)}}, {{int(analysed['event'].sum())}} events; "
      f"{{len(patients) - len(analysed)}} not analysed")

# %% 3. Kaplan-Meier per group: median and milestones with log(-log) Greenwood 95% CIs (lifelines)
def months(days):
    return "n/a" if days is None or math.isnan(days) else "NR" if math.isinf(days) else f"{{days / DAYS_PER_MONTH:.1f}}"


def pct(x):
    return f"{{100 * x:.1f}}"


groups = sorted(analysed["group"].unique(), key=lambda g: (g == NOT_EVALUATED, str(g)))
print("\\t".join(["Group", "N", "Events", "Median, months", "95% CI"]
                + [f"{{m:g}} months, % (95% CI)" for m in MILESTONES_MONTHS] + ["Median follow-up, months"]))
curves = []
for group in groups:
    part = analysed[analysed["group"] == group]
    km = KaplanMeierFitter().fit(part["time_days"], part["event"], label=str(group))
    median = float(km.median_survival_time_)
    ci = median_survival_times(km.confidence_interval_)
    row = [str(group), str(len(part)), str(int(part["event"].sum())),
           "not reached" if math.isinf(median) else months(median),
           f"{{months(float(ci.iloc[0, 0]))}} to {{months(float(ci.iloc[0, 1]))}}"]
    for m in MILESTONES_MONTHS:
        t = m * DAYS_PER_MONTH
        s = float(km.survival_function_at_times(t).iloc[0])
        if t > km.timeline.max() and s > 0:
            row.append("beyond follow-up")  # not estimable past the last observation
            continue
        bounds = km.confidence_interval_.loc[km.confidence_interval_.index <= t].iloc[-1]
        row.append(f"{{pct(s)}} ({{pct(bounds.iloc[0])}} to {{pct(bounds.iloc[1])}})")
    if (part["event"] == 0).any():  # reverse Kaplan-Meier: censoring is the "event"
        follow_up = float(KaplanMeierFitter().fit(part["time_days"], 1 - part["event"]).median_survival_time_)
        row.append("not reached" if math.isinf(follow_up) else f"{{follow_up / DAYS_PER_MONTH:.1f}}")
    else:
        row.append("n/a")
    print("\\t".join(row))
    curve = km.survival_function_.join(km.confidence_interval_).reset_index()
    curve.columns = ["time_days", "survival", "lower", "upper"]
    curves.append(curve.assign(group=str(group)))

# %% 4. Log-rank test between the evaluated groups (patients "not evaluated" are not a group)
tested = analysed[analysed["group"] != NOT_EVALUATED]
if GROUPED and tested["group"].nunique() >= 2 and tested["event"].sum() > 0:
    test = multivariate_logrank_test(tested["time_days"], tested["group"], tested["event"])
    p = test.p_value
    p_text = "p < 0.001" if p < 0.001 else f"p = {{p:.3f}}"
    print(f"Log-rank test ({{tested['group'].nunique()}} groups): chi-square {{test.test_statistic:.2f}}, "
          f"df {{tested['group'].nunique() - 1}}, {{p_text}}.")
if (analysed["event"] == 0).any():
    follow_up = KaplanMeierFitter().fit(analysed["time_days"], 1 - analysed["event"]).median_survival_time_
    print(f"Median follow-up (reverse Kaplan-Meier, all analysed patients): {{follow_up / DAYS_PER_MONTH:.1f}} months.")

# %% 5. The figure: step curves with 95% bands (Altair), saved beside the script as PNG
data = pd.concat(curves, ignore_index=True)
data["months"] = data["time_days"] / DAYS_PER_MONTH
data[["survival", "lower", "upper"]] *= 100
x = alt.X("months:Q", title="Months from {survival.ORIGINS[analysis.origin]}")
bands = alt.Chart(data).mark_area(interpolate="step-after", opacity=0.15).encode(
    x=x, y=alt.Y("lower:Q", title="{analysis.endpoint_label()} (%)", scale=alt.Scale(domain=[0, 100])),
    y2="upper:Q", color="group:N")
lines = alt.Chart(data).mark_line(interpolate="step-after").encode(x=x, y="survival:Q", color="group:N")
chart = (bands + lines).properties(width=640, height=320, title={title!r})
chart.save("survival_km.png")
print("Figure: survival_km.png")
'''
