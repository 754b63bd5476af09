"""Exact statistics of the Response page checked against independent computations."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import binomtest, fisher_exact

from analytics.response import format_sensitivity
from analytics.stats import freeman_halton


def brute_force_fh(table) -> float:
    """Freeman-Halton p by enumerating every cell assignment (independent of the column walk)."""
    t = np.asarray(table, dtype=int)
    rows, cols, n = t.sum(axis=1), t.sum(axis=0), int(t.sum())

    def prob(x):
        return math.exp(sum(math.lgamma(v + 1) for v in rows) + sum(math.lgamma(v + 1) for v in cols)
                        - math.lgamma(n + 1) - sum(math.lgamma(v + 1) for v in x.ravel()))

    p_obs = prob(t)
    r, c = t.shape
    total = 0.0
    free = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for cells in itertools.product(*free):
        x = np.zeros((r, c), dtype=int)
        x[:r - 1, :c - 1] = np.array(cells).reshape(r - 1, c - 1)
        x[:r - 1, c - 1] = rows[:r - 1] - x[:r - 1, :c - 1].sum(axis=1)
        x[r - 1, :] = cols - x[:r - 1, :].sum(axis=0)
        if (x < 0).any() or x[r - 1].sum() != rows[r - 1]:
            continue
        pr = prob(x)
        if pr <= p_obs * (1 + 1e-7):
            total += pr
    return min(1.0, total)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_freeman_halton_equals_scipy_fisher_on_2x2(cells):
    table = [cells[:2], cells[2:]]
    expected = fisher_exact(table, alternative="two-sided").pvalue
    assert freeman_halton(table).p_value == pytest.approx(expected, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 3), st.integers(2, 3), st.data())
def test_freeman_halton_equals_brute_force_on_small_rxc(r, c, data):
    cells = data.draw(st.lists(st.integers(0, 4), min_size=r * c, max_size=r * c))
    table = np.array(cells).reshape(r, c)
    if (table.sum(axis=1) == 0).any() or (table.sum(axis=0) == 0).any():
        return  # empty rows/columns are dropped by design; covered below
    assert freeman_halton(table).p_value == pytest.approx(brute_force_fh(table), abs=1e-9)


def test_freeman_halton_known_values():
    # 3x3 example: hand enumeration (brute force) and transposition invariance
    t = [[2, 0, 1], [0, 3, 0], [1, 0, 2]]
    res = freeman_halton(t)
    assert res.method == "exact enumeration"
    assert res.p_value == pytest.approx(brute_force_fh(t), abs=1e-12)
    assert freeman_halton(np.array(t).T).p_value == pytest.approx(res.p_value, abs=1e-12)
    # R: fisher.test(matrix(c(3,1,1,3),2)) -> p = 0.4857
    assert freeman_halton([[3, 1], [1, 3]]).p_value == pytest.approx(0.4857142857, abs=1e-9)
    # empty rows and columns carry no information and are dropped
    assert freeman_halton([[3, 1, 0], [1, 3, 0]]).p_value == pytest.approx(0.4857142857, abs=1e-9)


def test_monte_carlo_fallback_is_seeded_and_close_to_exact():
    t = [[5, 1], [2, 4], [0, 6], [3, 3]]
    exact = freeman_halton(t).p_value
    mc = freeman_halton(t, max_tables=0, draws=40_000)
    assert mc.method.startswith("Monte Carlo")
    assert mc.p_value == freeman_halton(t, max_tables=0, draws=40_000).p_value  # fixed seed
    assert abs(mc.p_value - exact) < 0.01


def test_format_sensitivity():
    assert format_sensitivity(0.0001) == "10⁻⁴ (0.01%)"
    assert format_sensitivity(None) == "not recorded"


@pytest.mark.parametrize("k,n", [(25, 28), (0, 4), (4, 4), (1, 1)])
def test_clopper_pearson_used_matches_scipy(k, n):
    from analytics.stats import clopper_pearson
    ci = binomtest(k, n).proportion_ci(method="exact")
    low, high = clopper_pearson(k, n)
    assert low == pytest.approx(ci.low, abs=1e-6) and high == pytest.approx(ci.high, abs=1e-6)
