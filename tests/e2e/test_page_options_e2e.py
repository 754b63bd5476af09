"""Each page's options stay its own: for every ordered pair of pages (A, then B through the
sidebar), B's link carries only the cohort filters (B opens with its own defaults), whatever
options A had. Two pages with an option of the same name (response and survival both have
`group`) cannot leak into each other.

Each pair is its own tab (a fresh page load of A's link is a new session, as before), and the
seven pairs of one page A run side by side: the server and the browser work on one tab while
another waits, instead of taking turns. The checks only read the URL and the link box, so the
waits are for the script runs (`wait_for_run`), not for the charts being drawn."""
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import wait_for_run

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
# Tabs in flight at once (pairs of one page A run in batches of this size)
IN_FLIGHT = int(os.environ.get("BALL_E2E_TABS") or 7)
LINK_FOLLOWS_PAGE = (  # the link box follows the page's URL once the run has finished
    "path => { const c = document.querySelector('[data-testid=stSidebar] [data-testid=stCode]');"
    " return c && new URL(c.innerText.trim()).pathname.replace(/^\\/|\\/$/g, '') === path; }")


def _link(page) -> str:
    code = page.get_by_test_id("stSidebar").get_by_test_id("stCode")
    code.first.wait_for(timeout=60000)
    return code.first.inner_text().strip()


def _pairs(page, app_url, first, targets) -> None:
    """A (`first`) opened from its link in one tab per target B, then B through the sidebar."""
    path, _, heading, options = first
    query = "&".join(q for q in (options, FILTER) if q)
    tabs = [page] + [page.context.new_page() for _ in targets[1:]]
    try:
        for tab in tabs:
            tab.set_default_timeout(60000)
            tab.goto(f"{app_url}/{path}?{query}", wait_until="commit")
        for tab, (_, label, _, _) in zip(tabs, targets):
            tab.get_by_role("heading", name=heading).first.wait_for()
            wait_for_run(tab)  # A's options are in its URL and session once its run has finished
            tab.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
        for tab, (target_path, _, target_heading, _) in zip(tabs, targets):
            tab.wait_for_url(lambda url: urlsplit(url).path.strip("/") == target_path)
            tab.get_by_role("heading", name=target_heading).first.wait_for()
            wait_for_run(tab)
            tab.wait_for_function(LINK_FOLLOWS_PAGE, arg=target_path)
            link = _link(tab)
            assert parse_qs(urlsplit(link).query) == parse_qs(FILTER), (path, target_path, link)
            assert parse_qs(urlsplit(tab.url).query) == parse_qs(FILTER), (path, target_path, tab.url)
    finally:
        for tab in tabs[1:]:
            tab.close()


@pytest.mark.parametrize("first", PAGES, ids=[p[1] for p in PAGES])
def test_next_page_link_has_only_its_own_options(app_url, page, first):
    targets = [p for p in PAGES if p[0] != first[0]]
    for start in range(0, len(targets), IN_FLIGHT):
        _pairs(page, app_url, first, targets[start:start + IN_FLIGHT])
