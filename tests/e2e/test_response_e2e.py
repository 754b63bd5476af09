"""Response page in a real browser: full cohort, linked grouping, no treated patient, empty; its
grouping stays its own when the user moves on to the survival page (issue 14)."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def open_response(page, app_url, query=""):
    page.goto(f"{app_url}/response{('?' + query) if query else ''}")
    page.get_by_role("heading", name="Response").first.wait_for(timeout=60000)
    wait_for_app(page)


def wait_for_charts(page, count, timeout=60_000):
    """Until `count` charts have drawn (a canvas or svg inside each)."""
    page.wait_for_function(f"() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, "
                           f"[data-testid='stVegaLiteChart'] svg\").length >= {count}", timeout=timeout)


def show_section(page, heading):
    """Scroll the section to the top of Streamlit's main container and wait until it is there."""
    target = page.get_by_role("heading", name=heading)
    target.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_function("h => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
                           arg=target.element_handle(), timeout=10_000)


def link_box(page) -> str:
    box = page.get_by_test_id("stSidebar").locator("[data-testid='stCode'] code")
    box.wait_for(timeout=30_000)
    return box.inner_text().strip()


def test_full_cohort(page, app_url):
    open_response(page, app_url)
    wait_for_charts(page, 4)
    body = page.locator("body").inner_text()
    assert "25/28" in body
    assert "Freeman-Halton" in body
    assert "16 of 32 patients" in body
    screenshot(page, "response_full")
    for i, heading in enumerate(["CR/CRi by group", "MRD and time to CR/CRi", "Swimmer plot",
                                 "Treatment flow", "Current status"], start=1):
        show_section(page, heading)
        screenshot(page, f"response_full_{i}_{heading.split()[0].lower().replace('/', '')}")


def test_group_link_from_genomics(page, app_url):
    open_response(page, app_url, "group=tp53_status")
    wait_for_charts(page, 4)
    assert page.get_by_text("left out of the test").count() > 0
    assert "group=tp53_status" in page.url
    show_section(page, "CR/CRi by group")
    screenshot(page, "response_group_tp53")


def test_grouping_does_not_follow_the_user_to_survival(page, app_url):
    """Response grouped by TP53, then Survival from the sidebar: one curve, and a link without
    the response page's grouping (both pages have an option called `group`)."""
    open_response(page, app_url, "group=tp53_status&resp_sort=duration")
    wait_for_charts(page, 4)
    page.get_by_test_id("stSidebarNav").get_by_text("Survival", exact=True).click()
    page.get_by_role("heading", name="Survival").first.wait_for(timeout=60000)
    wait_for_app(page)
    page.wait_for_function("() => !location.search.includes('resp_sort')", timeout=30_000)
    link = link_box(page)
    assert urlsplit(link).path.endswith("/survival")
    assert parse_qs(urlsplit(link).query) == {}, link
    assert parse_qs(urlsplit(page.url).query) == {}, page.url
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)
    assert page.get_by_text(re.compile(r"Log-rank test \(\d+ groups\)")).count() == 0  # one curve, as the link says


def test_swimmer_sorted_by_duration(page, app_url):
    open_response(page, app_url, "resp_sort=duration")
    wait_for_charts(page, 4)
    assert "resp_sort=duration" in page.url
    show_section(page, "Swimmer plot")
    screenshot(page, "response_swimmer_duration")


def test_invalid_link_value_gives_a_notice(page, app_url):
    open_response(page, app_url, "resp_sort=sideways")
    page.get_by_text(re.compile(r'Link option not used: resp_sort: "sideways"')).wait_for(timeout=60000)
    assert "resp_sort" not in page.url


def test_no_treated_patient(page, app_url):
    open_response(page, app_url, "treated=no")
    page.get_by_text("received B-ALL treatment").first.wait_for(timeout=60000)
    assert "4 untreated" in page.locator("body").inner_text()
    screenshot(page, "response_untreated")


def test_empty(page, app_url):
    open_response(page, app_url, "tp53=mutated&bcr_abl1=positive")
    page.get_by_text("No patients match the current cohort filters").wait_for(timeout=60000)
    screenshot(page, "response_empty")
