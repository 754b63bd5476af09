"""Genomic alterations as data: evaluable denominators, oncoprint, co-occurrence, karyotype, TP53.

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
  the karyotype text parses to at least one clone (`analytics.karyotype`).

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> freq = alteration_frequencies(db, CohortFilter())
>>> row = freq.set_index("feature").loc["TP53"]
>>> int(row.altered), int(row.evaluable), int(row.not_evaluated)
(9, 19, 13)
"""
from __future__ import annotations

import re
from itertools import combinations

import altair as alt
import numpy as np
import pandas as pd

from analytics import cohort
from analytics.db import CohortDatabase
from analytics.disclosure import suppress_count, suppressed_cells, suppressed_label
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.karyotype import (PLOIDY_BANDS, PLOIDY_ORDER, masked_hypodiploidy_reason, parse_karyotype,
                                 ploidy_category)
from analytics.stats import benjamini_hochberg, clopper_pearson, fisher_exact_2x2
from analytics.theme import FONT, NEGATIVE_COLOR, NOT_EVALUATED_COLOR, PALETTE
from analytics.units import patients_text

ALTERED = "altered"
NO_ALTERATION = "no alteration"

GROUP_MUTATION = "Mutation"
GROUP_PLOIDY = "Ploidy"
GROUP_FUSION = "Fusion"
GROUP_STRUCTURAL = "Karyotype (structural)"

TP53_LENGTH = 393  # amino acids, UniProt P04637
# Approximate TP53 domains (UniProt P04637 / IARC TP53 database), amino-acid positions.
TP53_DOMAINS = [("Transactivation", 1, 61), ("Proline-rich", 64, 92), ("DNA-binding", 94, 292),
                ("Tetramerisation", 323, 356)]
# Their usual abbreviations, drawn on the domains (full names would not fit the narrow ones).
TP53_DOMAIN_ABBREVIATIONS = {"Transactivation": "TAD", "Proline-rich": "PRD", "DNA-binding": "DBD",
                             "Tetramerisation": "TD"}

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

# Clinical tracks: label -> (patient_summary-derived column, category order, colours)
CLINICAL_TRACKS = ["Age group", "Institution", "Best response", "Allogeneic HCT", "EFS"]
# Columns of patient_summary usable as a group on the survival/response pages.
GROUP_COLUMNS = {"TP53": "tp53_status", "Ploidy category": "ploidy_category", "BCR::ABL1": "bcr_abl1"}



# --------------------------------------------------------------------------------------------
# Patient-level feature matrix
# --------------------------------------------------------------------------------------------
def _patients(db: CohortDatabase, f: CohortFilter, patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
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


def _ploidy_features(db: CohortDatabase) -> list[str]:
    present = set(db.query("SELECT DISTINCT ploidy_category AS c FROM patients "
                           "WHERE ploidy_category IS NOT NULL")["c"])
    return [c for c in PLOIDY_ORDER if c in present and c != "diploid"]


def _mutations(db: CohortDatabase, f: CohortFilter, patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
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
    patients = _patients(db, cohort_filter, patient_ids).reset_index(drop=True)
    muts = _mutations(db, cohort_filter, patient_ids)
    genes = cohort_genes(db)
    ploidy_feats = _ploidy_features(db)
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
    structural = _structural_features(db)
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


def _structural_features(db: CohortDatabase) -> list[str]:
    texts = db.query("SELECT karyotype_iscn AS k, count(*) AS n FROM patients WHERE karyotype_iscn IS NOT NULL "
                     "GROUP BY karyotype_iscn")
    labels: dict[str, int] = {}
    for t, n in zip(texts["k"], texts["n"]):  # patients per label, each distinct text parsed once
        for label in parse_karyotype(t).structural:
            labels[label] = labels.get(label, 0) + int(n)
    return sorted(labels, key=lambda lab: (-labels[lab], lab))


def feature_names(db: CohortDatabase) -> list[str]:
    """All feature names in oncoprint order (independent of filters, so URLs stay valid)."""
    return (cohort_genes(db) + [c.capitalize() for c in _ploidy_features(db)] + ["BCR::ABL1"]
            + _structural_features(db))


# --------------------------------------------------------------------------------------------
# Frequencies
# --------------------------------------------------------------------------------------------
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
    for c in _ploidy_features(db):
        out[c.capitalize()] = np.where(~evaluable, NOT_EVALUATED, np.where(category == c, ALTERED, NO_ALTERATION))
    bcr = patterns["bcr_abl1"]
    out["BCR::ABL1"] = np.where(bcr.isna().to_numpy(), NOT_EVALUATED,
                                np.where(bcr.to_numpy(dtype=object) == "positive", ALTERED, NO_ALTERATION))
    parsed = {t: parse_karyotype(t) for t in patterns["karyotype_iscn"].drop_duplicates()}
    karyotypes = [parsed[t] for t in patterns["karyotype_iscn"]]
    for label in _structural_features(db):
        out[label] = np.array([NOT_EVALUATED if not k.clones else ALTERED if label in k.structural
                               else NO_ALTERATION for k in karyotypes], dtype=object)
    return pd.DataFrame({name: np.asarray(v, dtype=object) for name, v in out.items()}, index=patterns.index)


def _feature_groups(db: CohortDatabase) -> dict[str, str]:
    groups = {g: GROUP_MUTATION for g in cohort_genes(db)}
    groups.update({c.capitalize(): GROUP_PLOIDY for c in _ploidy_features(db)})
    groups["BCR::ABL1"] = GROUP_FUSION
    groups.update({label: GROUP_STRUCTURAL for label in _structural_features(db)})
    return groups


def alteration_frequencies(db: CohortDatabase, cohort_filter: CohortFilter,
                           confidence: float = 0.95) -> pd.DataFrame:
    """Per feature: altered, evaluable, not evaluated, proportion and Clopper-Pearson CI.

    Counted in DuckDB (`status_patterns`); the denominator is the patients evaluable for the
    feature, never the whole selection."""
    patterns = status_patterns(db, cohort_filter)
    weights = patterns["n"].to_numpy()
    total = int(weights.sum())
    status = pattern_status(db, patterns)
    groups = _feature_groups(db)
    out = []
    for feat in (feature_names(db) if total else []):
        column = status[feat].to_numpy(dtype=object)
        altered = int(weights[column == ALTERED].sum())
        evaluable = int(weights[column != NOT_EVALUATED].sum())
        low, high = clopper_pearson(altered, evaluable, confidence)
        out.append(dict(feature=feat, group=groups[feat], altered=altered, evaluable=evaluable,
                        not_evaluated=total - evaluable, total=total,
                        proportion=altered / evaluable if evaluable else np.nan,
                        ci_low=low, ci_high=high))
    df = pd.DataFrame(out, columns=["feature", "group", "altered", "evaluable", "not_evaluated", "total",
                                    "proportion", "ci_low", "ci_high"])
    df["label"] = [f"{a}/{e}" + (f" ({a / e:.0%})" if e else "") + f"; {ne} not evaluated"
                   for a, e, ne in zip(df["altered"], df["evaluable"], df["not_evaluated"])]
    return df


def frequency_chart(freq: pd.DataFrame, small_cell_k: int = 0) -> alt.Chart:
    """Point + exact CI per feature, with the 'k/n' label; features without evaluable patients omitted.

    With `small_cell_k` > 1 counts from 1 to k-1 read '<k', and a suppressed alteration count
    has no point or interval drawn (their position would give the count back)."""
    data = freq[freq["evaluable"] > 0].copy()
    data["pct"] = data["proportion"] * 100
    data["lo"] = data["ci_low"] * 100
    data["hi"] = data["ci_high"] * 100
    if small_cell_k > 1:
        small = pd.Series([suppressed_cells([a, e - a], small_cell_k)[0]
                           for a, e in zip(data["altered"], data["evaluable"])], index=data.index, dtype=bool)
        data["label"] = [
            (suppressed_label(a, e, small_cell_k) if hide else f"{a}/{e} ({a / e:.0%})")
            + f"; {suppress_count(ne, small_cell_k)} not evaluated"
            for a, e, ne, hide in zip(data["altered"], data["evaluable"], data["not_evaluated"], small)]
        data.loc[small, ["pct", "lo", "hi"]] = np.nan
        data["altered"] = [suppressed_label(a, e, small_cell_k).split("/")[0] if hide else str(a)
                           for a, e, hide in zip(data["altered"], data["evaluable"], small)]
        data["not_evaluated"] = [suppress_count(n, small_cell_k) for n in data["not_evaluated"]]
        data = data.drop(columns=["proportion", "ci_low", "ci_high"])
    data["label_x"] = data["hi"].fillna(0.0)  # beside the interval, on its own row
    order = data["feature"].tolist()
    y = alt.Y("feature:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=220))
    tooltip = [alt.Tooltip("feature:N", title="Alteration"), alt.Tooltip("altered", title="Altered"),
               alt.Tooltip("evaluable:Q", title="Evaluable"),
               alt.Tooltip("not_evaluated", title="Not evaluated"),
               alt.Tooltip("pct:Q", title="% of evaluable", format=".1f"),
               alt.Tooltip("lo:Q", title="95% CI low %", format=".1f"),
               alt.Tooltip("hi:Q", title="95% CI high %", format=".1f")]
    base = alt.Chart(data)
    rule = base.mark_rule(strokeWidth=3, color=PALETTE[0]).encode(
        y=y, x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]),
                     title="% of evaluable patients (95% Clopper-Pearson CI)"), x2="hi:Q", tooltip=tooltip)
    point = base.mark_point(filled=True, size=140, color=PALETTE[0]).encode(y=y, x="pct:Q", tooltip=tooltip)
    text = base.mark_text(align="left", dx=8, baseline="middle", fontSize=14).encode(
        y=y, x="label_x:Q", text="label:N")
    return (rule + point + text).properties(height=max(120, 36 * len(data)))


# --------------------------------------------------------------------------------------------
# Oncoprint
# --------------------------------------------------------------------------------------------
# Clinical track values over patient_summary (alias p): one rule for the tracks drawn and the sort.
CLINICAL_TRACK_SQL = {
    "Age group": "CASE WHEN p.age_at_ball_dx IS NULL THEN 'not evaluated' WHEN p.age_at_ball_dx < 60 THEN '< 60 y' "
                 "WHEN p.age_at_ball_dx < 70 THEN '60-69 y' ELSE '≥ 70 y' END",
    "Institution": "p.institution",
    "Best response": "coalesce(p.best_response, CASE WHEN p.treated THEN 'not assessed' ELSE 'untreated' END)",
    "Allogeneic HCT": "CASE WHEN p.hct THEN 'HCT' ELSE 'no HCT' END",
    "EFS": "CASE WHEN p.efs_event THEN 'event' ELSE 'no event (censored)' END",
}


def clinical_tracks(db: CohortDatabase, cohort_filter: CohortFilter,
                    patient_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Long table patient_id, track, value for the clinical tracks (only `patient_ids` when given),
    track by track, patients in the default order."""
    where, params = cohort_filter.where_sql()
    only = ""
    if patient_ids is not None:
        only, params = " AND patient_id IN (SELECT unnest(?::VARCHAR[]))", [*params, list(patient_ids)]
    selects = " UNION ALL ".join(f"SELECT p.patient_id, '{name}' AS track, {CLINICAL_TRACK_SQL[name]} AS value, "
                                 f"{i} AS track_index FROM p" for i, name in enumerate(CLINICAL_TRACKS))
    tracks = db.query(f"WITH p AS (SELECT * FROM patient_summary WHERE ({where}){only}) {selects} "
                      "ORDER BY track_index, patient_id", params)
    return tracks[["patient_id", "track", "value"]].astype(object).reset_index(drop=True)


_CLINICAL_ORDER = {
    "Age group": ["< 60 y", "60-69 y", "≥ 70 y", NOT_EVALUATED],
    "Best response": ["CR", "CRi", "PR", "refractory", "not evaluable", "not assessed", "untreated"],
    "Allogeneic HCT": ["HCT", "no HCT"],
    "EFS": ["event", "no event (censored)"],
}
_CLINICAL_COLORS = {
    "Age group": ["#C6DBEF", "#6BAED6", "#08519C", NOT_EVALUATED_COLOR],
    "Best response": [PALETTE[2], PALETTE[4], PALETTE[1], PALETTE[5], "#999999", NOT_EVALUATED_COLOR,
                      "#E3CBA0"],
    "Allogeneic HCT": [PALETTE[3], NEGATIVE_COLOR],
    "EFS": [PALETTE[7], NEGATIVE_COLOR],
}
_STATUS_RANK = {ALTERED: 0, NO_ALTERATION: 1, NOT_EVALUATED: 2}


def oncoprint_sort_options(db: CohortDatabase) -> list[str]:
    return ["Default (patient id)", "Ploidy category"] + CLINICAL_TRACKS + feature_names(db)


def oncoprint_order(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                    limit: int | None = None) -> list[str]:
    """Patient order for the oncoprint: the cohort default, optionally sorted by one row/track.

    Altered patients come first (highest VAF first for a gene), then no alteration, then not
    evaluated; ties keep the default (cohort-wide) order, so sorting is stable and reproducible.
    Sorted in DuckDB; `limit`: only the first patients of that order are fetched.
    """
    where, params = cohort_filter.where_sql()
    join, join_params, rank, rank_params = "", [], "p.patient_id", []
    features = feature_names(db)
    ploidy = {c.capitalize(): c for c in _ploidy_features(db)}
    if not sort_by or sort_by.startswith("Default"):
        pass
    elif sort_by == "Ploidy category":
        rank, rank_params = "coalesce(list_position(?::VARCHAR[], p.ploidy_category), 99)", [PLOIDY_ORDER]
    elif sort_by in CLINICAL_TRACKS:
        value = CLINICAL_TRACK_SQL[sort_by]
        if sort_by in _CLINICAL_ORDER:
            rank, rank_params = f"coalesce(list_position(?::VARCHAR[], {value}), 99)", [_CLINICAL_ORDER[sort_by]]
        else:  # categories in alphabetical order
            rank = value
    elif sort_by in ploidy:
        rank = "CASE WHEN p.ploidy_category IS NULL THEN 2 WHEN p.ploidy_category = ? THEN 0 ELSE 1 END"
        rank_params = [ploidy[sort_by]]
    elif sort_by == "BCR::ABL1":
        rank = "CASE WHEN p.bcr_abl1 IS NULL THEN 2 WHEN p.bcr_abl1 = 'positive' THEN 0 ELSE 1 END"
    elif sort_by in cohort_genes(db):
        join = ("LEFT JOIN (SELECT patient_id, max(vaf) AS top_vaf FROM mutations WHERE gene = ? "
                "GROUP BY patient_id) g USING (patient_id)")
        join_params = [sort_by]
        rank = ("CASE WHEN p.sequencing_assay IS NULL THEN 2 WHEN g.patient_id IS NOT NULL THEN 0 ELSE 1 END, "
                "CASE WHEN p.sequencing_assay IS NOT NULL THEN -coalesce(g.top_vaf, 0) ELSE 0 END")
    elif sort_by in features:  # structural aberration: status per distinct karyotype text
        texts = db.query(f"SELECT DISTINCT karyotype_iscn AS k FROM patient_summary WHERE ({where}) "
                         "AND karyotype_iscn IS NOT NULL", params)["k"].tolist()
        ranks = [_STATUS_RANK[NOT_EVALUATED if not k.clones else ALTERED if sort_by in k.structural
                              else NO_ALTERATION] for k in map(parse_karyotype, texts)]
        join = ("LEFT JOIN (SELECT unnest(?::VARCHAR[]) AS karyotype_text, unnest(?::INTEGER[]) AS karyotype_rank) k "
                "ON k.karyotype_text = p.karyotype_iscn")
        join_params = [texts, ranks]
        rank = "coalesce(k.karyotype_rank, 2)"
    limit_sql, limit_params = ("LIMIT ?", [int(limit)]) if limit is not None else ("", [])
    return db.query(
        f"WITH p AS (SELECT * FROM patient_summary WHERE {where}) SELECT p.patient_id FROM p {join} "
        f"ORDER BY {rank}, p.patient_id {limit_sql}",
        [*params, *join_params, *rank_params, *limit_params])["patient_id"].tolist()


# Patients (columns) an oncoprint draws in the app and the deck: a column per patient stops
# being readable long before a registry's size.
ONCOPRINT_MAX_PATIENTS = 60
KEY_WIDTH = 660  # px: the colour key under the grid, and the widest the grid is drawn
SLIDE_CELL = 19  # px per cell of the slide oncoprint (`oncoprint_slide_chart`): rows of 14 pt text on a slide
SLIDE_IDS_MAX = 40  # columns up to which the slide oncoprint names its patients


def oncoprint_chart(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                    cell: int = 24, max_patients: int | None = None) -> alt.VConcatChart:
    """Oncoprint: patients as columns (in `oncoprint_order`), clinical tracks, ploidy, alterations.

    'Not evaluated' cells are grey with a diagonal mark; 'no alteration' cells are near white.
    `max_patients`: draw only the first N columns of that order (the title says so); a grid of
    every patient of a registry-size cohort would be megabytes and unreadable.
    """
    order = oncoprint_order(db, cohort_filter, sort_by, limit=max_patients)
    n_total = cohort.count_patients(db, cohort_filter) if max_patients is not None else len(order)
    drawn = tuple(sorted(order))  # only the drawn patients' rows are fetched
    patients = _patients(db, cohort_filter, drawn).set_index("patient_id")
    karyo = {pid: (patients.at[pid, "karyotype_iscn"] if pd.notna(patients.at[pid, "karyotype_iscn"])
                   else "none recorded") for pid in order}
    width = max(min(cell * len(order), KEY_WIDTH), 120)
    x_top = alt.X("patient_id:N", sort=order, title=None,
                  axis=alt.Axis(orient="top", labelAngle=-90, labelFontSize=13, ticks=False, domain=False,
                                grid=False))
    x_hidden = alt.X("patient_id:N", sort=order, title=None, axis=None)
    y_axis = alt.Axis(labelFontSize=14, labelLimit=200, ticks=False, domain=False, grid=False, title=None)
    stroke = dict(stroke="white", strokeWidth=1.5)

    charts = []
    tracks = clinical_tracks(db, cohort_filter, drawn)
    if len(order) < n_total:
        patients = patients.loc[order]
    tracks["karyotype"] = tracks["patient_id"].map(karyo)
    for i, name in enumerate(CLINICAL_TRACKS):
        data = tracks[tracks["track"] == name]
        domain = _CLINICAL_ORDER.get(name) or sorted(data["value"].unique())
        domain = [d for d in domain if d in set(data["value"])] or domain
        colors = _CLINICAL_COLORS.get(name)
        if colors:
            full = _CLINICAL_ORDER[name]
            rng = [colors[full.index(d)] for d in domain]
        else:
            rng = PALETTE[4:4 + len(domain)] if len(domain) <= 4 else PALETTE[:len(domain)]
        charts.append(alt.Chart(data).mark_rect(**stroke).encode(
            x=x_top if i == 0 else x_hidden,
            y=alt.Y("track:N", axis=y_axis),
            color=alt.Color("value:N", scale=alt.Scale(domain=domain, range=rng),
                            legend=None),
            tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("track:N", title="Track"),
                     alt.Tooltip("value:N", title="Value")],
        ).properties(width=width, height=cell))

    # Ploidy category row (expert-assessed category, with the karyotype in the tooltip).
    p = patients.reset_index()
    ploidy = pd.DataFrame({
        "patient_id": p["patient_id"], "track": "Ploidy category",
        "value": p["ploidy_category"].fillna(NOT_EVALUATED),
        "modal": p["modal_chromosome_number"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        "karyotype": p["patient_id"].map(karyo)})
    pdomain = [c for c in PLOIDY_ORDER + [NOT_EVALUATED] if c in set(ploidy["value"])]
    ploidy_chart = alt.Chart(ploidy).mark_rect(**stroke).encode(
        x=x_hidden, y=alt.Y("track:N", axis=y_axis),
        color=alt.Color("value:N", scale=alt.Scale(domain=pdomain, range=[PLOIDY_COLORS[c] for c in pdomain]),
                        legend=None),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("value:N", title="Ploidy"),
                 alt.Tooltip("modal:N", title="Modal number"), alt.Tooltip("karyotype:N", title="Karyotype")],
    )
    ploidy_hatch = alt.Chart(ploidy).transform_filter(alt.datum.value == NOT_EVALUATED).mark_text(
        text="╱", fontSize=cell - 6, color="#7A7A7A").encode(x=x_hidden, y=alt.Y("track:N", axis=y_axis))
    charts.append((ploidy_chart + ploidy_hatch).properties(width=width, height=cell))

    # Alteration rows (mutations, ploidy classes, fusion, structural) on one shared colour scale.
    m = feature_matrix(db, cohort_filter, drawn)
    m = m[m["group"] != GROUP_PLOIDY].copy()
    m["karyotype"] = m["patient_id"].map(karyo)
    m["vaf_text"] = m["vaf"].map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}")
    m["vaf_pct"] = m["vaf"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    rows = [f for f in feature_names(db) if f in set(m["feature"])]
    adomain = [v for v in ALTERATION_COLORS if v in set(m["value"])]
    y_rows = alt.Y("feature:N", sort=rows, axis=y_axis)
    tip = [alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("feature:N", title="Alteration"),
           alt.Tooltip("status:N", title="Status"), alt.Tooltip("detail:N", title="Detail"),
           alt.Tooltip("vaf_pct:N", title="VAF"), alt.Tooltip("karyotype:N", title="Karyotype")]
    base = alt.Chart(m)
    rects = base.mark_rect(**stroke).encode(
        x=x_hidden, y=y_rows,
        color=alt.Color("value:N", scale=alt.Scale(domain=adomain, range=[ALTERATION_COLORS[v] for v in adomain]),
                        legend=None),
        tooltip=tip)
    hatch = base.transform_filter(alt.datum.status == NOT_EVALUATED).mark_text(
        text="╱", fontSize=cell - 6, color="#7A7A7A").encode(x=x_hidden, y=y_rows, tooltip=tip)
    vaf = base.transform_filter(alt.datum.vaf_text != "").mark_text(
        fontSize=11, color="white", fontWeight="bold").encode(x=x_hidden, y=y_rows, text="vaf_text:N",
                                                              tooltip=tip)
    charts.append((rects + hatch + vaf).properties(width=width, height=cell * len(rows)))
    key = _oncoprint_key(tracks, ploidy, m)
    return alt.vconcat(*charts, key, spacing=2).resolve_scale(color="independent").properties(
        title=oncoprint_title(len(order), n_total))


def oncoprint_slide_chart(db: CohortDatabase, cohort_filter: CohortFilter, sort_by: str | None = None,
                          max_patients: int | None = None) -> alt.LayerChart:
    """The oncoprint for a slide: the same columns (`oncoprint_order`) and the ploidy and
    alteration rows of `oncoprint_chart`, as one grid with one colour legend, without the
    clinical tracks and in-cell VAF numbers (which cannot be legible at slide size). One grid:
    when a slide shrinks the figure, its rows shrink together."""
    order = oncoprint_order(db, cohort_filter, sort_by, limit=max_patients)
    n_total = cohort.count_patients(db, cohort_filter) if max_patients is not None else len(order)
    drawn = tuple(sorted(order))
    patients = _patients(db, cohort_filter, drawn)
    ploidy = pd.DataFrame({"patient_id": patients["patient_id"], "feature": "Ploidy category",
                           "value": patients["ploidy_category"].fillna(NOT_EVALUATED)})
    ploidy["status"] = np.where(ploidy["value"] == NOT_EVALUATED, NOT_EVALUATED, ALTERED)
    m = feature_matrix(db, cohort_filter, drawn)
    m = m[m["group"] != GROUP_PLOIDY][["patient_id", "feature", "status", "value"]]
    rows = ["Ploidy category"] + [f for f in feature_names(db) if f in set(m["feature"])]
    data = pd.concat([ploidy, m], ignore_index=True)
    colors = {**{c: PLOIDY_COLORS[c] for c in PLOIDY_ORDER if c in set(ploidy["value"])},
              **{v: ALTERATION_COLORS[v] for v in ALTERATION_COLORS if v in set(data["value"])}}
    x = alt.X("patient_id:N", sort=order, title=None,
              axis=alt.Axis(orient="top", labelAngle=-90, labelFontSize=13, ticks=False, domain=False, grid=False)
              if len(order) <= SLIDE_IDS_MAX else None)
    y = alt.Y("feature:N", sort=rows, title=None,
              axis=alt.Axis(labelFontSize=14, labelLimit=200, ticks=False, domain=False, grid=False))
    base = alt.Chart(data)
    rects = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=x, y=y, color=alt.Color("value:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                                  legend=alt.Legend(title=None, orient="bottom", columns=4, symbolType="square")))
    hatch = base.transform_filter(alt.datum.status == NOT_EVALUATED).mark_text(
        text="╱", fontSize=SLIDE_CELL, color="#7A7A7A").encode(x=x, y=y)
    return (rects + hatch).properties(width=max(min(SLIDE_CELL * len(order), KEY_WIDTH), 120),
                                      height=SLIDE_CELL * len(rows),
                                      title=oncoprint_title(len(order), n_total, vaf=False))


def oncoprint_title(drawn: int, total: int, vaf: bool = True) -> alt.TitleParams:
    """The oncoprint's title and key sentences in the theme's font, each line narrower than the
    colour key (KEY_WIDTH) even with the projector's larger text. No box-drawing glyph in it: a
    font without the glyph sets the whole line in a serif fallback."""
    heading = (f"Oncoprint: {patients_text(drawn)}" if drawn == total
               else f"Oncoprint: first {drawn} of {total} patients")
    subtitle = ["Columns are patients" + ("" if drawn == total else ", in this sort order")
                + ". Grey hatched = not evaluated.",
                "Near white = evaluated, no alteration." + (" Numbers = VAF in %." if vaf else "")]
    return alt.TitleParams(heading, subtitle=subtitle, font=FONT, subtitleFont=FONT, fontSize=18,
                           subtitleFontSize=14, subtitleColor="#333333", anchor="start")


def _oncoprint_key(tracks: pd.DataFrame, ploidy: pd.DataFrame, alterations: pd.DataFrame) -> alt.LayerChart:
    """Colour key under the grid: one line per track, swatch + value (only values present); a
    line longer than KEY_WIDTH continues on the next (labels sized for the projector's text)."""
    lines: list[tuple[str, list[tuple[str, str]]]] = []
    for name in CLINICAL_TRACKS:
        present = set(tracks.loc[tracks["track"] == name, "value"])
        if name in _CLINICAL_ORDER:
            full = _CLINICAL_ORDER[name]
            items = [(v, _CLINICAL_COLORS[name][full.index(v)]) for v in full if v in present]
        else:
            values = sorted(present)
            rng = PALETTE[4:4 + len(values)] if len(values) <= 4 else PALETTE[:len(values)]
            items = list(zip(values, rng))
        lines.append((name, items))
    lines.append(("Ploidy category", [(c, PLOIDY_COLORS[c]) for c in PLOIDY_ORDER + [NOT_EVALUATED]
                                      if c in set(ploidy["value"])]))
    lines.append(("Alterations", [(v, ALTERATION_COLORS[v]) for v in ALTERATION_COLORS
                                  if v in set(alterations["value"])]))
    rows, line_names = [], []
    for name, items in lines:
        x, continued = 0, 0
        line_names.append(name)
        for value, color in items:
            step = 36 + 11 * len(value)  # swatch, gap and label at up to 20 px (projector)
            if x and x + step > KEY_WIDTH:
                continued += 1
                x = 0
                line_names.append(name + " " * continued)  # a continuation: no label (see labelExpr)
            rows.append(dict(track=line_names[-1], value=value, color=color, x=x + 12,
                             hatch="╱" if value == NOT_EVALUATED else ""))
            x += step
    key = pd.DataFrame(rows)
    y = alt.Y("track:N", sort=line_names, title=None,
              axis=alt.Axis(labelFontSize=13, ticks=False, domain=False, grid=False, labelFontWeight="bold",
                            labelLimit=200, labelPadding=6,
                            labelExpr="trim(datum.label) == datum.label ? datum.label : ''"))
    x = alt.X("x:Q", scale=alt.Scale(domain=[0, KEY_WIDTH], nice=False), axis=None)
    base = alt.Chart(key)
    swatch = base.mark_square(size=200, stroke="#888888", strokeWidth=0.6).encode(
        x=x, y=y, color=alt.Color("color:N", scale=None))
    hatch = base.mark_text(fontSize=14, color="#7A7A7A").encode(x=x, y=y, text="hatch:N")
    label = base.mark_text(align="left", dx=11, fontSize=13).encode(x=x, y=y, text="value:N")
    return (swatch + hatch + label).properties(width=KEY_WIDTH, height=22 * len(line_names),
                                               title=alt.TitleParams("Key", fontSize=14))


# --------------------------------------------------------------------------------------------
# Co-occurrence
# --------------------------------------------------------------------------------------------
def cooccurrence(db: CohortDatabase, cohort_filter: CohortFilter, feature_a: str, feature_b: str,
                 confidence: float = 0.95) -> dict:
    """2x2 table of two features among patients evaluable for both, with Fisher's exact test.

    Returns dict(table=DataFrame 2x2 (rows: A altered / not; columns: B altered / not),
    n_both=evaluable for both, n_excluded=not evaluable for at least one, fisher=FisherResult
    or None when nobody is evaluable for both).
    """
    patterns = status_patterns(db, cohort_filter)
    status = pattern_status(db, patterns)
    for feat in (feature_a, feature_b):
        if feat not in status.columns:
            raise ValueError(f"unknown alteration '{feat}'")
    counts, n_both = _pair_counts(status, patterns["n"].to_numpy(), feature_a, feature_b)
    table = pd.DataFrame(counts, index=[f"{feature_a} altered", f"{feature_a} not altered"],
                         columns=[f"{feature_b} altered", f"{feature_b} not altered"])
    fisher = fisher_exact_2x2(counts, confidence) if n_both else None
    return dict(table=table, n_both=n_both, n_excluded=int(patterns["n"].sum()) - n_both, fisher=fisher)


def _pair_counts(status: pd.DataFrame, weights: np.ndarray, a: str, b: str) -> tuple[list[list[int]], int]:
    """2x2 patient counts [[both, a only], [b only, neither]] among patients evaluable for a and b."""
    sa, sb = status[a].to_numpy(dtype=object), status[b].to_numpy(dtype=object)
    both = (sa != NOT_EVALUATED) & (sb != NOT_EVALUATED)
    aa, bb = sa == ALTERED, sb == ALTERED
    cell = [[both & aa & bb, both & aa & ~bb], [both & ~aa & bb, both & ~aa & ~bb]]
    return [[int(weights[c].sum()) for c in row] for row in cell], int(weights[both].sum())


def cooccurrence_matrix(db: CohortDatabase, cohort_filter: CohortFilter, min_evaluable: int = 10,
                        min_altered: int = 2) -> pd.DataFrame:
    """All pairs of features with >= `min_evaluable` patients evaluable for both and each feature
    altered in >= `min_altered` evaluable patients: counts, conditional-MLE OR with exact CI,
    Fisher p and Benjamini-Hochberg q across the pairs tested."""
    patterns = status_patterns(db, cohort_filter)
    weights = patterns["n"].to_numpy()
    status = pattern_status(db, patterns)
    feats = [f for f in feature_names(db) if f in status.columns
             and weights[status[f].to_numpy(dtype=object) == ALTERED].sum() >= min_altered]
    rows = []
    for a, b in combinations(feats, 2):
        counts, n_both = _pair_counts(status, weights, a, b)
        if n_both < min_evaluable:
            continue
        r = fisher_exact_2x2(counts)
        rows.append(dict(feature_a=a, feature_b=b, n=n_both, both=counts[0][0], a_only=counts[0][1],
                         b_only=counts[1][0], neither=counts[1][1], odds_ratio=r.conditional_odds_ratio, ci_low=r.ci_low,
                         ci_high=r.ci_high, p_value=r.p_value))
    df = pd.DataFrame(rows, columns=["feature_a", "feature_b", "n", "both", "a_only", "b_only", "neither",
                                     "odds_ratio", "ci_low", "ci_high", "p_value"])
    df["q_value"] = benjamini_hochberg(df["p_value"].tolist()) if len(df) else []
    # Direction of the estimate only; significance is read from p and q.
    df["tendency"] = np.where(df["odds_ratio"] > 1, "towards co-occurrence",
                              np.where(df["odds_ratio"] < 1, "towards exclusivity", "none"))
    return df


def cooccurrence_heatmap(pairs: pd.DataFrame) -> alt.Chart:
    """Lower-triangle heatmap of log2 odds ratio (capped at ±5), annotated with BH q."""
    if pairs.empty:
        return alt.Chart(pd.DataFrame({"x": []})).mark_text()
    d = pairs.copy()
    d["log2_or"] = np.log2(d["odds_ratio"].replace(0, np.nan)).clip(-5, 5)
    d.loc[d["odds_ratio"] == 0, "log2_or"] = -5
    d.loc[np.isinf(d["odds_ratio"]), "log2_or"] = 5
    d["q_text"] = d["q_value"].map(lambda q: f"q={q:.2g}")
    d["or_text"] = d["odds_ratio"].map(lambda o: "∞" if np.isinf(o) else f"{o:.2g}")
    order = list(dict.fromkeys(d["feature_a"].tolist() + d["feature_b"].tolist()))
    tip = [alt.Tooltip("feature_a:N", title="A"), alt.Tooltip("feature_b:N", title="B"),
           alt.Tooltip("n:Q", title="Evaluable for both"), alt.Tooltip("both:Q", title="Both altered"),
           alt.Tooltip("or_text:N", title="Odds ratio (cond. MLE)"),
           alt.Tooltip("ci_low:Q", title="95% CI low", format=".3g"),
           alt.Tooltip("ci_high:Q", title="95% CI high", format=".3g"),
           alt.Tooltip("p_value:Q", title="Fisher p", format=".3g"),
           alt.Tooltip("q_value:Q", title="BH q", format=".3g")]
    base = alt.Chart(d).encode(
        x=alt.X("feature_a:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelFontSize=14, grid=False)),
        y=alt.Y("feature_b:N", sort=order, title=None, axis=alt.Axis(labelFontSize=14, grid=False)), tooltip=tip)
    rect = base.mark_rect(stroke="white").encode(color=alt.Color(
        "log2_or:Q", scale=alt.Scale(scheme="blueorange", domain=[-5, 5]),
        legend=alt.Legend(title=["log2 odds ratio", "(capped ±5)"], orient="right", gradientLength=200,
                          titleLimit=0)))
    ink = alt.condition("abs(datum.log2_or) > 2.5", alt.value("white"), alt.value("black"))
    or_label = base.mark_text(fontSize=14, dy=-9).encode(text=alt.Text("or_label:N"), color=ink).transform_calculate(
        or_label="'OR ' + datum.or_text")
    q_label = base.mark_text(fontSize=13, dy=9).encode(text="q_text:N", color=ink)
    size = 64
    return (rect + or_label + q_label).properties(width=size * len(order), height=size * len(order))


# --------------------------------------------------------------------------------------------
# Karyotype and ploidy
# --------------------------------------------------------------------------------------------
def karyotype_table(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Per patient: recorded karyotype, recorded and parsed modal numbers and categories, the
    parse result ('could not parse' reason), and a masked-hypodiploidy review flag."""
    p = _patients(db, cohort_filter)
    parsed = {t: parse_karyotype(t) for t in p["karyotype_iscn"].drop_duplicates()}  # few distinct texts
    rows = []
    for r in p.itertuples():
        k = parsed[r.karyotype_iscn]
        recorded = None if pd.isna(r.modal_chromosome_number) else int(r.modal_chromosome_number)
        modal = recorded if recorded is not None else k.modal_number
        rows.append(dict(
            patient_id=r.patient_id,
            karyotype=r.karyotype_iscn if isinstance(r.karyotype_iscn, str) else None,
            clones=len(k.clones),
            modal_recorded=recorded, modal_parsed=k.modal_number,
            modal_number=modal, modal_source=("recorded" if recorded is not None
                                              else "parsed from ISCN" if k.modal_number is not None else None),
            category_recorded=r.ploidy_category if isinstance(r.ploidy_category, str) else None,
            category_from_modal=ploidy_category(modal) if modal is not None else None,
            parse_status="parsed" if k.parsed else f"could not parse: {k.reason}",
            agrees=(None if recorded is None or k.modal_number is None else recorded == k.modal_number),
            tp53_status=r.tp53_status if isinstance(r.tp53_status, str) else NOT_EVALUATED,
            masked_hypodiploidy_flag=masked_hypodiploidy_reason(k, r.tp53_status if isinstance(r.tp53_status, str)
                                                                else None),
        ))
    df = pd.DataFrame(rows)
    if not df.empty:
        df["modal_recorded"] = df["modal_recorded"].astype("Int64")
        df["modal_parsed"] = df["modal_parsed"].astype("Int64")
        df["modal_number"] = df["modal_number"].astype("Int64")
    return df


def modal_number_chart(kt: pd.DataFrame) -> alt.LayerChart:
    """Modal chromosome number per patient (stacked dots on a number line) over the ploidy bands.

    Above MARKS_PER_PATIENT_MAX patients: patients per modal number (bars, same bands/colours)."""
    data = kt[kt["modal_number"].notna()].copy()
    data["modal_number"] = data["modal_number"].astype(int)
    if len(data) > MARKS_PER_PATIENT_MAX:
        return _modal_number_counts(data)
    data = data.sort_values(["modal_number", "patient_id"])
    data["stack"] = data.groupby("modal_number").cumcount() + 1
    data["category"] = data["category_from_modal"]
    data["flag"] = data["masked_hypodiploidy_flag"].fillna("")
    hi_x = max(60, int(data["modal_number"].max()) + 2) if len(data) else 60
    lo_x = min(22, int(data["modal_number"].min()) - 2) if len(data) else 22
    bands = pd.DataFrame([dict(category=n, start=max(lo, lo_x) - 0.5, end=min(hi, hi_x) + 0.5,
                               mid=(max(lo, lo_x) + min(hi, hi_x)) / 2) for n, lo, hi in PLOIDY_BANDS])
    top = max(4, int(data["stack"].max()) + 1) if len(data) else 4
    cats = [c for c in PLOIDY_ORDER]
    color_scale = alt.Scale(domain=cats, range=[PLOIDY_COLORS[c] if c != "diploid" else "#DDDDDD" for c in cats])
    x = alt.X("start:Q", scale=alt.Scale(domain=[lo_x - 0.5, hi_x + 0.5], nice=False),
              title="Modal chromosome number")
    band = alt.Chart(bands).mark_rect(opacity=0.25).encode(
        x=x, x2="end:Q", color=alt.Color("category:N", scale=color_scale, legend=None))
    band_text = alt.Chart(bands).mark_text(angle=270, align="right", baseline="middle", dy=0, fontSize=13,
                                           y=8).encode(x=alt.X("mid:Q"), text="category:N")
    dots = alt.Chart(data).mark_circle(size=260, opacity=1, stroke="black", strokeWidth=0.6).encode(
        x=alt.X("modal_number:Q"), y=alt.Y("stack:Q", title="Patients", scale=alt.Scale(domain=[0, top]),
                                           axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("category:N", scale=color_scale, legend=alt.Legend(title="Ploidy category")),
        shape=alt.Shape("modal_source:N", legend=alt.Legend(title="Modal number")),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("modal_number:Q", title="Modal number"),
                 alt.Tooltip("category_recorded:N", title="Recorded category"),
                 alt.Tooltip("karyotype:N", title="Karyotype"), alt.Tooltip("flag:N", title="Review flag")])
    flags = alt.Chart(data[data["flag"] != ""]).mark_text(text="⚑", fontSize=20, dy=-18, color=PALETTE[5]).encode(
        x="modal_number:Q", y="stack:Q")
    return (band + band_text + dots + flags).properties(height=300)


def _modal_number_counts(data: pd.DataFrame) -> alt.LayerChart:
    counts = (data.assign(category=data["category_from_modal"].fillna(NOT_EVALUATED))
              .groupby(["modal_number", "category"]).size().rename("patients").reset_index())
    flagged = int((data["masked_hypodiploidy_flag"].fillna("") != "").sum())
    hi_x = max(60, int(counts["modal_number"].max()) + 2)
    lo_x = min(22, int(counts["modal_number"].min()) - 2)
    bands = pd.DataFrame([dict(category=n, start=max(lo, lo_x) - 0.5, end=min(hi, hi_x) + 0.5,
                               mid=(max(lo, lo_x) + min(hi, hi_x)) / 2) for n, lo, hi in PLOIDY_BANDS])
    cats = [c for c in PLOIDY_ORDER]
    color_scale = alt.Scale(domain=cats, range=[PLOIDY_COLORS[c] if c != "diploid" else "#DDDDDD" for c in cats])
    x = alt.X("start:Q", scale=alt.Scale(domain=[lo_x - 0.5, hi_x + 0.5], nice=False), title="Modal chromosome number")
    band = alt.Chart(bands).mark_rect(opacity=0.25).encode(
        x=x, x2="end:Q", color=alt.Color("category:N", scale=color_scale, legend=None))
    counts["start"], counts["end"] = counts["modal_number"] - 0.4, counts["modal_number"] + 0.4
    bars = alt.Chart(counts).mark_rect(stroke="black", strokeWidth=0.4).encode(
        x=x, x2="end:Q", y=alt.Y("patients:Q", title="Patients", stack="zero"),
        color=alt.Color("category:N", scale=color_scale, legend=alt.Legend(title="Ploidy category")),
        tooltip=[alt.Tooltip("modal_number:Q", title="Modal number"), alt.Tooltip("category:N", title="Category"),
                 alt.Tooltip("patients:Q", title="Patients")])
    return (band + bars).properties(
        height=300, title=f"{len(data):,} patients with a modal number, counted per number"
                          + (f"; {flagged:,} flagged for review (table below)" if flagged else ""))


# --------------------------------------------------------------------------------------------
# TP53 detail and mutation table
# --------------------------------------------------------------------------------------------
_POSITION = re.compile(r"^p\.[A-Z*]?[a-z]{0,2}(\d+)")


def protein_position(protein_change: str | None) -> int | None:
    """Amino-acid position from short HGVS ('p.R248Q' -> 248, 'p.X187_splice' -> 187), else None."""
    if not isinstance(protein_change, str):
        return None
    m = _POSITION.match(protein_change.strip())
    return int(m.group(1)) if m else None


def mutation_table(db: CohortDatabase, cohort_filter: CohortFilter, genes: tuple[str, ...] = (),
                   classes: tuple[str, ...] = (), min_vaf: float = 0.0) -> pd.DataFrame:
    """Recorded mutations of the filtered cohort (parameterized filters on gene/class/VAF)."""
    sub, params = cohort_filter.patient_ids_sql()
    clauses, extra = [f"m.patient_id IN ({sub})"], list(params)
    if genes:
        clauses.append(f"m.gene IN ({', '.join('?' for _ in genes)})")
        extra.extend(genes)
    if classes:
        clauses.append(f"m.variant_class IN ({', '.join('?' for _ in classes)})")
        extra.extend(classes)
    if min_vaf > 0:
        clauses.append("m.vaf >= ?")
        extra.append(float(min_vaf))
    df = db.query("SELECT m.patient_id, m.gene, m.protein_change, m.variant_class, m.vaf, m.assay "
                  f"FROM mutations m WHERE {' AND '.join(clauses)} ORDER BY m.gene, m.patient_id, m.protein_change",
                  extra)
    df["position"] = df["protein_change"].map(protein_position).astype("Int64")
    return df


def tp53_variants(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    df = mutation_table(db, cohort_filter, genes=("TP53",))
    df["class_group"] = df["variant_class"].map(CLASS_GROUPS)
    return df


MARKS_PER_PATIENT_MAX = 300  # above: counts per bin instead of a mark per patient/variant


def vaf_chart(variants: pd.DataFrame) -> alt.Chart:
    """VAF of each variant as a dot on 0-100 %, one row per gene group (strip plot).

    Above MARKS_PER_PATIENT_MAX variants: variants per 5 % VAF bin and class (stacked bars)."""
    d = variants.dropna(subset=["vaf"]).copy()
    d["vaf_pct"] = d["vaf"] * 100
    d["class_group"] = d["variant_class"].map(CLASS_GROUPS)
    classes = [c for c in ALTERATION_COLORS if c in set(d["class_group"])]
    if len(d) > MARKS_PER_PATIENT_MAX:
        d["start"] = np.minimum(np.floor(d["vaf_pct"] / 5) * 5, 95)
        bins = d.groupby(["gene", "class_group", "start"]).size().rename("variants").reset_index()
        bins["end"] = bins["start"] + 5
        return alt.Chart(bins).mark_bar().encode(
            x=alt.X("start:Q", scale=alt.Scale(domain=[0, 100]), title="Variant allele fraction (%), 5 % bins"),
            x2="end:Q", y=alt.Y("variants:Q", title="Variants", stack="zero"),
            color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                            legend=alt.Legend(title="Variant class", orient="right")),
            row=alt.Row("gene:N", title=None),
            tooltip=[alt.Tooltip("gene:N"), alt.Tooltip("class_group:N", title="Class"),
                     alt.Tooltip("start:Q", title="VAF from %"), alt.Tooltip("end:Q", title="to %"),
                     alt.Tooltip("variants:Q", title="Variants")],
        ).properties(height=160, title=f"{len(d):,} variants with a VAF, counted per 5 % bin")
    return alt.Chart(d).mark_circle(size=220, opacity=0.9, stroke="black", strokeWidth=0.5).encode(
        x=alt.X("vaf_pct:Q", scale=alt.Scale(domain=[0, 100]), title="Variant allele fraction (%)"),
        y=alt.Y("gene:N", title=None, axis=alt.Axis(labelFontSize=15)),
        color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                        legend=alt.Legend(title="Variant class", orient="right")),
        tooltip=[alt.Tooltip("patient_id:N", title="Patient"), alt.Tooltip("protein_change:N", title="Protein"),
                 alt.Tooltip("variant_class:N", title="Class"), alt.Tooltip("vaf_pct:Q", title="VAF %", format=".0f")],
    ).properties(height=max(140, 70 * d["gene"].nunique()))


TOOLTIP_IDS_MAX = 10  # patient ids listed in one tooltip (a registry position has thousands)


def _some_ids(ids: pd.Series) -> str:
    """'S01, S02' or, above TOOLTIP_IDS_MAX ids, the first ones and how many more."""
    ids = list(ids)
    shown = ", ".join(ids[:TOOLTIP_IDS_MAX])
    return shown if len(ids) <= TOOLTIP_IDS_MAX else f"{shown} … and {len(ids) - TOOLTIP_IDS_MAX:,} more"


def lollipop_chart(variants: pd.DataFrame) -> alt.LayerChart:
    """TP53 variants along the 393-aa protein (positions parsed from HGVS), with domains."""
    d = variants.dropna(subset=["position"]).copy()
    d["position"] = d["position"].astype(int)
    d["class_group"] = d["variant_class"].map(CLASS_GROUPS)
    counts = (d.groupby(["position", "class_group"]).agg(
        n=("patient_id", "size"), proteins=("protein_change", lambda s: ", ".join(sorted(set(s)))),
        patients=("patient_id", _some_ids)).reset_index())
    classes = [c for c in ALTERATION_COLORS if c in set(counts["class_group"])]
    x = alt.X("position:Q", scale=alt.Scale(domain=[0, TP53_LENGTH], nice=False),
              title=f"TP53 amino-acid position (1-{TP53_LENGTH})")
    counts["label_y"] = _label_heights(counts)
    top = max(4, int(np.ceil(counts["label_y"].max())) + 1) if len(counts) else 4
    most = max(4, int(counts["n"].max()) + 1) if len(counts) else 4  # the axis counts patients, not label rows
    sticks = alt.Chart(counts).mark_rule(strokeWidth=2, color="#555555").encode(
        x=x, y=alt.Y("zero:Q", scale=alt.Scale(domain=[-0.6, top]), title="Patients",
                     axis=alt.Axis(tickMinStep=1, values=list(range(0, most + 1)))), y2="n:Q"
    ).transform_calculate(zero="0")
    heads = alt.Chart(counts).mark_circle(size=300, stroke="black", strokeWidth=0.6, opacity=1).encode(
        x="position:Q", y="n:Q",
        color=alt.Color("class_group:N", scale=alt.Scale(domain=classes, range=[ALTERATION_COLORS[c] for c in classes]),
                        legend=alt.Legend(title="Variant class")),
        tooltip=[alt.Tooltip("proteins:N", title="Protein change"), alt.Tooltip("position:Q", title="Position"),
                 alt.Tooltip("n:Q", title="Patients"), alt.Tooltip("patients:N", title="Patient ids")])
    leaders = alt.Chart(counts).mark_rule(strokeWidth=0.8, strokeDash=[2, 2], color="#777777").encode(
        x="position:Q", y="n:Q", y2="label_y:Q")
    labels = alt.Chart(counts).mark_text(dx=3, fontSize=13, align="left", baseline="bottom").encode(
        x="position:Q", y="label_y:Q", text="proteins:N")
    domains = pd.DataFrame([dict(domain=n, short=TP53_DOMAIN_ABBREVIATIONS[n], start=s, end=e, mid=(s + e) / 2)
                            for n, s, e in TP53_DOMAINS])
    dom = alt.Chart(domains).mark_rect(color=PALETTE[4], opacity=0.55).encode(
        x=alt.X("start:Q"), x2="end:Q", y=alt.datum(-0.55), y2=alt.datum(-0.1),
        tooltip=[alt.Tooltip("domain:N", title="Domain"), alt.Tooltip("start:Q"), alt.Tooltip("end:Q")])
    dom_text = alt.Chart(domains).mark_text(fontSize=13, baseline="middle").encode(
        x="mid:Q", y=alt.datum(-0.33), text="short:N",
        tooltip=[alt.Tooltip("domain:N", title="Domain"), alt.Tooltip("start:Q"), alt.Tooltip("end:Q")])
    return (dom + dom_text + sticks + leaders + heads + labels).properties(height=340)


_LABEL_AA_PER_CHAR = 6.5  # amino acids one label character spans at the projector's text size
_LABEL_LEVEL = 0.55       # patients (y units) between label rows


def _label_heights(counts: pd.DataFrame) -> list[float]:
    """A height per lollipop label: labels are horizontal, above the heads, and a label that
    would run into an earlier one at its height goes one row up (greedy, by position)."""
    base = float(counts["n"].max()) + 0.7 if len(counts) else 0.0
    ends: list[float] = []  # per row: where its last label ends (amino acids)
    heights = {}
    for i in counts.sort_values("position").index:
        start = float(counts.at[i, "position"])
        end = start + _LABEL_AA_PER_CHAR * len(str(counts.at[i, "proteins"]))
        row = next((r for r, last in enumerate(ends) if start > last), len(ends))
        if row == len(ends):
            ends.append(end)
        ends[row] = end
        heights[i] = base + _LABEL_LEVEL * row
    return [heights[i] for i in counts.index]
