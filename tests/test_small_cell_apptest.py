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
    assert list(at.dataframe[0].value["Page"]) == ["Genomics", "Response", "Survival", "Compare with published series"]


# --- withheld as a whole: filters from a link cannot isolate fewer than k patients -----------
SMALL_TEXT = re.compile(r"(?<![\w.<])([1-4]) (?:patients?|of \d)\b|\bn = [1-4]\b")
SMALL_FILTERS = {  # each selects 0..4 demo patients
    "bcr_abl1-positive": {"bcr_abl1": "positive"},             # 1 patient
    "single-age": {"age": "48-48"},                            # 1 patient (S28)
    "male-tp53": {"sex": "M", "tp53": "mutated"},              # 4 patients
    "empty": {"tp53": "mutated", "bcr_abl1": "positive"},      # none
    **{f"age-step-{low}": {"bcr_abl1": "positive", "age": f"{low}-73"} for low in (65, 70)},
}
ALL_PAGES = PAGES + ["upload"]


class DownloadCapture:
    """Every file the app hands to Streamlit's media store during a run: download buttons with
    bytes, and deferred downloads (built on click: `deferred(suffixes)` builds them as a click
    would)."""

    def __init__(self, monkeypatch):
        from streamlit.runtime.media_file_manager import MediaFileManager
        from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
        self.files: list[tuple[str, bytes]] = []
        self.callables: dict[str, object] = {}
        original = MemoryMediaFileStorage.load_and_get_id
        original_deferred = MediaFileManager.add_deferred

        def capture(storage, path_or_data, mimetype, kind, filename=None):
            if isinstance(path_or_data, bytes):
                self.files.append((filename or "", path_or_data))
            return original(storage, path_or_data, mimetype, kind, filename)

        def capture_deferred(manager, data_callable, mimetype, coordinates, file_name=None, **kwargs):
            self.callables[file_name or coordinates] = data_callable
            return original_deferred(manager, data_callable, mimetype, coordinates, file_name, **kwargs)
        monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
        monkeypatch.setattr(MediaFileManager, "add_deferred", capture_deferred)

    def deferred(self, suffixes: tuple[str, ...]) -> list[tuple[str, bytes]]:
        built = []
        for name, build in self.callables.items():
            if name.endswith(suffixes):
                data = build()
                built.append((name, data.encode() if isinstance(data, str) else data))
        return built


def small_counts_in_csv(data: bytes) -> list[str]:
    """Small counts in a CSV download: in its provenance lines ("# ...") and in its cells."""
    lines = data.decode("utf-8").splitlines()
    provenance = [line for line in lines if line.startswith("# ")]
    found = [f"provenance: {m}" for line in provenance for m in SMALL_TEXT.findall(line)]
    frame = pd.read_csv(__import__("io").BytesIO(data), dtype=str, keep_default_na=False, skiprows=len(provenance))
    for column in frame.columns:
        for value in frame[column]:
            if column in COUNT_COLUMNS | {"evaluable", "not_evaluated"} and value.isdigit() and 1 <= int(value) < K:
                found.append(f"{column} = {value}")
            found += [f"{column}: {m.group(0)}" for m in SMALL_FRACTION.finditer(value)]
    return found


@pytest.mark.parametrize("filters", list(SMALL_FILTERS.values()), ids=list(SMALL_FILTERS))
@pytest.mark.parametrize("page", ALL_PAGES)
def test_a_selection_of_fewer_than_k_is_withheld_on_every_page(monkeypatch, page, filters):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    downloads = DownloadCapture(monkeypatch)
    at = run_page(f"pages/{page}.py", filters)
    assert not at.exception
    text = all_text(at)
    assert small_counts_shown(at) == []
    assert not SMALL_TEXT.findall(text), SMALL_TEXT.findall(text)
    assert "<5 of 32 patients" in " ".join(m.value for m in at.sidebar.markdown)
    if page not in ("dictionary", "upload"):  # pages that show cohort data withhold it all
        assert "Fewer than 5 patients" in text or "withheld on this deployment" in text
        assert not at.get("vega_lite_chart") and not at.dataframe and not at.table
        assert not at.get("download_button")  # no CSV, deck or HTML report ("n = 4") either
    for name, data in downloads.files:
        if name.endswith(".csv"):
            assert small_counts_in_csv(data) == [], name


def test_zero_and_small_selections_look_the_same(monkeypatch):
    """"None match" against "withheld" would tell whether a patient has the filtered values."""
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    empty = run_page("pages/survival.py", SMALL_FILTERS["empty"])
    one = run_page("pages/survival.py", SMALL_FILTERS["bcr_abl1-positive"])
    assert [w.value for w in empty.warning] == [w.value for w in one.warning]
    assert [m.value for m in empty.sidebar.markdown] == [m.value for m in one.sidebar.markdown]


@pytest.mark.parametrize("page", PAGES)
def test_unfiltered_downloads_show_no_small_count(monkeypatch, page):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    downloads = DownloadCapture(monkeypatch)
    at = run_page(f"pages/{page}.py")
    assert not at.exception
    if page == "overview":
        assert "table1.csv" in [name for name, _ in downloads.files]
    for name, data in downloads.files + downloads.deferred((".csv", ".html")):
        if name.endswith(".csv"):
            assert small_counts_in_csv(data) == [], name
        if name.endswith(".html"):
            text = re.sub(r"<[^>]+>", " ", data.decode())
            # published series are cited public data, marked as such: not counts of this cohort
            text = re.sub(r"\d+/\d+ \(published\)", " ", text)
            assert not SMALL_FRACTION.findall(text) and not SMALL_TEXT.findall(text), name


def test_table_one_download_without_suppression_has_the_small_counts(monkeypatch):
    downloads = DownloadCapture(monkeypatch)
    run_page("pages/overview.py")
    table_one = [data for name, data in downloads.files if name == "table1.csv"][-1]
    assert small_counts_in_csv(table_one)  # the check can fail: BCR::ABL1 positive n = 1


def test_small_denominators_are_not_shown(monkeypatch):
    """A characteristic evaluated in fewer than k patients: neither '<5/3' nor '0/3'."""
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    from analytics.build import build_in_memory
    from analytics.disclosure import suppress_table_one
    from analytics.filters import CohortFilter
    from analytics.overview import table_one
    db = build_in_memory("data/demo_cohort")
    for filters in ({"age": (48, 60)}, {"sex": ("F",)}, {"institution": ("Site B",)}):
        t1 = suppress_table_one(table_one(db, CohortFilter(**filters)), K)
        small = t1[(t1["kind"] == "categorical") & t1["evaluable"].between(1, K - 1)]
        assert (small["display"] == f"not shown (<{K} evaluable)").all()
        assert not any(re.search(rf"/[1-4]\b", d) for d in t1["display"].astype(str))


SMALL_DENOMINATOR = re.compile(r"(?<![\w.])(?:<\d+|\d+|suppressed)/([1-4])(?![\d.])")   # "0/3", "<5/1"
MID_FILTERS = {"site-b": {"institution": "Site B"}, "age-48-60": {"age": "48-60"},
               "male-wild-type": {"sex": "M", "tp53": "wild-type"}}


def small_denominators_shown(at) -> list[str]:
    found = [f"text: {m.group(0)}" for m in SMALL_DENOMINATOR.finditer(all_text(at))]
    for frame in shown_tables(at) + chart_frames(at):
        for column in frame.columns:
            if frame[column].dtype == object:
                found += [f"{column}: {m.group(0)}" for v in frame[column].dropna().astype(str)
                          for m in SMALL_DENOMINATOR.finditer(v)]
    return found


@pytest.mark.parametrize("filters", list(MID_FILTERS.values()), ids=list(MID_FILTERS))
@pytest.mark.parametrize("page", PAGES)
def test_no_denominator_under_k_in_a_selection_of_k_or_more(monkeypatch, page, filters):
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    at = run_page(f"pages/{page}.py", filters)
    assert not at.exception
    assert small_counts_shown(at) == []
    assert small_denominators_shown(at) == []


def test_the_denominator_check_finds_small_denominators_without_suppression():
    at = run_page("pages/response.py", MID_FILTERS["site-b"])
    assert small_denominators_shown(at)  # e.g. CR/CRi "1/1" by group: the check can fail


def test_deferred_downloads_are_built_and_checked(monkeypatch):
    """The HTML report is built as a click would; without suppression it has the small counts."""
    downloads = DownloadCapture(monkeypatch)
    run_page("pages/share.py")
    (report,) = [data for name, data in downloads.deferred((".html",))]
    assert SMALL_FRACTION.findall(re.sub(r"<[^>]+>", " ", report.decode()))  # e.g. BCR::ABL1 1/32


def test_stepping_the_age_filter_reveals_nothing(monkeypatch):
    """The attack of issue 21: /survival?bcr_abl1=positive&age=65-73 ... 70-70 recovered the one
    BCR::ABL1-positive patient's age in five loads. Every step now shows the same page."""
    monkeypatch.setenv("BALL_SMALL_CELL_K", str(K))
    seen = set()
    for age in ("65-73", "66-73", "68-73", "70-73", "70-70", "71-73", "48-69"):
        at = run_page("pages/survival.py", {"bcr_abl1": "positive", "age": age})
        assert not at.exception
        seen.add((tuple(w.value for w in at.warning), tuple(m.value for m in at.sidebar.markdown
                                                            if "patients" in m.value)))
    assert len(seen) == 1, seen


def test_a_small_not_evaluated_count_cannot_be_read_from_the_denominator():
    """CD22 not evaluated n=1 of 32: a denominator of 31 (or a percentage of it) gives the 1 back,
    so that characteristic shows none, on screen and in the CSV; the levels alone cannot add
    up to it either (a second cell is hidden)."""
    from analytics.build import build_in_memory
    from analytics.disclosure import suppress_table_one, table_one_for_download
    from analytics.filters import CohortFilter
    from analytics.overview import table_one
    db = build_in_memory("data/demo_cohort")
    for filters in ({}, {"institution": ("Site A",)}, {"sex": ("M",)}):
        raw = table_one(db, CohortFilter(**filters))
        t1 = suppress_table_one(raw, K)
        csv_rows = table_one_for_download(t1, K)
        small = raw[(raw["kind"] == "not evaluated") & raw["n"].between(1, K - 1)]["characteristic"]
        for characteristic in small:
            rows = t1[(t1["characteristic"] == characteristic) & (t1["kind"] == "categorical")]
            assert not rows["display"].str.contains("/").any(), rows["display"].tolist()
            assert rows["percent"].isna().all()
            assert (csv_rows.loc[csv_rows["characteristic"] == characteristic, "evaluable"] == "suppressed").all()
            assert sum(not str(d)[0].isdigit() for d in rows["display"] if not str(d).startswith("0 ")) >= 2
