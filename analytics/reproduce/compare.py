"""Scripts that reproduce the compare page's views: the current cohort beside the published series
(table with exact CIs and Fisher tests), the forest plot with its random-effects pooled estimate,
and the reproduction check of the reference study (scipy, statsmodels, lifelines; no app code).

The published figures a script uses are read from data/published_series.csv when the script is
written and embedded in it with their citations and quotes, so it needs no file of the app's.
The cohort's figures are recomputed in the script with SQL (Table 1 counts over evaluable
patients, medians), the withdrawal kinetics (`snippets.KINETICS`) and lifelines' Kaplan-Meier
(event-free survival of treated patients), as the page's analytics define them.
"""
from __future__ import annotations

import pprint

import pandas as pd

from analytics import published, survival, withdrawal
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.published import CHARACTERISTICS, NOT_REACHED
from analytics.reproduce import Provenance, cohort_where, preamble, register
from analytics.reproduce.snippets import KINETICS, rule_constants, series_sql
from analytics.views.compare import CURRENT, NO_TEST_COUNT, NO_TEST_MEDIAN, ComparePageSpec

# characteristic -> (numerator condition, denominator condition) over patient_summary: Table 1
# counts a level among the patients evaluated for it ("not evaluated", NULL, is in no denominator)
PROPORTION_SQL = {
    "b_lineage": ("lineage = 'B'", "lineage IS NOT NULL"),
    "bcr_abl1_positive": ("bcr_abl1 = 'positive'", "bcr_abl1 IS NOT NULL"),
    "cd10_positive": ("cd10 = 'positive'", "cd10 IS NOT NULL"),
    "male": ("sex = 'M'", "sex IS NOT NULL"),
    "tp53_mutated": ("tp53_status = 'mutated'", "tp53_status IS NOT NULL"),
    "low_hypodiploid": ("ploidy_category = 'low hypodiploid'", "ploidy_category IS NOT NULL"),
    "myeloma_auto_hct": ("myeloma_auto_hct", "myeloma_auto_hct IS NOT NULL"),
    "treated": ("treated", "treated IS NOT NULL"),
    # best response among treated patients with a response assessment
    "cr_cri_treated": ("coalesce(treated, FALSE) AND best_response IN ('CR', 'CRi')",
                       "coalesce(treated, FALSE) AND best_response IS NOT NULL"),
    # status at last contact, of every patient
    "alive_ned": ("status_at_last_contact = 'no evidence of B-ALL'", "TRUE"),
}
# characteristic -> value in its unit (months = days / 30.4375)
MEDIAN_SQL = {"age_ball": "age_at_ball_dx", "age_myeloma": "age_at_myeloma_dx",
              "latency_months": "latency_days / 30.4375", "cumulative_months": "len_cumulative_days / 30.4375"}
EFS = ("efs_treated_months", "efs_hct_months")
IMPORTS = ["import math", "import duckdb", "import pandas as pd"]


def raw_published():
    """The published-series file as text, as it is now (the page has validated it): a median keeps the
    decimals it was published with."""
    return pd.read_csv(published.PUBLISHED_FILE, dtype=str, keep_default_na=False, encoding="utf-8")


def _published_rows(keys: set[str], facts_only: bool = False) -> tuple[dict, list[tuple]]:
    """The cited rows of `keys` from the published-series file, as it is now: series (with their
    citations) and figures (numbers as published: the median as text keeps its precision)."""
    raw = raw_published()
    raw = raw[raw["characteristic"].isin(keys) & ((raw["fact"] != "") if facts_only else True)]
    series = {}
    for r in raw.drop_duplicates("series_id").itertuples(index=False):
        series[r.series_id] = {"label": r.label, "citation": r.citation, "reference": r.reference, "url": r.url,
                               "population": r.population, "n_patients": int(r.n_patients), "part_of": r.part_of}
    figures = [(r.series_id, r.fact, r.characteristic, int(r.numerator) if r.numerator else None,
                int(r.denominator) if r.denominator else None, r.median or None,
                float(r.range_low) if r.range_low else None, float(r.range_high) if r.range_high else None,
                r.unit, r.source_quote) for r in raw.itertuples(index=False)]
    return series, figures


def _published_constants(keys: set[str], facts_only: bool = False) -> str:
    series, figures = _published_rows(keys, facts_only)
    used = {key: (CHARACTERISTICS[key].label, CHARACTERISTICS[key].kind, CHARACTERISTICS[key].unit)
            for key in CHARACTERISTICS if key in keys}
    figure_lines = "\n".join(f"    {row!r}," for row in figures)
    days = "DAYS_PER_MONTH = 30.4375\n" if keys & set(EFS) else ""
    return f"""{days}# characteristic -> (label, kind, unit)
CHARACTERISTICS = {pprint.pformat(used, width=110, sort_dicts=False)}

# The published series and figures this view uses, copied from the app's data/published_series.csv
# when this script was written (one row per reported figure, with the quote it comes from).
# Published numbers are shown as published, never mixed with the cohort's computed ones.
SERIES = {pprint.pformat(series, width=110, sort_dicts=False)}
# (series, figure number of the reference study, characteristic, numerator, denominator (evaluable),
#  median as published ("{NOT_REACHED}" = not reached; its decimals are the precision reported), range low,
#  range high, unit, quote)
FIGURES = [
{figure_lines}
]
"""


PUBLISHED_CELL = '''
# %% 2. The published figures (embedded above, with their citations)
published = pd.DataFrame(FIGURES, columns=["series_id", "fact", "characteristic", "numerator", "denominator",
                                           "median_text", "range_low", "range_high", "unit", "source_quote"],
                         dtype=object)  # object: a count stays an int, a missing one None
published = published.join(pd.DataFrame.from_dict(SERIES, orient="index"), on="series_id")
published["median"] = [None if t is None else math.inf if t == "NR" else float(t) for t in published["median_text"]]
published["decimals"] = [len(t.split(".")[1]) if t and "." in t else 0 for t in published["median_text"]]
rows_of = {key: published[published["characteristic"] == key].to_dict("records") for key in CHARACTERISTICS}
'''

FORMAT_CELL = '''
# %% Formatting as the page shows numbers; exact (Clopper-Pearson) intervals and Fisher's exact test (scipy)
def pct(x):
    return f"{100 * x:.0f}%"


def fraction(k, n):
    return f"{k}/{n} ({pct(k / n)})" if n else f"{k}/{n}"


def exact_ci(k, n):
    """Clopper-Pearson 95% interval of k of n."""
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return ci.low, ci.high


def ci_text(k, n):
    if not n:
        return ""
    low, high = exact_ci(k, n)
    return f"{100 * low:.0f} to {100 * high:.0f}%"


def p_text(p):
    return "Fisher p < 0.001" if p < 0.001 else f"Fisher p = {p:.3f}"


def median_text(median, low, high, unit, decimals):
    if median is None or pd.isna(median):
        return "not evaluable"
    if math.isinf(median):
        return "not reached"
    text = f"median {median:.{decimals}f}"
    if low is not None and not pd.isna(low):
        text += f" (range {low:.{decimals}f} to {high:.{decimals}f})"
    return f"{text} {unit}"


def cohort_value(key):
    """(value, exact 95% CI) of the cohort's figure as the page shows it."""
    label, kind, unit = CHARACTERISTICS[key]
    f = cohort[key]
    if kind == "proportion":
        return fraction(f["numerator"], f["denominator"]), ci_text(f["numerator"], f["denominator"])
    if kind == "count":
        extra = f" of {f['denominator']} {f['looked_in']}" if f.get("denominator") is not None else ""
        return f"{f['numerator']}{extra}", ""
    text = median_text(f["median"], f["low"], f["high"], unit, 0 if unit == "years" else 1)
    return (f"{text}, n = {f['n']}" if f["median"] is not None else text), ""


def published_value(row):
    label, kind, unit = CHARACTERISTICS[row["characteristic"]]
    if kind == "proportion":
        return fraction(row["numerator"], row["denominator"]), ci_text(row["numerator"], row["denominator"])
    if kind == "count":
        return str(row["numerator"]), ""
    return median_text(row["median"], row["range_low"], row["range_high"], unit, row["decimals"]), ""
'''


def figures_cell(cohort_filter: CohortFilter, keys: set[str], heading: str) -> str:
    """Script code that computes `cohort[key]` for `keys` from the data file (the app's analytics:
    Table 1, best response, status at last contact, withdrawal kinetics, Kaplan-Meier)."""
    where = cohort_where(cohort_filter)
    parts = [f"\n# %% 3. {heading}\ncohort = {{}}"]
    proportions = [k for k in PROPORTION_SQL if k in keys]
    medians = [k for k in MEDIAN_SQL if k in keys]
    columns, code, said = [], [], []
    if keys & {"patients", "institutions"}:
        columns += ["count(*) AS patients", "count(DISTINCT institution) AS institutions"]
        code += ['cohort["patients"] = {"numerator": int(row["patients"]), "denominator": None}',
                 'cohort["institutions"] = {"numerator": int(row["institutions"]), "denominator": None}']
        said.append("patients and institutions")
    for key in proportions:
        numerator, denominator = PROPORTION_SQL[key]
        columns += [f"count(*) FILTER (WHERE {numerator}) AS {key}_k",
                    f"count(*) FILTER (WHERE {denominator}) AS {key}_n"]
    if proportions:
        code += [f"for key in {proportions!r}:",
                 '    cohort[key] = {"numerator": int(row[key + "_k"]), "denominator": int(row[key + "_n"])}']
        said.append("Table 1 proportions (a level among the patients evaluated for it; CR/CRi among treated "
                    "patients with a response assessment; status at last contact of every patient)"
                    if len(proportions) > 1 else "the proportion among the patients evaluated for it")
    for key in medians:
        x = f"CAST({MEDIAN_SQL[key]} AS DOUBLE)"
        columns += [f"count({x}) AS {key}_n", f"median({x}) AS {key}_median", f"min({x}) AS {key}_min",
                    f"max({x}) AS {key}_max"]
    if medians:
        code += [f"for key in {medians!r}:",
                 '    n = int(row[key + "_n"])',
                 '    cohort[key] = {"n": n, "median": float(row[key + "_median"]) if n else None,',
                 '                   "low": float(row[key + "_min"]) if n else None,',
                 '                   "high": float(row[key + "_max"]) if n else None}']
        said.append("medians (range) of the patients with a value")
    select = ",\n           ".join(columns)
    body = "\n".join(code)
    comment = "\n".join(f"# {part}" for part in said)  # what the SELECT counts, one line each
    parts.append(f'''{comment}
row = con.execute("""
    SELECT {select}
    FROM patient_summary
    WHERE {where}
""").df().iloc[0]
{body}
''')
    if "withdrawal_regression" in keys:
        parts.append(f'''
# Regression after lenalidomide withdrawal: the withdrawal page's default view (leukemic B cells in
# marrow, default rule), counted among the patients with serial marrow values
series = con.execute("""
    {series_sql(cohort_filter, withdrawal.LEUKEMIC, "marrow")}
""").df()
{KINETICS}
classes = kinetics_table(series)["classification"]
cohort["withdrawal_regression"] = {{"numerator": int(classes.isin(["complete", "partial"]).sum()),
                                   "denominator": len(classes), "looked_in": "with serial marrow values"}}
''')
    if keys & set(EFS):
        events = survival.SurvivalSpec().event_columns
        parts.append(f'''
# Median event-free survival of treated patients (Kaplan-Meier, lifelines): from B-ALL diagnosis to the first
# of {", ".join(survival.ALL_EFS_EVENTS).replace("_", " ")}; censored at last contact; all treated patients and
# those with allogeneic HCT (hct = TRUE). Not analysed: no follow-up, or the end before diagnosis.
efs = con.execute("""
    SELECT patient_id, hct, least({", ".join(events)}) AS event_day, last_contact_day
    FROM patient_summary
    WHERE {where}
      AND treated
""").df()
efs["time_days"] = efs["event_day"].fillna(efs["last_contact_day"])
efs["event"] = efs["event_day"].notna().astype(int)
efs = efs[efs["time_days"].notna() & (efs["time_days"] >= 0)]
for key, part in (("efs_treated_months", efs), ("efs_hct_months", efs[efs["hct"] == True])):  # noqa: E712
    median = None
    if len(part):
        median = float(KaplanMeierFitter().fit(part["time_days"], part["event"]).median_survival_time_) / DAYS_PER_MONTH
    cohort[key] = {{"n": len(part), "median": median, "low": None, "high": None}}
''')
    return "\n".join(parts)


def script_imports(keys: set[str], figure: bool = False, fisher: bool = False) -> list[str]:
    extra = (["import altair as alt"] if figure else []) + [
        "from scipy.stats import binomtest" + (", fisher_exact" if fisher else "")]
    if keys & set(EFS):
        extra.append("from lifelines import KaplanMeierFitter")
    return IMPORTS + extra


def _table_keys() -> set[str]:
    raw = raw_published()
    return set(raw["characteristic"]) & set(CHARACTERISTICS)


def constants(keys: set[str], facts_only: bool = False) -> str:
    return _published_constants(keys, facts_only) + (rule_constants(withdrawal.RegressionRule())
                                                     if "withdrawal_regression" in keys else "")


@register("compare.table")
def table_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
                 provenance: Provenance) -> str:
    keys = _table_keys()
    return preamble("Current cohort beside published series", provenance, script_imports(keys, fisher=True), constants(keys)
                    + f"CURRENT = {CURRENT!r}\nNO_TEST_MEDIAN = {NO_TEST_MEDIAN!r}\nNO_TEST_COUNT = {NO_TEST_COUNT!r}\n"
                    ) + PUBLISHED_CELL + figures_cell(
        cohort_filter, keys, "The current cohort's figures (computed from the data file)") + FORMAT_CELL + '''

# %% 4. Each characteristic: the cohort, then each published series, with Fisher's exact test on the 2x2
# table of counts where both give counts (two-sided, unadjusted); no test for a median (no patient-level data)
# or a count without a denominator
def compared(row):
    label, kind, unit = CHARACTERISTICS[row["characteristic"]]
    f = cohort[row["characteristic"]]
    if kind == "median":
        return NO_TEST_MEDIAN, math.nan
    if kind == "count" or row["denominator"] is None:
        return NO_TEST_COUNT, math.nan
    if not f["denominator"]:
        return "no test possible: no evaluable patients in the current cohort", math.nan
    k1, n1, k2, n2 = f["numerator"], f["denominator"], row["numerator"], row["denominator"]
    p = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)
    return p_text(p), p


shown, tests = [], []
for key, (label, kind, unit) in CHARACTERISTICS.items():
    if not rows_of[key]:
        continue
    value, ci = cohort_value(key)
    shown.append([label, CURRENT, value, ci, ""])
    for row in rows_of[key]:
        value, ci = published_value(row)
        test, p = compared(row)
        shown.append(["", f"{row['label']} (published; {row['n_patients']} patients)", value, ci, test])
        tests.append([key, row["series_id"], p, row["numerator"], row["denominator"], row["median"]])
print("\\t".join(["Characteristic", "Source", "Value", "Exact 95% CI", "Compared with the current cohort"]))
for line in shown:
    print("\\t".join(line))

# %% 5. The tests in one sentence, then every test's p-value
tests = pd.DataFrame(tests, columns=["characteristic", "series_id", "p_fisher", "published_numerator",
                                     "published_denominator", "published_median"]).astype(
    {"p_fisher": float, "published_numerator": float, "published_denominator": float, "published_median": float})
tested = tests[tests["p_fisher"].notna()]
low = tested[tested["p_fisher"] < 0.05]
if tested.empty:
    print("No published proportion can be tested against the current cohort.")
elif low.empty:
    print(f"{len(tested)} Fisher tests against published proportions: none with p < 0.05.")
else:
    named = "; ".join(f"{CHARACTERISTICS[r.characteristic][0]} vs {SERIES[r.series_id]['label']} ({p_text(r.p_fisher)})"
                      for r in low.itertuples())
    print(f"{len(tested)} Fisher tests against published proportions; p < 0.05 (unadjusted): {named}.")
print("\\t".join(tests.columns))
for row in tests.itertuples(index=False):
    print("\\t".join(str(v) for v in row))

# %% 6. The published series and where each figure is reported
print("\\t".join(["series_id", "label", "citation", "reference", "url", "population", "n_patients", "part_of"]))
for series_id, s in SERIES.items():
    print("\\t".join(str(v) for v in [series_id, *s.values()]))
print("\\t".join(["Series", "Characteristic", "Where it is reported", "Reference", "Link"]))
for row in published.itertuples():
    print("\\t".join([row.label, CHARACTERISTICS[row.characteristic][0], row.source_quote, row.reference, row.url]))
'''
