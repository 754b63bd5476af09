"""Scripts that reproduce the survival page's Cox model (lifelines CoxPHFitter, Efron ties, and
its proportional-hazards test) and the cumulative incidence of relapse and non-relapse mortality
(lifelines AalenJohansenFitter)."""
from __future__ import annotations

from analytics import survival
from analytics.survival import cox as survival_cox
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import NUMBER_FORMATS, Provenance, preamble, register
from analytics.reproduce.survival import CONSTANTS, formats, patients_cell
from analytics.reproduce.survival_hct import COX_FIT_OPTIONS, MONTH_TICKS
from analytics.views.survival import SurvivalPageSpec

# How each covariate is read from patient_summary; NULL stays NULL ("not evaluated", never negative).
COVARIATE_SQL = {
    "ploidy_low_hypodiploid": "CASE WHEN ploidy_category IS NULL THEN NULL "
                              "WHEN ploidy_category = 'low hypodiploid' THEN 'yes' ELSE 'no' END",
    "myeloma_auto_hct": "CASE WHEN myeloma_auto_hct IS NULL THEN NULL WHEN myeloma_auto_hct THEN 'yes' ELSE 'no' END",
    "cr_first_line": "CASE WHEN NOT treated THEN NULL WHEN induction_failure_day IS NULL THEN 'yes' ELSE 'no' END",
}


@register("survival.cox")
def cox_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
               provenance: Provenance) -> str:
    analysis = spec.analysis(db)
    covariates = tuple(spec.cox)
    selects = ",\n           ".join(f"{COVARIATE_SQL.get(c, c)} AS {c}" for c in covariates)
    # label, kind, reference level (None: the most frequent level) of each covariate
    described = {c: survival_cox.COX_COVARIATES[c] for c in covariates}
    return preamble(f"Survival: Cox model of {analysis.endpoint_label()}", provenance, [
        "import math", "from decimal import ROUND_HALF_UP, Decimal",
        "import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd",
        "from lifelines import CoxPHFitter", "from lifelines.exceptions import ConvergenceError",
        "from lifelines.statistics import proportional_hazard_test"], CONSTANTS + NUMBER_FORMATS + f"""
COVARIATES = {described!r}  # name: (label, kind, reference level; None = the most frequent level)
EPV_THRESHOLD = {survival_cox.EPV_THRESHOLD}  # fewer events per model term: flagged as unstable
PH_TEST_MAX_PATIENTS = {survival_cox.PH_TEST_MAX_PATIENTS}  # the page's limit for the proportional-hazards check
{COX_FIT_OPTIONS.strip()}
""") + patients_cell(cohort_filter, analysis, grouped=False) + f'''
covariates = con.execute("""
    SELECT patient_id,
           {selects}
    FROM patient_summary
""").df()
# Patients with follow-up time; a covariate that is not evaluated leaves the patient out of the models using it.
followed = analysed[analysed["time_days"] > 0].merge(covariates, on="patient_id")

# %% 3. Design: continuous covariates per unit, categorical ones dummy-coded against a reference level
def design(names):
    """Complete cases of `names`, the model columns and a label per term."""
    data = followed.dropna(subset=list(names))
    out = data[["time_days", "event"]].astype(float)
    labels = {{}}
    for name in names:
        label, kind, reference = COVARIATES[name]
        if kind == "continuous":
            out[name] = data[name].astype(float)
            labels[name] = f"{{label}}, per 1"
            continue
        values = data[name].astype(str)
        levels = sorted(values.unique())
        if reference not in levels and levels:  # the most frequent level (ties: the first in order)
            reference = max(levels, key=lambda level: ((values == level).sum(), -levels.index(level)))
        for level in levels:
            if level != reference:
                out[f"{{name}}={{level}}"] = (values == level).astype(float)
                labels[f"{{name}}={{level}}"] = f"{{label}}: {{level}} vs {{reference}}"
    return out, labels


def fit(data, labels):
    """lifelines Cox model (Efron ties, Wald 95% CI) or a reason why there is none."""
    try:
        model = CoxPHFitter().fit(data[["time_days", "event", *labels]], "time_days", "event", fit_options=FIT_OPTIONS)
    except (ConvergenceError, np.linalg.LinAlgError) as error:
        return None, f"model did not converge ({{type(error).__name__}})"
    s = model.summary
    if (s["coef"].abs() > 10).any() and (s["se(coef)"] > 50).any():  # monotone likelihood
        return None, "not estimable"
    return model, ""


def model_rows(model, labels, data, name):
    s = model.summary
    return [{{"model": name, "term": labels[t], "HR (95% CI)": f"{{s.loc[t, 'exp(coef)']:.2f}} "
             f"({{s.loc[t, 'exp(coef) lower 95%']:.2f}} to {{s.loc[t, 'exp(coef) upper 95%']:.2f}})",
             "p": "< 0.001" if s.loc[t, "p"] < 0.001 else f"{{s.loc[t, 'p']:.3f}}", "n": len(data),
             "events": int(data["event"].sum()), "hr": s.loc[t, "exp(coef)"],
             "lower": s.loc[t, "exp(coef) lower 95%"], "upper": s.loc[t, "exp(coef) upper 95%"]}} for t in labels]


# %% 4. Univariable models (each on its covariate's complete cases), then one multivariable model
messages, univariable, multivariable = [], [], []
for name in COVARIATES:
    data, labels = design([name])
    if not labels or data["event"].sum() == 0 or len(data) < 3:
        messages.append(f"{{COVARIATES[name][0]}}: not estimable (too few patients, events or levels).")
        continue
    if any(data.loc[data["event"] == 1, t].nunique() < 2 and data[t].nunique() < 2 for t in labels):
        messages.append(f"{{COVARIATES[name][0]}}: no variation, left out.")
        continue
    model, problem = fit(data, labels)
    if problem == "not estimable":
        messages.append(f"{{COVARIATES[name][0]}}: hazard ratio not estimable (monotone likelihood: one level has "
                        "all or none of the events at some times).")
    elif problem:
        messages.append(f"{{COVARIATES[name][0]}}: {{problem}}.")
    else:
        univariable += model_rows(model, labels, data, "univariable")
complete, labels = design(list(COVARIATES))
events = int(complete["event"].sum())
checked = False  # is there a model whose proportional-hazards assumption to test?
if len(COVARIATES) > 1 and labels and events > 0:
    model, problem = fit(complete, labels)
    if problem == "not estimable":
        messages.append("Multivariable model not estimable (monotone likelihood: a level with all or none of "
                        "the events); try fewer covariates.")
    elif problem:
        messages.append("Multivariable model did not converge: too few events for this many terms.")
    else:
        multivariable, checked = model_rows(model, labels, complete, "multivariable"), True
elif labels and events > 0 and univariable:
    checked = True
for message in messages:
    print(message)
if len(COVARIATES) > 1 and labels:
    epv = events / len(labels)
    text = (f"Multivariable model: {{len(complete)}} of {{len(followed)}} patients with all covariates "
            f"evaluated; {{epv:.1f}} events per model term.")
    print(f"Few events per variable: {{text}} Below {{EPV_THRESHOLD}} events per variable the estimates are "
          "unstable and biased away from 1; treat them as exploratory." if epv < EPV_THRESHOLD else text)
table = pd.DataFrame(univariable + multivariable)
if len(table):
    columns = ["model", "term", "HR (95% CI)", "p", "n", "events"]
    print("\\t".join(columns))
    for row in table[columns].itertuples(index=False):
        print("\\t".join(str(v) for v in row))

# %% 5. Proportional hazards: scaled Schoenfeld residuals against the rank of time (lifelines)
if checked and len(complete) > PH_TEST_MAX_PATIENTS:
    print(f"Proportional-hazards check (Schoenfeld residuals) not run: it needs one row per patient and runs up "
          f"to {{PH_TEST_MAX_PATIENTS:,}} patients with complete covariates ({{len(complete):,}} here). Narrow the "
          "filters to check it.")
elif checked:  # tested on the model fitted to convergence, the one the table shows (as the page does)
    try:
        model = CoxPHFitter().fit(complete[["time_days", "event", *labels]], "time_days", "event",
                                  fit_options=FIT_OPTIONS)
        test = proportional_hazard_test(model, complete[["time_days", "event", *labels]], time_transform="rank")
    except Exception as error:  # lifelines' convergence problems on tiny data
        print(f"Proportional-hazards check not computed ({{type(error).__name__}}).")
    else:
        ph = test.summary.reset_index()
        print("\\t".join(["term", "test_statistic", "p"]))
        for term, statistic, p in zip(ph["index"], ph["test_statistic"], ph["p"]):
            print(f"{{labels[term]}}\\t{{round_half_up(statistic, 3)}}\\t{{p_value(p)}}")
# %% 6. The figure: hazard ratios with 95% CIs (log scale), saved beside the script as PNG
if len(table):  # no model estimable: nothing to draw
    shown = table[table["model"] == ("multivariable" if multivariable else "univariable")]
    x_scale = alt.Scale(type="log")
    chart = (alt.Chart(shown).mark_rule().encode(x=alt.X("lower:Q", scale=x_scale, title="Hazard ratio (95% CI, log scale)"),
                                                 x2="upper:Q", y=alt.Y("term:N", title=None, sort=None))
             + alt.Chart(shown).mark_point(filled=True, size=80).encode(x=alt.X("hr:Q", scale=x_scale), y=alt.Y("term:N", sort=None))
             + alt.Chart(pd.DataFrame({{"one": [1.0]}})).mark_rule(strokeDash=[4, 4]).encode(x="one:Q")
             ).properties(width=560, height=max(70 * len(shown), 140),
                          title=f"{analysis.endpoint_label()}: {{shown['model'].iloc[0]}} hazard ratios (n = {{shown['n'].max()}})")
    chart.save("cox_forest.png")
    print("Figure: cox_forest.png")
'''


@register("survival.competing_risks")
def competing_risks_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: SurvivalPageSpec,
                           provenance: Provenance) -> str:
    # relapse and death without relapse are the two competing events, whatever EFS events the page uses
    analysis = spec.analysis(db).with_(endpoint="EFS", efs_events=("relapse", "death"))
    return preamble("Survival: cumulative incidence of relapse and non-relapse mortality", provenance, [
        "import math", "import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd",
        "from lifelines import AalenJohansenFitter"], CONSTANTS + f"""
MILESTONES_MONTHS = {tuple(spec.milestone_months())!r}
""") + patients_cell(cohort_filter, analysis, ("relapse_day",)) + f'''
# %% 3. The first event: relapse (a relapse and a death on the same day count as relapse), or death
# without relapse (non-relapse mortality, including deaths after induction failure); else censored
{formats("pct")}


{MONTH_TICKS.strip()}


CAUSES = {{1: "relapse", 2: "non-relapse mortality"}}
analysed["cause"] = np.where(analysed["event"] == 0, 0,
                             np.where(analysed["relapse_day"].eq(analysed["end_day"]).fillna(False), 1, 2))
# lifelines breaks ties between different causes by random jitter, which can move an event past a
# censoring on the same day. Days are whole numbers: moving relapses a millionth of a day earlier
# breaks those ties without changing anyone's risk set (each event still adds S(t-) / n at risk).
analysed["time"] = analysed["time_days"] - np.where(analysed["cause"] == 1, 1e-6, 0.0)

# %% 4. Aalen-Johansen cumulative incidence per group and cause (lifelines; delta-method log(-log) 95% CI)
groups = sorted(analysed["group"].unique(), key=lambda g: (g == NOT_EVALUATED, str(g)))
curves, rows = [], []
for group in groups:
    part = analysed[analysed["group"] == group]
    for code, cause in CAUSES.items():
        aj = AalenJohansenFitter().fit(part["time"], part["cause"], event_of_interest=code)
        curve = aj.cumulative_density_.join(aj.confidence_interval_).reset_index()
        curve.columns = ["time_days", "cif", "lower", "upper"]
        curve.loc[curve["cif"] == 0, ["lower", "upper"]] = 0.0  # no event yet: the interval is the point
        curves.append(curve.assign(group=str(group), cause=cause))
        for m in MILESTONES_MONTHS:
            t = m * DAYS_PER_MONTH
            value = curve[curve["time_days"] <= t].iloc[-1]
            rows.append((str(group), cause, float(m), "beyond follow-up" if t > part["time_days"].max() else
                         f"{{pct(value['cif'])}} ({{pct(value['lower'])}} to {{pct(value['upper'])}})"))
print("\\t".join(["group", "cause", "months", "CIF, % (95% CI)"]))
for row in sorted(rows, key=lambda r: r[2]):  # milestone by milestone, as on the page
    print("\\t".join(str(v) for v in row))
print("No test between groups: Gray's test is not in lifelines, scipy or statsmodels.")

# %% 5. Number at risk (no event of either cause and not censored yet) per group, at the figure's ticks
curves = pd.concat(curves, ignore_index=True)
ticks = month_ticks(analysed["time_days"].max() / DAYS_PER_MONTH)
print("Number at risk")
print("\\t".join(["Group"] + [f"{{tick:g}}" for tick in ticks]))
at_risk = {{}}
for group in groups:
    times = analysed.loc[analysed["group"] == group, "time_days"]
    at_risk[str(group)] = [int((times >= tick * DAYS_PER_MONTH).sum()) for tick in ticks]
    print("\\t".join([str(group)] + [str(n) for n in at_risk[str(group)]]))

# %% 6. The figure: one colour per cause, one dash per group, 95% bands; saved beside the script as PNG
curves["months"] = curves["time_days"] / DAYS_PER_MONTH
curves[["cif", "lower", "upper"]] *= 100
scale = alt.Scale(domain=[0, max(ticks[-1], curves["months"].max())], nice=False)
x = alt.X("months:Q", title="Months from {survival.ORIGINS[analysis.origin]}", scale=scale, axis=alt.Axis(values=ticks))
bands = alt.Chart(curves).mark_area(interpolate="step-after", opacity=0.12).encode(
    x=x, y=alt.Y("lower:Q", title="Cumulative incidence (%)"), y2="upper:Q", color="cause:N", detail="group:N")
lines = alt.Chart(curves).mark_line(interpolate="step-after").encode(
    x=x, y="cif:Q", color="cause:N", strokeDash="group:N")
risk = pd.DataFrame([(name, tick, n) for name, counts in at_risk.items() for tick, n in zip(ticks, counts)],
                    columns=["group", "months", "n"])
table = alt.Chart(risk).mark_text().encode(x=alt.X("months:Q", scale=scale, axis=None), text="n:Q",
                                           y=alt.Y("group:N", title=None, sort=None, axis=alt.Axis(labelPadding=28)))
chart = alt.vconcat((bands + lines).properties(width=640, height=320),
                    table.properties(width=640, height=22 * len(at_risk), title="Number at risk"),
                    title="Cumulative incidence of relapse and non-relapse mortality")
chart.save("cumulative_incidence.png")
print("Figure: cumulative_incidence.png")
'''
