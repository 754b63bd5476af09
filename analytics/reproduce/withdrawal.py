"""Scripts that reproduce the withdrawal page's views: trajectories, kinetics per patient (with
who regresses) and the withdrawal timing (pandas, scipy, Altair; no app code).

The kinetics are computed per patient in the script (`snippets.KINETICS`), as the page defines
them: level at withdrawal, nadir before B-ALL therapy, reduction, rise, interpolated days to a
50% reduction, and the class under the regression rule. Tables are printed as the page shows
them (its column names and number formats; "–" for a missing value).
"""
from __future__ import annotations

import pprint

from analytics import withdrawal
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, cohort_where, preamble, register
from analytics.reproduce.snippets import KINETICS, rule_constants, series_sql
from analytics.views.withdrawal import SERIES_WORDS, WithdrawalSpec

IMPORTS = ["import math", "import altair as alt", "import duckdb", "import pandas as pd"]
TABLE_IMPORTS = ["import math", "import duckdb", "import pandas as pd"]  # no figure
CLASS_LABELS = dict(withdrawal.CLASS_LABELS)


def _constants(spec: WithdrawalSpec) -> str:
    return f"""ANALYTE = {spec.analyte!r}  # {withdrawal.ANALYTE_OPTIONS[spec.analyte]}
SPECIMEN = {spec.specimen!r}
SERIES_TEXT = {f"{SERIES_WORDS[spec.analyte]} in {spec.specimen}"!r}
{rule_constants(spec.rule)}CLASS_LABELS = {pprint.pformat(CLASS_LABELS, width=110, sort_dicts=False)}
CLASSES = {tuple(withdrawal.CLASSES)!r}
PATIENTS_DRAWN_MAX = {withdrawal.PATIENTS_DRAWN_MAX}  # the page draws the first N patients (by id)
"""


def _counts_cell() -> str:
    return '''
def regression_line(classes):
    """The page's sentence on the classes (regression = complete or partial)."""
    counts = {c: int((classes == c).sum()) for c in CLASSES}
    assessable = len(classes) - counts["not assessable"]
    return (f"Regression before B-ALL therapy: {counts['complete'] + counts['partial']} of {assessable} assessable "
            f"patients ({counts['complete']} complete, {counts['partial']} partial); {counts['none']} no regression, "
            f"{counts['progression']} progression, {counts['not assessable']} not assessable.")
'''


def _series_cell(cohort_filter: CohortFilter, spec: WithdrawalSpec, only_ids: str = "") -> str:
    sql = series_sql(cohort_filter, spec.analyte, spec.specimen, only_ids)
    return f'''series = con.execute("""
    {sql}
""").df()'''


@register("withdrawal.trajectories")
def trajectories_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
                        provenance: Provenance) -> str:
    x_title = withdrawal.TIME_AXES[spec.axis]
    x_column = "days_since_stop" if spec.axis == "withdrawal" else "day"
    return preamble(f"Withdrawal: {withdrawal.SHORT_LABELS[spec.analyte]} ({spec.specimen}) after lenalidomide stop",
                    provenance, IMPORTS + ["import numpy as np"], _constants(spec) + f"""X_COLUMN = {x_column!r}  # time axis: {x_title}
LOG_SCALE = {spec.scale == "log"}
FACET = {spec.layout == "facet"}  # small multiples, one panel per patient
""") + f'''
# %% 2. The selected patients; those with serial measurements of the analyte (the first {withdrawal.PATIENTS_DRAWN_MAX} by id are drawn)
n_patients = con.execute("SELECT count(*) FROM patient_summary WHERE {cohort_where(cohort_filter)}").fetchone()[0]
{_series_cell(cohort_filter, spec)}
n_series = series["patient_id"].nunique()
drawn = sorted(series["patient_id"].unique())[:PATIENTS_DRAWN_MAX]
series = series[series["patient_id"].isin(drawn)].copy()
print(f"{{n_series}} of {{n_patients}} selected {{'patient' if n_patients == 1 else 'patients'}} "
      f"{{'has' if n_series == 1 else 'have'}} measurements of {{SERIES_TEXT}}." if n_series else
      f"None of the {{n_patients}} {{'patient' if n_patients == 1 else 'patients'}} selected has serial "
      f"measurements of {{SERIES_TEXT}}.")

# %% 3. Each drawn patient's class under the regression rule
{KINETICS}
{_counts_cell()}
if n_series:
    table = kinetics_table(series)
    if len(drawn) == n_series:  # every series drawn: the classes are every patient's
        print(regression_line(table["classification"]))
    classes = dict(zip(table["patient_id"], table["classification"].map(CLASS_LABELS)))

# %% 4. The figure: levels after the stop (below detection drawn at the limit), coloured by class
if n_series:
    s = series.assign(level=series["value"].where(~series["below_detection"].astype(bool),
                                                  series["lower_limit_of_detection"].fillna(0.0)),
                      days_since_stop=series["day"] - series["len_stop_day"])
    s["class"] = s["patient_id"].map(classes)
    s["detection"] = s["below_detection"].map({{True: "below detection (at limit)", False: "measured"}})
    s["phase"] = ["before B-ALL therapy" if pd.isna(t) or d < t else "after B-ALL therapy start"
                  for d, t in zip(s["day"], s["first_treatment_day"])]
    if LOG_SCALE:
        s = s[s["level"] > 0]  # a value of 0 cannot be drawn on a log scale
    # join a patient's two phases at therapy start (level interpolated between the bracketing values)
    joins = []
    for patient, part in s.sort_values(X_COLUMN).groupby("patient_id"):
        therapy = part["first_treatment_day"].iloc[0] - (part["len_stop_day"].iloc[0] if X_COLUMN == "days_since_stop" else 0)
        if not pd.isna(therapy) and part[X_COLUMN].min() < therapy <= part[X_COLUMN].max():
            level = float(np.interp(therapy, part[X_COLUMN].astype(float), part["level"].astype(float)))
            joins += [{{"patient_id": patient, X_COLUMN: therapy, "level": level, "class": part["class"].iloc[0],
                       "phase": phase}} for phase in ("before B-ALL therapy", "after B-ALL therapy start")]
    path = pd.concat([s, pd.DataFrame(joins)], ignore_index=True) if joins else s
    x = alt.X(f"{{X_COLUMN}}:Q", title={x_title!r})
    y = alt.Y("level:Q", title=f"{withdrawal.SHORT_LABELS[spec.analyte]} ({{s['unit'].iloc[0]}}, {{SPECIMEN}})",
              scale=alt.Scale(type="log") if LOG_SCALE else alt.Scale(zero=True))
    color = alt.Color("class:N", title="Class under the rule",
                      scale=alt.Scale(domain=[CLASS_LABELS[c] for c in CLASSES]))
    dash = alt.StrokeDash("phase:N", title="Line", scale=alt.Scale(
        domain=["before B-ALL therapy", "after B-ALL therapy start"], range=[[1, 0], [6, 4]]))
    # one data frame for both layers (small multiples need it), each layer keeping its rows
    both = pd.concat([path.assign(layer="line"), s.assign(layer="point")], ignore_index=True)
    lines = alt.Chart(both).transform_filter(alt.datum.layer == "line").mark_line().encode(
        x=x, y=y, color=color, detail="patient_id:N", strokeDash=dash)
    points = alt.Chart(both).transform_filter(alt.datum.layer == "point").mark_point(filled=True, size=60, opacity=1).encode(
        x=x, y=y, color=color, shape=alt.Shape("detection:N", title="Marker", scale=alt.Scale(
            domain=["measured", "below detection (at limit)"], range=["circle", "triangle-down"])))
    chart = lines + points
    if FACET:
        chart = chart.properties(width=200, height=160).facet(facet="patient_id:N", columns=4)
    else:
        chart = chart.properties(width=640, height=400)
    chart.save("withdrawal_trajectories.png")
    print("Figure: withdrawal_trajectories.png")
'''


def _shown_kinetics_code() -> str:
    """The page's kinetics table (column names and number formats of the page)."""
    return '''
def num(x, spec="{:.1f}"):
    return "–" if x is None or pd.isna(x) else spec.format(x)


def shown_kinetics(k):
    return pd.DataFrame({
        "Patient": k["patient_id"], "Class": k["classification"].map(CLASS_LABELS),
        "At withdrawal (%)": [num(v, "{:.2f}") for v in k["baseline_value"]],
        "Nadir before therapy (%)": [num(v, "{:.2f}") for v in k["nadir_value"]],
        "Reduction (%)": [num(v) for v in k["reduction_pct"]],
        "Days to 50% (interpolated)": [num(v) for v in k["days_to_half_from_stop"]],
        "Days to nadir": [num(v, "{:.0f}") for v in k["days_to_nadir_from_stop"]],
        "B-ALL therapy day": [num(v, "{:+.0f}") for v in k["therapy_days_from_stop"]],
        "Lowest level overall": [("after therapy start" if a else "before therapy") if not pd.isna(v) else "–"
                                 for a, v in zip(k["overall_nadir_after_therapy"], k["overall_nadir_value"])],
        "Max rise (%)": [num(v) for v in k["max_rise_pct"]],
        "Nadir below detection": k["nadir_below_detection"].astype(bool),
        "Measurements": k["n_measurements"], "Before therapy": k["n_assessed"],
        "Baseline day": [num(v, "{:+.0f}") for v in k["baseline_day"]],
        "Why": k["reason"], "Analyte": k["analyte"]})
'''


@register("withdrawal.kinetics")
def kinetics_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
                    provenance: Provenance) -> str:
    spec = spec.analysis()
    continuous = {column: (label, divisor) for column, (label, divisor) in withdrawal.CONTINUOUS.items()}
    categorical = dict(withdrawal.CATEGORICAL)
    return preamble(f"Withdrawal: kinetics of {withdrawal.SHORT_LABELS[spec.analyte]} ({spec.specimen})",
                    provenance, TABLE_IMPORTS + ["from scipy.stats import fisher_exact, mannwhitneyu"],
                    _constants(spec) + f"""TABLE_ROWS_MAX = {withdrawal.TABLE_ROWS_MAX}  # rows the page's table shows
EXACT_MWU_MAX = {withdrawal.EXACT_MWU_MAX}  # patients per group up to which the Mann-Whitney U p-value is exact
# compared between regressors and the other assessable patients: column -> (label, divisor to the unit)
CONTINUOUS = {pprint.pformat(continuous, width=110, sort_dicts=False)}
# column -> (label, positive level, the other levels' name)
CATEGORICAL = {pprint.pformat(categorical, width=110, sort_dicts=False)}
""") + f'''
# %% 2. Every selected patient's serial measurements of the analyte (days relative to B-ALL diagnosis)
{_series_cell(cohort_filter, spec)}
{KINETICS}
{_counts_cell()}
# %% 3. Kinetics per patient and the classes
table = kinetics_table(series)
if len(table):
    print(regression_line(table["classification"]))
{_shown_kinetics_code()}
if len(table):
    shown = shown_kinetics(table.head(TABLE_ROWS_MAX))
    print("\\t".join(shown.columns))
    for row in shown.itertuples(index=False):
        print("\\t".join(str(v) for v in row))

# %% 4. Who regresses: regressors (complete or partial) vs the other assessable patients (none or progression)
# Not assessable patients are in neither group; "not evaluated" (NULL) is never counted as negative.
summary = con.execute("""
    SELECT patient_id, {", ".join([*withdrawal.CONTINUOUS, *withdrawal.CATEGORICAL])}
    FROM patient_summary WHERE {cohort_where(cohort_filter)}
""").df().set_index("patient_id")
assessable = table[table["classification"] != "not assessable"]
sub = summary.loc[assessable["patient_id"]].assign(
    group=["regressors" if c in ("complete", "partial") else "others" for c in assessable["classification"]])


def median_range(x):
    """Median (range), n, as the page shows a feature of a group."""
    extent = f"{{x.min():.1f}}–{{x.max():.1f}}" if len(x) else "–"
    return f"{{num(x.median() if len(x) else math.nan)}} ({{extent}}), n={{len(x)}}"


if (sub["group"] == "regressors").any() and (sub["group"] == "others").any():
    rows, approximate = [], False
    for column, (label, divisor) in CONTINUOUS.items():
        a = sub.loc[sub["group"] == "regressors", column].dropna().astype(float) / divisor
        b = sub.loc[sub["group"] == "others", column].dropna().astype(float) / divisor
        u = p = math.nan
        if len(a) and len(b):  # exact up to EXACT_MWU_MAX per group, else the tie-corrected normal approximation
            method = "exact" if max(len(a), len(b)) <= EXACT_MWU_MAX else "asymptotic"
            test = mannwhitneyu(a, b, alternative="two-sided", method=method)
            u, p = float(test.statistic), float(test.pvalue)
            approximate |= method == "asymptotic"
        rows.append([label, median_range(a), median_range(b), num(u), num(p, "{{:.3f}}"), int(sub[column].isna().sum())])
    print("\\t".join(["Feature", "Regressors", "Others (none / progression)", "U",
                     "p (approximate)" if approximate else "p (exact)", "Not evaluated"]))
    for row in rows:
        print("\\t".join(str(v) for v in row))
    print("\\t".join(["Feature", "Regressors", "Others (none / progression)", "Odds ratio (sample)", "p (exact)",
                     "Not evaluated"]))
    for column, (label, positive, other) in CATEGORICAL.items():
        evaluable = sub[sub[column].notna()]
        positive_ = evaluable[column] == positive
        a = int(((evaluable["group"] == "regressors") & positive_).sum())
        b = int(((evaluable["group"] == "regressors") & ~positive_).sum())
        c = int(((evaluable["group"] == "others") & positive_).sum())
        d = int(((evaluable["group"] == "others") & ~positive_).sum())
        odds = p = math.nan
        if a + b and c + d:  # two-sided Fisher exact test among patients evaluable for the feature
            test = fisher_exact([[a, b], [c, d]], alternative="two-sided")
            odds, p = float(test.statistic), float(test.pvalue)
        print("\\t".join(str(v) for v in [f"{{label}}: {{positive}} vs {{other}}", f"{{a}}/{{a + b}}", f"{{c}}/{{c + d}}",
                                          num(odds, "{{:.2f}}"), num(p, "{{:.3f}}"), int(sub[column].isna().sum())]))
'''


@register("withdrawal.timing")
def timing_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: WithdrawalSpec,
                  provenance: Provenance) -> str:
    spec = spec.analysis()
    only = (f"m.patient_id IN (SELECT patient_id FROM patient_summary WHERE len_stop_day IS NOT NULL\n"
            f"                           AND {cohort_where(cohort_filter)}\n"
            f"                           ORDER BY patient_id LIMIT {withdrawal.PATIENTS_DRAWN_MAX})")
    return preamble("Withdrawal: lenalidomide stop relative to B-ALL diagnosis", provenance, IMPORTS, _constants(spec)
                    + f"NO_SERIES_TREATED = {withdrawal.NO_SERIES_TREATED!r}\n"
                      f"NO_SERIES_UNTREATED = {withdrawal.NO_SERIES_UNTREATED!r}\n") + f'''
# %% 2. The selected patients and their lenalidomide stop day (days relative to B-ALL diagnosis)
n_patients, n_stop = con.execute("""
    SELECT count(*), count(len_stop_day) FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
""").fetchone()
print(f"Lenalidomide stop day relative to B-ALL diagnosis for {{n_stop}} of {{n_patients}} selected "
      f"{{'patient' if n_patients == 1 else 'patients'}} (negative: stopped before diagnosis).")
drawn = con.execute("""
    SELECT patient_id, len_stop_day, first_treatment_day, coalesce(treated, FALSE) AS treated
    FROM patient_summary
    WHERE len_stop_day IS NOT NULL AND {cohort_where(cohort_filter)}
    ORDER BY patient_id LIMIT {withdrawal.PATIENTS_DRAWN_MAX}   -- the page draws the first {withdrawal.PATIENTS_DRAWN_MAX} by id
""").df()

# %% 3. What followed the stop: the class under the regression rule, or no serial measurements
{_series_cell(cohort_filter, spec, only)}
{KINETICS}
table = kinetics_table(series)
classes = dict(zip(table["patient_id"], table["classification"].map(CLASS_LABELS)))
drawn["followed"] = [classes.get(p, NO_SERIES_TREATED if t else NO_SERIES_UNTREATED)
                     for p, t in zip(drawn["patient_id"], drawn["treated"])]
print("\\t".join(["Patient", "Stop day vs diagnosis", "First B-ALL therapy day", "What followed"]))
for row in drawn.itertuples(index=False):
    therapy = "–" if pd.isna(row.first_treatment_day) else f"{{row.first_treatment_day:.0f}}"
    print("\\t".join([row.patient_id, f"{{row.len_stop_day:.0f}}", therapy, row.followed]))

# %% 4. The figure: one dot per patient at its stop day, coloured by what followed
if len(drawn):
    dots = alt.Chart(drawn).mark_point(filled=True, size=120).encode(
        y=alt.Y("patient_id:N", sort=list(drawn["patient_id"]), title="Patient"),
        x=alt.X("len_stop_day:Q", title="Lenalidomide stop, days relative to B-ALL diagnosis (negative = before)"),
        color=alt.Color("followed:N", title="What followed", legend=alt.Legend(labelLimit=0)))
    zero = alt.Chart(pd.DataFrame({{"x": [0]}})).mark_rule(strokeDash=[2, 2]).encode(x="x:Q")
    (zero + dots).properties(width=560, height=max(160, 22 * len(drawn))).save("withdrawal_timing.png")
    print("Figure: withdrawal_timing.png")
'''
