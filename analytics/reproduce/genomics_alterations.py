"""Reproduce scripts of the genomics page's co-occurrence, karyotype, mutation and TP53 views
(builders register with `@register(key)`; frequencies, oncoprint and the shared cells are in
`genomics`)."""
from __future__ import annotations

from analytics import genomics
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, cohort_where, inline, preamble, register
from analytics.views.genomics import SMALL_SAMPLE, GenomicsSpec, checked
from analytics.reproduce.genomics import (FISHER_CELL, IMPORTS, PRINT_TABLE, TABLE_IMPORTS, constants, fallbacks, fill,
                                          reader_cell, status_cells)


@register("genomics.cooccurrence")
def cooccurrence_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                        provenance: Provenance) -> str:
    spec, notices = checked(db, spec)
    a, b = spec.co_a, spec.co_b
    return preamble(f"Genomics: {a} and {b}", provenance, [
        "import math", "import duckdb", "import numpy as np", "import pandas as pd",
        "from scipy.stats import fisher_exact", "from scipy.stats.contingency import odds_ratio"],
        constants(A=a, B=b, SMALL_SAMPLE=SMALL_SAMPLE)) + status_cells(cohort_filter, 2) + PRINT_TABLE + FISHER_CELL + '''

# %% 4. The 2x2 table among patients evaluated for both, and Fisher's exact test
''' + fallbacks(notices) + '''if A == B:
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
        print(f"Fisher's exact test (two-sided) {p_sentence(p)}; odds ratio (conditional MLE) {fmt(estimate)}, "
              f"exact 95% CI {fmt(low)}–{fmt(high)}; sample odds ratio ad/bc = {fmt(sample)}.")
        if n_both < SMALL_SAMPLE:
            print(f"Small sample: n = {n_both}: the interval is wide; a zero cell makes one bound 0 or ∞.")
'''


@register("genomics.cooccurrence_pairs")
def cooccurrence_pairs_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec,
                              provenance: Provenance) -> str:
    return preamble("Genomics: co-occurrence of all pairs", provenance, [
        "import math", *IMPORTS, "from scipy.stats import false_discovery_control, fisher_exact",
        "from scipy.stats.contingency import odds_ratio"], constants(
        MIN_EVALUABLE=10, MIN_ALTERED=2)) + status_cells(cohort_filter, 2) + PRINT_TABLE + FISHER_CELL + '''

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
                    constants(IDS_LISTED_MAX=10)) + reader_cell(2) + PRINT_TABLE + fill('''

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
                    "") + PRINT_TABLE + fill('''
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
''', WHERE=cohort_where(cohort_filter), EXTRA=extra, FALLBACKS=fallbacks(notices))


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
    return preamble("Genomics: TP53 variants along the protein", provenance, TABLE_IMPORTS, constants(
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS), TP53_LENGTH=genomics.TP53_LENGTH,
        TP53_DOMAINS=list(genomics.TP53_DOMAINS))) + PRINT_TABLE + fill(TP53_CELL, WHERE=cohort_where(
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
    return preamble("Genomics: TP53 variant allele fraction", provenance, TABLE_IMPORTS, constants(
        CLASS_GROUPS=dict(genomics.CLASS_GROUPS))) + PRINT_TABLE + fill(TP53_CELL, WHERE=cohort_where(
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
