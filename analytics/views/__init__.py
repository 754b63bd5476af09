"""One view object per page: typed options (`spec`), one function from options + cohort filter
to a `ViewResult`, and the list of results a page contributes to the deck and the report.

The page renders these results; the link is the spec; the deck slide, the report section, the
figure export and the CSV are rendered from the same results. See `registry.pages()`.
"""
from analytics.views.result import Caveat, ViewResult
from analytics.views.spec import PageSpec, option

__all__ = ["Caveat", "PageSpec", "ViewResult", "option"]
