"""How the Compare page's views show a figure: cohort and published values with their exact
CIs (honouring small-cell suppression), series labels, and the Fisher test of a published row
against the current cohort in words; built for the view functions in `analytics.views.compare`."""
from __future__ import annotations

import math

import pandas as pd

from analytics import compare
from analytics.compare import CohortFigure
from analytics.disclosure import is_small, suppress_count, suppressed_cells, suppressed_label
from analytics.format import number, p_text, percent, percent_range
from analytics.published import CHARACTERISTICS, COUNT, MEDIAN, PROPORTION, load_published

NO_TEST_MEDIAN = "no test possible: only a median (and range) is published, not the patients' values"
NO_TEST_COUNT = "no test possible: a count without a reported denominator"


def fraction(k: int, n: int) -> str:
    return f"{k}/{n} ({percent(k / n, 0)})" if n else f"{k}/{n}"


def exact_ci_text(k: int, n: int) -> str:
    if not n:
        return ""
    low, high = compare.exact_ci(k, n)
    return percent_range(low, high, 0, separator=" to ")


def median_text(median: float | None, low: float | None, high: float | None, unit: str, decimals: int) -> str:
    if median is None or pd.isna(median):
        return "not evaluable"
    if math.isinf(median):
        return "not reached"
    text = f"median {number(median, decimals)}"
    if low is not None and not pd.isna(low):
        text += f" (range {number(low, decimals)} to {number(high, decimals)})"
    return f"{text} {unit}"


def cohort_decimals(unit: str) -> int:
    return 0 if unit == "years" else 1


def is_cohort_hidden(figure: CohortFigure, k: int) -> bool:
    """Whether small-cell suppression hides this cohort figure (a proportion with a small cell on
    either side, a small count of patients, a median of fewer than k patients). A count of
    institutions describes no patient and stays."""
    c = CHARACTERISTICS[figure.key]
    if k <= 1:
        return False
    if c.kind == PROPORTION:
        return any(suppressed_cells([figure.numerator, figure.denominator - figure.numerator], k))
    if c.kind == COUNT:
        return c.unit == "patients" and is_small(figure.numerator, k)
    return 0 < figure.n < k


def cohort_value(figure: CohortFigure, key: str, k: int) -> tuple[str, str]:
    """(value, exact CI) of a cohort figure as shown, honouring small-cell suppression."""
    c = CHARACTERISTICS[key]
    hidden = is_cohort_hidden(figure, k)
    if c.kind == PROPORTION:
        if hidden:
            return suppressed_label(figure.numerator, figure.denominator, k), ""
        return fraction(figure.numerator, figure.denominator), exact_ci_text(figure.numerator, figure.denominator)
    if c.kind == COUNT:
        if hidden:
            return suppress_count(figure.numerator, k), ""
        extra = f" of {figure.denominator} {figure.looked_in}" if figure.denominator is not None else ""
        return f"{figure.numerator}{extra}", ""
    if hidden:
        return f"withheld (fewer than {k} patients)", ""
    text = median_text(figure.median, figure.low, figure.high, c.unit, cohort_decimals(c.unit))
    return (f"{text}, n = {figure.n}" if figure.median is not None else text), ""


def published_value(row: dict) -> tuple[str, str]:
    c = CHARACTERISTICS[row["characteristic"]]
    if c.kind == PROPORTION:
        return fraction(int(row["numerator"]), int(row["denominator"])), exact_ci_text(int(row["numerator"]),
                                                                             int(row["denominator"]))
    if c.kind == COUNT:
        return str(int(row["numerator"])), ""
    low = None if pd.isna(row["range_low"]) else row["range_low"]
    high = None if pd.isna(row["range_high"]) else row["range_high"]
    return median_text(row["median"], low, high, c.unit, int(row["decimals"])), ""


def series_label(row: dict) -> str:
    return f"{row['label']} (published; {int(row['n_patients'])} patients)"


def comparison_test(row: dict, figure: CohortFigure, k: int) -> tuple[str, float]:
    """The comparison of a published row with the current cohort: (text, p or nan)."""
    c = CHARACTERISTICS[row["characteristic"]]
    if c.kind == MEDIAN:
        return NO_TEST_MEDIAN, math.nan
    if c.kind == COUNT or pd.isna(row["denominator"]):
        return NO_TEST_COUNT, math.nan
    if not figure.denominator:
        return "no test possible: no evaluable patients in the current cohort", math.nan
    if is_cohort_hidden(figure, k):
        return f"withheld: the cohort's count is below {k}", math.nan
    p = compare.fisher_p(figure.numerator, figure.denominator, int(row["numerator"]), int(row["denominator"]))
    return p_text(p, name="Fisher p"), p


def fisher_test_lines(tests: pd.DataFrame, n_tests: int) -> tuple[str, ...]:
    """The tests in one or two sentences (a slide shows these, not the table)."""
    if not n_tests:
        return ("No published proportion can be tested against the current cohort.",)
    low = tests[tests["p_fisher"] < 0.05]
    if low.empty:
        return (f"{n_tests} Fisher tests against published proportions: none with p < 0.05.",)
    series = load_published().drop_duplicates("series_id").set_index("series_id")["label"]
    named = "; ".join(f"{CHARACTERISTICS[r.characteristic].label} vs {series[r.series_id]} ({p_text(r.p_fisher, name='Fisher p')})"
                      for r in low.itertuples())
    return (f"{n_tests} Fisher tests against published proportions; p < 0.05 (unadjusted): {named}.",)
