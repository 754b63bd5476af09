"""Each page's options stay its own: for every ordered pair of pages (A, then B through the
sidebar), B's link carries only the cohort filters (B opens with its own defaults), whatever
options A had. Two pages with an option of the same name (response and survival both have
`group`) cannot leak into each other."""
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

FILTER = "sex=F"
# url path, navigation label, heading, a link with non-default options of that page
PAGES = [
    ("", "Overview", "Cohort overview", "t1_group=hct"),
    ("patient", "Patient", "Patient", "patient=S05&window=B-ALL+course"),
    ("genomics", "Genomics", "Genomics", "gen_tab=Co-occurrence&co_a=Low+hypodiploid&co_b=TP53"),
    ("withdrawal", "Withdrawal", "Withdrawal", "wd_scale=log&wd_layout=facet"),
    ("response", "Response", "Response", "resp_sort=duration&group=tp53_status"),
    ("survival", "Survival", "Survival", "endpoint=OS&group=first_line_regimen_category&surv_tab=Cox+model"),
    ("compare", "Compare with published series", "Compare with published series", "pool_cohort=yes&pool_method=pm"),
    ("dictionary", "Data dictionary", "Data dictionary", "dict_search=TP53"),
]


def _link(page) -> str:
    code = page.get_by_test_id("stSidebar").get_by_test_id("stCode")
    code.first.wait_for(timeout=60000)
    return code.first.inner_text().strip()


@pytest.mark.parametrize("first", PAGES, ids=[p[1] for p in PAGES])
def test_next_page_link_has_only_its_own_options(app_url, page, first):
    path, _, heading, options = first
    for target_path, label, target_heading, _ in PAGES:
        if target_path == path:
            continue
        query = "&".join(q for q in (options, FILTER) if q)
        page.goto(f"{app_url}/{path}?{query}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=60000)
        wait_for_app(page)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(lambda url: urlsplit(url).path.strip("/") == target_path, timeout=60000)
        page.get_by_role("heading", name=target_heading).first.wait_for(timeout=60000)
        wait_for_app(page)
        page.wait_for_function(  # the link box follows the page's URL once the run has finished
            "path => { const c = document.querySelector('[data-testid=stSidebar] [data-testid=stCode]');"
            " return c && new URL(c.innerText.trim()).pathname.replace(/^\\/|\\/$/g, '') === path; }",
            arg=target_path, timeout=60000)
        link = _link(page)
        assert parse_qs(urlsplit(link).query) == parse_qs(FILTER), (path, target_path, link)
        assert parse_qs(urlsplit(page.url).query) == parse_qs(FILTER), (path, target_path, page.url)
