"""The exact flow a collaborator takes: open the app, filter, share the link, open it fresh."""
import re

import pytest

from tests.e2e.conftest import screenshot, wait_for_app, wait_for_run

pytestmark = pytest.mark.e2e


def test_filter_then_open_copied_link_in_fresh_context(app_url, page, browser):
    page.goto(app_url)
    wait_for_run(page)
    assert page.get_by_text("32 of 32 patients").is_visible()
    assert page.get_by_text("Synthetic cohort").first.is_visible()

    # Choose TP53 = mutated in the sidebar filter.
    tp53 = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="TP53")
    tp53.locator("input").click()
    page.get_by_role("option", name="mutated", exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    page.get_by_text("9 of 32 patients").wait_for()
    assert re.search(r"tp53=mutated", page.url)
    screenshot(page, "shell-filtered")

    fresh = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    fresh.goto(page.url)
    wait_for_run(fresh)
    fresh.get_by_text("9 of 32 patients").wait_for()
    fresh.context.close()


def test_deep_link_to_a_page_runs_through_the_entrypoint(app_url, page):
    page.goto(app_url + "/dictionary?tp53=mutated")
    wait_for_run(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("9 of 32 patients").is_visible()


def test_filters_survive_a_page_switch(app_url, page):
    page.goto(app_url + "/?tp53=mutated")
    wait_for_run(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Data dictionary").click()
    page.get_by_role("heading", name="Data dictionary").first.wait_for()
    wait_for_run(page)
    assert page.get_by_text("9 of 32 patients").is_visible()
    assert "/dictionary" in page.url and "tp53=mutated" in page.url
