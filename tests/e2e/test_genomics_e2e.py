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


def _drawn(page):
    """Wait until a chart of the open tab is drawn (Vega renders into a canvas or an svg)."""
    page.get_by_role("tabpanel").locator("[data-testid='stVegaLiteChart'] canvas, "
                                         "[data-testid='stVegaLiteChart'] svg").first.wait_for(timeout=60000)


def test_genomics_full_cohort(page, app_url):
    _open(page, app_url)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    page.get_by_text("9/19").first.wait_for(timeout=30000)
    assert page.get_by_text("8/26").first.is_visible()
    screenshot(page, "genomics_frequencies")
    for tab, name, shown in (("Oncoprint", "genomics_oncoprint", "Columns are patients."),
                             ("Co-occurrence", "genomics_cooccurrence", "Fisher's exact test"),
                             ("Karyotype & ploidy", "genomics_karyotype", "patients with a modal number"),
                             ("TP53", "genomics_tp53", "TP53 mutated in 9 of 19 sequenced patients"),
                             ("Mutation table", "genomics_mutations", "patients in the selection were sequenced")):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.get_by_role("tabpanel").get_by_text(re.compile(re.escape(shown))).first.wait_for(timeout=60000)
        wait_for_app(page)
        assert "gen_tab=" in page.url  # the open tab is part of the link
        screenshot(page, name)
    page.get_by_role("tab", name="Oncoprint", exact=True).click()  # only the open tab is drawn
    wait_for_app(page)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    assert page.locator("[data-testid='stVegaLiteChart']").first.is_visible()


def test_genomics_sorted_oncoprint_from_url(page, app_url):
    _open(page, app_url, "?onco_sort=TP53")
    page.get_by_role("tab", name="Oncoprint", exact=True).click()
    wait_for_app(page)
    _drawn(page)
    assert "onco_sort=TP53" in page.url and "gen_tab=Oncoprint" in page.url
    screenshot(page, "genomics_oncoprint_sorted_tp53")


def test_genomics_never_tested_and_empty(page, app_url):
    _open(page, app_url, "?tp53=not+evaluated")
    page.get_by_text(re.compile("not evaluable")).first.wait_for(timeout=30000)
    screenshot(page, "genomics_never_tested")
    _open(page, app_url, "?tp53=mutated&bcr_abl1=positive")
    page.get_by_text("No patients match the current cohort filters").wait_for(timeout=30000)
    screenshot(page, "genomics_empty")
