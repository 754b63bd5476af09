"""A group's own spreadsheet in the browser: upload it, read the suggested mapping, save it, load
the cohort and open the overview; upload the saved mapping next to the same file again."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e

SPREADSHEET = Path(__file__).resolve().parent.parent / "mapping_corpus" / "our_series.xlsx"


def test_spreadsheet_mapped_saved_loaded_and_reused(app_url, page, tmp_path):
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Load a cohort").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(str(SPREADSHEET))
    page.get_by_role("heading", name="3. Map your columns").wait_for(timeout=60000)
    page.get_by_text(re.compile("no date is stored")).first.wait_for(timeout=60000)
    page.get_by_text(re.compile(r"Initials, Comments \(not mapped: dropped, never stored\)")).wait_for()
    wait_for_app(page)
    # the app scrolls inside its main container: bring the mapping step to the top of the view
    page.get_by_role("heading", name="3. Map your columns").evaluate("e => e.scrollIntoView()")
    expect(page.get_by_role("heading", name="3. Map your columns")).to_be_in_viewport()
    screenshot(page, "import-mapping-suggested")

    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Save this mapping")).click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    mapping = json.loads(saved.read_text())
    assert mapping["tables"]["Patients"]["Gender"]["target"] == "sex"
    assert mapping["tables"]["Patients"]["dx_date"]["target"] == "ball_dx_date"

    page.get_by_role("button", name=re.compile(r"Load this cohort \(5 patients\)")).click()
    page.get_by_test_id("stSidebar").get_by_text("5 of 5 patients").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Overview", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Cohort: our_series").wait_for(timeout=60000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)

    # the saved mapping, uploaded beside the same spreadsheet, is applied as it is
    page.get_by_test_id("stSidebarNav").get_by_text("Load a cohort", exact=True).click()
    wait_for_app(page)
    page.get_by_test_id("stFileUploader").first.locator("input[type='file']").set_input_files(str(SPREADSHEET))
    page.get_by_role("heading", name="3. Map your columns").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_test_id("stFileUploader").nth(1).locator("input[type='file']").set_input_files(str(saved))
    page.get_by_text(re.compile(f"Mapping {saved.name} applied")).wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_text("These files are the cohort you are exploring now.").wait_for(timeout=60000)
