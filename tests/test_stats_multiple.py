"""Holm and Bonferroni adjusted p-values against their definitions and statsmodels (the reference)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from statsmodels.stats.multitest import multipletests

from analytics.stats import adjust_pvalues


def holm_by_definition(p: list[float]) -> list[float]:
    """Step-down: the i-th smallest p times (m - i), made monotone, capped at 1."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted, running = np.empty(m), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


p_values = st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.01, 0.05, 0.2, 1.0])), min_size=1, max_size=15)


@settings(max_examples=300, deadline=None)
@given(p_values)
def test_holm_is_the_step_down_by_definition(p):
    assert adjust_pvalues(p, "holm") == pytest.approx(holm_by_definition(p), abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(p_values)
def test_bonferroni_is_m_times_p_capped_at_one(p):
    assert adjust_pvalues(p, "bonferroni") == pytest.approx([min(1.0, len(p) * x) for x in p], abs=1e-15)


# statsmodels' Holm runs gc.collect() on every call: fewer examples, the definition above takes the many.
@settings(max_examples=40, deadline=None)
@given(p_values, st.sampled_from(["holm", "bonferroni"]))
def test_equal_to_statsmodels(p, method):
    assert adjust_pvalues(p, method) == pytest.approx(multipletests(p, method=method)[1].tolist(), abs=1e-15)


def test_unknown_correction_and_empty_input():
    with pytest.raises(ValueError):
        adjust_pvalues([0.1], "fdr")
    assert adjust_pvalues([], "holm") == []
