"""Why the r x c Fisher (Freeman-Halton) test is hand-written: what SciPy 1.17's `fisher_exact`
gives on r x c tables, against `analytics.stats.freeman_halton`.

SciPy is exact only through `PermutationMethod(n_resamples=inf)`, which enumerates all n!
pairings (feasible to n of about 8); by default it is a Monte Carlo estimate; and its Monte Carlo,
drawing the very same tables from the same seed, counts ties at a tolerance of 1e-14 instead of
R's 1e-7. If a SciPy release changes any of this, these tests fail and the choice is to be redone.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from analytics.stats import freeman_halton
from analytics.stats.rxc import _freeman_halton


@st.composite
def tiny_tables(draw):
    """r x c tables (2-3 x 2-3) of at most 7 patients with no empty row or column."""
    r, c = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    cells = draw(st.lists(st.integers(0, 3), min_size=r * c, max_size=r * c))
    table = np.array(cells).reshape(r, c)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2 or table.sum() > 7:
        from hypothesis import reject
        reject()
    return table


@settings(max_examples=60, deadline=None)
@given(tiny_tables())
def test_scipy_permutation_enumeration_equals_the_exact_test_on_tiny_tables(table):
    scipy_exact = stats.fisher_exact(table, method=stats.PermutationMethod(n_resamples=np.inf)).pvalue
    assert freeman_halton(table).p_value == pytest.approx(scipy_exact, abs=1e-12)


def test_scipys_default_on_rxc_is_a_monte_carlo_estimate_not_the_exact_p():
    table = np.array([[5, 2, 1], [1, 4, 3], [0, 2, 6]])
    exact = freeman_halton(table)
    assert exact.method == "exact enumeration" and exact.p_value == pytest.approx(0.0326702304, abs=1e-9)
    estimates = {stats.fisher_exact(table, method=stats.MonteCarloMethod(rng=np.random.default_rng(seed))).pvalue
                 for seed in range(3)}
    assert len(estimates) == 3  # a different p for every random stream
    assert all(abs(p - exact.p_value) > 1e-12 for p in estimates)


def test_scipys_monte_carlo_misses_ties_that_rs_tolerance_counts():
    table = np.array([[5, 3, 8, 1], [9, 5, 11, 3], [4, 10, 8, 0]])
    ours = _freeman_halton(table, max_tables=0, draws=5000, seed=11)
    theirs = stats.fisher_exact(table, method=stats.MonteCarloMethod(n_resamples=5000,
                                                                     rng=np.random.default_rng(11))).pvalue
    assert ours.method.startswith("Monte Carlo")
    assert round((ours.p_value - theirs) * 5001) == 1  # same draws, one tie counted by R's rule only
