"""Overview, patient and dictionary pages in headless Chromium: the table row opens the patient page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import after_rerun, screenshot, wait_for_app, wait_for_run

pytestmark = pytest.mark.e2e

ROW_HEIGHT = 35  # Streamlit's default data-grid row (and header) height in px


def _charts(page, count, timeout=60_000):
    charts = page.locator("[data-testid='stVegaLiteChart']")
    charts.first.wait_for(timeout=timeout)
    page.wait_for_function(f"() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, "
                           f"[data-testid='stVegaLiteChart'] svg\").length >= {count}", timeout=timeout)
    return charts


def _click_row(page, row: int, expect: str) -> None:
    """Tick the selection checkbox of data-grid row `row` (0-based) until the URL shows `expect`.

    The grid is a canvas: we click at the checkbox position. A click that lands while the grid
    is still laying out is lost, so it is repeated (at most 3 times) before failing.
    """
    grid = page.locator("[data-testid='stDataFrame']").last
    for attempt in range(3):
        grid.scroll_into_view_if_needed()
        grid.locator("canvas").first.wait_for()
        grid.element_handle().wait_for_element_state("stable")  # same box for two animation frames
        box = grid.bounding_box()
        x, y = box["x"] + 18, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
        page.mouse.move(x, y)  # the grid takes a click on a cell it has seen the pointer over
        page.mouse.click(x, y)
        try:
            page.wait_for_function(f"() => {expect}.test(location.href)", timeout=15_000)
            return
        except Exception:
            if attempt == 2:
                raise


def test_overview_row_opens_the_patient_page(app_url, page):
    page.goto(f"{app_url}/overview")
    page.get_by_role("heading", name="Cohort overview").wait_for(timeout=60_000)
    wait_for_app(page)
    _charts(page, 2)
    assert page.get_by_text("Table 1", exact=True).is_visible()
    assert page.get_by_text(re.compile(r"^\d+/\d+ \(\d+%\)$")).first.is_visible()
    screenshot(page, "overview")

    _click_row(page, 4, r"/\/patient\?.*patient=S05/")  # fifth row in the default order: S05
    page.get_by_role("heading", name="Timeline of S05").wait_for(timeout=60_000)
    wait_for_app(page)
    _charts(page, 1)
    assert "patient=S05" in page.url
    screenshot(page, "patient")


def test_patient_row_link_keeps_the_filters(app_url, page):
    page.goto(f"{app_url}/overview?tp53=mutated")
    page.get_by_role("heading", name="Cohort overview").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text("9 of 32 patients").wait_for()
    _click_row(page, 1, r"/\/patient\?.*patient=S/")  # second row
    wait_for_run(page)
    assert "tp53=mutated" in page.url and re.search(r"patient=S\d\d", page.url)
    page.get_by_text("9 of 32 patients").wait_for()
    pid = re.search(r"patient=(S\d\d)", page.url).group(1)
    page.get_by_role("heading", name=f"Timeline of {pid}").wait_for(timeout=60_000)


def test_dictionary_page_renders(app_url, page):
    page.goto(f"{app_url}/dictionary")
    page.get_by_role("heading", name="Data dictionary").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("heading", name=re.compile(r"^patient_summary")).wait_for(timeout=60_000)
    page.get_by_role("button", name=re.compile("Download dictionary")).wait_for()
    screenshot(page, "dictionary")
    expect(page.get_by_text("efs_days", exact=True)).to_have_count(1, timeout=30_000)  # rendered late under load
    page.get_by_label("Search columns and descriptions").fill("induction")
    # wait for the rerun the search causes: while it runs, the old table can still be on the page
    after_rerun(page, lambda: page.keyboard.press("Enter"))
    page.get_by_text(re.compile(r"^\d+ of \d+ columns shown \(search: 'induction'\)\.$")).wait_for()
    expect(page.get_by_text("induction_failure_day", exact=True)).to_have_count(1, timeout=30_000)


def test_table_one_by_group_with_word_download(app_url, page):
    """Table 1 by allogeneic HCT from a link: the table with its tests and the post-baseline
    caveat on screen, and the Word file opened with python-docx."""
    import io

    from docx import Document

    page.goto(f"{app_url}/?t1_group=hct")
    page.get_by_role("heading", name="Table 1 by group").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_text("Post-baseline grouping").first.wait_for(timeout=30000)
    page.get_by_text("Table 1 by Allogeneic HCT").first.scroll_into_view_if_needed()
    screenshot(page, "overview-table1-by-hct")
    with page.expect_download(timeout=120000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Table 1 by group (Word)").click()
    document = Document(io.BytesIO(open(download.value.path(), "rb").read()))
    header = [c.text for c in document.tables[0].rows[0].cells]
    assert header[-2:] == ["p", "Test"] and "Overall (n = 32)" in header
    assert any("known only after treatment started" in p.text for p in document.paragraphs)
