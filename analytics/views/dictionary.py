"""The Data dictionary page as a view: every column of the database, searched.

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> result = columns(build_in_memory("data/demo_cohort"), CohortFilter(), DictionarySpec(search="TP53"))
>>> result.caption.startswith(str(len(result.tables["Columns"]))), result.caveats
(True, ())
"""
from __future__ import annotations

from dataclasses import dataclass

from analytics import dictionary
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views.page_views import PageViews
from analytics.views.result import Caveat, ViewResult
from analytics.views.spec import OptionError, PageSpec, option

PAGE = "dictionary"
SEARCH_MAX_LENGTH = 100


def _normalised(text: str) -> str:
    """Runs of whitespace (tabs, no-break spaces of pasted text) as one space."""
    return " ".join(str(text or "").split())


def _search_text(raw) -> str:
    text = _normalised(raw if isinstance(raw, str) else (raw[-1] if raw else ""))
    if len(text) > SEARCH_MAX_LENGTH or not text.isprintable():
        raise OptionError(f"a search text of up to {SEARCH_MAX_LENGTH} printable characters")
    return text


@dataclass(frozen=True)
class DictionarySpec(PageSpec):
    """search: text looked for in column names, descriptions, allowed values and units."""

    PAGE = PAGE
    search: str = option("", param="dict_search", parse=_search_text, label="search")

    def validated(self) -> "DictionarySpec":
        return self.with_(search=_normalised(self.search)[:SEARCH_MAX_LENGTH])


def columns(db: CohortDatabase, cohort_filter: CohortFilter, spec: DictionarySpec = DictionarySpec(),
            small_cell_k: int = 0) -> ViewResult:
    """The dictionary rows matching the search (tables["Columns"]) and the whole dictionary
    (tables["Dictionary"]); a caveat lists where this cohort's database differs from it.
    The dictionary describes the schema, not patients: the filters do not change it."""
    table, differences = dictionary.dictionary_for(db)
    shown = dictionary.search(table, spec.search)
    caveats = ()
    if differences:
        caveats = (Caveat("Schema differs", "This cohort's database differs from the documented schema: "
                                            + "; ".join(differences) + "."),)
    if shown.empty:
        caption = f"No column matches '{spec.search}'."
    else:
        caption = f"{len(shown)} of {len(table)} columns shown" + (f" (search: '{spec.search}')." if spec.search else ".")
    return ViewResult(PAGE, "dictionary.columns", "Data dictionary", caption=caption, caveats=caveats,
                      tables={"Columns": shown, "Dictionary": table},
                      numbers={"shown": len(shown), "columns": len(table)},
                      methods=("Data are stored as patients, events in days relative to B-ALL diagnosis (day 0), "
                               "mutations and serial measurements; endpoints (overall and event-free survival, "
                               "best response, HCT day, status at last contact) and lenalidomide exposure are "
                               "derived from the timeline, never entered by hand. Missing values are not "
                               "evaluated (NULL), never negative. No names, record numbers or calendar dates "
                               "are stored."))


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: DictionarySpec = DictionarySpec(),
           small_cell_k: int = 0) -> list[ViewResult]:
    """The dictionary is reference text, not a result: nothing for the deck."""
    return []


PAGE_VIEWS = PageViews(PAGE, "Data dictionary", DictionarySpec, slides)
