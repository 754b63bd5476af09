"""Scripts that reproduce the overview page's views: Table 1, the cohort summary (headline
numbers) here; Table 1 by group and the two lenalidomide exposure plots in `overview_groups`
(DuckDB, scipy, Altair; no app code).

The scripts are written as plain text with `__NAME__` slots filled by the builders (so the
script's own braces need no escaping). Table 1, the headline and Table 1 by group share one
`table_one(where)` function in the script.
"""
from __future__ import annotations

import re

from analytics import overview
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.reproduce import Provenance, comment, inline, preamble, register
from analytics.views.overview import HEADLINE_LABELS, HEADLINE_PROPORTIONS, OverviewSpec

# The SQL of each continuous characteristic of Table 1 (months = days / 30.4375).
CONTINUOUS_SQL = {
    "age_at_ball_dx": "age_at_ball_dx",
    "age_at_myeloma_dx": "age_at_myeloma_dx",
    "latency_months": "latency_days / 30.4375",
    "cumulative_months": "len_cumulative_days / 30.4375",
    "wbc_k_per_ul": "wbc_k_per_ul",
    "marrow_blast_pct": "marrow_blast_pct",
}
EXPOSURE_DAYS = {"latency_months": "latency_days", "cumulative_months": "len_cumulative_days"}


def fill(text: str, **slots: str) -> str:
    """`text` with each `__NAME__` replaced by its slot."""
    for name, value in slots.items():
        text = text.replace(f"__{name}__", value)
    leftover = re.search(r"__[A-Z]+__", text)
    if leftover:
        raise ValueError(f"unfilled slot in script: {leftover.group()}")
    return text


def cohort_constants(cohort_filter: CohortFilter) -> str:
    """The cohort filters as a Python constant `COHORT` holding the SQL condition (literals)."""
    return (f"# Cohort filters: {comment(cohort_filter.describe())}\n"
            f"COHORT = {inline(*cohort_filter.where_sql())!r}")


def _characteristics() -> str:
    continuous = "\n".join(f"    ({f'{c.label}, {c.unit}'!r}, {CONTINUOUS_SQL[c.key]!r}, {c.decimals}),"
                           for c in overview.CONTINUOUS)
    categorical = "\n".join(f"    ({c.column!r}, {c.label!r}, {list(c.levels)!r}, {list(c.names)!r}),"
                            for c in overview.CATEGORICAL)
    return f"""NOT_EVALUATED = {NOT_EVALUATED!r}
# Continuous characteristics: (row label, SQL of the value over patient_summary, decimals shown)
CONTINUOUS = [
{continuous}
]
# Categorical characteristics: (column, label, levels in display order (shown even at 0),
# display names of those levels ([] = the value itself)); other observed values follow, sorted
CATEGORICAL = [
{categorical}
]"""


TABLE_ONE_CODE = '''
# %% 2. Table 1 of a set of patients
def fmt(value, decimals):
    """Rounded half away from zero (12.5% -> 13%), as the page shows numbers (Python's own
    formatting rounds half to even); read to 12 significant digits first, so 100 * 3/40 (stored
    as 7.4999...) shows as 8, as on the page."""
    scale = 10 ** decimals
    rounded = math.floor(float(f"{abs(value) * scale:.12g}") + 0.5) / scale
    return f"{math.copysign(rounded, value) if rounded else 0.0:.{decimals}f}"


def table_one(where):
    """Table 1 of the patients of patient_summary matching the SQL condition `where`: one dict
    per row (characteristic, level, kind, n, display, ci_low, ci_high).

    Continuous: median (range) over the patients with a value; those without one are their own
    row. Categorical: n / evaluable (%) with an exact Clopper-Pearson 95% CI, where evaluable
    counts only patients with a result: "not evaluated" (NULL) is its own row and never enters
    a denominator (it is not a negative result)."""
    nan = float("nan")
    total = con.execute(f"SELECT count(*) FROM patient_summary WHERE {where}").fetchone()[0]
    rows = [dict(characteristic="Patients", level="", kind="count", n=total, display=str(total),
                 ci_low=nan, ci_high=nan)]
    for label, value_sql, decimals in CONTINUOUS:
        n, median, low, high = con.execute(f"""
            SELECT count(x), median(x), min(x), max(x)  -- median: the mean of the two middle values for even n
            FROM (SELECT CAST({value_sql} AS DOUBLE) AS x FROM patient_summary WHERE {where})""").fetchone()
        display = (f"{fmt(median, decimals)} ({fmt(low, decimals)}–{fmt(high, decimals)})" if n
                   else "no evaluable patients")
        rows.append(dict(characteristic=label, level="median (range)", kind="continuous", n=n,
                         display=display, ci_low=nan, ci_high=nan))
        if total - n:
            rows.append(dict(characteristic=label, level=NOT_EVALUATED, kind="not evaluated", n=total - n,
                             display=f"{total - n} (not in median)", ci_low=nan, ci_high=nan))
    for column, label, levels, names in CATEGORICAL:
        counts = dict(con.execute(f"SELECT {column}, count(*) FROM patient_summary WHERE {where} "
                                  f"GROUP BY {column}").fetchall())
        not_evaluated = counts.pop(None, 0)
        evaluable = sum(counts.values())
        shown = dict(zip(levels, names))
        for level in levels + sorted((v for v in counts if v not in levels), key=str):
            k = counts.get(level, 0)
            if evaluable:
                # Clopper-Pearson: the exact binomial interval
                ci = binomtest(k, evaluable).proportion_ci(confidence_level=0.95, method="exact")
                low, high = ci.low, ci.high
                display = f"{k}/{evaluable} ({fmt(100 * k / evaluable, 0)}%)"
            else:
                low = high = nan
                display = f"{k}/0"
            rows.append(dict(characteristic=label, level=shown.get(level, str(level)), kind="categorical",
                             n=k, display=display, ci_low=low, ci_high=high))
        if not_evaluated:
            rows.append(dict(characteristic=label, level=NOT_EVALUATED, kind="not evaluated", n=not_evaluated,
                             display=f"{not_evaluated} (not in denominator)", ci_low=nan, ci_high=nan))
    return rows


def print_table(header, rows):
    """A table as tab-separated lines: the header, then one line per row."""
    print("\\t".join(header))
    for row in rows:
        print("\\t".join(str(cell) for cell in row))
'''


IMPORTS = ["import math", "import duckdb", "from scipy.stats import binomtest"]


def title_constants(cohort_filter: CohortFilter) -> str:
    return cohort_constants(cohort_filter) + "\n" + _characteristics()


@register("overview.table_one")
def table_one_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                     provenance: Provenance) -> str:
    return preamble("Overview: Table 1", provenance, IMPORTS, title_constants(cohort_filter)) + TABLE_ONE_CODE + '''
# %% 3. Table 1 of the filtered cohort, as the page shows it (a characteristic named once)
rows = table_one(COHORT)
table = []
for i, row in enumerate(rows):
    first = i == 0 or row["characteristic"] != rows[i - 1]["characteristic"]
    ci = "" if math.isnan(row["ci_low"]) else f"{fmt(100 * row['ci_low'], 0)}–{fmt(100 * row['ci_high'], 0)}%"
    table.append([row["characteristic"] if first else "", row["level"], row["display"], ci])
print_table(["Characteristic", "Category", "Value", "95% CI (exact)"], table)
'''


@register("overview.headline")
def headline_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: OverviewSpec,
                    provenance: Provenance) -> str:
    proportions = "\n".join(f"    ({HEADLINE_LABELS[name]!r}, {characteristic!r}, {level!r}),"
                            for name, (characteristic, level) in HEADLINE_PROPORTIONS.items())
    constants = title_constants(cohort_filter) + f"""
# The headline proportions: (label, Table 1 characteristic, level)
HEADLINE = [
{proportions}
]"""
    return preamble("Overview: cohort summary (headline numbers)", provenance, IMPORTS, constants) + \
        TABLE_ONE_CODE + '''
# %% 3. The headline numbers: patients, and proportions of the evaluable patients with exact 95% CIs
rows = table_one(COHORT)
total = rows[0]["n"]
print(f"n = {total} patient{'' if total == 1 else 's'}.")
for label, characteristic, level in HEADLINE:
    row = next((r for r in rows if r["characteristic"] == characteristic and r["level"] == level), None)
    text = f"{label}: {row['display'] if row else '0/0'} of evaluable patients"
    if row and not math.isnan(row["ci_low"]):
        text += f" (95% CI {fmt(100 * row['ci_low'], 0)}–{fmt(100 * row['ci_high'], 0)}%)"
    print(text + ".")
'''
