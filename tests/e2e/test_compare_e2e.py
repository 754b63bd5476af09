"""Compare page in the browser: the comparison table, the forest plot from a link, the
reproduction check of the demo (12 of 12), and a cohort loaded in the browser."""
import re

import pytest

from tests.e2e.conftest import CHARTS_DRAWN, after_rerun, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def open_compare(page, app_url, query=""):
    page.goto(f"{app_url}/compare?{query}")
    page.get_by_role("heading", name="Compare with published series").wait_for(timeout=60000)
    wait_for_app(page)


def test_comparison_table_renders(app_url, page):
    open_compare(page, app_url)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=60000)
    box = grid.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    assert page.get_by_text("Overlapping series").first.is_visible()
    assert page.get_by_text("17 Fisher tests against published proportions").first.is_visible()
    screenshot(page, "compare-table")


def test_forest_plot_from_a_link(app_url, page):
    open_compare(page, app_url, "compare_tab=Forest+plot&forest=cr_cri_treated")
    page.get_by_text("CR or CRi among treated patients: pooled").first.wait_for(timeout=60000)
    chart = page.locator("[data-testid='stVegaLiteChart']").filter(visible=True).first
    chart.locator("canvas, svg").first.wait_for(timeout=60000)
    page.wait_for_function(CHARTS_DRAWN, timeout=60000)
    box = chart.bounding_box()
    # drawn at the page's width, a row height per series: the rows are not squeezed together
    assert box["width"] > 800 and box["height"] > 200
    assert "forest=cr_cri_treated" in page.url  # a non-default option stays in the link
    screenshot(page, "compare-forest")
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(screenshot(page, "compare-forest").with_name("compare-forest-figure.png")))


def test_pooling_the_current_cohort_from_the_checkbox(app_url, page):
    open_compare(page, app_url, "compare_tab=Forest+plot")
    after_rerun(page, lambda: page.get_by_text("Pool the current cohort").click())
    page.get_by_text("Counted twice").first.wait_for(timeout=60000)
    assert "pool_cohort=yes" in page.url


def test_reproduction_check_shows_12_of_12(app_url, page):
    open_compare(page, app_url, "compare_tab=Reproduction+check")
    page.get_by_text("12 of 12 published figures reproduced.").first.wait_for(timeout=60000)
    page.locator("[data-testid='stDataFrame']").filter(visible=True).first.wait_for(timeout=60000)
    screenshot(page, "compare-reproduction")


def test_a_loaded_cohort_is_compared(app_url, page, tmp_path):
    """A five-patient cohort loaded in the browser: the table and the forest plot describe it,
    and the reproduction check says it is not the demo."""
    from tests.test_import_apptest import small_cohort
    workbook = tmp_path / "small_cohort.xlsx"
    workbook.write_bytes(small_cohort())
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Load a cohort").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(str(workbook))
    load = page.get_by_role("button", name=re.compile(r"Load this cohort \(5 patients\)"))
    load.wait_for(timeout=60000)
    after_rerun(page, load.click)
    page.get_by_test_id("stSidebar").get_by_text("5 of 5 patients").wait_for(timeout=60000)
    after_rerun(page, lambda: page.get_by_test_id("stSidebarNav").get_by_text(
        "Compare with published series", exact=True).click())
    page.get_by_text("Current cohort: 5 patients").wait_for(timeout=60000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60000)
    assert page.get_by_text("Shared patients").first.is_visible()
    after_rerun(page, lambda: page.get_by_role("tab", name="Forest plot").click())
    page.get_by_text(re.compile(r"TP53 mutated: pooled")).first.wait_for(timeout=60000)
    # the forest plot is drawn (its element can appear a moment after the result line)
    page.locator("[data-testid='stVegaLiteChart']").filter(visible=True).first.locator("canvas, svg").first \
        .wait_for(timeout=60000)
    page.wait_for_function(CHARTS_DRAWN, timeout=60000)
    after_rerun(page, lambda: page.get_by_role("tab", name="Reproduction check").click())
    page.get_by_text("Not the demo").first.wait_for(timeout=60000)
    screenshot(page, "compare-loaded-cohort")
