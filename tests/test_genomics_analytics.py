"""analytics.genomics on the demo cohort: denominators, filters, co-occurrence, oncoprint, CSV."""
import io

import numpy as np
import pandas as pd
import pytest

from analytics.export import safe_csv

from analytics import cohort, genomics
from analytics.filters import CohortFilter
from analytics.stats import benjamini_hochberg, fisher_exact_2x2

FULL = CohortFilter()
NEVER_TESTED = CohortFilter(tp53=("not evaluated",))


def test_feature_matrix_is_complete_and_three_valued(demo_db):
    m = genomics.feature_matrix(demo_db, FULL)
    assert set(m["status"]) == {"altered", "no alteration", "not evaluated"}
    assert len(m) == 32 * len(genomics.feature_names(demo_db))
    assert not m.duplicated(["patient_id", "feature"]).any()


def test_unsequenced_patients_are_not_evaluated_for_every_gene(demo_db):
    m = genomics.feature_matrix(demo_db, NEVER_TESTED)
    genes = genomics.cohort_genes(demo_db)
    sub = m[m["feature"].isin(genes)]
    assert len(sub) and (sub["status"] == "not evaluated").all()
    freq = genomics.alteration_frequencies(demo_db, NEVER_TESTED).set_index("feature")
    assert freq.loc["TP53", "evaluable"] == 0 and np.isnan(freq.loc["TP53", "ci_low"])


def test_frequencies_respect_filters(demo_db):
    f = CohortFilter(institution=("Site B",))
    freq = genomics.alteration_frequencies(demo_db, f).set_index("feature")
    n = cohort.count_patients(demo_db, f)
    assert (freq["total"] == n).all()
    assert (freq["altered"] <= freq["evaluable"]).all()


def test_single_patient(demo_db):
    f = CohortFilter(age=(48, 48))
    freq = genomics.alteration_frequencies(demo_db, f)
    assert (freq["total"] == 1).all()
    assert genomics.oncoprint_order(demo_db, f, "TP53") == ["S28"]


def test_cooccurrence_matches_direct_fisher(demo_db):
    res = genomics.cooccurrence(demo_db, FULL, "TP53", "Low hypodiploid")
    counts = res["table"].to_numpy().tolist()
    direct = fisher_exact_2x2(counts)
    assert res["fisher"].p_value == pytest.approx(direct.p_value) and res["n_both"] == sum(map(sum, counts))
    with pytest.raises(ValueError):
        genomics.cooccurrence(demo_db, FULL, "TP53", "no such thing")


def test_pairwise_matrix_q_is_bh_of_its_p(demo_db):
    pairs = genomics.cooccurrence_matrix(demo_db, FULL)
    assert len(pairs) > 0 and (pairs["n"] >= 10).all()
    assert np.allclose(pairs["q_value"], benjamini_hochberg(pairs["p_value"].tolist()))
    row = pairs[(pairs.feature_a == "TP53") & (pairs.feature_b == "Low hypodiploid")].iloc[0]
    single = genomics.cooccurrence(demo_db, FULL, "TP53", "Low hypodiploid")["fisher"]
    assert row.p_value == pytest.approx(single.p_value) and row.odds_ratio == pytest.approx(single.conditional_odds_ratio)


def test_oncoprint_default_order_is_the_cohort_order(demo_db):
    assert genomics.oncoprint_order(demo_db, FULL) == cohort.patient_order(demo_db, FULL)
    order = genomics.oncoprint_order(demo_db, FULL, "TP53")
    status = genomics.feature_matrix(demo_db, FULL).query("feature == 'TP53'").set_index("patient_id")["status"]
    ranks = [{"altered": 0, "no alteration": 1, "not evaluated": 2}[status[p]] for p in order]
    assert ranks == sorted(ranks) and sorted(order) == sorted(cohort.patient_order(demo_db, FULL))


@pytest.mark.parametrize("sort_by", ["Default (patient id)", "Ploidy category", "Best response", "EFS",
                                     "BCR::ABL1", "t(9;22)"])
def test_oncoprint_builds_for_every_sort(demo_db, sort_by):
    spec = genomics.oncoprint_chart(demo_db, FULL, sort_by).to_dict()
    assert len(spec["vconcat"]) == len(genomics.CLINICAL_TRACKS) + 3   # tracks, ploidy, alterations, key


def test_oncoprint_not_evaluated_differs_from_no_alteration(demo_db):
    spec = genomics.oncoprint_chart(demo_db, FULL).to_dict()
    scale = spec["vconcat"][-2]["layer"][0]["encoding"]["color"]["scale"]
    colors = dict(zip(scale["domain"], scale["range"]))
    assert colors["not evaluated"] != colors["no alteration"]


def test_karyotype_table_and_masked_flag(demo_db):
    kt = genomics.karyotype_table(demo_db, FULL)
    assert kt["modal_number"].notna().sum() == 26
    assert (kt.loc[kt["agrees"].notna(), "agrees"] == True).all()  # noqa: E712
    flagged = set(kt.loc[kt["masked_hypodiploidy_flag"].notna(), "patient_id"])
    assert "S30" in flagged   # 36,...[6]/72,idemx2[4]
    assert kt.set_index("patient_id").loc["S24", "parse_status"].startswith("could not parse")


@pytest.mark.parametrize("text,pos", [("p.R248Q", 248), ("p.P152Lfs*18", 152), ("p.X187_splice", 187),
                                      ("p.R213*", 213), ("p.Arg175His", 175), ("c.375+1G>A", None), (None, None)])
def test_protein_position(text, pos):
    assert genomics.protein_position(text) == pos


def test_tp53_variants_and_charts(demo_db):
    tp = genomics.tp53_variants(demo_db, FULL)
    assert len(tp) == 9 and tp["position"].between(1, genomics.TP53_LENGTH).all()
    genomics.lollipop_chart(tp).to_dict()
    genomics.vaf_chart(tp).to_dict()
    genomics.modal_number_chart(genomics.karyotype_table(demo_db, FULL)).to_dict()


def test_mutation_table_filters_are_parameters(demo_db):
    hostile = "TP53') OR 1=1 --"
    assert genomics.mutation_table(demo_db, FULL, genes=(hostile,)).empty
    nras = genomics.mutation_table(demo_db, FULL, genes=("NRAS",), min_vaf=0.25)
    assert set(nras["gene"]) == {"NRAS"} and (nras["vaf"] >= 0.25).all()


def test_safe_csv_neutralises_formulas():
    df = pd.DataFrame({"a": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "p.R248Q"], "b": [1, 2, 3, 4, 5]})
    back = pd.read_csv(io.BytesIO(safe_csv(df)))
    assert back["a"].tolist() == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "p.R248Q"]
    assert back["b"].tolist() == [1, 2, 3, 4, 5]
