"""Overview page under AppTest in the standard states."""
import pytest

from tests.apptest_helpers import PAGE_STATES, all_text, run_page

PAGE = "pages/overview.py"


@pytest.mark.parametrize("state", list(PAGE_STATES))
def test_overview_states(state):
    at = run_page(PAGE, PAGE_STATES[state])
    assert not at.exception
    text = all_text(at)
    assert "Cohort overview" in text
    if state == "empty":
        assert "No patients match the current cohort filters" in text
        assert len(at.table) == 0 and len(at.dataframe) == 0
        return
    n = 32 if state == "full" else 1
    assert f"{n} patient{'' if n == 1 else 's'} · filters:" in text
    table_one = at.table[0].value
    assert table_one.loc["Patients", "Value"] == str(n)
    patients = at.dataframe[0].value
    assert len(patients) == n
    if state == "single":
        assert patients["Patient"].tolist() == ["S28"]
    else:  # not evaluated counted on its own, evaluable denominators elsewhere
        values = table_one["Value"].tolist()
        assert any("(not in denominator)" in v for v in values)
    assert len(at.get("vega_lite_chart")) == 2
    assert {b.proto.label for b in at.get("download_button")} >= {"Download Table 1 (CSV)",
                                                             "Download patient table (CSV)"}


def test_each_view_offers_its_reproduce_downloads():
    """Table 1, both exposure plots and (with a grouping) Table 1 by group each offer a script
    and a notebook (the app's cohort is a file)."""
    at = run_page(PAGE, {"t1_group": "sex"})
    assert not at.exception
    ids = [b.proto.id for b in at.get("download_button")]
    for view in ("table_one", "latency_months", "cumulative_months", "table_one_by_group"):
        for kind in ("py", "nb"):
            assert sum(i.endswith(f"repro_{kind}_overview_{view}") for i in ids) == 1, (view, kind, ids)


def test_no_reproduce_downloads_under_small_cell_suppression(monkeypatch):
    """The scripts print unsuppressed numbers: a deployment that suppresses small cells offers none."""
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    at = run_page(PAGE, {"t1_group": "sex"})
    assert not at.exception
    ids = [b.proto.id for b in at.get("download_button")]
    assert any(i.endswith("dl_table1") for i in ids)
    assert not [i for i in ids if "repro_" in i]
