"""Small-cell suppression (BALL_SMALL_CELL_K=5) on every page: no count from 1 to 4 is shown in
any text, metric, table or chart data sent to the browser, and the same checks find such counts
when suppression is off (so they can fail)."""
from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pytest

from tests.apptest_helpers import all_text, run_page

K = 5
PAGES = ["overview", "patient", "genomics", "withdrawal", "response", "survival", "dictionary", "share"]
VIEWS = {  # non-default groupings too: small groups are where small counts hide
    "survival": [{}, {"group": "tp53_status"}, {"endpoint": "OS", "group": "hct"}],
    "response": [{}, {"group": "tp53_status"}],
}
SMALL_FRACTION = re.compile(r"(?<![<\w./])([1-4])/(\d+)")       # "3/19", not "<5/19" or "2023/7"
COUNT_COLUMNS = {"n", "n_event", "n_censored", "at_risk", "altered", "not_evaluated", "events", "N",
                 "Events", "Altered", "Not evaluated", "responders", "count"}


def chart_frames(at) -> list[pd.DataFrame]:
    frames = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(dataset.data.data).read_pandas())
    return frames


def shown_tables(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe] + [t.value for t in at.table]


def small_counts_shown(at) -> list[str]:
    """Every place on the page where a count from 1 to K-1 can be read."""
    found = [f"text: {m.group(0)}" for m in SMALL_FRACTION.finditer(all_text(at))]
    for frame in shown_tables(at) + chart_frames(at):
        for column in frame.columns:
            values = frame[column]
            if str(column) in COUNT_COLUMNS and pd.api.types.is_numeric_dtype(values):
                found += [f"{column} = {v}" for v in values.dropna() if 1 <= v < K]
            elif values.dtype == object:
                found += [f"{column}: {m.group(0)}" for v in values.dropna().astype(str)
                          for m in SMALL_FRACTION.finditer(v)]
    return found


def page_views():
    for page in PAGES:
        for query in VIEWS.get(page, [{}]):
            yield pytest.param(page, query, id=page + "".join(f"-{v}" for v in query.values()))


@pytest.mark.parametrize("page, query", list(page_views()))
def test_no_small_count_is_shown_under_suppression(monkeypatch, page, query):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    at = run_page(f"pages/{page}.py", query)
    assert not at.exception
    assert small_counts_shown(at) == []


@pytest.mark.parametrize("page, query", [("response", {}), ("genomics", {}),
                                         ("survival", {"group": "tp53_status"})])
def test_the_same_check_finds_small_counts_without_suppression(page, query):
    at = run_page(f"pages/{page}.py", query)
    assert not at.exception
    assert small_counts_shown(at)


def test_suppressed_views_still_show_the_large_counts(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    response = run_page("pages/response.py")
    best = shown_tables(response)[0]
    assert list(best["n/N"]) == ["20/28", "5/28", "<5/28", "<5/28", "<5/28"]  # counts >= k stay
    assert "suppressed/28" in all_text(response)  # 25/28 responders: the 3 others would be 28 - 25
    genomics = run_page("pages/genomics.py")
    assert "withheld" in all_text(genomics)
    survival = run_page("pages/survival.py", {"group": "tp53_status"})
    risk = [f for f in chart_frames(survival) if "at_risk" in f.columns]
    assert risk and set(risk[0]["at_risk"]) & {"<5"} and "10" in set(risk[0]["at_risk"])


@pytest.mark.parametrize("page", ["patient", "withdrawal"])
def test_views_of_individual_patients_are_withheld(monkeypatch, page):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    at = run_page(f"pages/{page}.py")
    assert not at.exception
    assert "withheld on this deployment" in all_text(at)
    assert not at.get("vega_lite_chart") and not at.dataframe


def test_share_page_lists_only_the_pages_in_the_suppressed_deck(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    at = run_page("pages/share.py")
    assert not at.exception
    assert list(at.dataframe[0].value["Page"]) == ["Genomics", "Response", "Survival"]
