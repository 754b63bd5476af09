"""analytics.stats checked against independent computations (scipy, hand arithmetic)."""
import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as sps
from scipy.stats.contingency import odds_ratio as scipy_odds_ratio

from analytics.stats import benjamini_hochberg, clopper_pearson, fisher_exact_2x2

TOL = 1e-6


# ---- Clopper-Pearson -------------------------------------------------------------------------
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=80, deadline=None)
def test_clopper_pearson_matches_scipy_binomtest(kn):
    k, n = kn
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    low, high = clopper_pearson(k, n)
    assert low == pytest.approx(ref.low, abs=TOL) and high == pytest.approx(ref.high, abs=TOL)


def test_clopper_pearson_defining_property_by_hand():
    # The exact bounds solve P(X >= k | p_low) = 0.025 and P(X <= k | p_high) = 0.025 (binomial sums by hand).
    k, n = 9, 19
    low, high = clopper_pearson(k, n)
    upper_tail = sum(comb(n, i) * low ** i * (1 - low) ** (n - i) for i in range(k, n + 1))
    lower_tail = sum(comb(n, i) * high ** i * (1 - high) ** (n - i) for i in range(0, k + 1))
    assert upper_tail == pytest.approx(0.025, abs=1e-9) and lower_tail == pytest.approx(0.025, abs=1e-9)


def test_clopper_pearson_edges():
    assert clopper_pearson(0, 10)[0] == 0.0 and clopper_pearson(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in clopper_pearson(0, 0))
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


# ---- Fisher ----------------------------------------------------------------------------------
tables = st.tuples(*[st.integers(0, 12)] * 4).filter(lambda t: sum(t) > 0)


@given(tables)
@settings(max_examples=150, deadline=None)
def test_fisher_p_and_sample_or_match_scipy(t):
    a, b, c, d = t
    r = fisher_exact_2x2([[a, b], [c, d]])
    ref = sps.fisher_exact([[a, b], [c, d]])
    assert r.p_value == pytest.approx(ref.pvalue, abs=TOL)
    if b * c > 0:
        assert r.sample_odds_ratio == pytest.approx(ref.statistic, rel=TOL)


def _p_by_hand(a, b, c, d):
    """Two-sided Fisher p in exact rational arithmetic (R's rule: tables no more likely)."""
    r1, c1, n = a + b, a + c, a + b + c + d
    prob = {x: Fraction(comb(r1, x) * comb(n - r1, c1 - x), comb(n, c1))
            for x in range(max(0, c1 - (n - r1)), min(r1, c1) + 1)}
    return float(sum(p for p in prob.values() if p <= prob[a]))


@pytest.mark.parametrize("t", [(6, 2, 1, 9), (3, 1, 1, 3), (0, 5, 5, 0), (10, 0, 0, 10), (1, 9, 11, 3),
                               (2, 7, 8, 2)])
def test_fisher_p_exact_rational(t):
    assert fisher_exact_2x2([[t[0], t[1]], [t[2], t[3]]]).p_value == pytest.approx(_p_by_hand(*t), abs=1e-9)


@given(tables)
@settings(max_examples=100, deadline=None)
def test_conditional_or_and_ci_match_scipy(t):
    a, b, c, d = t
    r = fisher_exact_2x2([[a, b], [c, d]])
    if min(a + b, c + d, a + c, b + d) == 0:
        assert math.isnan(r.conditional_odds_ratio)
        return
    ref = scipy_odds_ratio([[a, b], [c, d]], kind="conditional")
    ci = ref.confidence_interval(confidence_level=0.95)
    for mine, theirs in ((r.conditional_odds_ratio, ref.statistic), (r.ci_low, ci.low), (r.ci_high, ci.high)):
        if math.isinf(theirs) or theirs == 0:
            assert mine == theirs
        else:
            assert mine == pytest.approx(theirs, rel=1e-5)


def test_conditional_ci_defining_property_with_noncentral_hypergeometric():
    # Independent distribution implementation: scipy.stats.nchypergeom_fisher.
    a, b, c, d = 6, 2, 1, 9
    r = fisher_exact_2x2([[a, b], [c, d]])
    M, n, N = a + b + c + d, a + c, a + b   # population, "successes" (col 1), draws (row 1)
    assert sps.nchypergeom_fisher.sf(a - 1, M, n, N, r.ci_low) == pytest.approx(0.025, abs=1e-7)
    assert sps.nchypergeom_fisher.cdf(a, M, n, N, r.ci_high) == pytest.approx(0.025, abs=1e-7)
    assert sps.nchypergeom_fisher.mean(M, n, N, r.conditional_odds_ratio) == pytest.approx(a, abs=1e-7)


def test_fisher_against_r_tea_tasting():
    # R: fisher.test(matrix(c(3,1,1,3),2)) -> p 0.4857, OR 6.408309, 95% CI 0.2117329-626.2381147.
    # R finds the OR and bounds with uniroot at its default tolerance (~1e-4 on the log scale), so
    # R's printed digits agree to ~2e-5 relative; the 1e-6 checks are against scipy above.
    r = fisher_exact_2x2([[3, 1], [1, 3]])
    assert r.p_value == pytest.approx(0.4857143, abs=1e-6)
    assert r.conditional_odds_ratio == pytest.approx(6.408309, rel=5e-5)
    assert r.ci_low == pytest.approx(0.2117329, rel=5e-5) and r.ci_high == pytest.approx(626.2381, rel=5e-5)


# ---- Benjamini-Hochberg ----------------------------------------------------------------------
def test_bh_hand_computation():
    p = [0.01, 0.04, 0.03, 0.20, 0.005]
    # sorted: 0.005(1) 0.01(2) 0.03(3) 0.04(4) 0.20(5); raw p*m/i: .025 .025 .05 .05 .20; cummin from top
    expected = [0.025, 0.05, 0.05, 0.20, 0.025]
    assert benjamini_hochberg(p) == pytest.approx(expected, abs=1e-12)


def test_bh_keeps_nan_and_caps_at_one():
    q = benjamini_hochberg([0.9, float("nan"), 0.95])
    assert math.isnan(q[1]) and q[0] == pytest.approx(0.95) and q[2] == pytest.approx(0.95)
    assert benjamini_hochberg([]) == []


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
@settings(max_examples=80, deadline=None)
def test_bh_matches_scipy_false_discovery_control(p):
    assert np.allclose(benjamini_hochberg(p), sps.false_discovery_control(p, method="bh"), atol=1e-12)
