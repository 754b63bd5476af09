"""Bring your own cohort in the browser: download the template, fill it, upload it, read the
located error, fix it, upload again, load it, explore the pages, switch back to the demo."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from openpyxl import load_workbook

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e

COHORT = "E2E test cohort"
PATIENTS = [  # patient_id, institution, sex, age_at_ball_dx, lineage
    ("E1", "Centre A", "F", 66, "B"), ("E2", "Centre A", "M", 71, "B"), ("E3", "Centre B", "F", 59, "B")]
EVENTS = [  # event_id, patient_id, event_type, day
    (1, "E1", "last_contact", 400), (2, "E2", "death", 100), (3, "E2", "last_contact", 150),
    (4, "E3", "death", 250), (5, "E1", "lenalidomide_course", -900, -20),
    (6, "E2", "lenalidomide_course", -1400, -60), (7, "E3", "lenalidomide_course", -700, -10)]


def fill(template: str, out: str, events=EVENTS) -> None:
    """Fill the downloaded template as a data manager would: values under the header row."""
    book = load_workbook(template)
    book["cohort_info"].append([COHORT, "false", "three patients typed in by the browser test"])
    header = [c.value for c in book["patients"][1]]
    for pid, institution, sex, age, lineage in PATIENTS:
        row = dict(patient_id=pid, institution=institution, sex=sex, age_at_ball_dx=age, lineage=lineage)
        book["patients"].append([row.get(h) for h in header])
    header = [c.value for c in book["events"][1]]
    for event_id, pid, event_type, day, *end_day in events:
        row = dict(event_id=event_id, patient_id=pid, event_type=event_type, day=day,
                   end_day=end_day[0] if end_day else None)
        book["events"].append([row.get(h) for h in header])
    book.save(out)


def upload(page, path: str) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(path)


def nav(page, label: str) -> None:
    """Switch page inside the same session (a new URL load would start a new session)."""
    page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()
    wait_for_app(page)


def test_template_fill_upload_fix_load_explore_and_back(app_url, page, tmp_path):
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Load a cohort").wait_for(timeout=60000)
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Download the empty template")).click()
    template = tmp_path / info.value.suggested_filename
    info.value.save_as(template)
    assert template.name == "cohort_template.xlsx"

    # 1. A file with an error: E2 is seen on day 150, after death on day 100 (events row 4)
    wrong = tmp_path / "my_cohort.xlsx"
    fill(str(template), str(wrong))
    upload(page, str(wrong))
    page.get_by_text(re.compile(r"1 error\(s\)")).wait_for(timeout=60000)
    located = page.get_by_text(re.compile(r"my_cohort\.xlsx, sheet events, row 4, column day: "
                                          r"last_contact of patient E2 on day 150, after death"))
    located.wait_for(timeout=30000)
    wait_for_app(page)
    assert page.get_by_role("button", name=re.compile("Load this cohort")).count() == 0
    # the app scrolls inside its main container: bring the report to the top of the view
    page.get_by_role("heading", name="3. Validation report").evaluate("e => e.scrollIntoView()")
    expect(page.get_by_role("heading", name="3. Validation report")).to_be_in_viewport()
    screenshot(page, "import-report-error")

    # 2. Fixed (last contact before death), uploaded again in place of the first file
    fixed = tmp_path / "my_cohort_fixed.xlsx"
    fill(str(template), str(fixed), [e if e[0] != 3 else (3, "E2", "last_contact", 90) for e in EVENTS])
    page.get_by_test_id("stFileChipDeleteBtn").first.click()
    wait_for_app(page)
    upload(page, str(fixed))
    page.get_by_text("No errors and no warnings").wait_for(timeout=60000)
    page.get_by_role("button", name=re.compile(r"Load this cohort \(3 patients\)")).click()
    page.get_by_text(re.compile(f"You are exploring {COHORT}")).wait_for(timeout=60000)
    wait_for_app(page)
    assert page.get_by_test_id("stSidebar").get_by_text("3 of 3 patients").is_visible()

    # 3. The pages work on it
    nav(page, "Overview")
    page.get_by_text(f"Cohort: {COHORT}").wait_for(timeout=60000)
    assert page.get_by_test_id("stSidebar").get_by_text("3 of 3 patients").is_visible()
    assert page.get_by_text("Synthetic cohort").count() == 0
    page.get_by_text(re.compile(r"n = 3 patients")).first.wait_for(timeout=60000)  # latency of all three
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    screenshot(page, "import-overview-uploaded")
    nav(page, "Survival")
    page.get_by_text(f"Cohort: {COHORT}").wait_for(timeout=60000)
    assert page.get_by_test_id("stSidebar").get_by_text("3 of 3 patients").is_visible()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)

    # 4. Back to the demo cohort
    nav(page, "Load a cohort")
    page.get_by_role("button", name="Switch back to the demo cohort").click()
    page.get_by_test_id("stSidebar").get_by_text("32 of 32 patients").wait_for(timeout=60000)
    wait_for_app(page)
    page.get_by_text(re.compile("You are exploring the shared cohort")).wait_for()
