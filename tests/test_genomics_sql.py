"""Counts moved into DuckDB equal the patient x feature computation they replaced.

Frequencies, co-occurrence 2x2 tables, the all-pairs matrix and the oncoprint sort order are
now computed from SQL aggregates (`status_patterns`) and an SQL ORDER BY ... LIMIT. The
references below are the previous implementations, on the per-patient `feature_matrix`
(itself checked against a plain per-patient loop in test_genomics_scale.py). Equality is
exact, on the demo cohort and on a synthetic cohort, under filters incl. empty and one patient.
"""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from analytics import cohort, genomics
from analytics.build import build_in_memory
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.genomics import ALTERED
from analytics.genomics.karyotype import PLOIDY_ORDER
from analytics.stats import benjamini_hochberg, clopper_pearson, fisher_exact_2x2
from analytics.synthetic import build_synthetic_in_memory

FILTERS = [CohortFilter(), CohortFilter(sex=("F",)), CohortFilter(tp53=("mutated",)),
           CohortFilter(tp53=(NOT_EVALUATED,)), CohortFilter(ploidy=("low hypodiploid",)),
           CohortFilter(institution=("nowhere",)), CohortFilter.from_query_params({"age": "48-48"})]


@pytest.fixture(scope="module", params=["demo", "synthetic"])
def db(request):
    if request.param == "demo":
        return build_in_memory("data/demo_cohort")
    return build_synthetic_in_memory(700, seed=21)


def reference_frequencies(db, f):
    m = genomics.feature_matrix(db, f)
    out = []
    for feat in genomics.feature_names(db):
        sub = m[m["feature"] == feat]
        if sub.empty:
            continue
        altered = int((sub["status"] == ALTERED).sum())
        evaluable = int((sub["status"] != NOT_EVALUATED).sum())
        low, high = clopper_pearson(altered, evaluable)
        out.append(dict(feature=feat, group=sub["group"].iloc[0], altered=altered, evaluable=evaluable,
                        not_evaluated=len(sub) - evaluable, total=len(sub),
                        proportion=altered / evaluable if evaluable else np.nan, ci_low=low, ci_high=high))
    return pd.DataFrame(out, columns=["feature", "group", "altered", "evaluable", "not_evaluated", "total",
                                      "proportion", "ci_low", "ci_high"])


def reference_pair(wide, a, b):
    both = wide[(wide[a] != NOT_EVALUATED) & (wide[b] != NOT_EVALUATED)]
    aa, bb = both[a] == ALTERED, both[b] == ALTERED
    return [[int((aa & bb).sum()), int((aa & ~bb).sum())], [int((~aa & bb).sum()), int((~aa & ~bb).sum())]], len(both)


def reference_order(db, f, sort_by):
    """The previous Python sort: status rank (and -VAF), ties in the cohort order."""
    default = cohort.patient_order(db, f)
    if not sort_by or sort_by.startswith("Default"):
        return default
    rank_of_default = {pid: i for i, pid in enumerate(default)}
    if sort_by == "Ploidy category":
        p = cohort.filtered_summary(db, f)
        ranks = {pid: (PLOIDY_ORDER.index(c) if isinstance(c, str) else len(PLOIDY_ORDER))
                 for pid, c in zip(p["patient_id"], p["ploidy_category"])}
    elif sort_by in genomics.CLINICAL_TRACKS:
        t = genomics.clinical_tracks(db, f)
        t = t[t["track"] == sort_by]
        order = genomics.oncoprint._CLINICAL_ORDER.get(sort_by) or sorted(t["value"].unique())
        ranks = {pid: order.index(v) if v in order else len(order) for pid, v in zip(t["patient_id"], t["value"])}
    else:
        m = genomics.feature_matrix(db, f)
        m = m[m["feature"] == sort_by]
        ranks = {pid: (genomics.oncoprint._STATUS_RANK[s], -(v if pd.notna(v) else 0))
                 for pid, s, v in zip(m["patient_id"], m["status"], m["vaf"])}
    return sorted(default, key=lambda pid: (ranks.get(pid, 99), rank_of_default[pid]))


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.describe())
def test_frequencies_equal_the_feature_matrix_counts(db, f):
    got = genomics.alteration_frequencies(db, f)
    expected = reference_frequencies(db, f)
    pd.testing.assert_frame_equal(got.drop(columns="label"), expected, check_dtype=False)
    assert (got["not_evaluated"] >= 0).all() and (got["evaluable"] + got["not_evaluated"] == got["total"]).all()


@pytest.mark.parametrize("f", FILTERS[:4] + FILTERS[6:], ids=lambda f: f.describe())
def test_cooccurrence_and_pairs_equal_the_feature_matrix_counts(db, f):
    wide = genomics.feature_matrix(db, f).pivot(index="patient_id", columns="feature", values="status")
    names = genomics.feature_names(db)
    if wide.empty:  # nobody selected: zero counts, no test (the matrix had no columns to pick from)
        result = genomics.cooccurrence(db, f, "TP53", "BCR::ABL1")
        assert result["n_both"] == 0 and result["fisher"] is None
        assert genomics.cooccurrence_matrix(db, f).empty
        return
    for a, b in [("TP53", names[-1]), (names[1], "BCR::ABL1"), ("TP53", "Low hypodiploid")]:
        if b not in names:
            continue
        result = genomics.cooccurrence(db, f, a, b)
        counts, n_both = reference_pair(wide, a, b)
        assert result["table"].to_numpy().tolist() == counts
        assert (result["n_both"], result["n_excluded"]) == (n_both, len(wide) - n_both)
    pairs = genomics.cooccurrence_matrix(db, f, min_evaluable=5, min_altered=1)
    feats = [x for x in names if (wide[x] == ALTERED).sum() >= 1]
    rows = []
    for a, b in combinations(feats, 2):
        counts, n_both = reference_pair(wide, a, b)
        if n_both >= 5:
            r = fisher_exact_2x2(counts)
            rows.append((a, b, n_both, *counts[0], *counts[1], r.p_value))
    assert [tuple(r) for r in pairs[["feature_a", "feature_b", "n", "both", "a_only", "b_only", "neither",
                                     "p_value"]].itertuples(index=False)] == rows
    np.testing.assert_allclose(pairs["q_value"], benjamini_hochberg([r[-1] for r in rows]) if rows else [])


@pytest.mark.parametrize("f", [FILTERS[0], FILTERS[1], FILTERS[3], FILTERS[6]], ids=lambda f: f.describe())
def test_oncoprint_sql_order_equals_the_python_sort_for_every_option(db, f):
    for sort_by in genomics.oncoprint_sort_options(db):
        expected = reference_order(db, f, sort_by)
        assert genomics.oncoprint_order(db, f, sort_by) == expected, sort_by
        assert genomics.oncoprint_order(db, f, sort_by, limit=7) == expected[:7], sort_by


def test_oncoprint_fetches_only_the_drawn_patients_and_draws_the_same_cells():
    db = build_synthetic_in_memory(700, seed=21)
    f = CohortFilter()
    order = genomics.oncoprint_order(db, f, "TP53", limit=40)
    spec = genomics.oncoprint_chart(db, f, "TP53", max_patients=40).to_dict()
    full = genomics.feature_matrix(db, f)
    cells = [r for rows in spec["datasets"].values() for r in rows if "status" in r and "feature" in r]
    assert {r["patient_id"] for r in cells} == set(order)
    expected = full[full["patient_id"].isin(order) & (full["group"] != genomics.GROUP_PLOIDY)]
    assert sorted((r["patient_id"], r["feature"], r["status"]) for r in cells) == sorted(
        zip(expected["patient_id"], expected["feature"], expected["status"]))


def test_synthetic_file_cohort_counts():
    """The 10,000-patient benchmark file when present (git-ignored): SQL counts equal the matrix."""
    from pathlib import Path
    from analytics.db import CohortDatabase
    path = Path("bench/results/cohorts/synthetic_10000_s0.duckdb")
    if not path.exists():
        pytest.skip("synthetic 10k cohort not built (python -m bench.run builds it)")
    db = CohortDatabase.open_file(path)
    f = CohortFilter(sex=("F",))
    got = genomics.alteration_frequencies(db, f)
    pd.testing.assert_frame_equal(got.drop(columns="label"), reference_frequencies(db, f), check_dtype=False)


def test_lollipop_stays_small_at_scale_and_lists_every_id_when_few():
    import json
    db = build_synthetic_in_memory(9000, seed=3)
    spec = genomics.lollipop_chart(genomics.tp53_variants(db, CohortFilter())).to_dict()
    assert len(json.dumps(spec)) < 200_000
    counts = [r for rows in spec["datasets"].values() for r in rows if "patients" in r]
    assert sum(r["n"] for r in counts) == genomics.tp53_variants(db, CohortFilter())["position"].notna().sum()
    assert any("more" in r["patients"] for r in counts)
    demo = build_in_memory("data/demo_cohort")
    spec = genomics.lollipop_chart(genomics.tp53_variants(demo, CohortFilter())).to_dict()
    listed = [r["patients"] for rows in spec["datasets"].values() for r in rows if "patients" in r]
    assert not any("more" in t for t in listed)


@pytest.mark.parametrize("f", FILTERS)
def test_clinical_tracks_in_sql_equal_the_per_patient_way(db, f):
    from tests.oracles.genomics import clinical_tracks
    got = genomics.clinical_tracks(db, f)
    pd.testing.assert_frame_equal(got, clinical_tracks(db, f), check_dtype=False)
    drawn = tuple(cohort.patient_order(db, f)[:5])
    subset = genomics.clinical_tracks(db, f, drawn)
    assert set(subset["patient_id"]) == set(drawn) and len(subset) == len(drawn) * len(genomics.CLINICAL_TRACKS)
