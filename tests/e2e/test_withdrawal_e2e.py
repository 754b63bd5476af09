"""The Withdrawal page in a real browser: full cohort, small multiples, rule change, empty states."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def _open(page, url):
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("heading", name="Withdrawal").first.wait_for(timeout=60000)


def _charts_drawn(page, count, timeout=60_000):
    """Until `count` charts have drawn (a canvas or svg inside each); returns the chart locator."""
    page.wait_for_function(f"() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, "
                           f"[data-testid='stVegaLiteChart'] svg\").length >= {count}", timeout=timeout)
    return page.locator("[data-testid='stVegaLiteChart']")


def _show_section(page, heading):
    target = page.get_by_role("heading", name=heading)
    target.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_function("h => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
                           arg=target.element_handle(), timeout=10_000)


def test_full_cohort_overlay_and_timing(app_url, page):
    _open(page, f"{app_url}/withdrawal")
    charts = _charts_drawn(page, 2)
    expect(page.get_by_text("5 of 9", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile("5 regressors vs 4 assessable others"))).to_be_visible()
    expect(page.get_by_text(re.compile("10 of 32 selected patients"))).to_be_visible()
    expect(charts).to_have_count(2)
    screenshot(page, "withdrawal-top")
    charts.first.scroll_into_view_if_needed()
    charts.first.screenshot(path=str(screenshot(page, "withdrawal-full").with_name("withdrawal-trajectories.png")))
    charts.nth(1).screenshot(path=str(screenshot(page, "withdrawal-full").with_name("withdrawal-timing.png")))
    assert page.get_by_role("link", name=re.compile(r"^S12 · complete regression")).count() == 1
    for heading, name in (("2. Kinetics per patient", "withdrawal-kinetics"),
                          ("3. Who regresses", "withdrawal-who-regresses"),
                          ("5. Patient pages", "withdrawal-links")):
        _show_section(page, heading)
        page.screenshot(path=str(screenshot(page, name)))


def test_small_multiples_log_scale_from_the_url(app_url, page):
    _open(page, f"{app_url}/withdrawal?wd_layout=facet&wd_scale=log")
    chart = _charts_drawn(page, 2).first
    assert "wd_layout=facet" in page.url and "wd_scale=log" in page.url
    chart.screenshot(path=str(screenshot(page, "withdrawal-facet-log").with_name("withdrawal-facet-chart.png")))


def test_diagnosis_time_axis(app_url, page):
    _open(page, f"{app_url}/withdrawal?wd_axis=diagnosis")
    chart = _charts_drawn(page, 2).first
    assert page.get_by_text("Since B-ALL diagnosis", exact=True).first.is_visible()
    chart.screenshot(path=str(screenshot(page, "withdrawal-diagnosis-axis").with_name(
        "withdrawal-diagnosis-axis-chart.png")))


def test_changing_the_rule_updates_the_count_and_the_url(app_url, page):
    _open(page, f"{app_url}/withdrawal")
    box = page.get_by_label("Partial regression: reduction ≥ (%)")
    box.fill("65")
    box.press("Enter")
    page.wait_for_url(re.compile(r"wd_partial=65"), timeout=30000)
    wait_for_app(page)
    page.get_by_text("3 of 9", exact=True).wait_for(timeout=30000)


def test_invalid_link_value_gives_a_notice(app_url, page):
    _open(page, f"{app_url}/withdrawal?wd_rise=abc&wd_scale=log")
    page.get_by_text(re.compile(r'Link option not used: wd_rise: "abc"')).wait_for(timeout=60000)
    assert "wd_rise" not in page.url and "wd_scale=log" in page.url


def test_patient_link_opens_the_patient_page_with_the_filter(app_url, page):
    _open(page, f"{app_url}/withdrawal?tp53=wild-type")
    _charts_drawn(page, 1)
    link = page.get_by_role("link", name=re.compile(r"^S\d+ · ")).first
    link.click()
    page.wait_for_url(re.compile(r"/patient\?.*patient=S\d+"), timeout=30000)
    page.wait_for_function("() => location.search.includes('tp53=wild-type')", timeout=30000)


@pytest.mark.parametrize("name,query,expected", [
    ("empty", "tp53=mutated&bcr_abl1=positive", "No patients match the current cohort filters"),
    ("single-S28", "age=48-48", "has serial measurements"),
    ("single-measurement-S15", "age=68-68", "Not assessable"),
])
def test_page_states(app_url, page, name, query, expected):
    _open(page, f"{app_url}/withdrawal?{query}")
    page.get_by_text(re.compile(expected)).first.wait_for(timeout=60000)
    wait_for_app(page)
    screenshot(page, f"withdrawal-{name}")
