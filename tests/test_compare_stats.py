"""The compare page's statistics against independent computations: DerSimonian-Laird written out by
hand, a published textbook example with its reference values from R's metafor, Fisher's exact test
and exact intervals from other implementations, and the agreement rule of the reproduction check."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import binomtest, fisher_exact

from analytics import compare
from analytics.compare import CohortFigure, logit_effect, pool_proportions, random_effects
from analytics.stats import fisher_exact_2x2

# Kacker (2004), Metrologia 41:132-136, the interlaboratory example used by statsmodels' meta-analysis
# tests: 9 laboratory means and their variances. Reference values from R metafor
# rma(y, v, method="DL") and rma(y, v, method="PM") (statsmodels/stats/tests/results/results_meta.py).
KACKER_Y = [61.00, 61.40, 62.21, 62.30, 62.34, 62.60, 62.70, 62.84, 65.90]
KACKER_V = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
METAFOR_DL = {"mean": 62.3901386044504, "se": 0.245749668040304, "tau2": 0.288049246973751,
              "i2": 0.67744403741711, "q": 24.801897741835}
METAFOR_PM = {"mean": 62.4076199113286, "se": 0.338030602684471, "tau2": 0.705395309224248}


def dersimonian_laird(y, v):
    """DerSimonian & Laird (1986) by hand: Q from fixed-effect weights, tau² = max(0, (Q - df) / C),
    random-effects weights 1 / (v + tau²), I² = max(0, (Q - df) / Q)."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    w = 1 / v
    fixed = (w * y).sum() / w.sum()
    q = (w * (y - fixed) ** 2).sum()
    df = len(y) - 1
    c = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (q - df) / c)
    w_re = 1 / (v + tau2)
    mean = (w_re * y).sum() / w_re.sum()
    return {"mean": mean, "se": math.sqrt(1 / w_re.sum()), "tau2": tau2,
            "i2": max(0.0, (q - df) / q) if q > 0 else 0.0, "q": q}


def test_hand_written_dersimonian_laird_reproduces_metafor_on_kacker_2004():
    hand = dersimonian_laird(KACKER_Y, KACKER_V)
    for name, value in METAFOR_DL.items():
        assert hand[name] == pytest.approx(value, abs=1e-6), name


def test_app_pooling_equals_metafor_and_the_hand_computation_on_kacker_2004():
    res = random_effects(KACKER_Y, KACKER_V, "dl")
    hand = dersimonian_laird(KACKER_Y, KACKER_V)
    for name, value in METAFOR_DL.items():
        assert getattr(res, name) == pytest.approx(value, abs=1e-6), name
        assert getattr(res, name) == pytest.approx(hand[name], abs=1e-9), name
    assert res.df == 8


def test_paule_mandel_agrees_with_metafor_on_kacker_2004():
    """statsmodels iterates Paule-Mandel to atol 1e-5 on tau² (metafor to 1e-9): agreement to 1e-5."""
    res = random_effects(KACKER_Y, KACKER_V, "pm")
    for name, value in METAFOR_PM.items():
        assert getattr(res, name) == pytest.approx(value, rel=1e-5), name


def test_homogeneous_series_give_tau2_zero_and_the_fixed_effect_estimate():
    """Q < df: DerSimonian-Laird's tau² is 0 (statsmodels alone would return a negative value and
    weight by 1 / (v - |tau²|))."""
    y, v = [0.10, 0.11, 0.12], [1.0, 1.0, 1.0]
    res = random_effects(y, v, "dl")
    hand = dersimonian_laird(y, v)
    assert res.tau2 == 0.0 and res.i2 == 0.0
    assert res.mean == pytest.approx(hand["mean"], abs=1e-12)
    assert res.se == pytest.approx(hand["se"], abs=1e-12)
    assert res.mean == pytest.approx(0.11) and res.se == pytest.approx(math.sqrt(1 / 3))


def hand_logit(k, n):
    if k in (0, n):
        k, n = k + 0.5, n + 1.0
    return math.log(k / (n - k)), 1 / k + 1 / (n - k)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 40)).map(lambda t: (min(t), max(t))),
                min_size=2, max_size=7))
def test_pooled_proportion_equals_the_hand_computation_on_logits(counts):
    effects = [hand_logit(k, n) for k, n in counts]
    hand = dersimonian_laird([e for e, _ in effects], [v for _, v in effects])
    pooled = pool_proportions(counts, "dl")
    assert pooled.k == len(counts)
    assert pooled.logit_estimate == pytest.approx(hand["mean"], abs=1e-9)
    assert pooled.tau2 == pytest.approx(hand["tau2"], abs=1e-9)
    assert pooled.i2 == pytest.approx(hand["i2"], abs=1e-9)
    assert pooled.q == pytest.approx(hand["q"], abs=1e-9)
    expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert pooled.estimate == pytest.approx(expit(hand["mean"]), abs=1e-12)
    assert pooled.ci_low == pytest.approx(expit(hand["mean"] - 1.959963984540054 * hand["se"]), abs=1e-9)
    assert pooled.ci_low <= pooled.estimate <= pooled.ci_high
    assert pooled.corrected == sum(k in (0, n) for k, n in counts)


def test_pooled_tp53_of_three_published_series_by_hand():
    """9/19, 14/17 and 4/9 (the TP53 figures of the published file): logits and their variances."""
    effects = [(math.log(9 / 10), 1 / 9 + 1 / 10), (math.log(14 / 3), 1 / 14 + 1 / 3), (math.log(4 / 5), 1 / 4 + 1 / 5)]
    hand = dersimonian_laird([e for e, _ in effects], [v for _, v in effects])
    pooled = pool_proportions([(9, 19), (14, 17), (4, 9)])
    assert pooled.tau2 == pytest.approx(hand["tau2"], abs=1e-12) and pooled.tau2 > 0
    assert pooled.i2 == pytest.approx(hand["i2"], abs=1e-12)
    assert "I² 61%" in pooled.text() and "3 series" in pooled.text()


def test_logit_effect_and_continuity_correction():
    assert logit_effect(9, 19) == (pytest.approx(math.log(0.9)), pytest.approx(1 / 9 + 1 / 10), False)
    effect, variance, corrected = logit_effect(0, 9)
    assert corrected and effect == pytest.approx(math.log(0.5 / 9.5)) and variance == pytest.approx(2 + 1 / 9.5)
    assert logit_effect(9, 9)[2]


def test_fewer_than_two_series_are_not_pooled_and_bad_methods_raise():
    assert pool_proportions([(3, 10)]) is None
    assert pool_proportions([(3, 10), (0, 0)]) is None  # a series with nobody evaluable counts for nothing
    with pytest.raises(ValueError, match="dl, pm"):
        pool_proportions([(3, 10), (4, 10)], "reml")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_fisher_p_equals_scipy_and_the_r_style_implementation(a, b, c, d):
    if a + b == 0 or c + d == 0:
        return
    p = compare.fisher_p(a, a + b, c, c + d)
    assert p == pytest.approx(fisher_exact([[a, b], [c, d]]).pvalue, abs=1e-12)
    assert p == pytest.approx(fisher_exact_2x2([[a, b], [c, d]]).p_value, abs=1e-9)


def test_fisher_p_by_hand_hypergeometric_sum():
    """Two-sided p: the probabilities of all tables with the observed margins that are no more
    likely than the observed one (TP53 9/19 against 14/17, as on the page)."""
    a, n1, c, n2 = 9, 19, 14, 17
    col, total = a + c, n1 + n2

    def prob(x):
        return math.comb(n1, x) * math.comb(n2, col - x) / math.comb(total, col)

    observed = prob(a)
    hand = sum(prob(x) for x in range(max(0, col - n2), min(n1, col) + 1) if prob(x) <= observed * (1 + 1e-7))
    assert compare.fisher_p(a, n1, c, n2) == pytest.approx(hand, abs=1e-12)
    assert 0.04 < hand < 0.05


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_exact_ci_equals_scipy_binomtest(kn):
    k, n = kn
    low, high = compare.exact_ci(k, n)
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    assert (low, high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))


def test_exact_ci_known_value_and_empty_denominator():
    assert tuple(round(x, 4) for x in compare.exact_ci(9, 19)) == (0.2445, 0.7114)
    assert all(math.isnan(x) for x in compare.exact_ci(0, 0))


def published_row(characteristic, **values):
    row = {"characteristic": characteristic, "numerator": None, "denominator": None, "median": None,
           "range_low": None, "range_high": None, "decimals": 0}
    return row | values


def test_agreement_of_counts_and_proportions_is_exact():
    row = published_row("tp53_mutated", numerator=9, denominator=19)
    assert compare.agrees(row, CohortFigure("tp53_mutated", numerator=9, denominator=19))
    assert not compare.agrees(row, CohortFigure("tp53_mutated", numerator=9, denominator=20))
    assert not compare.agrees(row, CohortFigure("tp53_mutated", numerator=8, denominator=19))
    count = published_row("withdrawal_regression", numerator=5)  # no denominator published
    assert compare.agrees(count, CohortFigure("withdrawal_regression", numerator=5, denominator=10))
    assert not compare.agrees(count, CohortFigure("withdrawal_regression", numerator=6, denominator=10))


def test_agreement_of_medians_is_at_the_published_precision():
    row = published_row("latency_months", median=54.0, range_low=5.0, range_high=119.0, decimals=0)
    assert compare.agrees(row, CohortFigure("latency_months", median=54.012, low=4.99, high=118.998))
    assert not compare.agrees(row, CohortFigure("latency_months", median=54.6, low=4.99, high=118.998))
    assert not compare.agrees(row, CohortFigure("latency_months", median=54.0, low=6.0, high=119.0))
    efs = published_row("efs_treated_months", median=35.4, decimals=1)
    assert compare.agrees(efs, CohortFigure("efs_treated_months", median=35.4168))
    assert not compare.agrees(efs, CohortFigure("efs_treated_months", median=35.46))
    assert not compare.agrees(efs, CohortFigure("efs_treated_months", median=None))
    not_reached = published_row("efs_hct_months", median=math.inf)
    assert compare.agrees(not_reached, CohortFigure("efs_hct_months", median=math.inf))
    assert not compare.agrees(not_reached, CohortFigure("efs_hct_months", median=80.0))
