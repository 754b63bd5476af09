"""Response page in a real browser: full cohort, linked grouping, no treated patient, empty."""
import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def open_response(page, app_url, query=""):
    page.goto(f"{app_url}/response{('?' + query) if query else ''}")
    page.get_by_role("heading", name="Response").first.wait_for(timeout=60000)
    wait_for_app(page)


def test_full_cohort(page, app_url):
    open_response(page, app_url)
    page.locator("[data-testid='stVegaLiteChart']").nth(3).wait_for(timeout=60000)
    body = page.locator("body").inner_text()
    assert "25/28" in body
    assert "Freeman-Halton" in body
    assert "16 of 32 patients" in body
    screenshot(page, "response_full")
    # Streamlit scrolls inside its main container: one screenshot per section.
    for i, heading in enumerate(["CR/CRi by group", "MRD and time to CR/CRi", "Swimmer plot",
                                 "Treatment flow", "Current status"], start=1):
        page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
        page.get_by_role("heading", name=heading).evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(700)
        screenshot(page, f"response_full_{i}_{heading.split()[0].lower().replace('/', '')}")


def test_group_link_from_genomics(page, app_url):
    open_response(page, app_url, "group=tp53_status")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    assert "CR/CRi by TP53" in page.locator("body").inner_text() or \
        page.get_by_text("left out of the test").count() > 0
    assert "group=tp53_status" in page.url
    page.get_by_role("heading", name="CR/CRi by group").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(700)
    screenshot(page, "response_group_tp53")


def test_swimmer_sorted_by_duration(page, app_url):
    open_response(page, app_url, "resp_sort=duration")
    page.locator("[data-testid='stVegaLiteChart']").nth(2).wait_for(timeout=60000)
    assert "resp_sort=duration" in page.url
    page.get_by_role("heading", name="Swimmer plot").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    screenshot(page, "response_swimmer_duration")


def test_no_treated_patient(page, app_url):
    open_response(page, app_url, "treated=no")
    page.get_by_text("received B-ALL treatment").first.wait_for(timeout=60000)
    assert "4 untreated" in page.locator("body").inner_text()
    screenshot(page, "response_untreated")


def test_empty(page, app_url):
    open_response(page, app_url, "tp53=mutated&bcr_abl1=positive")
    page.get_by_text("No patients match the current cohort filters").wait_for(timeout=60000)
    screenshot(page, "response_empty")
