"""Genomic alterations as features: the rules that give every feature its status per patient.

Every alteration is a *feature* with three states per patient: altered, no alteration, or
not evaluated (NULL in the store). Denominators are always the patients evaluable for the
feature; "not evaluated" is never counted as "no alteration".

Features (rows of the oncoprint, in this order):
* one per gene with a recorded mutation in the cohort (TP53 first): evaluable when the patient
  had a sequencing assay (`patients.sequencing_assay` not NULL), altered when the gene has a
  row in `mutations`;
* one per ploidy category other than diploid seen in the cohort ('Low hypodiploid', ...):
  evaluable when `ploidy_category` is recorded (the expert-assessed category);
* BCR::ABL1 (evaluable when `bcr_abl1` is recorded);
* structural aberrations read from the ISCN karyotype (t(9;22), del(9p), ...): evaluable when
  the karyotype text parses to at least one clone (`analytics.genomics.karyotype`).

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> tp53 = feature_matrix(db, CohortFilter()).query("feature == 'TP53'")
>>> tp53["status"].value_counts().to_dict()
{'not evaluated': 13, 'no alteration': 10, 'altered': 9}
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import cohort
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics.karyotype import PLOIDY_ORDER, parse_karyotype
from analytics.theme import NEGATIVE_COLOR, NOT_EVALUATED_COLOR, PALETTE

ALTERED = "altered"
NO_ALTERATION = "no alteration"

GROUP_MUTATION = "Mutation"
GROUP_PLOIDY = "Ploidy"
GROUP_FUSION = "Fusion"
GROUP_STRUCTURAL = "Karyotype (structural)"

# Variant classes (MAF vocabulary) grouped as oncoprints show them.
CLASS_GROUPS = {
    "Missense_Mutation": "Missense", "In_Frame_Del": "In-frame indel", "In_Frame_Ins": "In-frame indel",
    "Nonsense_Mutation": "Truncating", "Frame_Shift_Del": "Truncating", "Frame_Shift_Ins": "Truncating",
    "Splice_Site": "Splice site",
}
ALTERATION_COLORS = {"Missense": PALETTE[2], "Truncating": PALETTE[7], "In-frame indel": PALETTE[5],
                     "Splice site": PALETTE[3], "Present": PALETTE[0],
                     NO_ALTERATION: NEGATIVE_COLOR, NOT_EVALUATED: NOT_EVALUATED_COLOR}
PLOIDY_COLORS = {"near-haploid": "#8C2D04", "low hypodiploid": PALETTE[5], "high hypodiploid": PALETTE[1],
                 "near-diploid": PALETTE[6], "diploid": NEGATIVE_COLOR, "hyperdiploid": PALETTE[0],
                 NOT_EVALUATED: NOT_EVALUATED_COLOR}

# Columns of patient_summary usable as a group on the survival/response pages.
GROUP_COLUMNS = {"TP53": "tp53_status", "Ploidy category": "ploidy_category", "BCR::ABL1": "bcr_abl1"}


def patient_rows(db: CohortDatabase, f: CohortFilter, patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """patient_summary rows of the filtered cohort in default order (only `patient_ids` when given)."""
    if patient_ids is None:
        return cohort.filtered_summary(db, f)
    where, params = f.where_sql()
    return db.query(f"SELECT * FROM patient_summary WHERE ({where}) AND patient_id IN (SELECT unnest(?::VARCHAR[])) "
                    "ORDER BY patient_id", [*params, list(patient_ids)])


def cohort_genes(db: CohortDatabase) -> list[str]:
    """Genes with at least one recorded mutation in the whole cohort: TP53 first, then by count."""
    genes = db.query("SELECT gene, count(DISTINCT patient_id) AS n FROM mutations GROUP BY gene "
                     "ORDER BY (gene = 'TP53') DESC, n DESC, gene")
    return genes["gene"].tolist()


def ploidy_features(db: CohortDatabase) -> list[str]:
    present = set(db.query("SELECT DISTINCT ploidy_category AS c FROM patients "
                           "WHERE ploidy_category IS NOT NULL")["c"])
    return [c for c in PLOIDY_ORDER if c in present and c != "diploid"]


def mutation_rows(db: CohortDatabase, f: CohortFilter, patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    sub, params = f.patient_ids_sql()
    only = ""
    if patient_ids is not None:
        only, params = " AND m.patient_id IN (SELECT unnest(?::VARCHAR[]))", [*params, list(patient_ids)]
    return db.query(
        "SELECT m.patient_id, m.gene, m.protein_change, m.variant_class, m.vaf, m.assay "
        f"FROM mutations m WHERE m.patient_id IN ({sub}){only} ORDER BY m.patient_id, m.gene", params)


def feature_matrix(db: CohortDatabase, cohort_filter: CohortFilter,
                   patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per (patient, feature): status altered / no alteration / not evaluated.

    Columns: patient_id, feature, group, status, value (colour category: variant class group,
    'Present', 'no alteration' or 'not evaluated'), detail (tooltip text), vaf.
    Rows: per patient (cohort order) its genes, ploidy features and BCR::ABL1; then the
    structural-aberration rows per patient. Built column-wise (no per-patient Python loop or
    per-patient query): linear in patients x features, so it stays usable on registry-size
    cohorts (bench/: 55 s -> well under 1 s at 10,000 patients). `patient_ids`: only those
    patients of the filtered cohort (the oncoprint's drawn columns); counts over the whole
    cohort come from `status_patterns` in SQL instead.
    """
    patients = patient_rows(db, cohort_filter, patient_ids).reset_index(drop=True)
    muts = mutation_rows(db, cohort_filter, patient_ids)
    genes = cohort_genes(db)
    ploidy_feats = ploidy_features(db)
    columns = ["patient_id", "feature", "group", "status", "value", "detail", "vaf"]
    n = len(patients)
    if n == 0:
        return pd.DataFrame(columns=columns)
    pid = patients["patient_id"].to_numpy(dtype=object)
    pos = np.arange(n)
    blocks: list[pd.DataFrame] = []  # each with _p (patient position) and _k (row within patient)
    # Status by the one rule the counts use (`pattern_status`), a pattern row per patient.
    sequenced = patients["sequencing_assay"].notna().to_numpy()
    mutated = muts.groupby("patient_id")["gene"].agg(lambda g: tuple(sorted(set(g)))).to_dict() if len(muts) else {}
    status = pattern_status(db, pd.DataFrame({
        "sequenced": sequenced,
        "genes": [mutated.get(p, ()) if s else () for p, s in zip(pid, sequenced)],
        "ploidy_category": patients["ploidy_category"], "bcr_abl1": patients["bcr_abl1"],
        "karyotype_iscn": patients["karyotype_iscn"]}))

    def statuses(features: list[str]) -> np.ndarray:
        """Per patient (cohort order), per feature: the status, flattened patient by patient."""
        return status[features].to_numpy(dtype=object).ravel()

    # --- genes -------------------------------------------------------------------------------
    if genes:
        assay = patients["sequencing_assay"]
        wild_detail = ("wild-type (" + assay.astype(str) + ")").to_numpy(dtype=object)
        g = len(genes)
        gene_rows = pd.DataFrame({
            "_p": np.repeat(pos, g), "_k": np.tile(np.arange(g), n),
            "patient_id": np.repeat(pid, g), "feature": np.tile(np.array(genes, dtype=object), n),
            "group": GROUP_MUTATION})
        seq_rep = np.repeat(sequenced, g)
        gene_rows["status"] = statuses(genes)
        gene_rows["value"] = gene_rows["status"]
        gene_rows["detail"] = np.where(seq_rep, np.repeat(wild_detail, g), "not sequenced").astype(object)
        gene_rows["vaf"] = np.nan
        if not muts.empty:
            text = [f"{r.protein_change or '?'} ({CLASS_GROUPS[r.variant_class].lower()}"
                    + (f", VAF {r.vaf:.0%}" if pd.notna(r.vaf) else "") + ")" for r in muts.itertuples()]
            m = muts.assign(_text=text, _order=np.arange(len(muts)))
            details = m.groupby(["patient_id", "gene"], sort=False)["_text"].agg("; ".join)
            first = (m.sort_values(["vaf", "_order"], ascending=[False, True], na_position="last", kind="stable")
                     .drop_duplicates(["patient_id", "gene"]).set_index(["patient_id", "gene"]))
            key = pd.MultiIndex.from_arrays([gene_rows["patient_id"], gene_rows["feature"]])
            hit = (gene_rows["status"] == ALTERED).to_numpy()
            if hit.any():
                keys = key[hit]
                gene_rows.loc[hit, "value"] = first.loc[keys, "variant_class"].map(CLASS_GROUPS).to_numpy()
                gene_rows.loc[hit, "detail"] = details.loc[keys].to_numpy()
                gene_rows.loc[hit, "vaf"] = first.loc[keys, "vaf"].to_numpy(dtype=float)
        blocks.append(gene_rows)

    # --- ploidy categories -------------------------------------------------------------------
    if ploidy_feats:
        category = patients["ploidy_category"]
        modal = patients["modal_chromosome_number"]
        evaluable = category.notna().to_numpy()
        modal_text = np.where(modal.notna(), ", modal number " + modal.fillna(0).astype(int).astype(str), "")
        detail = np.where(evaluable, category.astype(str).to_numpy(dtype=object) + modal_text,
                          "cytogenetics not evaluable").astype(object)
        k = len(ploidy_feats)
        feat_rep = np.tile(np.array(ploidy_feats, dtype=object), n)
        ploidy_status = statuses([c.capitalize() for c in ploidy_feats])
        blocks.append(pd.DataFrame({
            "_p": np.repeat(pos, k), "_k": len(genes) + np.tile(np.arange(k), n),
            "patient_id": np.repeat(pid, k), "feature": [f.capitalize() for f in feat_rep],
            "group": GROUP_PLOIDY, "status": ploidy_status,
            "value": np.where(ploidy_status == ALTERED, "Present", ploidy_status).astype(object),
            "detail": np.repeat(detail, k), "vaf": np.nan}))

    # --- BCR::ABL1 ---------------------------------------------------------------------------
    bcr = patients["bcr_abl1"]
    tested = bcr.notna().to_numpy()
    bcr_status = statuses(["BCR::ABL1"])
    blocks.append(pd.DataFrame({
        "_p": pos, "_k": len(genes) + len(ploidy_feats), "patient_id": pid, "feature": "BCR::ABL1",
        "group": GROUP_FUSION, "status": bcr_status,
        "value": np.where(bcr_status == ALTERED, "Present", bcr_status).astype(object),
        "detail": np.where(tested, bcr.astype(str), "not tested").astype(object), "vaf": np.nan}))

    # --- structural aberrations (parsed once per distinct karyotype text) ----------------------
    structural = structural_features(db)
    if structural:
        parsed = {t: parse_karyotype(t) for t in patients["karyotype_iscn"].drop_duplicates()}
        rows_detail = [(kt.text if kt.clones else (kt.reason or "no karyotype"))
                       for kt in (parsed[t] for t in patients["karyotype_iscn"]) for _ in structural]
        s_status = statuses(structural)
        k = len(structural)
        blocks.append(pd.DataFrame({
            "_p": n + np.repeat(pos, k), "_k": np.tile(np.arange(k), n),  # after every patient block
            "patient_id": np.repeat(pid, k), "feature": np.tile(np.array(structural, dtype=object), n),
            "group": GROUP_STRUCTURAL, "status": s_status,
            "value": np.where(s_status == ALTERED, "Present", s_status).astype(object),
            "detail": np.array(rows_detail, dtype=object), "vaf": np.nan}))

    out = pd.concat(blocks, ignore_index=True).sort_values(["_p", "_k"], kind="stable")
    return out[columns].reset_index(drop=True)


def structural_features(db: CohortDatabase) -> list[str]:
    texts = db.query("SELECT karyotype_iscn AS k, count(*) AS n FROM patients WHERE karyotype_iscn IS NOT NULL "
                     "GROUP BY karyotype_iscn")
    labels: dict[str, int] = {}
    for t, n in zip(texts["k"], texts["n"]):  # patients per label, each distinct text parsed once
        for label in parse_karyotype(t).structural:
            labels[label] = labels.get(label, 0) + int(n)
    return sorted(labels, key=lambda lab: (-labels[lab], lab))


def feature_names(db: CohortDatabase) -> list[str]:
    """All feature names in oncoprint order (independent of filters, so URLs stay valid)."""
    return (cohort_genes(db) + [c.capitalize() for c in ploidy_features(db)] + ["BCR::ABL1"]
            + structural_features(db))


def status_patterns(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Patients of the filtered cohort counted per distinct combination of what decides every
    feature's status: sequenced or not, the set of mutated genes (sequenced patients only),
    ploidy category, BCR::ABL1 and karyotype text. Aggregated in DuckDB: a few thousand rows
    at a million patients, so the counts behind frequencies and co-occurrence never need a
    patient x feature table in Python. Columns: sequenced, genes (tuple), ploidy_category,
    bcr_abl1, karyotype_iscn, n.
    """
    where, params = cohort_filter.where_sql()
    df = db.query(f"""
        WITH p AS (SELECT patient_id, sequencing_assay IS NOT NULL AS sequenced, ploidy_category, bcr_abl1,
                          karyotype_iscn FROM patient_summary WHERE {where}),
        g AS (SELECT m.patient_id, list_sort(list_distinct(list(m.gene))) AS genes FROM mutations m
              WHERE m.patient_id IN (SELECT patient_id FROM p) GROUP BY m.patient_id)
        SELECT p.sequenced, CASE WHEN p.sequenced THEN g.genes END AS genes, p.ploidy_category, p.bcr_abl1,
               p.karyotype_iscn, count(*) AS n
        FROM p LEFT JOIN g USING (patient_id) GROUP BY ALL ORDER BY ALL""", params)
    df["genes"] = [tuple(g) if isinstance(g, (list, tuple, np.ndarray)) else () for g in df["genes"]]
    df["n"] = df["n"].astype(int)
    return df


def pattern_status(db: CohortDatabase, patterns: pd.DataFrame) -> pd.DataFrame:
    """Status (altered / no alteration / not evaluated) of every feature per pattern row
    (columns in `feature_names` order): the one statement of the rules, used for the counts
    (a row per pattern) and the oncoprint's cells (`feature_matrix`, a row per patient)."""
    out: dict[str, np.ndarray] = {}
    sequenced = patterns["sequenced"].to_numpy(dtype=bool)
    for gene in cohort_genes(db):
        hit = np.array([gene in g for g in patterns["genes"]], dtype=bool)
        out[gene] = np.where(~sequenced, NOT_EVALUATED, np.where(hit, ALTERED, NO_ALTERATION))
    category = patterns["ploidy_category"].to_numpy(dtype=object)
    evaluable = patterns["ploidy_category"].notna().to_numpy()
    for c in ploidy_features(db):
        out[c.capitalize()] = np.where(~evaluable, NOT_EVALUATED, np.where(category == c, ALTERED, NO_ALTERATION))
    bcr = patterns["bcr_abl1"]
    out["BCR::ABL1"] = np.where(bcr.isna().to_numpy(), NOT_EVALUATED,
                                np.where(bcr.to_numpy(dtype=object) == "positive", ALTERED, NO_ALTERATION))
    parsed = {t: parse_karyotype(t) for t in patterns["karyotype_iscn"].drop_duplicates()}
    karyotypes = [parsed[t] for t in patterns["karyotype_iscn"]]
    for label in structural_features(db):
        out[label] = np.array([NOT_EVALUATED if not k.clones else ALTERED if label in k.structural
                               else NO_ALTERATION for k in karyotypes], dtype=object)
    return pd.DataFrame({name: np.asarray(v, dtype=object) for name, v in out.items()}, index=patterns.index)


def feature_groups(db: CohortDatabase) -> dict[str, str]:
    groups = {g: GROUP_MUTATION for g in cohort_genes(db)}
    groups.update({c.capitalize(): GROUP_PLOIDY for c in ploidy_features(db)})
    groups["BCR::ABL1"] = GROUP_FUSION
    groups.update({label: GROUP_STRUCTURAL for label in structural_features(db)})
    return groups


