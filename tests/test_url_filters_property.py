"""Property: whatever a link puts in the sidebar filters (huge, negative, NaN, inf, unicode,
Markdown, repeated values), every page renders without an exception element, with or without
small-cell suppression."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.filters import CohortFilter
from tests.apptest_helpers import run_page

PAGES = ["overview", "patient", "genomics", "withdrawal", "response", "survival", "dictionary",
         "share", "upload"]
HOSTILE = ["nan", "NaN", "inf", "-inf", "1e309", "-1e309", "9" * 40, "-5", "0", "", " ", "--", "5-",
           "-3-4", "99999999999999999999-1", "48-48", "٣-٤", "Ｓ01", "S01\u200b", "[x](https://evil.example)",
           "![t](http://host/p.png)", "<img src=x onerror=alert(1)>", ":red[x]", "$x$", "\x00", "\u202e",
           "a" * 2000, "yes", "no", "YES", "true", "not evaluated"]
VALID = {"institution": ["Site A", "Site B"], "sex": ["F", "M"], "age": ["60-70", "48-81", "70-60", "90-100", "0-10"],
         "bcr_abl1": ["positive", "negative", "not evaluated"], "tp53": ["mutated", "wild-type"],
         "ploidy": ["diploid", "low hypodiploid"], "treated": ["yes", "no"],
         "regimen": ["intensive chemotherapy", "blinatumomab-based"], "hct": ["yes", "no"]}


def values_for(key: str):
    one = st.sampled_from(HOSTILE + VALID[key]) | st.text(max_size=30) | st.integers().map(str) | \
        st.floats(allow_nan=True, allow_infinity=True).map(repr) | \
        st.tuples(st.integers(), st.integers()).map(lambda t: f"{t[0]}-{t[1]}")
    return st.one_of(one, st.lists(one, min_size=1, max_size=5),
                     st.integers(2, 50).flatmap(lambda n: one.map(lambda v: [v] * n)))


URL_FILTERS = st.fixed_dictionaries({}, optional={key: values_for(key) for key in VALID})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=st.sampled_from(PAGES), filters=URL_FILTERS, k=st.sampled_from(["0", "5"]))
def test_any_url_filter_renders_every_page_without_an_exception(page, filters, k):
    # hypothesis runs examples in one test call: the environment is set per example by hand
    previous = os.environ.get("BALL_SMALL_CELL_K")
    os.environ["BALL_SMALL_CELL_K"] = k
    try:
        query = {key: value for key, value in filters.items()}
        at = run_page(f"pages/{page}.py", query)
        assert not at.exception, (page, query, [e.value for e in at.exception])
    finally:
        if previous is None:
            os.environ.pop("BALL_SMALL_CELL_K", None)
        else:
            os.environ["BALL_SMALL_CELL_K"] = previous


@settings(max_examples=200, deadline=None)
@given(filters=URL_FILTERS)
def test_parsing_any_url_filter_gives_a_valid_filter(filters):
    f = CohortFilter.from_query_params(filters)
    where, params = f.where_sql()
    assert where.count("?") == len(params)
    if f.age is not None:
        assert f.age[0] <= f.age[1]
