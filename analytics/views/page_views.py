"""What a page contributes to the deck and report (`PageViews`); `registry.pages()` lists them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views.result import ViewResult
from analytics.views.spec import PageSpec

SlideBuilder = Callable[[CohortDatabase, CohortFilter, PageSpec, int], list[ViewResult]]


@dataclass(frozen=True)
class PageViews:
    """page: url path; spec: its options class; slides(db, filter, spec, small_cell_k): the
    results this page contributes to the deck and report (the same objects the page shows;
    empty when nothing can be shown, e.g. withheld under small-cell suppression);
    patient_level: shows individual patients (left out of a public deployment's deck)."""

    page: str
    title: str
    spec: type[PageSpec]
    slides: SlideBuilder
    patient_level: bool = False
