"""Small-cell suppression: counts from 1 to k-1 are shown as "<k", the same way everywhere.

A pure function layer: pages, the deck and exports call these on the numbers they display.
`k = 0` (the default on a laptop) switches suppression off; zero counts are not suppressed
(an empty cell discloses nobody). Within one categorical characteristic a single suppressed
level could be recovered from the denominator and the other levels, so the next-smallest
non-zero level is suppressed with it (secondary suppression), and percentages and confidence
intervals of suppressed cells are blanked (they would give the count back).

Example
-------
>>> suppress_count(3, 5), suppress_count(0, 5), suppress_count(7, 5), suppress_count(3, 0)
('<5', '0', '7', '3')
>>> suppress_fraction(3, 20, 5), suppress_fraction(9, 20, 5)
('<5/20', '9/20 (45%)')
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from analytics.format import percent

SUPPRESSED = "suppressed"


def is_small(n, k: int) -> bool:
    """True for a count that must not be shown (1 <= n < k); never for k <= 1 or missing n."""
    if k <= 1 or n is None or pd.isna(n):
        return False
    return 0 < int(n) < k


def suppress_count(n, k: int) -> str:
    return f"<{k}" if is_small(n, k) else ("" if n is None or pd.isna(n) else str(int(n)))


def suppress_fraction(n: int, d: int, k: int) -> str:
    """`n/d (p%)`, or `<k/d` with no percentage when n is a small cell."""
    if is_small(n, k):
        return f"<{k}/{d}"
    return f"{n}/{d} ({percent(n / d, 0)})" if d else f"{n}/{d}"


def hidden_count(n, k: int) -> str:
    """The text of a hidden count: '<k' for a small one, 'suppressed' for one hidden by
    secondary suppression (its value is not small, only recoverable).

    >>> hidden_count(3, 5), hidden_count(16, 5)
    ('<5', 'suppressed')
    """
    return f"<{k}" if is_small(n, k) else SUPPRESSED


def selection_count(n: int, k: int) -> str:
    """The size of a filtered selection: under suppression "<k" below k, zero included (a
    withheld selection must read like an empty one, or "none" against "<k" would tell them apart).

    >>> selection_count(0, 5), selection_count(4, 5), selection_count(5, 5), selection_count(0, 0)
    ('<5', '<5', '5', '0')
    """
    return f"<{k}" if k > 1 and n < k else str(n)


def suppression_note(k: int) -> str:
    """The sentence that goes with every display under suppression ("" when it is off).

    >>> suppression_note(5), suppression_note(0)
    ('Counts below 5 are shown as <5.', '')
    """
    return f"Counts below {k} are shown as <{k}." if k > 1 else ""


def suppressed_cells(counts: Iterable, k: int) -> list[bool]:
    """Which cells of one categorical distribution (counts adding up to a shown total) to hide:
    the small ones (1..k-1) and, when only one is small, the next-smallest non-zero cell too,
    or the hidden one would be the total minus the others (secondary suppression).
    A proportion n/N is the distribution [n, N - n].

    >>> suppressed_cells([20, 5, 1, 1, 1], 5), suppressed_cells([16, 3], 5), suppressed_cells([7, 9], 5)
    ([False, False, True, True, True], [True, True], [False, False])
    >>> suppressed_cells([2, 0, 30], 5)  # a zero discloses nobody and hides nothing
    [True, False, True]
    """
    values = [0 if n is None or pd.isna(n) else int(n) for n in counts]
    hidden = [is_small(n, k) for n in values]
    if sum(hidden) == 1:
        others = [(n, i) for i, n in enumerate(values) if not hidden[i] and n > 0]
        if others:
            hidden[min(others)[1]] = True
    return hidden


def suppressed_label(n, d, k: int) -> str:
    """The text of a hidden cell of n/d: '<k/d' for a small count, 'suppressed/d' for a cell
    hidden by secondary suppression.

    >>> suppressed_label(3, 19, 5), suppressed_label(16, 19, 5)
    ('<5/19', 'suppressed/19')
    """
    return f"{hidden_count(n, k)}/{d}"


def suppress_frame(frame: pd.DataFrame, count_columns: Iterable[str], k: int,
                   dependent_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A copy with small counts as "<k" and, in those rows, `dependent_columns` blanked.

    >>> df = pd.DataFrame({"group": ["a", "b"], "n": [2, 10], "pct": [16.7, 83.3]})
    >>> suppress_frame(df, ["n"], 5, ["pct"]).to_dict("list")
    {'group': ['a', 'b'], 'n': ['<5', '10'], 'pct': ['', 83.3]}
    """
    count_columns, dependent_columns = list(count_columns), list(dependent_columns)
    if k <= 1:
        return frame.copy()
    out = frame.copy().astype({c: object for c in count_columns + dependent_columns})
    small = pd.Series(False, index=frame.index)
    for column in count_columns:
        hit = frame[column].map(lambda n: is_small(n, k))
        small |= hit
        out[column] = frame[column].map(lambda n: suppress_count(n, k))
    for column in dependent_columns:
        out[column] = [("" if s else v) for s, v in zip(small, frame[column].astype(object))]
    return out


def suppress_table_one(t1: pd.DataFrame, k: int) -> pd.DataFrame:
    """Table 1 (analytics.overview.table_one) with small cells suppressed in `display`,
    percentages and CIs blanked for them; secondary suppression within a characteristic.

    The `n` column keeps the numbers (for computation); only `display`, `percent`, `ci_low`,
    `ci_high` (and `median`/`min`/`max` of continuous rows with fewer than k patients, whose
    range would show individual values) are what a reader sees and what is changed.
    """
    out = t1.copy()
    out[SUPPRESSED] = False
    if k <= 1:
        return out
    for _, block in out.groupby("characteristic", sort=False):
        cat = block[block["kind"] == "categorical"]
        primary = [i for i in cat.index if is_small(cat.at[i, "n"], k)]
        chosen = set(primary)
        if len(primary) == 1:
            others = cat.drop(index=primary)
            others = others[others["n"] > 0]
            if len(others):
                chosen.add(others["n"].astype(int).idxmin())
        denominator = cat["evaluable"].max() if len(cat) else None
        not_evaluated = block.loc[block["kind"] == "not evaluated", "n"]
        # A small not-evaluated count is the cohort's n minus the denominator: then no
        # denominator (nor percentage, which gives it back) is shown in this characteristic, and
        # one more cell is hidden when it is the only small one (the levels add up to it too).
        hide_denominator = len(not_evaluated) > 0 and is_small(not_evaluated.iloc[0], k)
        if hide_denominator and not chosen:
            others = cat[cat["n"] > 0]
            if len(others):
                chosen.add(others["n"].astype(int).idxmin())
        for i in block.index:
            kind = out.at[i, "kind"]
            if kind == "categorical" and hide_denominator and not is_small(denominator, k):
                out.loc[i, ["percent", "ci_low", "ci_high"]] = float("nan")
                n = out.at[i, "n"]
                out.at[i, "display"] = (f"<{k}" if is_small(n, k) else "suppressed" if i in chosen
                                        else str(int(n))) + f" (denominator not shown: <{k} not evaluated)"
                out.at[i, SUPPRESSED] = True
            elif kind == "categorical" and is_small(denominator, k):
                # a denominator under k: "0/3" or "<5/3" would say how many were evaluable
                out.loc[i, ["percent", "ci_low", "ci_high"]] = float("nan")
                out.at[i, "display"] = f"not shown (<{k} evaluable)"
                out.at[i, SUPPRESSED] = True
            elif i in chosen:
                out.loc[i, ["percent", "ci_low", "ci_high"]] = float("nan")
                out.at[i, "display"] = f"<{k}/{int(out.at[i, 'evaluable'])}" if is_small(out.at[i, "n"], k) \
                    else f"suppressed/{int(out.at[i, 'evaluable'])}"
                out.at[i, SUPPRESSED] = True
            elif kind in ("count", "not evaluated") and is_small(out.at[i, "n"], k):
                out.at[i, "display"] = str(out.at[i, "display"]).replace(str(int(out.at[i, "n"])), f"<{k}", 1)
                out.at[i, SUPPRESSED] = True
            elif kind == "continuous" and is_small(out.at[i, "n"], k):
                out.loc[i, ["median", "min", "max"]] = float("nan")
                out.at[i, "display"] = f"<{k} patients: not shown"
                out.at[i, SUPPRESSED] = True
    return out


TABLE_ONE_COUNTS = ("n", "evaluable", "not_evaluated")


def table_one_for_download(t1: pd.DataFrame, k: int) -> pd.DataFrame:
    """Table 1 after `suppress_table_one`, as a reader may download it: under suppression the
    raw count columns (kept by `suppress_table_one` for computation) become the text a reader
    sees: "<k" for small counts, "suppressed" for cells hidden by secondary suppression or a
    small denominator.

    >>> t1 = pd.DataFrame({"characteristic": ["BCR::ABL1"] * 2, "level": ["positive", "negative"],
    ...                    "kind": ["categorical"] * 2, "n": [1, 31], "evaluable": [32, 32],
    ...                    "not_evaluated": [0, 0], "percent": [3.1, 96.9], "ci_low": [.0, .8],
    ...                    "ci_high": [.2, 1.], "display": ["1/32 (3%)", "31/32 (97%)"]})
    >>> table_one_for_download(suppress_table_one(t1, 5), 5)[["n", "evaluable", "display"]].values.tolist()
    [['<5', '32', '<5/32'], ['suppressed', '32', 'suppressed/32']]
    """
    if k <= 1:
        return t1.drop(columns=[SUPPRESSED], errors="ignore")
    out = t1.copy().astype({c: object for c in TABLE_ONE_COUNTS if c in t1.columns})
    hidden = t1[SUPPRESSED] if SUPPRESSED in t1.columns else pd.Series(False, index=t1.index)
    display = t1["display"].astype(str)
    for column in TABLE_ONE_COUNTS:
        if column not in t1.columns:
            continue
        out[column] = [suppress_count(v, k) for v in t1[column]]
    # n as the reader sees it: hidden by secondary suppression where the display says so
    out.loc[hidden & display.str.startswith("suppressed"), "n"] = "suppressed"
    small_denominator = t1["evaluable"].map(lambda d: is_small(d, k))
    out.loc[small_denominator & (t1["kind"] == "categorical"), "n"] = "suppressed"
    # no denominator in a characteristic whose small not-evaluated count it would give back
    withheld = set(t1.loc[display.str.contains("denominator not shown"), "characteristic"])
    out.loc[t1["characteristic"].isin(withheld), "evaluable"] = "suppressed"
    return out.drop(columns=[SUPPRESSED])
