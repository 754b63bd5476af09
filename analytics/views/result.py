"""What one view shows, as one object: the page, its link, the deck slide, the report section,
the figure export and the CSV all render it; none of them computes the view again.

Text fields are plain sentences (no Markdown), so a slide, an SVG footer and a web page show the
same words. A caveat is a warning that belongs to the view (immortal-time bias, small samples,
patients left out of a test); it travels with the figure into every export.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd


@dataclass(frozen=True)
class Caveat:
    """A warning attached to a view: `heading` (a few words) and `text` (plain sentences).

    `level` is "warning" (a bias or a result that can mislead) or "info" (a limit to keep in mind).
    """

    heading: str
    text: str
    level: str = "warning"

    def sentence(self) -> str:
        return f"{self.heading}: {self.text}" if self.heading else self.text

    def markdown(self) -> str:
        """For the page: the heading in bold (our own words; no user text is in a caveat)."""
        text = self.text[:1].upper() + self.text[1:]
        return f"**{self.heading}.** {text}" if self.heading else text


@dataclass(frozen=True)
class ViewResult:
    """One view's output.

    page: url path of the page; key: the view's id (page.tab); title, caption: plain text;
    caveats: what must be read with it; figure: the Altair chart (None for a table-only view);
    figure_name: file name stem of exports; n_patients: patients the view describes;
    tables: named tables shown with it (also its CSV downloads);
    numbers: headline numbers by name (the summary slide and tests read them);
    lines: short result sentences shown under the figure (e.g. a test result);
    methods: the statistical-methods paragraph for a manuscript (plain English, with references).
    """

    page: str
    key: str
    title: str
    caption: str = ""
    caveats: tuple[Caveat, ...] = ()
    figure: Any = None
    figure_name: str = "figure"
    n_patients: int = 0
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    numbers: Mapping[str, Any] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    methods: str = ""

    def caveat_sentences(self) -> list[str]:
        return [c.sentence() for c in self.caveats]


def withheld_caveat(what: str, k: int) -> Caveat:
    """The notice of a view that cannot honour small-cell suppression (individual patients, or
    tables whose margins would give a small count back)."""
    return Caveat("Withheld", f"Small-cell suppression is on (counts below {k} are not shown): "
                              f"{what} is withheld on this deployment.", level="info")


def withheld(page: str, key: str, title: str, what: str, k: int) -> ViewResult:
    """The result of such a view: its title and the notice, nothing else."""
    return ViewResult(page, key, title, caveats=(withheld_caveat(what, k),), figure_name=key.split(".")[-1])
