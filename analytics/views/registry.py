"""Every page's view definition, in the order of the app's navigation and the deck."""
from __future__ import annotations

from analytics.views import compare, dictionary, genomics, overview, patient, response, survival, withdrawal
from analytics.views.page_views import PageViews

__all__ = ["PageViews", "pages"]


def pages() -> dict[str, PageViews]:
    """url path -> PageViews of every page with views, in deck order."""
    found = [overview.PAGE_VIEWS, patient.PAGE_VIEWS, genomics.PAGE_VIEWS, withdrawal.PAGE_VIEWS, response.PAGE_VIEWS,
             survival.PAGE_VIEWS, compare.PAGE_VIEWS, dictionary.PAGE_VIEWS]
    return {p.page: p for p in found}
