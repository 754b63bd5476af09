"""Share and present in the browser: a link with non-default options opened in a fresh
context reproduces the view on every page; the copy-link box shows that link; presentation
mode (present=1) opens with the sidebar collapsed and larger text."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_for_app, wait_for_run

pytestmark = pytest.mark.e2e

# page url_path, non-default query, heading, a check of the view on the page
VIEWS = [
    ("", "age=48-48", "Cohort overview", lambda p: p.get_by_test_id("stSidebar").get_by_text("1 of 32 patients").wait_for()),
    ("patient", "patient=S05&window=B-ALL+course", "Patient",
     lambda p: p.get_by_text("Timeline of S05").wait_for()),
    ("genomics", "gen_tab=Co-occurrence&co_a=Low+hypodiploid&co_b=TP53", "Genomics",
     lambda p: (p.get_by_role("tab", name="Co-occurrence", selected=True).wait_for(),
                p.get_by_text("Low hypodiploid × TP53").wait_for())),
    ("withdrawal", "wd_scale=log&wd_layout=facet", "Withdrawal",
     lambda p: (_checked(p, "Log"), _checked(p, "Small multiples"))),
    ("response", "resp_sort=duration&group=tp53_status", "Response",
     lambda p: (_value(p, "Sort patients by", "Follow-up duration"), _value(p, "Compare by", "TP53"))),
    ("survival", "endpoint=OS&surv_tab=Cox+model&sex=F", "Survival",
     lambda p: (p.get_by_role("tab", name="Cox model", selected=True).wait_for(),
                _value(p, "Endpoint", "Overall survival"))),
    ("dictionary", "dict_search=TP53", "Data dictionary",
     lambda p: _value(p, "Search columns and descriptions", "TP53")),
]


def _checked(page, label):
    radio = page.get_by_role("radio", name=label)
    radio.first.wait_for(state="attached")
    assert radio.first.is_checked(), label


def _value(page, label, expected):
    # Streamlit 1.67 selectboxes are comboboxes: the choice is the input's value, not its text
    expect(page.get_by_label(label, exact=True)).to_have_value(expected, timeout=30000)


def _link_box(page) -> str:
    code = page.get_by_test_id("stSidebar").get_by_test_id("stCode")
    code.first.wait_for(timeout=30000)
    return code.first.inner_text().strip()


@pytest.mark.parametrize("path, query, heading, check", VIEWS, ids=[v[0] or "overview" for v in VIEWS])
def test_link_opens_the_same_view_in_a_fresh_context(app_url, page, path, query, heading, check):
    page.goto(f"{app_url}/{path}?{query}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60000)
    wait_for_app(page)
    check(page)
    link = _link_box(page)
    assert link.startswith(app_url), link
    assert parse_qs(urlsplit(link).query) == parse_qs(query)  # every option, nothing lost
    assert urlsplit(link).path.strip("/") == path
    assert parse_qs(urlsplit(page.url).query) == parse_qs(query)
    screenshot(page, f"share-link-{path or 'overview'}")


def test_presentation_mode_for_a_projector(app_url, page):
    page.goto(f"{app_url}/survival?present=1&endpoint=OS&group=tp53_status")
    page.get_by_role("heading", name="Survival").wait_for(timeout=60000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_have_attribute("data-collapsed", "true")  # collapsed for the projector
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                         "'[data-testid=\"stMain\"] [data-testid=\"stMarkdownContainer\"] p')).fontSize)")
    assert size >= 19
    screenshot(page, "present-survival")
    page.locator("[data-testid='stVegaLiteChart']").first.screenshot(
        path=str(screenshot(page, "present-survival").with_name("present-survival-figure.png")))
    page.goto(f"{app_url}/response?present=1")
    page.get_by_role("heading", name="Response", exact=True).wait_for(timeout=60000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60000)
    wait_for_app(page)
    screenshot(page, "present-response")


def test_hct_view_goes_into_the_deck_and_report_with_its_warning(app_url, page, tmp_path):
    """Survival grouped by HCT, then Share & present: the downloaded deck and report carry the
    immortal-time warning, the Simon-Makuch, landmark and time-dependent Cox results."""
    import io

    from pptx import Presentation

    page.goto(f"{app_url}/survival?group=hct&population=treated")
    page.get_by_role("heading", name="Survival").first.wait_for(timeout=60000)
    wait_for_run(page)  # the survival view is in the session once its run has finished
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Share & present").click()
    page.get_by_role("heading", name="Share & present").wait_for(timeout=60000)
    wait_for_run(page)
    with page.expect_download(timeout=180000) as deck_download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Build the deck").click()
    deck = Presentation(io.BytesIO(open(deck_download.value.path(), "rb").read()))
    texts = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in deck.slides]
    titles = [slide.shapes.title.text for slide in deck.slides if slide.shapes.title is not None]
    km = next(t for t, title in zip(texts, titles) if title == "Survival: Event-free survival by Allogeneic HCT (ever)")
    assert "Caution: Immortal-time bias" in km
    assert any("Simon-Makuch" in t for t in titles) and any("landmark analysis of HCT" in t for t in titles)
    assert any("time-dependent covariate" in t and "HR " in t for t in texts)
    with page.expect_download(timeout=180000) as report_download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Build the HTML report").click()
    report = open(report_download.value.path(), encoding="utf-8").read()
    assert "Immortal-time bias" in report and "Simon-Makuch" in report and "time-dependent covariate" in report
    screenshot(page, "share-hct")
