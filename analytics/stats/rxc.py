"""Freeman-Halton exact test of independence for r x c tables (Fisher's exact test generalised).

Hand-written because SciPy's `fisher_exact` on an r x c table (1.17) is not exact in practice:
by default it is a Monte Carlo estimate (9,999 draws, a different p at every call unless seeded),
and its exact option (`PermutationMethod`) enumerates all n! pairings (n = 9 took 98 s; the
cohorts have 19 to 1,000,000 patients). Here the tables with the observed margins are enumerated
(far fewer than n!), with a seeded Monte Carlo only when they could exceed `MAX_ENUMERATED_TABLES`.
SciPy's Monte Carlo draws the same tables from the same seed but counts ties with the observed
table at a relative tolerance of 1e-14, where R's `fisher.test` (and the enumeration here) uses
1e-7, so it can miss draws as probable as the observed table (tests/test_stats_rxc.py shows both).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import random_table

from analytics.stats.fisher import REL_TOL

MAX_ENUMERATED_TABLES = 2_000_000
MONTE_CARLO_DRAWS = 200_000
MONTE_CARLO_SEED = 20230713


@dataclass(frozen=True)
class RxCTestResult:
    """Freeman-Halton exact test of independence in an r x c table."""

    p_value: float
    method: str                  # "exact enumeration" or "Monte Carlo (seed ..., N draws)"
    n_tables: int                # tables enumerated, or Monte Carlo draws
    log_p_observed: float


def _log_table_prob(table: np.ndarray, log_const: float) -> float:
    return log_const - float(sum(math.lgamma(x + 1) for x in table.ravel()))


def _margin_const(rows, cols) -> float:
    n = int(sum(rows))
    return (sum(math.lgamma(r + 1) for r in rows) + sum(math.lgamma(c + 1) for c in cols)
            - math.lgamma(n + 1))


def _count_bound(rows, cols) -> float:
    """An upper bound on the number of tables with these margins (to choose enumeration)."""
    bound = 1.0
    for c in cols[:-1]:
        bound *= math.comb(int(c) + len(rows) - 1, len(rows) - 1)
    return bound


def freeman_halton(table, max_tables: int = MAX_ENUMERATED_TABLES,
                   draws: int = MONTE_CARLO_DRAWS, seed: int = MONTE_CARLO_SEED) -> RxCTestResult:
    """`_freeman_halton`, remembered per table (a pure function of the table and options: the
    response page's table and figure both ask for the same test)."""
    t = np.asarray(table)
    if t.ndim != 2 or t.size == 0 or not np.issubdtype(t.dtype, np.integer):
        return _freeman_halton(table, max_tables, draws, seed)
    return _freeman_halton_cached(tuple(map(tuple, t.tolist())), max_tables, draws, seed)


@functools.lru_cache(maxsize=128)
def _freeman_halton_cached(table: tuple, max_tables: int, draws: int, seed: int) -> RxCTestResult:
    return _freeman_halton(table, max_tables, draws, seed)


def _freeman_halton(table, max_tables: int = MAX_ENUMERATED_TABLES,
                    draws: int = MONTE_CARLO_DRAWS, seed: int = MONTE_CARLO_SEED) -> RxCTestResult:
    """Freeman-Halton (Fisher's exact test for r x c tables), two-sided.

    p = sum of the hypergeometric probabilities of all tables with the observed margins that are
    no more likely than the observed one (relative tolerance 1e-7, as R's ``fisher.test``).
    Tables are enumerated column by column; if their number could exceed `max_tables`, the
    p-value is estimated from `draws` tables sampled with `scipy.stats.random_table` at a fixed
    `seed`, as (1 + hits) / (1 + draws), like R's ``simulate.p.value``.

    >>> round(freeman_halton([[3, 1], [1, 3]]).p_value, 4)      # = Fisher 2x2 (R: 0.4857)
    0.4857
    >>> r = freeman_halton([[2, 0, 1], [0, 3, 0], [1, 0, 2]])
    >>> r.method, round(r.p_value, 4)
    ('exact enumeration', 0.1)
    """
    t = np.asarray(table, dtype=int)
    if t.ndim != 2 or (t < 0).any():
        raise ValueError("need a 2-D table of non-negative counts")
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]  # empty rows/columns carry nothing
    if t.size == 0 or min(t.shape) < 2:
        return RxCTestResult(1.0, "exact enumeration", 1, 0.0)
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows: fewer compositions per column
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    const = _margin_const(rows, cols)
    log_obs = _log_table_prob(t, const)
    threshold = log_obs + math.log(REL_TOL)

    if _count_bound(rows, cols) > max_tables:
        rng = np.random.default_rng(seed)
        sample = random_table(rows, cols).rvs(size=draws, random_state=rng)
        # log k! of the distinct counts drawn only: a table of every k up to n takes 0.25 s of
        # Python at a million patients
        values = np.unique(sample)
        lf = np.array([math.lgamma(int(k) + 1) for k in values])
        logp = np.empty(len(sample))
        for i in range(0, len(sample), 20_000):  # in chunks: no float copy of every draw at once
            part = sample[i:i + 20_000]
            logp[i:i + 20_000] = const - lf[np.searchsorted(values, part)].sum(axis=(1, 2))
        hits = int((logp <= threshold).sum())
        return RxCTestResult((1 + hits) / (1 + draws),
                             f"Monte Carlo ({draws:,} tables, seed {seed})", draws, log_obs)

    lf = [math.lgamma(k + 1) for k in range(int(rows.sum()) + 1)]
    r = len(rows)
    total = 0.0
    count = 0

    def compositions(total_c: int, caps: list[int]):
        # all ways to split total_c over r rows within the remaining row capacities
        def rec(i: int, left: int):
            if i == r - 1:
                if left <= caps[i]:
                    yield (left,)
                return
            rest_cap = sum(caps[i + 1:])
            for x in range(max(0, left - rest_cap), min(caps[i], left) + 1):
                for tail in rec(i + 1, left - x):
                    yield (x,) + tail
        yield from rec(0, total_c)

    def walk(j: int, caps: list[int], acc: float):
        nonlocal total, count
        if j == len(cols) - 1:  # last column is forced by the remaining capacities
            logp = const - acc - sum(lf[c] for c in caps)
            count += 1
            if logp <= threshold:
                total += math.exp(logp)
            return
        for col in compositions(int(cols[j]), caps):
            walk(j + 1, [c - x for c, x in zip(caps, col)], acc + sum(lf[x] for x in col))

    walk(0, [int(x) for x in rows], 0.0)
    return RxCTestResult(min(1.0, total), "exact enumeration", count, log_obs)
