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
from analytics.reproduce import Provenance, cohort_where, preamble, register, sql_literal
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


def fallbacks(notices: list[str]) -> str:
    """Comment lines for link options this cohort lacks (the page used its defaults instead)."""
    return "".join(f"# Link option not used (as on the page): {notice}\n" for notice in notices)


def fill(template: str, **values) -> str:
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


def constants(**extra) -> str:
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


def reader_cell(number: int) -> str:
    return f'''
# %% {number}. Reading the ISCN karyotype texts
# No library reads ISCN; this is the app's rule-based reader, copied verbatim (analytics/genomics/karyotype.py).
# parse_karyotype(text) gives the clones, the modal number of the stemline (the first abnormal clone),
# the structural aberrations as short labels ('t(9;22)', 'del(9p)') and a doubled-hypodiploid flag.
# A text with no clone (none recorded, failed culture) leaves the patient not evaluated by karyotype.
# Reference: ISCN 2020, An International System for Human Cytogenomic Nomenclature (Karger).
{_iscn_reader()}
'''


def status_cells(cohort_filter: CohortFilter, number: int) -> str:
    """Cells: the view's patients (one row each) and each alteration's status (altered / no
    alteration / not evaluated) in the app's feature order."""
    return reader_cell(number) + fill('''
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
        "import math", *IMPORTS, "from scipy.stats import binomtest"], constants(
        HEADLINE_FEATURES=tuple(HEADLINE_FEATURES), SMALL_SAMPLE=SMALL_SAMPLE)) + status_cells(
        cohort_filter, 2) + PRINT_TABLE + '''

# %% 4. Frequencies among the patients evaluated for each alteration, exact 95% CIs
# Denominator: patients evaluated for that alteration; not evaluated is never "no alteration".
# Clopper-Pearson interval: scipy.stats.binomtest(...).proportion_ci(method="exact").
def percent0(x):
    """A fraction as a whole percentage, rounded half away from zero (the page's rule)."""
    return f"{math.floor(float(f'{100 * x:.12g}') + 0.5):.0f}"


def ci_text(low, high):
    return "–" if low is None or math.isnan(low) else f"{percent0(low)}–{percent0(high)}%"


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
        order_cell = fill('''
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
    return preamble(title, provenance, IMPORTS, constants(
        SORT_BY=sort_by, MAX_PATIENTS=genomics.ONCOPRINT_MAX_PATIENTS, CLINICAL_TRACKS=list(genomics.CLINICAL_TRACKS),
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS))) + status_cells(cohort_filter, 2) + fill('''
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
''', FALLBACKS=fallbacks(notices), SORT_BY=sort_by, ORDER=order_cell, TRACKS=tracks_sql,
       WHERE=cohort_where(cohort_filter))


# --- Co-occurrence ---------------------------------------------------------------------------------
FISHER_CELL = '''
def fmt(x):
    return "–" if x is None or math.isnan(x) else "∞" if math.isinf(x) else f"{x:.3g}"


def p_sentence(p):
    """The p-value as the page words it: three decimals rounded half away from zero, or "< 0.001"."""
    return "p < 0.001" if p < 0.001 else f"p = {math.floor(float(f'{p * 1000:.12g}') + 0.5) / 1000:.3f}"


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
