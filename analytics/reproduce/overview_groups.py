"""Reproduce scripts of the Overview page's Table 1 by group and exposure views (latency,
cumulative lenalidomide); builders register with `@register(key)`, Table 1 and the headline
are in `overview`."""
from __future__ import annotations

from analytics import overview, stats
from analytics.overview import by_group
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, preamble, register
from analytics.views.overview import OverviewSpec
from analytics.reproduce.overview import EXPOSURE_DAYS, TABLE_ONE_CODE, cohort_constants, fill, title_constants


# --- Table 1 by group ------------------------------------------------------------------------
BY_GROUP_CODE = '''
# %% 3. The groups: one column per value of the grouping (patients not evaluated for it last,
# in their own column, never tested)
levels = con.execute(f"SELECT CAST({GROUP_SQL} AS VARCHAR) AS g, count(*) FROM patient_summary "
                     f"WHERE {COHORT} GROUP BY 1").fetchall()
levels = sorted(levels, key=lambda item: (item[0] is None, str(item[0])))
overall = table_one(COHORT)
columns = {"Overall": {(r["characteristic"], r["level"], r["kind"]): r for r in overall}}
n_by_column = {"Overall": overall[0]["n"]}
for group, n in levels:
    condition = (f"({GROUP_SQL}) IS NULL" if group is None
                 else f"CAST({GROUP_SQL} AS VARCHAR) = '{group.replace(chr(39), chr(39) * 2)}'")
    rows = table_one(f"({COHORT}) AND ({condition})")
    columns[NOT_EVALUATED if group is None else group] = {(r["characteristic"], r["level"], r["kind"]): r
                                                          for r in rows}
    n_by_column[NOT_EVALUATED if group is None else group] = n
tested_groups = [g for g, _ in levels if g is not None]


# %% 4. Tests between the evaluated groups
def fisher_freeman_halton(table):
    """Fisher's exact test of an r x c table of counts (Freeman-Halton extension; a 2 x 2 table
    is Fisher's test), two-sided: the probability of all tables with the observed margins that
    are no more likely than the observed one (relative tolerance 1e-7, as R's fisher.test).

    Written out because SciPy has no exact R x C test: scipy.stats.fisher_exact (SciPy 1.17)
    estimates the p-value of a larger table by Monte Carlo, and its exact PermutationMethod
    walks all n! orderings of the patients. Tables are enumerated column by column (Freeman &
    Halton, Biometrika 1951). When there could be more than MAX_TABLES of them, the p-value is
    estimated from MC_DRAWS tables drawn with scipy.stats.random_table at a fixed seed, as
    (1 + hits) / (1 + draws) (R's simulate.p.value). Returns (p, method).
    For a 2 x 2 table scipy.stats.fisher_exact(table).pvalue gives the same p-value up to
    floating-point rounding; this sum is used for every table so that the printed p-values are
    the page's to the last digit (e.g. 7/16 sums to 0.43749999... and prints as 0.437)."""
    t = np.asarray(table, dtype=int)
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows: fewer ways to fill each column
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    lf = [math.lgamma(k + 1) for k in range(int(rows.sum()) + 1)]  # log k!
    # log P(table) = log_const - sum log(cell!) (the multivariate hypergeometric probability)
    log_const = sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in cols) \\
        - math.lgamma(int(rows.sum()) + 1)
    log_observed = log_const - float(sum(math.lgamma(x + 1) for x in t.ravel()))
    threshold = log_observed + math.log(1 + 1e-7)
    bound = 1.0  # tables with these margins, at most
    for c in cols[:-1]:
        bound *= math.comb(int(c) + len(rows) - 1, len(rows) - 1)
    if bound > MAX_TABLES:
        sample = random_table(rows, cols).rvs(size=MC_DRAWS, random_state=np.random.default_rng(MC_SEED))
        log_p = log_const - np.array(lf)[sample].sum(axis=(1, 2))
        hits = int((log_p <= threshold).sum())
        return (1 + hits) / (1 + MC_DRAWS), f"Monte Carlo ({MC_DRAWS:,} tables, seed {MC_SEED})"

    def splits(total, caps, i=0):
        """Every way to put `total` patients of a column into the rows i, i+1, ... within `caps`."""
        if i == len(caps) - 1:
            if total <= caps[i]:
                yield (total,)
            return
        for x in range(max(0, total - sum(caps[i + 1:])), min(caps[i], total) + 1):
            for rest in splits(total - x, caps, i + 1):
                yield (x,) + rest

    p = 0.0

    def walk(j, caps, log_cells):
        nonlocal p
        if j == len(cols) - 1:  # the last column is what the rows have left
            log_p = log_const - log_cells - sum(lf[c] for c in caps)
            if log_p <= threshold:
                p += math.exp(log_p)
            return
        for column in splits(int(cols[j]), caps):
            walk(j + 1, [c - x for c, x in zip(caps, column)], log_cells + sum(lf[x] for x in column))

    walk(0, [int(r) for r in rows], 0.0)
    return min(1.0, p), "exact enumeration"


def categorical_test(characteristic):
    """Fisher's exact test (2 x 2) or Fisher-Freeman-Halton: levels x evaluated groups, counts of
    the evaluated patients (the not-evaluated row is left out); empty levels/groups dropped."""
    keys = [key for key in columns["Overall"] if key[0] == characteristic and key[2] == "categorical"]
    counts = np.array([[columns[g][key]["n"] if key in columns[g] else 0 for g in tested_groups] for key in keys])
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return float("nan"), "no test (one level or one group evaluated)"
    p, method = fisher_freeman_halton(counts)
    name = "Fisher's exact test" if counts.shape == (2, 2) else "Fisher-Freeman-Halton exact test"
    return p, name if method == "exact enumeration" else f"{name} ({method})"


values = con.execute(f"SELECT CAST({GROUP_SQL} AS VARCHAR) AS g, "
                     + ", ".join(f"CAST({sql} AS DOUBLE) AS v{i}" for i, (_, sql, _) in enumerate(CONTINUOUS))
                     + f" FROM patient_summary WHERE ({COHORT}) AND ({GROUP_SQL}) IS NOT NULL").df()


def continuous_test(index):
    """Wilcoxon rank-sum (Mann-Whitney U; SciPy's default: exact when one group has at most 8
    values and there are no ties, else the normal approximation with tie and continuity
    corrections) for two groups, Kruskal-Wallis (chi-square, tie-corrected) for more; patients
    without a value are left out."""
    samples = [values.loc[values["g"] == g, f"v{index}"].dropna().to_numpy(float) for g in tested_groups]
    samples = [s for s in samples if len(s)]
    if len(samples) < 2:
        return float("nan"), "no test (fewer than two groups evaluated)"
    if len(samples) == 2:
        return float(mannwhitneyu(*samples, alternative="two-sided").pvalue), "Wilcoxon rank-sum test"
    return float(kruskal(*samples).pvalue), "Kruskal-Wallis test"


def p_text(p):
    return "" if math.isnan(p) else "< 0.001" if p < 0.001 else f"{p:.3f}"


continuous_labels = [label for label, _, _ in CONTINUOUS]
tests = {}
for characteristic in dict.fromkeys(key[0] for key in columns["Overall"]):
    if characteristic == "Patients":
        tests[characteristic] = (float("nan"), "")
    elif characteristic in GROUPING_ITSELF:
        tests[characteristic] = (float("nan"), "the grouping itself")
    elif characteristic in continuous_labels:
        tests[characteristic] = continuous_test(continuous_labels.index(characteristic))
    else:
        tests[characteristic] = categorical_test(characteristic)

# %% 5. The table as the page shows it (a cell of a group without that row reads 0)
header = ["Characteristic", ""] + [f"{name} (n = {n})" for name, n in n_by_column.items()] + ["p", "Test"]
table = []
for i, key in enumerate(columns["Overall"]):
    first = i == 0 or key[0] != list(columns["Overall"])[i - 1][0]
    p, test = tests[key[0]] if first else (float("nan"), "")
    table.append([key[0] if first else "", key[1]]
                 + [columns[name][key]["display"] if key in columns[name] else "0" for name in n_by_column]
                 + [p_text(p), test])
print_table(header, table)
tested = [(c, t, p) for c, (p, t) in tests.items() if not math.isnan(p)]
low = [f"{c} ({t}, p {'<' if p < 0.001 else '='} {p_text(p).lstrip('< ')})" for c, t, p in tested if p < 0.05]
print(f"{len(tested)} characteristics tested; p < 0.05 (unadjusted): {'; '.join(low) or 'none'}.")
'''


@register("overview.table_one_by_group")
def table_one_by_group_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                              provenance: Provenance) -> str:
    if spec.t1_group not in by_group.GROUPINGS:
        raise ValueError("Table 1 by group needs a grouping")
    label, expression = by_group.GROUPINGS[spec.t1_group]
    itself = [c.label for c in overview.CATEGORICAL if c.column == spec.t1_group]
    constants = title_constants(cohort_filter) + f"""
# The grouping: {label} (NULL = not evaluated)
GROUP_SQL = {expression!r}
GROUPING_ITSELF = {itself!r}  # its own row is not tested
# Fisher-Freeman-Halton: enumerate up to this many tables, else Monte Carlo (draws, seed)
MAX_TABLES = {stats.MAX_ENUMERATED_TABLES!r}
MC_DRAWS = {stats.MONTE_CARLO_DRAWS!r}
MC_SEED = {stats.MONTE_CARLO_SEED!r}"""
    imports = ["import math", "import duckdb", "import numpy as np",
               "from scipy.stats import binomtest, kruskal, mannwhitneyu, random_table"]
    return preamble(f"Overview: Table 1 by {label}", provenance, imports, constants) + TABLE_ONE_CODE + BY_GROUP_CODE


# --- exposure plots ---------------------------------------------------------------------------
EXPOSURE_CODE = '''
# %% 2. The patients' values, in months (days / 30.4375); patients without a value are not
# evaluated: not in the plot, not in the median
values = con.execute(f"""
    SELECT patient_id, CAST(__DAYS__ AS DOUBLE) / 30.4375 AS months
    FROM patient_summary
    WHERE {COHORT}
""").df()
measured = values.dropna(subset=["months"]).reset_index(drop=True)
n, n_missing = len(measured), len(values) - len(measured)
median = float(measured["months"].median()) if n else float("nan")
# The axis ends at whole years (at least one)
high = max(12.0, math.ceil(measured["months"].max() / 12.0) * 12.0) if n else 12.0
per_patient = n <= DOT_PLOT_MAX_PATIENTS  # more patients: counted per 1-month bin
subtitle = [(f"n = {n} patients, one dot each" if per_patient else f"n = {n} patients, counted per month")
            + (f" ({n_missing} not evaluated)" if n_missing else ""),
            "no patient with a value" if math.isnan(median) else f"median {median:.1f} months (dashed line)"]
for line in subtitle:
    print(line)
if n_missing:
    print(f"{n_missing} patient{'' if n_missing == 1 else 's'} without a value "
          f"{'is' if n_missing == 1 else 'are'} not in the plot or the median.")
print(("One dot per patient at the exact value" if per_patient else "Patients per 1-month bin")
      + "; dashed line: median. Months = days / 30.4375.")

# %% 3. The figure (Altair), saved beside the script as PNG
x_title, x_scale = "Months (days / 30.4375)", alt.Scale(domain=[0, high], nice=False)
x_axis = alt.Axis(values=list(range(0, int(high) + 1, 12)))  # a tick a year
x = alt.X("months:Q", title=x_title, scale=x_scale, axis=x_axis)
if per_patient:
    # a dot plot: dots closer than 1/45 of the axis are stacked on separate rows
    gap, last_on_level, level = high / 45.0, [], {}
    for i in measured["months"].sort_values(kind="stable").index:
        value = measured.at[i, "months"]
        free = next((k for k, last in enumerate(last_on_level) if value - last >= gap), None)
        if free is None:
            free = len(last_on_level)
            last_on_level.append(value)
        last_on_level[free] = value
        level[i] = free + 1
    measured["level"] = pd.Series(level)
    marks = alt.Chart(measured).mark_circle(size=150, opacity=0.9).encode(
        x=x, y=alt.Y("level:Q", axis=None, title=None,
                     scale=alt.Scale(domain=[0, max(4, int(measured["level"].max()) + 1) if n else 4])),
        tooltip=["patient_id:N", alt.Tooltip("months:Q", format=".1f")])
else:
    # patients per 1-month bin [k, k+1), the last bin closed
    bins = con.execute(f"""
        SELECT least(floor(CAST(__DAYS__ / 30.4375 AS DOUBLE)), {high} - 1) AS start, count(*) AS patients
        FROM patient_summary
        WHERE ({COHORT}) AND __DAYS__ >= 0
        GROUP BY 1 ORDER BY 1
    """).df()
    bins["end"] = bins["start"] + 1
    marks = alt.Chart(bins).mark_rect(opacity=0.9).encode(
        x=alt.X("start:Q", title=x_title, scale=x_scale, axis=x_axis), x2="end:Q",
        y=alt.Y("patients:Q", title="Patients per month"))
layers = [marks]
if n:
    rule = pd.DataFrame({"months": [median], "label": [f"median {median:.1f}"]})
    layers += [alt.Chart(rule).mark_rule(strokeDash=[6, 4], size=2.5, color="firebrick").encode(x="months:Q"),
               alt.Chart(rule).mark_text(align="left", dx=6, dy=-4, color="firebrick").encode(
                   x="months:Q", y=alt.value(12), text="label:N")]
chart = alt.layer(*layers).properties(
    width=700, height=210, title=alt.TitleParams(__TITLE__, subtitle=subtitle))
chart.save("__FIGURE__.png")
print("Figure: __FIGURE__.png")
'''


def _exposure_script(cohort_filter: CohortFilter, measure: str, provenance: Provenance) -> str:
    label = overview.EXPOSURE_MEASURES[measure]
    figure = measure.replace("_months", "")
    constants = cohort_constants(cohort_filter) + (
        f"\nDOT_PLOT_MAX_PATIENTS = {overview.DOT_PLOT_MAX_PATIENTS}  # one dot per patient up to this many")
    return preamble(f"Overview: {label[0].lower()}{label[1:]}", provenance,
                    ["import math", "import altair as alt", "import duckdb", "import pandas as pd"], constants) + \
        fill(EXPOSURE_CODE, DAYS=EXPOSURE_DAYS[measure], TITLE=repr(label), FIGURE=figure)


@register("overview.latency_months")
def latency_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                   provenance: Provenance) -> str:
    return _exposure_script(cohort_filter, "latency_months", provenance)


@register("overview.cumulative_months")
def cumulative_exposure_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                               provenance: Provenance) -> str:
    return _exposure_script(cohort_filter, "cumulative_months", provenance)

