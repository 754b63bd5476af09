"""Survival page in the browser: non-default views from a link, the KM figure with its
number-at-risk table, the HCT warning and landmark figure, Cox and competing-risks tabs."""
import pytest

from tests.e2e.conftest import after_rerun, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def open_survival(page, app_url, query):
    page.goto(f"{app_url}/survival?{query}")
    page.get_by_role("heading", name="Survival").wait_for(timeout=60000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    wait_for_app(page)


def test_grouped_km_with_risk_table_and_bands(app_url, page):
    open_survival(page, app_url, "endpoint=OS&group=tp53_status&pairwise=holm")
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.locator("canvas, svg").first.wait_for(timeout=30000)
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 380  # curves + number-at-risk rows
    assert page.get_by_text("Log-rank test").first.is_visible()
    assert page.get_by_text("Pairwise log-rank tests").first.is_visible()
    assert "group=tp53_status" in page.url and "endpoint=OS" in page.url
    chart.screenshot(path=str(screenshot(page, "survival-os-tp53").with_name("survival-os-tp53-figure.png")))


def test_hct_view_warns_and_offers_landmark(app_url, page):
    open_survival(page, app_url, "population=treated&group=hct&landmark=180")
    assert page.get_by_text("Immortal-time bias").first.is_visible()
    page.get_by_text("Landmark analysis at day 180").first.wait_for(timeout=30000) \
        if page.get_by_text("Landmark analysis at day 180").count() else None
    # naive KM, Simon-Makuch, landmark, landmark sensitivity
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 4
    assert page.get_by_text("time-dependent covariate").first.is_visible()
    assert page.get_by_text("Simon-Makuch plot").first.is_visible()
    assert page.get_by_text("Does the answer depend on the landmark day?").first.is_visible()
    screenshot(page, "survival-hct")
    charts = page.locator("[data-testid='stVegaLiteChart']")
    for index, name in enumerate(("naive", "simon-makuch", "landmark", "landmark-sensitivity")):
        charts.nth(index).scroll_into_view_if_needed()
        charts.nth(index).screenshot(
            path=str(screenshot(page, "survival-hct").with_name(f"survival-hct-{name}-figure.png")))


def test_cox_and_competing_risk_tabs(app_url, page):
    open_survival(page, app_url, "population=treated&cox=age_at_ball_dx&cox=tp53_status&cox=sex")
    after_rerun(page, lambda: page.get_by_role("tab", name="Cox model").click())
    page.get_by_text("events per model term").first.wait_for(timeout=30000)
    screenshot(page, "survival-cox")
    forest = page.locator("[data-testid='stVegaLiteChart']").filter(visible=True).first
    forest.scroll_into_view_if_needed()
    forest.screenshot(path=str(screenshot(page, "survival-cox").with_name("survival-cox-forest.png")))
    # the tab is computed when opened (tab.open): wait for its run and its own content
    after_rerun(page, lambda: page.get_by_role("tab", name="Relapse vs non-relapse mortality").click())
    page.get_by_text("Aalen-Johansen cumulative incidence").first.wait_for(timeout=60000)
    page.get_by_text("Download cumulative incidence data (CSV)").first.wait_for(timeout=60000)
    screenshot(page, "survival-cif")
    cif = page.locator("[data-testid='stVegaLiteChart']").filter(visible=True).first
    cif.scroll_into_view_if_needed()
    cif.screenshot(path=str(screenshot(page, "survival-cif").with_name("survival-cif-figure.png")))


def test_km_figure_downloads_as_svg_with_provenance(app_url, page):
    open_survival(page, app_url, "endpoint=OS&group=tp53_status&tp53=mutated&tp53=wild-type")
    page.get_by_test_id("stPopover").filter(has_text="Download figure").first.click()
    with page.expect_download(timeout=60000) as download_info:
        page.get_by_test_id("stDownloadButton").filter(has_text="SVG").filter(visible=True).first.click()
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert download_info.value.suggested_filename == "km_os.svg"
    assert "Number at risk" in svg
    assert "Synthetic cohort, not patient data" in svg
    assert "filters: TP53: mutated, wild-type" in svg
