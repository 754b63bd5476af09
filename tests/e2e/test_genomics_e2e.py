"""Genomics page in a real browser: opened by URL, charts rendered, screenshots for review."""
import re

import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def _open(page, app_url, query=""):
    # Streamlit scrolls inside its main container, so a tall viewport is what captures a whole tab.
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(f"{app_url}/genomics{query}")
    page.get_by_role("heading", name="Genomics").wait_for(timeout=60000)
    wait_for_app(page)


def test_genomics_full_cohort(page, app_url):
    _open(page, app_url)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    page.get_by_text("9/19").first.wait_for(timeout=30000)
    assert page.get_by_text("8/26").first.is_visible()
    screenshot(page, "genomics_frequencies")
    for tab, name in (("Oncoprint", "genomics_oncoprint"), ("Co-occurrence", "genomics_cooccurrence"),
                      ("Karyotype & ploidy", "genomics_karyotype"), ("TP53", "genomics_tp53"),
                      ("Mutation table", "genomics_mutations")):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_timeout(1500)
        screenshot(page, name)
    page.get_by_role("tab", name="Oncoprint", exact=True).click()  # only the open tab is drawn
    wait_for_app(page)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    assert page.locator("[data-testid='stVegaLiteChart']").first.is_visible()


def test_genomics_sorted_oncoprint_from_url(page, app_url):
    _open(page, app_url, "?onco_sort=TP53")
    page.get_by_role("tab", name="Oncoprint", exact=True).click()
    wait_for_app(page)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    page.wait_for_timeout(1000)
    screenshot(page, "genomics_oncoprint_sorted_tp53")


def test_genomics_never_tested_and_empty(page, app_url):
    _open(page, app_url, "?tp53=not+evaluated")
    page.get_by_text(re.compile("not evaluable")).first.wait_for(timeout=30000)
    screenshot(page, "genomics_never_tested")
    _open(page, app_url, "?tp53=mutated&bcr_abl1=positive")
    page.get_by_text("No patients match the current cohort filters").wait_for(timeout=30000)
    screenshot(page, "genomics_empty")
