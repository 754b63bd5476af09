"""Scripts that reproduce the genomics page's views (scipy, pandas, Altair; no app code).

Each alteration has three states per patient: altered, no alteration, not evaluated (no test);
the scripts state that rule in pandas over the cohort file and count, test and draw from it.
Structural aberrations and parsed modal numbers come from the ISCN karyotype text: no library
reads ISCN, so the app's rule-based reader is written into the script (copied from the app's
source when the script is built, so it is the reader the page used).

Scripts are built from templates with `$NAME` placeholders (`string.Template`): the scripts'
own f-strings keep their braces.
"""
from __future__ import annotations

import ast
import inspect
from string import Template

from analytics import genomics
from analytics.genomics import karyotype
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.reproduce import Provenance, cohort_where, inline, preamble, register, sql_literal
from analytics.views.genomics import DEFAULT_SORT, HEADLINE_FEATURES, SMALL_SAMPLE, GenomicsSpec, checked

IMPORTS = ["import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd"]
TABLE_IMPORTS = ["import altair as alt", "import duckdb", "import pandas as pd"]  # no status matrix

# Category orders of the oncoprint's clinical tracks when it is sorted by one (as the app sorts;
# a track not listed sorts alphabetically). Checked by the oncoprint script tests.
CLINICAL_SORT_ORDER = {
    "Age group": ["< 60 y", "60-69 y", "≥ 70 y", NOT_EVALUATED],
    "Best response": ["CR", "CRi", "PR", "refractory", "not evaluable", "not assessed", "untreated"],
    "Allogeneic HCT": ["HCT", "no HCT"],
    "EFS": ["event", "no event (censored)"],
}


def _fallbacks(notices: list[str]) -> str:
    """Comment lines for link options this cohort lacks (the page used its defaults instead)."""
    return "".join(f"# Link option not used (as on the page): {notice}\n" for notice in notices)


def _fill(template: str, **values) -> str:
    return Template(template).substitute(**values)


def _sql_list(values) -> str:
    return "[" + ", ".join(sql_literal(v) for v in values) + "]"


def _iscn_reader() -> str:
    """The app's ISCN karyotype reader (analytics/genomics/karyotype.py) without its module docstring."""
    source = inspect.getsource(karyotype)
    tree = ast.parse(source)
    first = tree.body[0]
    lines = source.splitlines()
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        lines = lines[first.end_lineno:]
    return "\n".join(line for line in lines if line.strip() != "from __future__ import annotations").strip()


def _constants(**extra) -> str:
    lines = [f"ALTERED, NO_ALTERATION, NOT_EVALUATED = {genomics.ALTERED!r}, {genomics.NO_ALTERATION!r}, "
             f"{NOT_EVALUATED!r}"]
    lines += [f"{name} = {value!r}" for name, value in extra.items()]
    return "\n".join(lines)


PRINT_TABLE = '''
def print_table(frame, formats=None):
    """A table as tab-separated lines (header, then rows), cells as the page shows them."""
    formats = formats or {}
    print("\\t".join(str(c) for c in frame.columns))
    for row in frame.itertuples(index=False):
        print("\\t".join(formats[c] % v if c in formats and pd.notna(v) else str(v)
                        for c, v in zip(frame.columns, row)))
'''


def _reader_cell(number: int) -> str:
    return f'''
# %% {number}. Reading the ISCN karyotype texts
# No library reads ISCN; this is the app's rule-based reader, copied verbatim (analytics/genomics/karyotype.py).
# parse_karyotype(text) gives the clones, the modal number of the stemline (the first abnormal clone),
# the structural aberrations as short labels ('t(9;22)', 'del(9p)') and a doubled-hypodiploid flag.
# A text with no clone (none recorded, failed culture) leaves the patient not evaluated by karyotype.
# Reference: ISCN 2020, An International System for Human Cytogenomic Nomenclature (Karger).
{_iscn_reader()}
'''


def _status_cells(cohort_filter: CohortFilter, number: int) -> str:
    """Cells: the view's patients (one row each) and each alteration's status (altered / no
    alteration / not evaluated) in the app's feature order."""
    return _reader_cell(number) + _fill('''
# %% $NUMBER. The view's patients and each alteration's status
patients = con.execute("""
    SELECT patient_id, sequencing_assay, ploidy_category, bcr_abl1, karyotype_iscn
    FROM patient_summary
    WHERE $WHERE
    ORDER BY patient_id
""").df()
mutated = set(con.execute("SELECT DISTINCT patient_id, gene FROM mutations").df().itertuples(index=False, name=None))
# The alterations (rows) are named from the whole cohort file, not the selection, so that every
# selection shows the same rows: genes with a recorded mutation (TP53 first, then by patients),
# ploidy categories other than diploid, BCR::ABL1, structural aberrations (by patients, then name).
genes = con.execute("""
    SELECT gene FROM mutations GROUP BY gene
    ORDER BY gene = 'TP53' DESC, count(DISTINCT patient_id) DESC, gene
""").df()["gene"].tolist()
categories = set(con.execute("SELECT DISTINCT ploidy_category FROM patients "
                             "WHERE ploidy_category IS NOT NULL").df()["ploidy_category"])
ploidy_features = [c for c in PLOIDY_ORDER if c in categories and c != "diploid"]
texts = con.execute("SELECT karyotype_iscn, count(*) AS n FROM patients WHERE karyotype_iscn IS NOT NULL "
                    "GROUP BY karyotype_iscn").df()
structural_patients = {}
for text, n in zip(texts["karyotype_iscn"], texts["n"]):
    for label in parse_karyotype(text).structural:
        structural_patients[label] = structural_patients.get(label, 0) + int(n)
structural = sorted(structural_patients, key=lambda label: (-structural_patients[label], label))
kind = {**{g: "Mutation" for g in genes}, **{c.capitalize(): "Ploidy" for c in ploidy_features},
        "BCR::ABL1": "Fusion", **{s: "Karyotype (structural)" for s in structural}}


def state(evaluated, altered):
    """Not evaluated (no test) is never 'no alteration'."""
    return np.where(~np.asarray(evaluated, bool), NOT_EVALUATED,
                    np.where(np.asarray(altered, bool), ALTERED, NO_ALTERATION))


ids = patients["patient_id"].tolist()
sequenced = patients["sequencing_assay"].notna()       # a gene is evaluated when the patient was sequenced
karyotyped = patients["ploidy_category"].notna()       # ploidy: the expert-assessed category is recorded
read = [parse_karyotype(t if isinstance(t, str) else None) for t in patients["karyotype_iscn"]]
has_clones = [len(k.clones) > 0 for k in read]          # structural: the karyotype text has a clone
status = pd.DataFrame(index=pd.Index(ids, name="patient_id"))
for gene in genes:
    status[gene] = state(sequenced, [(p, gene) in mutated for p in ids])
for c in ploidy_features:
    status[c.capitalize()] = state(karyotyped, patients["ploidy_category"] == c)
status["BCR::ABL1"] = state(patients["bcr_abl1"].notna(), patients["bcr_abl1"] == "positive")
for label in structural:
    status[label] = state(has_clones, [label in k.structural for k in read])
print(f"{len(patients)} patients, {status.shape[1]} alterations")
''', NUMBER=number + 1, WHERE=cohort_where(cohort_filter))


# --- Frequencies -----------------------------------------------------------------------------------
@register("genomics.frequencies")
def frequencies_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                       provenance: Provenance) -> str:
    return preamble("Genomics: alteration frequencies among evaluable patients", provenance, [
        "import math", *IMPORTS, "from scipy.stats import binomtest"], _constants(
        HEADLINE_FEATURES=tuple(HEADLINE_FEATURES), SMALL_SAMPLE=SMALL_SAMPLE)) + _status_cells(
        cohort_filter, 2) + PRINT_TABLE + '''

# %% 4. Frequencies among the patients evaluated for each alteration, exact 95% CIs
# Denominator: patients evaluated for that alteration; not evaluated is never "no alteration".
# Clopper-Pearson interval: scipy.stats.binomtest(...).proportion_ci(method="exact").
def ci_text(low, high):
    return "–" if low is None or math.isnan(low) else f"{low:.0%}–{high:.0%}"


rows = []
for feature in (status.columns if len(patients) else []):
    altered = int((status[feature] == ALTERED).sum())
    evaluable = int((status[feature] != NOT_EVALUATED).sum())
    low = high = float("nan")
    if evaluable:
        ci = binomtest(altered, evaluable).proportion_ci(confidence_level=0.95, method="exact")
        low, high = ci.low, ci.high
    rows.append({"Alteration": feature, "Kind": kind[feature], "Altered": str(altered), "Evaluable": evaluable,
                 "Not evaluated": str(len(patients) - evaluable),
                 "% of evaluable": round(altered / evaluable * 100, 1) if evaluable else float("nan"),
                 "95% CI (Clopper-Pearson)": ci_text(low, high), "low": low, "high": high})
frequencies = pd.DataFrame(rows, columns=["Alteration", "Kind", "Altered", "Evaluable", "Not evaluated",
                                          "% of evaluable", "95% CI (Clopper-Pearson)", "low", "high"])
shown = frequencies.drop(columns=["low", "high"])
print_table(shown)
for name in HEADLINE_FEATURES:  # the page's three headline figures
    if name in set(shown["Alteration"]):
        r = shown.set_index("Alteration").loc[name]
        value = f"{r['Altered']}/{r['Evaluable']}" if r["Evaluable"] else "not evaluable"
        print(f"{name} (altered / evaluable): {value}; {r['Not evaluated']} not evaluated · "
              f"95% CI {r['95% CI (Clopper-Pearson)']}")
if len(patients) and not (frequencies["Evaluable"] > 0).any():
    print("Nothing to count: No patient in this selection was evaluated for any alteration (no sequencing, "
          "no karyotype, no BCR::ABL1 test).")
if 0 < len(patients) < SMALL_SAMPLE:
    print(f"Small sample: Only {len(patients)} patient{'' if len(patients) == 1 else 's'}: the exact 95% "
          "intervals are wide; read the counts, not the percentages.")

# %% 5. The figure: proportion and exact CI per alteration (Altair), saved beside the script as PNG
data = frequencies[frequencies["Evaluable"] > 0].copy()
data["pct"], data["lo"], data["hi"] = data["% of evaluable"], data["low"] * 100, data["high"] * 100
data["label"] = [f"{a}/{e} ({int(a) / e:.0%}); {ne} not evaluated"
                 for a, e, ne in zip(data["Altered"], data["Evaluable"], data["Not evaluated"])]
y = alt.Y("Alteration:N", sort=data["Alteration"].tolist(), title=None)
x = alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]), title="% of evaluable patients (95% Clopper-Pearson CI)")
chart = (alt.Chart(data).mark_rule(strokeWidth=3).encode(y=y, x=x, x2="hi:Q")
         + alt.Chart(data).mark_point(filled=True, size=100).encode(y=y, x="pct:Q")
         + alt.Chart(data).mark_text(align="left", dx=8).encode(y=y, x="hi:Q", text="label:N")
         ).properties(width=480, height=max(120, 24 * len(data)),
                      title="Alteration frequencies among evaluable patients")
chart.save("alteration_frequencies.png")
print("Figure: alteration_frequencies.png")
'''


# --- Oncoprint -------------------------------------------------------------------------------------
def _order_sql(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str) -> tuple[str, str]:
    """The oncoprint's column order as SQL (a join and the ORDER BY keys), and a comment; '' for
    a structural aberration (ordered in pandas from its status)."""
    features = genomics.feature_names(db)
    ploidy = {c.capitalize(): c for c in karyotype.PLOIDY_ORDER}
    if sort_by == DEFAULT_SORT or sort_by.startswith("Default"):
        return "", "p.patient_id"
    if sort_by == "Ploidy category":
        return "", f"coalesce(list_position({_sql_list(karyotype.PLOIDY_ORDER)}, p.ploidy_category), 99), p.patient_id"
    if sort_by in genomics.CLINICAL_TRACKS:
        value = genomics.CLINICAL_TRACK_SQL[sort_by]
        if sort_by in CLINICAL_SORT_ORDER:
            return "", f"coalesce(list_position({_sql_list(CLINICAL_SORT_ORDER[sort_by])}, {value}), 99), p.patient_id"
        return "", f"{value}, p.patient_id"
    if sort_by in ploidy and sort_by in features:
        category = sql_literal(ploidy[sort_by])
        return "", (f"CASE WHEN p.ploidy_category IS NULL THEN 2 WHEN p.ploidy_category = {category} "
                    "THEN 0 ELSE 1 END, p.patient_id")
    if sort_by == "BCR::ABL1":
        return "", ("CASE WHEN p.bcr_abl1 IS NULL THEN 2 WHEN p.bcr_abl1 = 'positive' THEN 0 ELSE 1 END, "
                    "p.patient_id")
    if sort_by in genomics.cohort_genes(db):
        join = (f"LEFT JOIN (SELECT patient_id, max(vaf) AS top_vaf FROM mutations\n"
                f"               WHERE gene = {sql_literal(sort_by)} GROUP BY patient_id) g USING (patient_id)")
        return join, ("CASE WHEN p.sequencing_assay IS NULL THEN 2 WHEN g.patient_id IS NOT NULL THEN 0 ELSE 1 END,\n"
                      "             CASE WHEN p.sequencing_assay IS NOT NULL THEN -coalesce(g.top_vaf, 0) ELSE 0 END, "
                      "p.patient_id")
    return "", ""  # a structural aberration


@register("genomics.oncoprint")
def oncoprint_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                     provenance: Provenance) -> str:
    spec, notices = checked(db, spec)
    sort_by = spec.onco_sort
    join, order_by = _order_sql(db, cohort_filter, sort_by)
    if order_by:
        order_cell = _fill('''
order = con.execute("""
    WITH p AS (
        SELECT * FROM patient_summary
        WHERE $WHERE
    )
    SELECT p.patient_id FROM p $JOIN
    ORDER BY $ORDER_BY
""").df()["patient_id"].tolist()
''', WHERE=cohort_where(cohort_filter), JOIN=join, ORDER_BY=order_by)
    else:
        order_cell = '''
rank = status[SORT_BY].map({ALTERED: 0, NO_ALTERATION: 1, NOT_EVALUATED: 2})
order = (pd.DataFrame({"rank": rank.to_numpy(), "patient_id": status.index})
         .sort_values(["rank", "patient_id"], kind="stable")["patient_id"].tolist())
'''
    tracks_sql = ",\n           ".join(f'{genomics.CLINICAL_TRACK_SQL[name]} AS "{name}"'
                                       for name in genomics.CLINICAL_TRACKS)
    title = "Genomics: oncoprint" + ("" if sort_by == DEFAULT_SORT else f" (sorted by {sort_by})")
    return preamble(title, provenance, IMPORTS, _constants(
        SORT_BY=sort_by, MAX_PATIENTS=genomics.ONCOPRINT_MAX_PATIENTS, CLINICAL_TRACKS=list(genomics.CLINICAL_TRACKS),
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS))) + _status_cells(cohort_filter, 2) + _fill('''
# %% 4. The columns: patients in the chosen order, the first MAX_PATIENTS drawn
${FALLBACKS}# Sorted by $SORT_BY: altered first (highest VAF first for a gene), then no alteration, then not
# evaluated; ties in patient-id order.$ORDER
drawn = order[:MAX_PATIENTS]
heading = (f"Oncoprint: {len(drawn)} patient{'' if len(drawn) == 1 else 's'}" if len(drawn) == len(order)
           else f"Oncoprint: first {len(drawn)} of {len(order)} patients")
print(heading)
if len(drawn) < len(order):
    print(f"First columns only: The oncoprint draws the first {len(drawn)} of {len(order):,} patients in the "
          "chosen sort order; the frequencies and tests use every patient.")

# %% 5. The matrix the figure shows: one column per patient
tracks = con.execute("""
    SELECT p.patient_id,
           $TRACKS
    FROM patient_summary p
    WHERE $WHERE
""").df().set_index("patient_id")
mutations = con.execute("SELECT patient_id, gene, variant_class, vaf FROM mutations ORDER BY patient_id, gene").df()
# A mutated gene's cell shows its highest-VAF variant: the class (colour) and the VAF in % (text).
top = (mutations.assign(order=range(len(mutations)))
       .sort_values(["vaf", "order"], ascending=[False, True], na_position="last", kind="stable")
       .drop_duplicates(["patient_id", "gene"]).set_index(["patient_id", "gene"]))
ploidy = patients.set_index("patient_id")["ploidy_category"]


def cell(patient, feature):
    """(colour category, VAF text) of one alteration cell."""
    value = status.at[patient, feature]
    if value != ALTERED:
        return value, ""
    if feature not in genes:
        return "Present", ""
    variant = top.loc[(patient, feature)]
    return CLASS_GROUPS[variant["variant_class"]], "" if pd.isna(variant["vaf"]) else f"{variant['vaf'] * 100:.0f}"


rows = [f for f in status.columns if kind[f] != "Ploidy"]  # ploidy has its own row of categories
names = CLINICAL_TRACKS + ["Ploidy category"] + rows
colours = pd.DataFrame(
    [[str(tracks.at[p, name]) for p in drawn] for name in CLINICAL_TRACKS]
    + [[ploidy[p] if isinstance(ploidy[p], str) else NOT_EVALUATED for p in drawn]]
    + [[cell(p, f)[0] for p in drawn] for f in rows], index=names, columns=drawn)
vafs = pd.DataFrame([[""] * len(drawn)] * (len(CLINICAL_TRACKS) + 1) + [[cell(p, f)[1] for p in drawn] for f in rows],
                    index=names, columns=drawn)
print("\t".join(["Row", *drawn]))  # a cell: its colour category, and the VAF % printed in a mutation cell
for name in names:
    print("\t".join([name, *(f"{c} {v}" if v else c for c, v in zip(colours.loc[name], vafs.loc[name]))]))

# %% 6. The figure: the matrix as coloured cells (Altair), saved beside the script as PNG
long = (colours.reset_index(names="row").melt(id_vars="row", var_name="patient_id", value_name="value")
        .assign(vaf=vafs.reset_index(names="row").melt(id_vars="row", value_name="vaf")["vaf"]))
x = alt.X("patient_id:N", sort=drawn, title=None, axis=alt.Axis(orient="top", labelAngle=-90))
y = alt.Y("row:N", sort=names, title=None)
status_colours = {NO_ALTERATION: "#F0F0F0", NOT_EVALUATED: "#BDBDBD"}  # tested and negative vs not tested
is_status = long["value"].isin(list(status_colours))
categories = alt.Chart(long[~is_status]).mark_rect(stroke="white", strokeWidth=1).encode(
    x=x, y=y, color=alt.Color("value:N", scale=alt.Scale(scheme="tableau20"), title="Category"),
    tooltip=["patient_id", "row", "value", "vaf"])
statuses = alt.Chart(long[is_status]).mark_rect(stroke="white", strokeWidth=1).encode(
    x=x, y=y, color=alt.Color("value:N", scale=alt.Scale(domain=list(status_colours),
                                                         range=list(status_colours.values())), title="Status"),
    tooltip=["patient_id", "row", "value"])
vaf = alt.Chart(long[long["vaf"] != ""]).mark_text(fontSize=9, color="white").encode(x=x, y=y, text="vaf:N")
chart = (categories + statuses + vaf).resolve_scale(color="independent").properties(
    width=max(120, 16 * len(drawn)), height=16 * len(names), title=heading)
chart.save("oncoprint.png")
print("Figure: oncoprint.png")
''', FALLBACKS=_fallbacks(notices), SORT_BY=sort_by, ORDER=order_cell, TRACKS=tracks_sql,
       WHERE=cohort_where(cohort_filter))


# --- Co-occurrence ---------------------------------------------------------------------------------
FISHER_CELL = '''
def fmt(x):
    return "–" if x is None or math.isnan(x) else "∞" if math.isinf(x) else f"{x:.3g}"


def two_by_two(a, b):
    """Counts [[both, A only], [B only, neither]] among patients evaluated for both A and B."""
    both = (status[a] != NOT_EVALUATED) & (status[b] != NOT_EVALUATED)
    sa, sb = status.loc[both, a] == ALTERED, status.loc[both, b] == ALTERED
    return [[int((sa & sb).sum()), int((sa & ~sb).sum())], [int((~sa & sb).sum()), int((~sa & ~sb).sum())]]


def fisher(table):
    """Two-sided Fisher exact p (scipy) and the conditional maximum-likelihood odds ratio with its
    exact 95% CI (scipy.stats.contingency.odds_ratio, kind="conditional", as R's fisher.test).
    A zero margin leaves the odds ratio without information: no estimate, no interval.
    The app computes these itself and agrees to about 1e-12; a number exactly halfway between two
    3-digit roundings (e.g. an upper bound of 29.25) can print rounded the other way."""
    (a, b), (c, d) = table
    p = fisher_exact(table).pvalue
    if min(a + b, c + d, a + c, b + d) == 0:
        return p, math.nan, math.nan, math.nan
    estimate = odds_ratio(table, kind="conditional")
    ci = estimate.confidence_interval(confidence_level=0.95)
    return p, float(estimate.statistic), float(ci.low), float(ci.high)
'''


@register("genomics.cooccurrence")
def cooccurrence_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                        provenance: Provenance) -> str:
    spec, notices = checked(db, spec)
    a, b = spec.co_a, spec.co_b
    return preamble(f"Genomics: {a} and {b}", provenance, [
        "import math", "import duckdb", "import numpy as np", "import pandas as pd",
        "from scipy.stats import fisher_exact", "from scipy.stats.contingency import odds_ratio"],
        _constants(A=a, B=b, SMALL_SAMPLE=SMALL_SAMPLE)) + _status_cells(cohort_filter, 2) + PRINT_TABLE + FISHER_CELL + '''

# %% 4. The 2x2 table among patients evaluated for both, and Fisher's exact test
''' + _fallbacks(notices) + '''if A == B:
    print("Pick two different alterations.")
else:
    table = two_by_two(A, B)
    n_both = sum(map(sum, table))
    print_table(pd.DataFrame({"": [f"{A} altered", f"{A} not altered"],
                              f"{B} altered": [table[0][0], table[1][0]],
                              f"{B} not altered": [table[0][1], table[1][1]]}))
    print(f"{A} × {B}: {n_both} patients evaluable for both ({len(status) - n_both} excluded: "
          "not evaluated for at least one).")
    if n_both == 0:
        print("No patient in this selection is evaluable for both alterations.")
    else:
        p, estimate, low, high = fisher(table)
        (a, b), (c, d) = table
        sample = (math.nan if a * d == 0 else math.inf) if b * c == 0 else a * d / (b * c)
        print(f"Fisher's exact test (two-sided) p = {p:.3g}; odds ratio (conditional MLE) {fmt(estimate)}, "
              f"exact 95% CI {fmt(low)}–{fmt(high)}; sample odds ratio ad/bc = {fmt(sample)}.")
        if n_both < SMALL_SAMPLE:
            print(f"Small sample: n = {n_both}: the interval is wide; a zero cell makes one bound 0 or ∞.")
'''


@register("genomics.cooccurrence_pairs")
def cooccurrence_pairs_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                              provenance: Provenance) -> str:
    return preamble("Genomics: co-occurrence of all pairs", provenance, [
        "import math", *IMPORTS, "from scipy.stats import false_discovery_control, fisher_exact",
        "from scipy.stats.contingency import odds_ratio"], _constants(
        MIN_EVALUABLE=10, MIN_ALTERED=2)) + _status_cells(cohort_filter, 2) + PRINT_TABLE + FISHER_CELL + '''

# %% 4. Every pair with enough patients: Fisher's exact test, Benjamini-Hochberg q across the pairs
from itertools import combinations

# Tested: alterations altered in at least MIN_ALTERED patients, pairs with at least MIN_EVALUABLE
# patients evaluated for both.
tested = [f for f in status.columns if (status[f] == ALTERED).sum() >= MIN_ALTERED]
rows = []
for a, b in combinations(tested, 2):
    table = two_by_two(a, b)
    if sum(map(sum, table)) < MIN_EVALUABLE:
        continue
    p, estimate, low, high = fisher(table)
    rows.append({"A": a, "B": b, "Evaluable for both": sum(map(sum, table)), "Both": table[0][0],
                 "A only": table[0][1], "B only": table[1][0], "Neither": table[1][1], "or": estimate,
                 "OR (cond. MLE)": fmt(estimate), "95% CI": f"{fmt(low)}–{fmt(high)}", "Fisher p": p})
pairs = pd.DataFrame(rows)
if pairs.empty:
    print(f"No pair of alterations has at least {MIN_EVALUABLE} patients evaluable for both and at least "
          f"{MIN_ALTERED} altered patients each in this selection.")
else:
    pairs["BH q"] = false_discovery_control(pairs["Fisher p"], method="bh")
    # the direction of the estimate only; significance is read from p and q
    pairs["Direction of OR"] = np.where(pairs["or"] > 1, "towards co-occurrence",
                                        np.where(pairs["or"] < 1, "towards exclusivity", "none"))
    print(f"{len(pairs)} pairs with at least {MIN_EVALUABLE} patients evaluable for both and at least "
          f"{MIN_ALTERED} altered per alteration; q = Benjamini-Hochberg across these pairs.")
    print_table(pairs.drop(columns=["or"]), {"Fisher p": "%.3g", "BH q": "%.3g"})

    # %% 5. The figure: log2 odds ratio per pair (capped at ±5) with q (Altair), saved as PNG
    data = pairs.assign(log2_or=np.log2(pairs["or"].replace(0, np.nan)).clip(-5, 5))
    data.loc[data["or"] == 0, "log2_or"] = -5
    data.loc[np.isinf(data["or"]), "log2_or"] = 5
    data["text"] = ["OR " + o + "\\n" + f"q={q:.2g}" for o, q in zip(data["OR (cond. MLE)"], data["BH q"])]
    names = list(dict.fromkeys(data["A"].tolist() + data["B"].tolist()))
    base = alt.Chart(data).encode(x=alt.X("A:N", sort=names, title=None), y=alt.Y("B:N", sort=names, title=None))
    chart = (base.mark_rect().encode(color=alt.Color("log2_or:Q", scale=alt.Scale(scheme="blueorange", domain=[-5, 5]),
                                                     title="log2 odds ratio"))
             + base.mark_text(fontSize=10, lineBreak="\\n").encode(text="text:N")
             ).properties(width=56 * len(names), height=56 * len(names), title="Co-occurrence of all pairs")
    chart.save("cooccurrence.png")
    print("Figure: cooccurrence.png")
'''


# --- Karyotype & ploidy ----------------------------------------------------------------------------
@register("genomics.karyotype")
def karyotype_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                     provenance: Provenance) -> str:
    return preamble("Genomics: modal chromosome number and ploidy category", provenance, TABLE_IMPORTS,
                    _constants(IDS_LISTED_MAX=10)) + _reader_cell(2) + PRINT_TABLE + _fill('''

# %% 3. One row per patient: recorded and parsed modal numbers, the parser's result, a review flag
patients = con.execute("""
    SELECT patient_id, karyotype_iscn, modal_chromosome_number, ploidy_category, tp53_status
    FROM patient_summary
    WHERE $WHERE
    ORDER BY patient_id
""").df()
rows = []
for r in patients.itertuples():
    k = parse_karyotype(r.karyotype_iscn if isinstance(r.karyotype_iscn, str) else None)
    recorded = None if pd.isna(r.modal_chromosome_number) else int(r.modal_chromosome_number)
    modal = recorded if recorded is not None else k.modal_number    # the recorded number wins
    tp53 = r.tp53_status if isinstance(r.tp53_status, str) else None
    rows.append({
        "Patient": r.patient_id, "Karyotype (ISCN)": r.karyotype_iscn if isinstance(r.karyotype_iscn, str) else None,
        "Clones": len(k.clones), "Modal (recorded)": recorded, "Modal (parsed from ISCN)": k.modal_number,
        "Ploidy category (expert)": r.ploidy_category if isinstance(r.ploidy_category, str) else None,
        "Parser": "parsed" if k.parsed else f"could not parse: {k.reason}",
        "Review flag": masked_hypodiploidy_reason(k, tp53),
        "TP53": tp53 if tp53 is not None else NOT_EVALUATED,
        "modal": modal, "category": ploidy_category(modal) if modal is not None else None,
        "agrees": None if recorded is None or k.modal_number is None else recorded == k.modal_number})
table = pd.DataFrame(rows, columns=["Patient", "Karyotype (ISCN)", "Clones", "Modal (recorded)",
                                    "Modal (parsed from ISCN)", "Ploidy category (expert)", "Parser", "Review flag",
                                    "TP53", "modal", "category", "agrees"])
for column in ("Modal (recorded)", "Modal (parsed from ISCN)", "modal"):
    table[column] = table[column].astype("Int64")
with_modal = int(table["modal"].notna().sum())
if with_modal:
    print(f"{with_modal} of {len(table)} patients with a modal number. Bands: near-haploid 24-31, low hypodiploid "
          "32-39, high hypodiploid 40-43, near-diploid 44-45, diploid 46, hyperdiploid above 46. "
          "Flag: review for possible masked hypodiploidy.")
else:
    print("No patient in this selection has a karyotype with a modal chromosome number.")


def some(items):
    shown = "; ".join(items[:IDS_LISTED_MAX])
    return shown if len(items) <= IDS_LISTED_MAX else f"{shown}; and {len(items) - IDS_LISTED_MAX:,} more"


flagged = table[table["Review flag"].notna()]
if len(flagged):
    print("Possible masked hypodiploidy: For expert review: "
          + some([f"{p} ({why})" for p, why in zip(flagged["Patient"], flagged["Review flag"])]) + ".")
differ = table[table["agrees"] == False]  # noqa: E712 (None: nothing to compare)
if len(differ):
    print("Modal numbers differ: Recorded and parsed modal numbers differ for: "
          + some(differ["Patient"].tolist()) + ".")
if len(table):
    print_table(table.drop(columns=["modal", "category", "agrees"]))  # the page's columns

# %% 4. The figure: patients per modal number over the ploidy bands (Altair), saved as PNG
if with_modal:
    data = (table[table["modal"].notna()].groupby(["modal", "category"]).size().rename("patients").reset_index())
    lo, hi = min(22, int(data["modal"].min()) - 2), max(60, int(data["modal"].max()) + 2)
    bands = pd.DataFrame([{"category": name, "start": max(a, lo) - 0.5, "end": min(b, hi) + 0.5}
                          for name, a, b in PLOIDY_BANDS])
    x = alt.X("start:Q", scale=alt.Scale(domain=[lo - 0.5, hi + 0.5], nice=False), title="Modal chromosome number")
    colour = alt.Color("category:N", scale=alt.Scale(domain=PLOIDY_ORDER), title="Ploidy category")
    data["start"], data["end"] = data["modal"] - 0.4, data["modal"] + 0.4
    chart = (alt.Chart(bands).mark_rect(opacity=0.2).encode(x=x, x2="end:Q", color=colour)
             + alt.Chart(data).mark_rect(stroke="black", strokeWidth=0.4).encode(
                 x=x, x2="end:Q", y=alt.Y("patients:Q", title="Patients", stack="zero"), color=colour)
             ).properties(width=560, height=260, title="Modal chromosome number and ploidy category")
    chart.save("modal_chromosome_number.png")
    print("Figure: modal_chromosome_number.png")
''', WHERE=cohort_where(cohort_filter))


# --- Mutation table --------------------------------------------------------------------------------
@register("genomics.mutations")
def mutations_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                     provenance: Provenance) -> str:
    spec, notices = checked(db, spec)
    conditions = []
    if spec.mut_genes:
        conditions.append(inline(f"m.gene IN ({', '.join('?' for _ in spec.mut_genes)})", list(spec.mut_genes))
                          + "  -- genes")
    if spec.mut_classes:
        conditions.append(inline(f"m.variant_class IN ({', '.join('?' for _ in spec.mut_classes)})",
                                 list(spec.mut_classes)) + "  -- variant classes")
    if spec.mut_min_vaf > 0:
        conditions.append(inline("m.vaf >= ?", [float(spec.mut_min_vaf)]) + "  -- minimum VAF")
    extra = "".join(f"\n      AND {c}" for c in conditions) or "  -- all genes, classes and VAFs"
    return preamble("Genomics: recorded mutations", provenance, ["import duckdb", "import pandas as pd"],
                    "") + PRINT_TABLE + _fill('''
import re

# %% 2. The recorded mutations of the view's patients, under the table's filters
${FALLBACKS}where = """$WHERE"""
mutations = con.execute(f"""
    SELECT m.patient_id, m.gene, m.protein_change, m.variant_class, m.vaf, m.assay
    FROM mutations m
    WHERE m.patient_id IN (
        SELECT patient_id FROM patient_summary
        WHERE {where}
    )$EXTRA
    ORDER BY m.gene, m.patient_id, m.protein_change
""").df()


def protein_position(change):
    """Amino-acid position from short HGVS ('p.R248Q' -> 248, 'p.X187_splice' -> 187), else missing."""
    match = re.match(r"^p\\.[A-Z*]?[a-z]{0,2}(\\d+)", change.strip()) if isinstance(change, str) else None
    return int(match.group(1)) if match else None


mutations["position"] = mutations["protein_change"].map(protein_position).astype("Int64")
counts = con.execute(f"""
    SELECT count(*) AS patients, count(sequencing_assay) AS sequenced   -- sequenced: an assay is recorded
    FROM patient_summary
    WHERE {where}
""").df().iloc[0]
n_patients = mutations["patient_id"].nunique()
print(f"{len(mutations)} variants in {n_patients} patient{'' if n_patients == 1 else 's'}; {counts['sequenced']} "
      f"of {counts['patients']} patients in the selection were sequenced (the others are not evaluated, not "
      "wild-type).")
print_table(mutations, {"vaf": "%.2f"})
''', WHERE=cohort_where(cohort_filter), EXTRA=extra, FALLBACKS=_fallbacks(notices))


# --- TP53 ------------------------------------------------------------------------------------------
TP53_CELL = r'''
# %% 2. The TP53 variants of the view's patients, and how many patients were sequenced
import re

where = """$WHERE"""
variants = con.execute(f"""
    SELECT m.patient_id, m.gene, m.protein_change, m.variant_class, m.vaf, m.assay
    FROM mutations m
    WHERE m.gene = 'TP53' AND m.patient_id IN (
        SELECT patient_id FROM patient_summary
        WHERE {where}
    )
    ORDER BY m.gene, m.patient_id, m.protein_change
""").df()


def protein_position(change):
    """Amino-acid position from short HGVS ('p.R248Q' -> 248, 'p.X187_splice' -> 187), else missing."""
    match = re.match(r"^p\.[A-Z*]?[a-z]{0,2}(\d+)", change.strip()) if isinstance(change, str) else None
    return int(match.group(1)) if match else None


variants["position"] = variants["protein_change"].map(protein_position).astype("Int64")
variants["class_group"] = variants["variant_class"].map(CLASS_GROUPS)
# Sequenced = an assay is recorded; TP53 counts only for sequenced patients (not sequenced is not wild type).
counts = con.execute(f"""
    SELECT count(*) AS patients, count(p.sequencing_assay) AS sequenced,
           count(DISTINCT CASE WHEN p.sequencing_assay IS NOT NULL THEN t.patient_id END) AS mutated
    FROM patient_summary p
    LEFT JOIN (SELECT DISTINCT patient_id FROM mutations WHERE gene = 'TP53') t USING (patient_id)
    WHERE {where}
""").df().iloc[0]
TP53_IN_COHORT = con.execute("SELECT count(*) FROM mutations WHERE gene = 'TP53'").fetchone()[0] > 0
if TP53_IN_COHORT and counts["patients"]:  # TP53 is an alteration of this cohort file
    print(f"TP53 mutated in {counts['mutated']} of {counts['sequenced']} sequenced patients "
          f"({counts['patients'] - counts['sequenced']} not sequenced).")
'''


@register("genomics.tp53")
def tp53_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                provenance: Provenance) -> str:
    return preamble("Genomics: TP53 variants along the protein", provenance, TABLE_IMPORTS, _constants(
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS), TP53_LENGTH=genomics.TP53_LENGTH,
        TP53_DOMAINS=list(genomics.TP53_DOMAINS))) + PRINT_TABLE + _fill(TP53_CELL, WHERE=cohort_where(
        cohort_filter)) + '''
# %% 3. The variants, one row each (as the page's table), and the positions that could not be read
if variants.empty:
    print("No TP53 variant recorded in this selection"
          + (" (nobody here was sequenced)." if not TP53_IN_COHORT or counts["sequenced"] == 0 else "."))
else:
    shown = variants[["patient_id", "protein_change", "variant_class", "vaf", "position", "assay"]].set_axis(
        ["Patient", "Protein change", "Class", "VAF", "Position", "Assay"], axis=1)
    print_table(shown, {"VAF": "%.2f"})
    unplaced = variants[variants["position"].isna()]
    if len(unplaced):
        print("No position could be read for: " + ", ".join(unplaced["protein_change"].fillna("?")[:10]) + ".")

    # %% 4. The figure: patients per position and class along the protein, with its domains (Altair)
    stems = (variants.dropna(subset=["position"]).groupby(["position", "class_group"])
             .agg(patients=("patient_id", "size"), proteins=("protein_change", lambda s: ", ".join(sorted(set(s)))))
             .reset_index())
    stems["zero"] = 0
    domains = pd.DataFrame(TP53_DOMAINS, columns=["domain", "start", "end"]).assign(bottom=-0.5, top=-0.1)
    x = alt.X("position:Q", scale=alt.Scale(domain=[0, TP53_LENGTH], nice=False),
              title=f"TP53 amino-acid position (1-{TP53_LENGTH})")
    chart = (alt.Chart(domains).mark_rect(opacity=0.4).encode(x=alt.X("start:Q"), x2="end:Q", y="bottom:Q",
                                                              y2="top:Q", tooltip=["domain"])
             + alt.Chart(stems).mark_rule().encode(x=x, y="zero:Q", y2="patients:Q")
             + alt.Chart(stems).mark_circle(size=160, opacity=1).encode(
                 x=x, y=alt.Y("patients:Q", title="Patients"), color=alt.Color("class_group:N", title="Variant class"),
                 tooltip=["proteins", "position", "patients"])
             ).properties(width=600, height=260, title="TP53 variants along the protein")
    chart.save("tp53_lollipop.png")
    print("Figure: tp53_lollipop.png")
'''


@register("genomics.tp53_vaf")
def tp53_vaf_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                    provenance: Provenance) -> str:
    return preamble("Genomics: TP53 variant allele fraction", provenance, TABLE_IMPORTS, _constants(
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS))) + PRINT_TABLE + _fill(TP53_CELL, WHERE=cohort_where(
        cohort_filter)) + '''
# %% 3. The dots of the figure: one per variant with a VAF
dots = variants.dropna(subset=["vaf"]).assign(vaf_pct=lambda d: d["vaf"] * 100)
if variants.empty:
    print("No TP53 variant recorded in this selection.")
else:
    print_table(dots[["patient_id", "protein_change", "class_group", "vaf_pct"]].set_axis(
        ["Patient", "Protein change", "Class", "VAF %"], axis=1), {"VAF %": "%.0f"})

    # %% 4. The figure: VAF of each variant, coloured by class (Altair), saved beside the script as PNG
    chart = alt.Chart(dots).mark_circle(size=160, opacity=0.9).encode(
        x=alt.X("vaf_pct:Q", scale=alt.Scale(domain=[0, 100]), title="Variant allele fraction (%)"),
        y=alt.Y("gene:N", title=None), color=alt.Color("class_group:N", title="Variant class"),
        tooltip=["patient_id", "protein_change", "variant_class", alt.Tooltip("vaf_pct:Q", format=".0f")],
    ).properties(width=560, height=140, title="TP53 variant allele fraction")
    chart.save("tp53_vaf.png")
    print("Figure: tp53_vaf.png")
'''
