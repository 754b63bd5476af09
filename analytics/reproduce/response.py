"""Scripts that reproduce the Response page's views (scipy, pandas, Altair; no app code).

One builder per view key: best response, CR/CRi by group, MRD and time to CR/CRi here; the
swimmer plot, the treatment flow, current status and the untreated patients in `response_course`. Each script selects the
view's patients with readable SQL (the cohort filters and the view's options as literals),
recomputes the numbers and prints every table of the view as tab-separated lines and its
result lines word for word as the page shows them.
"""
from __future__ import annotations

from analytics import response, stats
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH
from analytics.reproduce import Provenance, cohort_where, preamble, register
from analytics.views.response import SMALL_GROUP, ResponseSpec

# Formatting and exact intervals as the page gives them (pasted into each script that needs them).
_PRINT_TABLE_DEF = '''
def print_table(frame):
    """A table as tab-separated lines: header, then one line per row."""
    print("\\t".join(str(c) for c in frame.columns))
    for row in frame.itertuples(index=False):
        print("\\t".join(str(v) for v in row))

'''
PRINT_TABLE = "\n# %% Helper: a table printed as tab-separated lines" + _PRINT_TABLE_DEF
HELPERS = '''
# %% Helpers: numbers formatted as the page shows them; exact (Clopper-Pearson) 95% intervals
def one_decimal(x):
    """Rounded half away from zero, read to 12 significant digits (the page's rule: 6.25 -> 6.3)."""
    return f"{math.copysign(math.floor(float(f'{abs(x) * 10:.12g}') + 0.5) / 10, x):.1f}"


def pct(x):  # one decimal; "–" when there is no denominator
    return "–" if x is None or math.isnan(x) else f"{one_decimal(100 * x)}%"


def ci_text(low, high):
    return "–" if low is None or math.isnan(low) else f"{one_decimal(100 * low)}–{one_decimal(100 * high)}%"


def clopper_pearson(k, n):
    """Exact (Clopper-Pearson) 95% CI of k/n (scipy); no interval without a denominator."""
    if n == 0:
        return math.nan, math.nan
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="exact")
    return ci.low, ci.high


def patients_text(n):
    return f"{n} patient" + ("" if n == 1 else "s")

''' + _PRINT_TABLE_DEF

_RESPONSE_CONSTANTS = f"""
RESPONSES = {response.RESPONSES!r}  # best-response order
RESPONSE_LABELS = {response.RESPONSE_LABELS!r}
RESPONDER = {response.RESPONDER!r}  # CR/CRi
"""


def script_imports(*extra: str, figure: bool = True, rates: bool = True) -> list[str]:
    """The script's import statements (`figure`: Altair; `rates`: scipy's binomtest for `HELPERS`):
    `import x` lines, then `from x import y` lines, each sorted."""
    statements = {"import duckdb", "import pandas as pd",
                  *(["import math", "from scipy.stats import binomtest"] if rates else []),
                  *(["import altair as alt"] if figure else []), *extra}
    return sorted(statements, key=lambda statement: (statement.startswith("from"), statement))


# --- best response ----------------------------------------------------------------------------------
@register("response.best_response")
def best_response_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                         provenance: Provenance) -> str:
    return preamble("Response: best response among treated patients", provenance, script_imports(),
                    _RESPONSE_CONSTANTS + f"NOT_ASSESSED_LISTED = {response.IDS_LISTED}  # ids named in the "
                                          "not-assessed sentence") + HELPERS + f'''
# %% 2. The view's patients: everyone selected, with treatment and best response over all lines
patients = con.execute("""
    SELECT patient_id, coalesce(treated, FALSE) AS treated, best_response
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
    ORDER BY patient_id
""").df()
treated = patients[patients["treated"]]
# Denominator: treated patients with a recorded assessment. "Not evaluable" (e.g. death before
# assessment) is a recorded outcome and stays in; no assessment at all is unknown and stays out.
assessed = treated[treated["best_response"].notna()]
not_assessed = treated[treated["best_response"].isna()]
n = len(assessed)
print(f"Treated / untreated: {{len(treated)}} / {{len(patients) - len(treated)}}")
if len(treated) == 0:
    print(f"No patient in the current selection received B-ALL treatment ({{len(patients)}} untreated): "
          "there is no response to assess.")
    sys.exit(0)
if len(not_assessed):
    ids = list(not_assessed["patient_id"])
    more = len(ids) - NOT_ASSESSED_LISTED
    listed = ", ".join(ids[:NOT_ASSESSED_LISTED]) + (f", ... and {{more:,}} more" if more > 0 else "")
    print(f"{{patients_text(len(ids))}} treated without a response assessment recorded ({{listed}}): "
          "not counted in the denominator (unknown, not failures).")
if 0 < n < 10:
    print(f"Only {{patients_text(n)}} treated with an assessment: the intervals are wide; read the counts, "
          "not the percentages.")
if n == 0:
    sys.exit(0)

# %% 3. Each best response with its exact (Clopper-Pearson) 95% CI, and CR or CRi
counts = assessed["best_response"].value_counts()
rows = []
for resp in RESPONSES:
    k = int(counts.get(resp, 0))
    low, high = clopper_pearson(k, n)
    rows.append({{"Best response": RESPONSE_LABELS[resp], "n/N": f"{{k}}/{{n}}", "%": pct(k / n),
                 "Exact 95% CI": ci_text(low, high), "k": k, "low": low, "high": high}})
table = pd.DataFrame(rows)
print_table(table[["Best response", "n/N", "%", "Exact 95% CI"]])
k = int(assessed["best_response"].isin(RESPONDER).sum())
low, high = clopper_pearson(k, n)
print(f"CR or CRi: {{k}}/{{n}} treated {{'patient' if n == 1 else 'patients'}} with an assessment "
      f"({{pct(k / n)}}, exact 95% CI {{ci_text(low, high)}}).")

# %% 4. The figure: bars with exact 95% CIs (Altair), saved beside the script as PNG
data = table.assign(pct100=100 * table["k"] / n, lo100=100 * table["low"], hi100=100 * table["high"],
                    label=table["n/N"] + " (" + table["%"] + ")")
y = alt.Y("Best response:N", sort=[RESPONSE_LABELS[r] for r in RESPONSES], title=None)
bars = alt.Chart(data).mark_bar(height=26).encode(
    x=alt.X("pct100:Q", title=f"% of treated patients with an assessment (N = {{n}})",
            scale=alt.Scale(domain=[0, 100])), y=y, color=alt.Color("Best response:N", legend=None))
rules = alt.Chart(data).mark_rule(strokeWidth=2, color="#333333").encode(x="lo100:Q", x2="hi100:Q", y=y)
labels = alt.Chart(data).mark_text(align="left", dx=6, dy=-12).encode(x="pct100:Q", y=y, text="label:N")
chart = (bars + rules + labels).properties(width=520, height=60 * len(data),
                                           title="Best response among treated patients (bars: exact 95% CI)")
chart.save("best_response.png")
print("Figure: best_response.png")
'''


# --- CR/CRi by group ----------------------------------------------------------------------------------
_EXACT_RX2 = '''
def freeman_halton(table):
    """Fisher's exact test for a groups x 2 table (Freeman-Halton), two-sided: the summed hypergeometric
    probability of every table with the observed margins that is no more likely than the observed
    one (relative tolerance 1e-7, as R's fisher.test). SciPy's fisher_exact tests larger than 2 x 2
    tables only by Monte Carlo (its default) or permutation, so the tables are enumerated here; if there could be more than
    MAX_ENUMERATED_TABLES of them, the p-value is estimated from MONTE_CARLO_DRAWS tables drawn with
    scipy.stats.random_table at a fixed seed as (1 + hits) / (1 + draws), like R's
    simulate.p.value. Returns (p, method). Freeman & Halton, Biometrika 1951;38:141-9."""
    t = np.asarray(table, dtype=int)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]  # empty rows/columns carry nothing
    if t.size == 0 or min(t.shape) < 2:
        return 1.0, "exact enumeration"
    if t.shape[0] > t.shape[1]:
        t = t.T  # two rows (CR/CRi, no CR/CRi), one column per group
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    # log of the probability of a table with these margins: const - sum(log(x!))
    const = (sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in cols)
             - math.lgamma(rows.sum() + 1))
    log_observed = const - sum(math.lgamma(x + 1) for x in t.ravel())
    threshold = log_observed + math.log(1 + 1e-7)
    bound = math.prod(int(c) + 1 for c in cols[:-1])  # at most this many tables: x_j = 0..cols[j]
    if bound > MAX_ENUMERATED_TABLES:
        sample = random_table(rows, cols).rvs(size=MONTE_CARLO_DRAWS,
                                              random_state=np.random.default_rng(MONTE_CARLO_SEED))
        logp = const - gammaln(sample + 1).sum(axis=(1, 2))
        hits = int((logp <= threshold).sum())
        return (1 + hits) / (1 + MONTE_CARLO_DRAWS), f"Monte Carlo ({MONTE_CARLO_DRAWS:,} tables, seed {MONTE_CARLO_SEED})"
    total = 0.0
    # two rows: a table is fixed by its first row (x_j of column j), the second row is cols - x
    def walk(j, left, acc):
        nonlocal total
        if j == len(cols) - 1:  # the last column takes what is left of the first row
            if 0 <= left <= cols[j]:
                logp = const - acc - math.lgamma(left + 1) - math.lgamma(cols[j] - left + 1)
                if logp <= threshold:
                    total += math.exp(logp)
            return
        for x in range(max(0, left - int(cols[j + 1:].sum())), min(int(cols[j]), left) + 1):
            walk(j + 1, left - x, acc + math.lgamma(x + 1) + math.lgamma(cols[j] - x + 1))
    walk(0, int(rows[0]), 0.0)
    return min(1.0, total), "exact enumeration"
'''


@register("response.by_group")
def by_group_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                    provenance: Provenance) -> str:
    label, expression = response.GROUP_FEATURES[spec.group]
    constants = _RESPONSE_CONSTANTS + f"""
GROUP_LABEL = {label!r}
NOT_EVALUATED = {response.NOT_EVALUATED!r}  # feature not recorded: shown, never tested
SMALL_GROUP = {SMALL_GROUP}  # below it a comparison has little power (said with the test)
MAX_ENUMERATED_TABLES = {stats.MAX_ENUMERATED_TABLES}
MONTE_CARLO_DRAWS = {stats.MONTE_CARLO_DRAWS}
MONTE_CARLO_SEED = {stats.MONTE_CARLO_SEED}
"""
    return preamble(f"Response: CR/CRi by {label}", provenance, script_imports(
        "import numpy as np", "from scipy.special import gammaln",
        "from scipy.stats import fisher_exact, random_table", "from scipy.stats.contingency import odds_ratio"),
        constants) + HELPERS + _EXACT_RX2 + f'''

# %% 2. The view's patients: treated, with a recorded best response, and their group
# Grouping (option "CR/CRi by"): {label}
patients = con.execute("""
    SELECT patient_id,
           coalesce(CAST({expression} AS VARCHAR), 'not evaluated') AS "group",
           best_response
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND treated AND best_response IS NOT NULL  -- no assessment: unknown, not a failure
""").df()
patients["responder"] = patients["best_response"].isin(RESPONDER)
if patients.empty:
    print("No treated patient with a response assessment in the selection.")
    sys.exit(0)

# %% 3. CR/CRi per group with exact 95% CIs; the contingency table
present = set(patients["group"])
groups = sorted(present - {{NOT_EVALUATED}}) + ([NOT_EVALUATED] if NOT_EVALUATED in present else [])
rates, contingency = [], []
for g in groups:
    part = patients[patients["group"] == g]
    n, k = len(part), int(part["responder"].sum())
    low, high = clopper_pearson(k, n)
    rates.append({{GROUP_LABEL: g, "CR/CRi": f"{{k}}/{{n}}", "%": pct(k / n), "Exact 95% CI": ci_text(low, high),
                  "In test": "yes" if g != NOT_EVALUATED else "no (not evaluated)",
                  "k": k, "n": n, "low": low, "high": high}})
    by_response = part["best_response"].value_counts()
    contingency.append({{GROUP_LABEL: g, "CR/CRi": k, "no CR/CRi": n - k, "total": n,
                        **{{RESPONSE_LABELS[r]: int(by_response.get(r, 0)) for r in RESPONSES}}}})
rates = pd.DataFrame(rates)
print_table(rates[[GROUP_LABEL, "CR/CRi", "%", "Exact 95% CI", "In test"]])
print_table(pd.DataFrame(contingency))

# %% 4. The exact test on the evaluated groups (CR/CRi vs no CR/CRi)
evaluated = rates[rates["In test"] == "yes"]
n_left_out = int(rates.loc[rates["In test"] != "yes", "n"].sum())
if n_left_out:
    print(f"{{n_left_out}} patients with {{GROUP_LABEL}} not evaluated are shown but left out of the test."
          if n_left_out > 1 else f"1 patient with {{GROUP_LABEL}} not evaluated is shown but left out of the test.")
if len(evaluated) >= 2 and evaluated["k"].sum() in (0, evaluated["n"].sum()):
    print("All evaluable patients had the same outcome: the test is uninformative (p = 1).")
if rates["n"].min() < SMALL_GROUP:
    print(f"Some groups have fewer than {{SMALL_GROUP}} patients: exact methods are used, but power is low and "
          "a large p-value is not evidence of no difference.")
table = [[int(x.k), int(x.n - x.k)] for x in evaluated.itertuples()]


def p_text(p):
    return "p < 0.001" if p < 0.001 else f"p = {{p:.3f}}"


if len(table) < 2:
    print("No test: fewer than two groups with evaluable patients.")
elif len(table) == 2:
    p = fisher_exact(table).pvalue  # two-sided
    line = f"Fisher's exact test (two-sided) on CR/CRi vs no CR/CRi: {{p_text(p)}} (exact)"
    # conditional maximum-likelihood odds ratio and its exact CI, as R's fisher.test. Where a CI bound
    # is exactly halfway between two printed values (e.g. 4.875 for [[0, 1], [8, 0]]), scipy's and the
    # app's root finders can land either side of it and the last digit differ by 0.01.
    ratio = odds_ratio(table, kind="conditional")
    if not math.isnan(ratio.statistic):
        ci = ratio.confidence_interval(confidence_level=0.95)
        first, second = evaluated[GROUP_LABEL].iloc[0], evaluated[GROUP_LABEL].iloc[1]
        line += (f"; odds ratio of CR/CRi, {{first}} vs {{second}}, {{ratio.statistic:.2f}} (exact 95% CI "
                 f"{{ci.low:.2f}}–{{ci.high:.2f}}; conditional maximum-likelihood, as R fisher.test)")
    print(line + ".")
else:
    p, method = freeman_halton(table)
    print(f"Freeman-Halton exact test ({{len(table)}}×2, two-sided) on CR/CRi vs no CR/CRi: {{p_text(p)}} ({{method}}).")

# %% 5. The figure: CR/CRi per group with exact 95% CIs (grey: not evaluated), saved as PNG
data = rates.assign(group=rates[GROUP_LABEL],  # a plain field name: labels such as "BCR::ABL1" hold colons
                    pct100=100 * rates["k"] / rates["n"], lo100=100 * rates["low"], hi100=100 * rates["high"],
                    kind=["evaluated" if x == "yes" else NOT_EVALUATED for x in rates["In test"]],
                    label=rates["CR/CRi"] + " (" + rates["%"] + ")")[["group", "pct100", "lo100", "hi100", "kind", "label"]]
y = alt.Y("group:N", sort=list(rates[GROUP_LABEL]), title=GROUP_LABEL)
color = alt.Color("kind:N", scale=alt.Scale(domain=["evaluated", NOT_EVALUATED], range=["#0072B2", "#999999"]),
                  legend=None)
rule = alt.Chart(data).mark_rule(strokeWidth=3).encode(
    x=alt.X("lo100:Q", scale=alt.Scale(domain=[0, 100]), title="CR/CRi among treated patients, % (exact 95% CI)"),
    x2="hi100:Q", y=y, color=color)
point = alt.Chart(data).mark_point(filled=True, size=160).encode(x="pct100:Q", y=y, color=color)
high = data["pct100"] > 50  # labels above the point, kept inside the plot
text = (alt.Chart(data[high]).mark_text(dy=-15, dx=6, align="right").encode(x="pct100:Q", y=y, text="label:N")
        + alt.Chart(data[~high]).mark_text(dy=-15, dx=-6, align="left").encode(x="pct100:Q", y=y, text="label:N"))
chart = (rule + point + text).properties(width=520, height=max(120, 60 * len(data)),
                                         title=f"CR/CRi by {{GROUP_LABEL}}")
chart.save("cr_by_{spec.group}.png")
print("Figure: cr_by_{spec.group}.png")
'''


# --- MRD and time to CR/CRi ---------------------------------------------------------------------------
@register("response.mrd")
def mrd_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
               provenance: Provenance) -> str:
    origin_day = "first_treatment_day" if spec.origin == "treatment" else "0"
    origin_text = response.TIME_ORIGINS[spec.origin]
    return preamble("Response: MRD and time to CR/CRi", provenance, script_imports(figure=False), f"""
DAYS_PER_MONTH = {DAYS_PER_MONTH}
ORIGIN = {origin_text!r}  # option "Time to CR/CRi from"
""") + HELPERS + f'''
def responders_text(n):
    return "responder" if n == 1 else "responders"


def sensitivity_text(x):  # 0.0001 -> "10⁻⁴ (0.01%)"
    if x is None or pd.isna(x):
        return "not recorded"
    exponent = math.log10(x)
    superscript = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    head = (f"10{{str(int(round(exponent))).translate(superscript)}}" if abs(exponent - round(exponent)) < 1e-9
            else f"{{x:g}}")
    return f"{{head}} ({{100 * x:g}}%)"


# %% 2. Responders (best response CR or CRi) and their MRD at CR/CRi assessments
# A responder is MRD-negative if any CR/CRi assessment recorded negativity; the assessment that
# defines the status (and its method and sensitivity) is the first negative one, else the first
# with a result. Responders without any MRD result are not evaluated: outside the denominator.
responders = con.execute("""
    WITH responders AS (
        SELECT patient_id FROM patient_summary
        WHERE {cohort_where(cohort_filter)}
          AND best_response IN ('CR', 'CRi')),
    assessments AS (
        SELECT patient_id, day, mrd_status, mrd_method, mrd_sensitivity FROM events
        WHERE event_type = 'response_assessment' AND response IN ('CR', 'CRi')
          AND mrd_status IS NOT NULL AND patient_id IN (SELECT patient_id FROM responders))
    SELECT patient_id, mrd_evaluated, mrd_negative,
           defining.method AS mrd_method, defining.sensitivity AS mrd_sensitivity
    FROM (SELECT r.patient_id,
                 count(a.mrd_status) > 0 AS mrd_evaluated,
                 coalesce(bool_or(a.mrd_status = 'negative'), FALSE) AS mrd_negative,
                 -- method and sensitivity of one assessment: negative first, then the earliest
                 arg_min(struct_pack(method := a.mrd_method, sensitivity := a.mrd_sensitivity),
                         (a.mrd_status <> 'negative', a.day)) AS defining
          FROM responders r LEFT JOIN assessments a USING (patient_id)
          GROUP BY r.patient_id)
    ORDER BY patient_id
""").df()
if responders.empty:
    print("No patient in the selection reached CR/CRi: MRD and time to CR do not apply.")
    sys.exit(0)

# %% 3. MRD negativity among responders with a result (exact 95% CI), by method and sensitivity
evaluated = responders[responders["mrd_evaluated"]]
n, k = len(evaluated), int(evaluated["mrd_negative"].sum())
low, high = clopper_pearson(k, n)
methods = (evaluated.assign(method=evaluated["mrd_method"].fillna("method not recorded"),
                            sensitivity=[sensitivity_text(x) for x in evaluated["mrd_sensitivity"]],
                            negative=evaluated["mrd_negative"].astype(int))
           .groupby(["method", "sensitivity"])
           .agg(evaluated=("patient_id", "size"), negative=("negative", "sum")).reset_index())
methods.columns = ["MRD method", "Sensitivity (threshold)", "Evaluated", "MRD-negative"]
print_table(methods)
print(f"MRD-negative: {{k}}/{{n}} {{responders_text(n)}} with an MRD result ({{pct(k / n if n else math.nan)}}, "
      f"exact 95% CI {{ci_text(low, high)}}); {{len(responders) - n}} of {{len(responders)}} "
      f"{{responders_text(len(responders))}} without an MRD result.")

# %% 4. Time to the first CR/CRi from the {origin_text} (treated patients with a CR/CRi day)
days = con.execute("""
    SELECT patient_id, CAST(first_cr_day - {origin_day} AS DOUBLE) AS days  -- origin: {origin_text}
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND first_cr_day IS NOT NULL AND treated
""").df()["days"]
median, shortest, longest = days.median(), days.min(), days.max()
print(f"Time to first CR/CRi from the {{ORIGIN}}, among the {{len(days)}} {{responders_text(len(days))}}: "
      f"median {{median:g}} days ({{median / DAYS_PER_MONTH:.1f}} months), range {{shortest:g}}–{{longest:g}} days "
      f"({{shortest / DAYS_PER_MONTH:.1f}}–{{longest / DAYS_PER_MONTH:.1f}} months). Descriptive, among responders only.")
'''
