"""Scripts that reproduce the Response page's views (scipy, pandas, Altair; no app code).

One builder per view key: best response, CR/CRi by group, MRD and time to CR/CRi, the swimmer
plot, the treatment flow, current status and the untreated patients. Each script selects the
view's patients with readable SQL (the cohort filters and the view's options as literals),
recomputes the numbers and prints every table of the view as tab-separated lines and its
result lines word for word as the page shows them.
"""
from __future__ import annotations

from analytics import response, stats
from analytics.response import flow, swimmer
from analytics.db import CohortDatabase
from analytics.units import DAYS_PER_MONTH
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, cohort_where, preamble, register
from analytics.views.response import SMALL_GROUP, UNTREATED_LISTED, ResponseSpec

# Formatting and exact intervals as the page gives them (pasted into each script that needs them).
_PRINT_TABLE_DEF = '''
def print_table(frame):
    """A table as tab-separated lines: header, then one line per row."""
    print("\\t".join(str(c) for c in frame.columns))
    for row in frame.itertuples(index=False):
        print("\\t".join(str(v) for v in row))

'''
_PRINT_TABLE = "\n# %% Helper: a table printed as tab-separated lines" + _PRINT_TABLE_DEF
_HELPERS = '''
# %% Helpers: numbers formatted as the page shows them; exact (Clopper-Pearson) 95% intervals
def pct(x):  # one decimal; "–" when there is no denominator
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def ci_text(low, high):
    return "–" if low is None or math.isnan(low) else f"{100 * low:.1f}–{100 * high:.1f}%"


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


def _imports(*extra: str, figure: bool = True, rates: bool = True) -> list[str]:
    """The script's import statements (`figure`: Altair; `rates`: scipy's binomtest for `_HELPERS`):
    `import x` lines, then `from x import y` lines, each sorted."""
    statements = {"import duckdb", "import pandas as pd",
                  *(["import math", "from scipy.stats import binomtest"] if rates else []),
                  *(["import altair as alt"] if figure else []), *extra}
    return sorted(statements, key=lambda statement: (statement.startswith("from"), statement))


# --- best response ----------------------------------------------------------------------------------
@register("response.best_response")
def best_response_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                         provenance: Provenance) -> str:
    return preamble("Response: best response among treated patients", provenance, _imports(),
                    _RESPONSE_CONSTANTS + f"NOT_ASSESSED_LISTED = {response.IDS_LISTED}  # ids named in the "
                                          "not-assessed sentence") + _HELPERS + f'''
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
    return preamble(f"Response: CR/CRi by {label}", provenance, _imports(
        "import numpy as np", "from scipy.special import gammaln",
        "from scipy.stats import fisher_exact, random_table", "from scipy.stats.contingency import odds_ratio"),
        constants) + _HELPERS + _EXACT_RX2 + f'''

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
    return preamble("Response: MRD and time to CR/CRi", provenance, _imports(figure=False), f"""
DAYS_PER_MONTH = {DAYS_PER_MONTH}
ORIGIN = {origin_text!r}  # option "Time to CR/CRi from"
""") + _HELPERS + f'''
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


# --- current status -----------------------------------------------------------------------------------
def _status_case() -> str:
    return ("CASE status_at_last_contact\n" + "\n".join(
        f"               WHEN '{k}' THEN '{v}'" for k, v in response.STATUS_AT_LAST_CONTACT.items())
        + "\n           END")


def _pathway_case() -> str:
    hct, therapy, none = response.PATHWAYS
    return (f"CASE WHEN coalesce(hct, FALSE) THEN '{hct}'\n"
            f"                WHEN coalesce(treated, FALSE) THEN '{therapy}' ELSE '{none}' END")


@register("response.status")
def status_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                  provenance: Provenance) -> str:
    return preamble("Response: current status", provenance, _imports(figure=False), f"""
STATUS_ORDER = {response.STATUS_ORDER!r}
PATHWAYS = {response.PATHWAYS!r}
""") + _HELPERS + f'''
# %% 2. Status at last contact and treatment pathway of every selected patient
patients = con.execute("""
    SELECT patient_id,
           {_status_case()} AS status,  -- NULL: a status not recorded as one of these
           {_pathway_case()} AS pathway
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
""").df()

# %% 3. Status by pathway, with % of the patients and exact 95% CIs
n = len(patients)
rows = []
for status in STATUS_ORDER:
    part = patients[patients["status"] == status]
    k = len(part)
    low, high = clopper_pearson(k, n)
    rows.append({{"status": status, **{{p: int((part["pathway"] == p).sum()) for p in PATHWAYS}},
                 "total": k, "% of patients": pct(k / n if n else math.nan), "exact 95% CI": ci_text(low, high)}})
print_table(pd.DataFrame(rows))
alive_ned = int((patients["status"] == STATUS_ORDER[0]).sum())
print(f"Alive without evidence of B-ALL at last contact: {{alive_ned}} of {{patients_text(n)}}.")
'''


# --- untreated patients -------------------------------------------------------------------------------
@register("response.untreated")
def untreated_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                     provenance: Provenance) -> str:
    return preamble("Response: untreated patients", provenance, _imports(figure=False), f"""
LISTED = {UNTREATED_LISTED}  # patients listed (by id); the page's CSV download has all of them
""") + _HELPERS + f'''
# %% 2. Untreated patients (no B-ALL treatment line recorded), the first LISTED by id
UNTREATED = """
    SELECT patient_id FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND NOT treated"""
LISTED_IDS = UNTREATED + f" ORDER BY patient_id LIMIT {{LISTED}}"
n_untreated = con.execute(f"SELECT count(*) FROM ({{UNTREATED}})").fetchone()[0]
print(f"Untreated patients ({{n_untreated}})")
if n_untreated > LISTED:
    print(f"The first {{LISTED}} of {{n_untreated:,}} untreated patients are listed; the CSV download has all of them.")
patients = con.execute(f"""
    SELECT patient_id, age_at_ball_dx, vital_status, death_day, death_cause, last_contact_day,
           status_at_last_contact, len_stop_day
    FROM patient_summary WHERE patient_id IN ({{LISTED_IDS}}) ORDER BY patient_id""").df()
notes = con.execute(f"""
    SELECT patient_id, string_agg(note, '; ' ORDER BY day) AS notes FROM events
    WHERE note IS NOT NULL AND patient_id IN ({{LISTED_IDS}}) GROUP BY patient_id""").df()
measurements = con.execute(f"""
    SELECT patient_id, analyte, specimen, day, value, below_detection, lower_limit_of_detection, unit
    FROM measurements WHERE patient_id IN ({{LISTED_IDS}})
    ORDER BY patient_id, analyte, specimen, day""").df()

# %% 3. Why, where recorded: lenalidomide stop, serial measurements (d = day from B-ALL diagnosis),
# notes, death or last contact
def measured(m):
    if m.below_detection:
        return f"<{{m.lower_limit_of_detection:g}}{{m.unit}} (d{{int(m.day)}})"
    return f"{{m.value:g}}{{m.unit}} (d{{int(m.day)}})"


notes_by = dict(zip(notes["patient_id"], notes["notes"]))
whys = []
for p in patients.itertuples():
    parts = []
    if pd.notna(p.len_stop_day):
        parts.append(f"lenalidomide stopped on day {{int(p.len_stop_day)}}")
    own = measurements[measurements["patient_id"] == p.patient_id]
    for (analyte, specimen), series in own.groupby(["analyte", "specimen"], sort=False):
        name = analyte.replace("_pct", "").replace("_", " ")
        parts.append(f"{{name}} ({{specimen}}): " + " → ".join(measured(m) for m in series.itertuples()))
    if p.patient_id in notes_by:
        parts.append(str(notes_by[p.patient_id]))
    if pd.notna(p.death_cause):
        parts.append(f"died on day {{int(p.death_day)}}: {{p.death_cause}}")
    elif p.vital_status == "alive" and pd.notna(p.last_contact_day):
        parts.append(f"alive at day {{int(p.last_contact_day)}}: {{p.status_at_last_contact}}")
    elif p.vital_status == "alive":
        parts.append("alive, day of last contact not recorded")
    whys.append("; ".join(parts) if parts else "no reason recorded")
print_table(patients.assign(why=whys)[["patient_id", "age_at_ball_dx", "vital_status", "why"]])
'''


# --- swimmer plot -------------------------------------------------------------------------------------
def _swimmer_order_sql(sort: str) -> str:
    """The SQL ORDER BY of a swimmer sort (the patient id last: the default order of every page)."""
    rank = ("CASE best_response " + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(response.RESPONSES))
            + f" ELSE {len(response.RESPONSES)} END")
    return {"default": "patient_id",
            "duration": "-coalesce(os_days, 0), patient_id",
            "response": f"{rank}, -coalesce(os_days, 0), patient_id",
            "regimen": "lower(coalesce(first_line_regimen_category, '~ no B-ALL therapy')), -coalesce(os_days, 0), "
                       "patient_id"}[sort]


@register("response.swimmer")
def swimmer_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                   provenance: Provenance) -> str:
    from_treatment = spec.swimmer_origin == "treatment"
    origin_text = swimmer.ORIGINS[spec.swimmer_origin]
    return preamble(f"Response: swimmer plot ({swimmer.SORTS[spec.sort].lower()}, from {origin_text})", provenance,
                    _imports(rates=False), f"""
DAYS_PER_MONTH = {DAYS_PER_MONTH}
DRAWN_MAX = {swimmer.PATIENTS_DRAWN_MAX}  # bars drawn: the first N of the sort order
FROM_TREATMENT = {from_treatment}  # option "Bars start at": {origin_text}
PHASE_COLORS = {swimmer.PHASE_COLORS!r}
MARKERS = {swimmer.MARKERS!r}
""") + _PRINT_TABLE + f'''
# %% 2. The patients drawn: the first DRAWN_MAX in the chosen order
# Order (option "Sort patients by"): {swimmer.SORTS[spec.sort]}; ties by patient id.
SELECTED = """
    SELECT * FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
"""
n_total = con.execute(f"SELECT count(*) FROM ({{SELECTED}})").fetchone()[0]
capped = n_total > DRAWN_MAX
if capped:
    print(f"The first {{DRAWN_MAX}} of {{n_total:,}} patients in the chosen order are drawn; every count and test "
          "uses all of them.")
# From first treatment, never-treated patients have no time zero and are not drawn.
order = con.execute(f"""
    SELECT patient_id FROM ({{SELECTED}})
    WHERE {{"first_treatment_day IS NOT NULL" if FROM_TREATMENT else "TRUE"}}
    ORDER BY {_swimmer_order_sql(spec.sort)}
    LIMIT {{DRAWN_MAX}}""").df()["patient_id"].tolist()
never = con.execute(f"SELECT patient_id FROM ({{SELECTED}}) WHERE first_treatment_day IS NULL "
                    "ORDER BY patient_id").df()["patient_id"].tolist() if FROM_TREATMENT else []
subtitle = "Open circle below the bar: MRD-negative CR/CRi. Hover for details."
if capped:
    subtitle += f" First {{len(order):,}} of {{n_total - len(never):,}} patients in this sort order."
if never:  # a long list is counted, not spelled out, when only the first bars are drawn
    subtitle += " Not shown (never treated): " + (f"{{len(never):,}} patients" if capped and len(never) > 20
                                                   else ", ".join(never)) + "."
print(subtitle)

ids = ", ".join("'" + p.replace("'", "''") + "'" for p in order) or "NULL"  # the drawn patients
patients = con.execute(f"""
    SELECT patient_id, first_treatment_day, first_cr_day, hct_day, relapse_day, death_day, death_cause,
           last_contact_day, os_days, status_at_last_contact
    FROM patient_summary WHERE patient_id IN ({{ids}})""").df().set_index("patient_id").loc[order]
lines = con.execute(f"""SELECT patient_id, line, day, end_day FROM events
    WHERE event_type = 'treatment_line' AND patient_id IN ({{ids}}) ORDER BY patient_id, line, day""").df()
assessments = con.execute(f"""SELECT patient_id, line, day, response, mrd_status, mrd_method FROM events
    WHERE event_type = 'response_assessment' AND patient_id IN ({{ids}}) ORDER BY patient_id, day""").df()
transplants = con.execute(f"""SELECT patient_id, day, regimen, note FROM events
    WHERE event_type = 'hct' AND patient_id IN ({{ids}}) ORDER BY patient_id, day""").df()


# %% 3. Each patient's lane: phases from day 0 (diagnosis) to death or last contact, and events
# Phase at day t, first rule that holds: relapse / later lines (on or after the first relapse, or
# in a line >= 2); after HCT; induction (first line, before its first response assessment);
# consolidation / maintenance (first line, from that assessment to the line's end; a line without
# an end runs to the end of follow-up); observation (anything else).
def phase_at(t, p, own_lines, end, induction_end):
    if pd.notna(p.relapse_day) and t >= p.relapse_day:
        return "relapse / later lines"
    if pd.notna(p.hct_day) and t >= p.hct_day:
        return "after HCT"
    for line in own_lines.itertuples():
        stop = end if pd.isna(line.end_day) else line.end_day
        if line.day <= t < stop or line.day == t == stop:
            if line.line >= 2:
                return "relapse / later lines"
            return "consolidation / maintenance" if induction_end is not None and t >= induction_end else "induction"
    return "observation"


lanes, events = [], []
for p in patients.itertuples():
    end = max(float(p.os_days) if pd.notna(p.os_days) else 0.0, 1.0)
    own_lines = lines[lines["patient_id"] == p.Index]
    own_assessments = assessments[assessments["patient_id"] == p.Index]
    induction_end = None
    if len(own_lines):
        first = own_lines[own_lines["line"] == own_lines["line"].min()]
        after = own_assessments[(own_assessments["line"] == first["line"].iloc[0])
                                & (own_assessments["day"] >= first["day"].min())]
        induction_end = float(after["day"].min()) if len(after) else None
    cuts = {{0.0, end, *[float(x) for x in (p.hct_day, p.relapse_day) if pd.notna(x)]}}
    cuts |= {{float(x) for x in pd.concat([own_lines["day"], own_lines["end_day"]]) if pd.notna(x)}}
    if induction_end is not None:
        cuts.add(induction_end)
    cuts = sorted(c for c in cuts if 0 <= c <= end)
    for start, stop in zip(cuts[:-1], cuts[1:]):  # consecutive pieces of one phase are one segment
        phase = phase_at(start, p, own_lines, end, induction_end)
        if lanes and lanes[-1]["Patient"] == p.Index and lanes[-1]["Phase"] == phase:
            lanes[-1]["to"] = stop
        else:
            lanes.append({{"Patient": p.Index, "Phase": phase, "from": start, "to": stop}})

    def event(kind, day, detail):
        events.append({{"Patient": p.Index, "Event": kind, "day": float(day), "Detail": detail}})

    if pd.notna(p.first_cr_day):
        reached = own_assessments.loc[own_assessments["day"] == p.first_cr_day, "response"]
        event("CR/CRi", p.first_cr_day, f"first {{reached.iloc[0] if len(reached) else 'CR/CRi'}}")
    negative = own_assessments[(own_assessments["mrd_status"] == "negative")
                               & own_assessments["response"].isin(["CR", "CRi"])]
    if len(negative):
        event("MRD-negative", negative["day"].min(), f"MRD-negative ({{negative['mrd_method'].iloc[0]}})")
    own_hct = transplants[transplants["patient_id"] == p.Index]
    if len(own_hct):
        h = own_hct.iloc[0]
        event("allogeneic HCT", h["day"], "; ".join(str(x) for x in (h["regimen"], h["note"]) if pd.notna(x)))
    if pd.notna(p.relapse_day):
        event("relapse", p.relapse_day, "first relapse")
    if pd.notna(p.death_day):
        event("death", p.death_day, f"cause: {{p.death_cause}}" if pd.notna(p.death_cause) else "cause not recorded")
    elif pd.notna(p.last_contact_day):
        event("alive at last contact", p.last_contact_day, str(p.status_at_last_contact))
lanes = pd.DataFrame(lanes, columns=["Patient", "Phase", "from", "to"]).astype({{"from": float, "to": float}})
events = pd.DataFrame(events, columns=["Patient", "Event", "day", "Detail"]).astype({{"day": float}})
if FROM_TREATMENT:  # time zero at each patient's first treatment (time before it is negative)
    zero = patients["first_treatment_day"].astype(float)
    lanes["from"] -= lanes["Patient"].map(zero)
    lanes["to"] -= lanes["Patient"].map(zero)
    events["day"] -= events["Patient"].map(zero)
lanes["From day"] = lanes["from"].round().astype(int)
lanes["To day"] = lanes["to"].round().astype(int)
events["Day"] = events["day"].round().astype(int)
print_table(lanes[["Patient", "Phase", "From day", "To day"]])
print_table(events[["Patient", "Event", "Day", "Detail"]])

# %% 4. The figure: one bar per patient, coloured by phase, with event markers (Altair), as PNG
lanes["start_months"], lanes["end_months"] = lanes["from"] / DAYS_PER_MONTH, lanes["to"] / DAYS_PER_MONTH
events["months"] = events["day"] / DAYS_PER_MONTH
y = alt.Y("Patient:N", sort=order, title=None, scale=alt.Scale(paddingInner=0.3))
bars = alt.Chart(lanes).mark_bar(cornerRadius=2).encode(
    x=alt.X("start_months:Q", title="Months from {origin_text}"), x2="end_months:Q", y=y,
    color=alt.Color("Phase:N", scale=alt.Scale(domain=list(PHASE_COLORS), range=list(PHASE_COLORS.values()))))
shape = alt.Shape("Event:N", scale=alt.Scale(domain=list(MARKERS), range=list(MARKERS.values())))
marks = alt.Chart(events[events["Event"] != "MRD-negative"]).mark_point(
    filled=True, size=150, fill="#000000", stroke="#FFFFFF", opacity=1).encode(x="months:Q", y=y, shape=shape)
mrd = alt.Chart(events[events["Event"] == "MRD-negative"]).mark_point(
    filled=True, size=90, fill="#FFFFFF", stroke="#000000", opacity=1, yOffset=9).encode(x="months:Q", y=y, shape=shape)
chart = (bars + marks + mrd).properties(
    width=640, height=max(140, 30 * len(order)),
    title=alt.Title("Swimmer plot: {origin_text} to death or last contact", subtitle=subtitle))
chart.save("swimmer_{spec.swimmer_origin}.png")
print("Figure: swimmer_{spec.swimmer_origin}.png")
'''


# --- treatment flow -----------------------------------------------------------------------------------
@register("response.flow")
def flow_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                provenance: Provenance) -> str:
    no_category, no_therapy = "category not recorded", flow.NOT_TREATED
    hct, no_hct = flow.HCT_LABELS
    return preamble("Response: treatment flow", provenance, _imports(rates=False), f"""
STAGES = {flow.STAGES!r}
IDS_LISTED = {flow.IDS_LISTED}  # patient ids spelled out per path; more read "... and N more"
NO_THERAPY = {no_therapy!r}
STAGE_ORDERS = {{  # category order on the figure (first-line regimens: most frequent first)
    "response": {[*response.RESPONSES, response.NO_ASSESSMENT, "not treated"]!r},
    "hct": {list(flow.HCT_LABELS)!r},
    "status": {list(response.STATUS_ORDER)!r}}}
""") + _PRINT_TABLE + f'''
# %% 2. Each patient's path: first-line regimen -> best response -> allogeneic HCT -> status
paths = con.execute("""
    SELECT patient_id,
           CASE WHEN coalesce(treated, FALSE) THEN coalesce(first_line_regimen_category, '{no_category}')
                ELSE '{no_therapy}' END AS regimen,
           CASE WHEN coalesce(treated, FALSE) THEN coalesce(best_response, '{response.NO_ASSESSMENT}')
                ELSE 'not treated' END AS response,
           CASE WHEN coalesce(hct, FALSE) THEN '{hct}' ELSE '{no_hct}' END AS hct,
           coalesce({_status_case()}, 'unknown') AS status
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
""").df()


# %% 3. Patients per path (the table behind the chart): most patients first
def listed(ids):
    ids = sorted(ids)
    more = len(ids) - IDS_LISTED
    return ", ".join(ids[:IDS_LISTED]) + (f", ... and {{more:,}} more" if more > 0 else "")


counts = (paths.groupby(list(STAGES))["patient_id"]
          .agg(patients="size", first="min", ids=listed).reset_index()
          .sort_values(["patients", "regimen", "first"], ascending=[False, True, True]))
print_table(counts[[*STAGES, "patients", "ids"]].rename(columns=STAGES))

# %% 4. The figure: an alluvial chart (Altair): a box per stage and category, a band per
# first-line regimen between consecutive stages (straight bands; the page draws them curved)
regimens = paths.loc[paths["regimen"] != NO_THERAPY, "regimen"].value_counts()
STAGE_ORDERS["regimen"] = sorted(regimens.index, key=lambda r: (-regimens[r], r)) + [NO_THERAPY]
UNIT = max(1.0, len(paths) / 32)  # patients per drawn unit: a large cohort keeps the figure's size
nodes, top, rank = [], {{}}, {{}}
for x, stage in enumerate(STAGES):
    present = list(paths[stage].unique())
    order = [c for c in STAGE_ORDERS[stage] if c in present] + [c for c in present if c not in STAGE_ORDERS[stage]]
    y = 0.0
    for i, category in enumerate(order):
        n = int((paths[stage] == category).sum())
        nodes.append({{"x": x, "x2": x + 0.6, "xm": x + 0.3, "y": y, "y2": y + n, "ym": y + n / 2,
                      "side": "left" if x == 0 else "right" if x == len(STAGES) - 1 else "in",
                      "label": f"{{category}} · {{n}}"}})
        top[(stage, category)], rank[(stage, category)] = y, i
        y += n + 1.2 * UNIT
bands, offset_out, offset_in = [], dict(top), dict(top)
stages = list(STAGES)
for i, (a, b) in enumerate(zip(stages[:-1], stages[1:])):
    keys = list(dict.fromkeys(["regimen", a, b]))
    links = [(dict(zip(keys, key)), len(part)) for key, part in paths.groupby(keys)]
    ranks = {{id(v): (rank[(a, v[a])], rank[(b, v[b])], rank[("regimen", v["regimen"])]) for v, _ in links}}
    start, end = {{}}, {{}}
    # leave each source box in target order, enter each target box in source order (fewer crossings)
    for v, n in sorted(links, key=lambda link: ranks[id(link[0])]):
        start[id(v)] = offset_out[(a, v[a])]
        offset_out[(a, v[a])] += n
    for v, n in sorted(links, key=lambda link: (ranks[id(link[0])][1], ranks[id(link[0])][0], ranks[id(link[0])][2])):
        end[id(v)] = offset_in[(b, v[b])]
        offset_in[(b, v[b])] += n
    for v, n in links:
        link = f"{{i}}|{{v['regimen']}}|{{v[a]}}|{{v[b]}}"
        bands += [{{"link": link, "x": i + 0.6, "y": start[id(v)], "y2": start[id(v)] + n, "regimen": v["regimen"]}},
                  {{"link": link, "x": i + 1, "y": end[id(v)], "y2": end[id(v)] + n, "regimen": v["regimen"]}}]
nodes, bands = pd.DataFrame(nodes), pd.DataFrame(bands)
xscale = alt.Scale(domain=[-1.45, len(STAGES) - 1 + 0.6 + 1.55], nice=False, zero=False)
yscale = alt.Scale(reverse=True, nice=False, zero=False)
x, y = alt.X("x:Q", scale=xscale, axis=None), alt.Y("y:Q", scale=yscale, axis=None)
ym = alt.Y("ym:Q", scale=yscale, axis=None)
band = alt.Chart(bands).mark_area(opacity=0.55).encode(
    x=x, y=y, y2="y2:Q", detail="link:N",
    color=alt.Color("regimen:N", title="First-line regimen", sort=STAGE_ORDERS["regimen"],
                    legend=alt.Legend(orient="top", columns=3, labelLimit=400)))
box = alt.Chart(nodes).mark_rect(fill="#EBEBEB", stroke="#333333").encode(x=x, x2="x2:Q", y=y, y2="y2:Q")
labels = [  # first stage: left of the boxes; last: right of them; between: inside
    alt.Chart(nodes[nodes["side"] == "left"]).mark_text(align="right", dx=-6).encode(x=x, y=ym, text="label:N"),
    alt.Chart(nodes[nodes["side"] == "in"]).mark_text().encode(
        x=alt.X("xm:Q", scale=xscale, axis=None), y=ym, text="label:N"),
    alt.Chart(nodes[nodes["side"] == "right"]).mark_text(align="left", dx=6).encode(
        x=alt.X("x2:Q", scale=xscale, axis=None), y=ym, text="label:N")]
chart = alt.layer(band, box, *labels).properties(
    width=900, height=max(300, int(22 * (nodes["y2"].max() / UNIT + 3))),
    title=alt.Title("Treatment flow", subtitle=" → ".join(STAGES.values())))
chart.save("treatment_flow.png")
print("Figure: treatment_flow.png")
'''
