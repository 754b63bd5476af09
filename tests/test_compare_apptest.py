"""The Compare page under AppTest: standard states (full, no patients, one patient), each tab from
its link, the reproduction check 12/12, small-cell suppression, a broken published-series file,
and a cohort loaded through the 'Load a cohort' page."""
from __future__ import annotations

import json
import re

import pyarrow as pa

from analytics import published
from analytics.views.compare import CURRENT, TABS
from tests.apptest_helpers import EMPTY, FULL, SINGLE, all_text, run_page
from tests.test_import_apptest import XLSX, small_cohort, upload

PAGE = "pages/compare.py"
SMALL_FRACTION = re.compile(r"(?<![<\w./;(])([1-4])/(\d+)")


def charts(at):
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


def chart_rows(at):
    rows = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            rows += pa.ipc.open_stream(dataset.data.data).read_pandas().to_dict("records")
    return rows


def test_full_cohort_shows_the_comparison_table():
    at = run_page(PAGE, FULL)
    assert not at.exception
    text = all_text(at)
    assert "Compare with published series" in text
    assert "Current cohort: 32 patients (no filters)" in text
    assert "Overlapping series" in text and "MSKCC abstract 2017" in text
    table = at.dataframe[0].value
    assert set(table.columns) >= {"Characteristic", "Source", "Value", "Exact 95% CI",
                                  "Compared with the current cohort"}
    current = table[table["Source"] == CURRENT]
    assert "9/19 (47%)" in set(current["Value"])
    assert table["Compared with the current cohort"].str.startswith("Fisher p").any()
    assert not charts(at)  # the forest tab is closed: not computed
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the comparison (CSV)" in labels


def test_forest_tab_from_a_link_draws_the_chosen_proportion():
    at = run_page(PAGE, {"compare_tab": "Forest plot", "forest": "cr_cri_treated", "pool_method": "pm"})
    assert not at.exception
    specs = charts(at)
    assert len(specs) == 1
    assert "CR or CRi among treated patients" in json.dumps(specs[0]["title"])
    rows = {r["row"] for r in chart_rows(at) if "row" in r}
    assert "Current cohort: 25/28 (computed)" in rows
    assert any(r.startswith("Pooled, Paule-Mandel (2 published series)") for r in rows)
    assert "pooled" in all_text(at) and "Paule-Mandel" in all_text(at)
    assert at.selectbox(key="compare.characteristic").value == "cr_cri_treated"


def test_pooling_the_cohort_from_the_checkbox():
    at = run_page(PAGE, {"compare_tab": "Forest plot"})
    at.checkbox(key="compare.pool_cohort").check().run()
    assert not at.exception
    rows = {r["row"] for r in chart_rows(at) if "row" in r}
    assert "Pooled, DerSimonian-Laird (3 published series + the current cohort)" in rows
    assert "Counted twice" in all_text(at)
    assert at.query_params["pool_cohort"] in ("yes", ["yes"])


def test_reproduction_check_shows_12_of_12():
    at = run_page(PAGE, {"compare_tab": "Reproduction check"})
    assert not at.exception
    assert "12 of 12 published figures reproduced." in all_text(at)
    table = at.dataframe[0].value
    assert len(table) == 12 and (table["Agreement"] == "✓ agrees").all()


def test_no_patients_stops_with_a_message():
    at = run_page(PAGE, EMPTY)
    assert not at.exception
    assert "No patients match the current cohort filters" in all_text(at)
    assert not at.dataframe


def test_one_patient():
    for query in (SINGLE, {**SINGLE, "compare_tab": "Forest plot"}, {**SINGLE, "compare_tab": "Reproduction check"}):
        at = run_page(PAGE, query)
        assert not at.exception, query
        assert "Current cohort: 1 patient (" in all_text(at)
    assert "Filters not applied" in all_text(at)


def test_small_cell_suppression_shows_no_small_cohort_count(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    for tab in ("Characteristic by characteristic", "Forest plot", "Reproduction check"):
        at = run_page(PAGE, {"compare_tab": tab, "forest": "bcr_abl1_positive", "pool_cohort": "yes"})
        assert not at.exception
        for frame in [d.value for d in at.dataframe]:
            computed = frame[frame["Source"] == CURRENT]["Value"] if "Source" in frame else \
                frame.get("Computed from this cohort", frame.get("Series", []))
            computed = [v for v in computed if "(published)" not in str(v)]
            assert not [v for v in computed if SMALL_FRACTION.search(str(v))], (tab, computed)
        assert not [r for r in chart_rows(at) if r.get("group") == CURRENT]
    assert "<5/32" in at.dataframe[0].value["Computed from this cohort"].iloc[2]


def test_the_same_check_finds_the_small_count_without_suppression():
    at = run_page(PAGE, {"compare_tab": "Reproduction check"})
    assert SMALL_FRACTION.search(at.dataframe[0].value["Computed from this cohort"].iloc[2])


def test_a_broken_published_file_is_reported_not_raised(monkeypatch, tmp_path):
    broken = tmp_path / "published_series.csv"
    broken.write_text(published.PUBLISHED_FILE.read_text().replace(",tp53_mutated,9,19,", ",tp53_mutated,29,19,"))
    monkeypatch.setattr(published, "PUBLISHED_FILE", broken)
    monkeypatch.setattr(published.load_published, "__defaults__", (broken,))
    at = run_page(PAGE, FULL)
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "published-series file cannot be used" in errors
    assert "column numerator: 29 is larger than the denominator 19" in errors


def test_a_loaded_cohort_is_compared_and_not_expected_to_reproduce_the_paper():
    at = run_page("pages/upload.py")
    upload(at, ("my_cohort.xlsx", small_cohort(), XLSX))
    at.button(key="upload_load").click().run()
    assert not at.exception
    at.switch_page(PAGE).run()
    assert not at.exception
    text = all_text(at)
    assert "Current cohort: 5 patients" in text and "Shared patients" in text
    assert "Synthetic demo" not in text
    at.query_params["compare_tab"] = "Reproduction check"
    at.session_state["compare.tab"] = "Reproduction check"
    at.run()
    assert not at.exception
    assert "Not the demo" in all_text(at)


def test_public_deployment_shows_the_same_aggregate_views(monkeypatch):
    """The compare page shows only aggregates (no patient), so a public deployment shows it whole."""
    monkeypatch.setenv("BALL_PUBLIC_DEPLOYMENT", "1")
    for tab in TABS:
        at = run_page(PAGE, {"compare_tab": tab})
        assert not at.exception, tab
        assert at.dataframe, tab
        text = all_text(at)
        assert not re.search(r"\bS\d\d\b", text)  # no demo patient id anywhere
        for frame in [d.value for d in at.dataframe]:
            assert not frame.astype(str).apply(lambda c: c.str.contains(r"\bS\d\d\b")).any().any()


def test_each_view_offers_its_reproduce_downloads():
    """Table, forest plot and reproduction check: a script and a notebook each (the demo is a
    file); none under small-cell suppression (a script prints every count)."""
    for tab, key in zip(TABS, ("compare_table", "compare_forest", "compare_reproduction")):
        at = run_page(PAGE, {"compare_tab": tab})
        assert not at.exception
        keys = {b.key for b in at.get("download_button")}
        assert {f"repro_py_{key}", f"repro_nb_{key}"} <= keys, (tab, keys)


def test_no_reproduce_downloads_under_small_cell_suppression(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    for tab in TABS:
        at = run_page(PAGE, {"compare_tab": tab})
        assert not at.exception
        assert not [b for b in at.get("download_button") if b.key.startswith("repro_")], tab
