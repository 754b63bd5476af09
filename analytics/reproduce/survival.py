"""Scripts that reproduce the survival page's Kaplan-Meier view (lifelines, no app code), and the
pieces every survival script shares: the patient selection as SQL, the derivation of time and
event, the page's number formats and the Kaplan-Meier summary table.

The HCT views (landmark, landmark sensitivity, Simon-Makuch, time-dependent Cox) are in
`survival_hct`, the Cox model and competing risks in `survival_models`.
"""
from __future__ import annotations

from analytics import survival
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.reproduce import Provenance, cohort_where, preamble, register, sql_literal
from analytics.views import survival as views
from analytics.views.survival import SurvivalPageSpec, endpoint_sentence

KM_IMPORTS = ["import math", "import altair as alt", "import duckdb", "import pandas as pd",
              "from lifelines import KaplanMeierFitter", "from lifelines.statistics import multivariate_logrank_test",
              "from lifelines.utils import median_survival_times"]
BIAS_HEADINGS = ("Immortal-time bias", "Guarantee-time bias")


def group_sql(analysis: survival.SurvivalSpec) -> str:
    """The group label of each patient as SQL (column names only from the app's allow-lists)."""
    column = analysis.group
    if column is None:
        return "'All'"
    if column in survival.BOOLEAN_GROUPS:
        return f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} THEN 'yes' ELSE 'no' END"
    if column in survival.CATEGORICAL_GROUPS:
        return f"coalesce(CAST({column} AS VARCHAR), '{NOT_EVALUATED}')"
    cut = survival.format_number(analysis.cutoff)
    return (f"CASE WHEN {column} IS NULL THEN '{NOT_EVALUATED}' WHEN {column} < {sql_literal(analysis.cutoff)} "
            f"THEN '< {cut}' ELSE '≥ {cut}' END")


def selection_sql(cohort_filter: CohortFilter, analysis: survival.SurvivalSpec, extra: tuple[str, ...] = (),
                  grouped: bool = True) -> str:
    """The view's patients and endpoint as one readable SELECT (options written as literals);
    `extra`: more patient_summary columns (e.g. hct_day)."""
    columns = analysis.event_columns
    event_day = columns[0] if len(columns) == 1 else f"least({', '.join(columns)})"
    origin = "0" if analysis.origin == "diagnosis" else "first_treatment_day"
    population = "TRUE" if analysis.population == "all" else "treated"
    group = f'\n           {group_sql(analysis)} AS "group",' if grouped and analysis.group else ""
    more = "".join(f"\n           {c}," for c in extra)
    return f"""SELECT patient_id,{group}{more}
           {origin} AS origin_day,               -- time zero: {survival.ORIGINS[analysis.origin]}
           {event_day} AS event_day,   -- first counted event
           last_contact_day
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND {population}                       -- population: {survival.POPULATIONS[analysis.population].lower()}"""


def patients_cell(cohort_filter: CohortFilter, analysis: survival.SurvivalSpec, extra: tuple[str, ...] = (),
                  grouped: bool = True) -> str:
    """Cell 2 of a survival script: select the patients, derive time and event, keep the analysed."""
    group_default = '\npatients["group"] = "All"' if grouped and not analysis.group else ""
    return f'''
# %% 2. The view's patients and endpoint
# {endpoint_sentence(analysis)}
patients = con.execute("""
    {selection_sql(cohort_filter, analysis, extra, grouped)}
""").df(){group_default}
patients["end_day"] = patients["event_day"].fillna(patients["last_contact_day"])
patients["time_days"] = patients["end_day"] - patients["origin_day"]
patients["event"] = patients["event_day"].notna().astype(int)
# Not analysed: no time origin (never treated), no follow-up recorded, or the end before time zero.
analysed = patients[patients["origin_day"].notna() & patients["end_day"].notna()
                    & (patients["time_days"] >= 0)].copy()
print(f"n = {{len(analysed)}}, {{int(analysed['event'].sum())}} events; "
      f"{{len(patients) - len(analysed)}} not analysed")
'''


# The page's number formats, as functions of the script.
FORMATS = {
    "months": '''def months(days):
    return "n/a" if days is None or math.isnan(days) else "NR" if math.isinf(days) else f"{days / DAYS_PER_MONTH:.1f}"''',
    "pct": '''def pct(x):
    return f"{100 * x:.1f}"''',
    "p_text": '''def p_text(p):
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"''',
    "patients_text": '''def patients_text(n):
    return f"{n} patient" + ("" if n == 1 else "s")''',
}


def formats(*names: str) -> str:
    """The script's definitions of the named formats."""
    return "\n\n\n".join(FORMATS[name] for name in names)


# Kaplan-Meier per group as the page's summary table (tab-separated), returning the curves.
KM_TABLE = '''
def km_table(data, milestones_months):
    """Print the page's summary table of `data` (time_days, event, group); return the curves."""
    groups = sorted(data["group"].unique(), key=lambda g: (g == NOT_EVALUATED, str(g)))
    print("\\t".join(["Group", "N", "Events", "Median, months", "95% CI"]
                    + [f"{m:g} months, % (95% CI)" for m in milestones_months]
                    + ["Median follow-up, months", "Note"]))
    curves = []
    for group in groups:
        part = data[data["group"] == group]
        n, events = len(part), int(part["event"].sum())
        km = KaplanMeierFitter().fit(part["time_days"], part["event"], label=str(group))
        median = float(km.median_survival_time_)
        ci = median_survival_times(km.confidence_interval_)
        row = [str(group), str(n), str(events), "not reached" if math.isinf(median) else months(median),
               f"{months(float(ci.iloc[0, 0]))} to {months(float(ci.iloc[0, 1]))}"]
        for m in milestones_months:
            t = m * DAYS_PER_MONTH
            s = float(km.survival_function_at_times(t).iloc[0])
            if t > km.timeline.max() and s > 0:
                row.append("beyond follow-up")  # not estimable past the last observation
                continue
            bounds = km.confidence_interval_.loc[km.confidence_interval_.index <= t].iloc[-1]
            row.append(f"{pct(s)} ({pct(bounds.iloc[0])} to {pct(bounds.iloc[1])})")
        if (part["event"] == 0).any():  # reverse Kaplan-Meier: censoring is the "event"
            follow_up = float(KaplanMeierFitter().fit(part["time_days"], 1 - part["event"]).median_survival_time_)
            row.append("not reached" if math.isinf(follow_up) else f"{follow_up / DAYS_PER_MONTH:.1f}")
        else:
            row.append("n/a")
        notes = (["no events: median not reached, no survival drop to estimate"] if events == 0 else []) + (
            [f"only {n} patient{'s' if n != 1 else ''}: estimates unreliable"] if n < MIN_GROUP_SIZE else [])
        print("\\t".join(row + ["; ".join(notes)]))
        curve = km.survival_function_.join(km.confidence_interval_).reset_index()
        curve.columns = ["time_days", "survival", "lower", "upper"]
        curves.append(curve.assign(group=str(group)))
    return pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
'''

CONSTANTS = f"""
DAYS_PER_MONTH = 30.4375
NOT_EVALUATED = {NOT_EVALUATED!r}
"""
KM_CONSTANTS = CONSTANTS + f"""MIN_GROUP_SIZE = {survival.MIN_GROUP_SIZE}  # smaller groups are flagged: estimates unreliable
"""


def km_figure_cell(title: str, y_title: str, x_title: str, file_name: str, number: int,
                   risk_table: bool = False) -> str:
    """The figure cell; with `risk_table`, the script's `at_risk` (state -> count per tick of
    `ticks`) is drawn under the x axis at the same ticks."""
    if not risk_table:
        layout = "chart = (bands + lines).properties(width=640, height=320)"
    else:
        layout = """risk = pd.DataFrame([(name, tick, n) for name, counts in at_risk.items() for tick, n in zip(ticks, counts)],
                    columns=["group", "months", "n"])
table = alt.Chart(risk).mark_text().encode(x=alt.X("months:Q", scale=scale, axis=None),
                                           y=alt.Y("group:N", title=None, sort=None, axis=alt.Axis(labelPadding=28)),
                                           text="n:Q")
chart = alt.vconcat((bands + lines).properties(width=640, height=320),
                    table.properties(width=640, height=22 * len(at_risk), title="Number at risk"))"""
    return f'''
# %% {number}. The figure: step curves with 95% bands (Altair), saved beside the script as PNG
data = curves.copy()
data["months"] = data["time_days"] / DAYS_PER_MONTH
data[["survival", "lower", "upper"]] *= 100
scale = alt.Scale(domain=[0, {"max(ticks[-1], data['months'].max())" if risk_table else "data['months'].max()"}], nice=False)
x = alt.X("months:Q", title={x_title!r}, scale=scale{", axis=alt.Axis(values=ticks)" if risk_table else ""})
bands = alt.Chart(data).mark_area(interpolate="step-after", opacity=0.15).encode(
    x=x, y=alt.Y("lower:Q", title={y_title!r}, scale=alt.Scale(domain=[0, 100])),
    y2="upper:Q", color="group:N")
lines = alt.Chart(data).mark_line(interpolate="step-after").encode(x=x, y="survival:Q", color="group:N")
{layout}
chart.properties(title={title!r}).save("{file_name}.png")
print("Figure: {file_name}.png")
'''


def only_if(condition: str, cell: str, why: str) -> str:
    """`cell` (starting with its `# %%` line) run only when `condition` holds: a notebook cell
    cannot stop the script with sys.exit."""
    head, body = cell.lstrip("\n").split("\n", 1)
    indented = "\n".join(("    " + line) if line.strip() else line for line in body.rstrip("\n").split("\n"))
    return f"\n{head}\nif {condition}:  # {why}\n{indented}\n"


def bias_caveats(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec) -> list[str]:
    """The immortal-time (guarantee-time) warnings the page shows with the Kaplan-Meier view, in
    its words (they depend on the grouping only)."""
    if spec.group not in survival.POST_BASELINE_GROUPS:
        return []
    return [c.sentence() for c in views.km(db, cohort_filter, spec).caveats if c.heading in BIAS_HEADINGS]


@register("survival.km")
def km_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
              provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    title = f"Survival: {analysis.endpoint_label()}" + (f" by {analysis.group_label()}" if analysis.group else "")
    warnings = "".join(f"print({w!r})\n" for w in bias_caveats(db, cohort_filter, spec))
    if warnings:
        warnings = ("\n# The grouping is known only after time zero: the naive comparison is biased "
                    "(the page's warning).\n" + warnings)
    return preamble(title, provenance, KM_IMPORTS, KM_CONSTANTS + f"""
MILESTONES_MONTHS = {tuple(spec.milestone_months())!r}
GROUPED = {analysis.group is not None}  # a grouping was chosen: test the groups
""") + patients_cell(cohort_filter, analysis) + warnings + f'''
# %% 3. Kaplan-Meier per group: median and milestones with log(-log) Greenwood 95% CIs (lifelines)
{formats("months", "pct", "p_text")}


{KM_TABLE.strip()}


curves = km_table(analysed, MILESTONES_MONTHS)

# %% 4. Log-rank test between the evaluated groups (patients "not evaluated" are not a group)
tested = analysed[analysed["group"] != NOT_EVALUATED]
if GROUPED and tested["group"].nunique() >= 2 and tested["event"].sum() > 0:
    test = multivariate_logrank_test(tested["time_days"], tested["group"], tested["event"])
    print(f"Log-rank test ({{tested['group'].nunique()}} groups): chi-square {{test.test_statistic:.2f}}, "
          f"df {{tested['group'].nunique() - 1}}, {{p_text(test.p_value)}}.")
if (analysed["event"] == 0).any():
    follow_up = KaplanMeierFitter().fit(analysed["time_days"], 1 - analysed["event"]).median_survival_time_
    print(f"Median follow-up (reverse Kaplan-Meier, all analysed patients): {{follow_up / DAYS_PER_MONTH:.1f}} months.")
''' + km_figure_cell(title, f"{analysis.endpoint_label()} (%)", f"Months from {survival.ORIGINS[analysis.origin]}",
                     "survival_km", 5)
