"""Figures cached per view as rendered Vega-Lite specs, so a rerun does not rebuild them.

Building an Altair figure and converting it (Altair copies and validates the whole spec) costs
20-350 ms per figure on every rerun, whatever the cohort size: most of a warm rerun's time on
the chart-heavy pages. A figure is determined by the cohort, the filter and the page options,
so `cached_figure(func)` caches `func(db, *args)` by exactly those (plus presentation mode,
which changes the theme), as the spec Streamlit would send: a rerun unpickles it and sends it.
Exports (PNG/SVG/PDF) rebuild the Altair chart only when a download is clicked, from the
page's cached result (the view is not computed again).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import streamlit as st

# The conversion st.altair_chart itself uses (inline data as Arrow IPC, Altair theme applied,
# under Streamlit's lock on Altair's global settings). Private to Streamlit: the version is
# pinned in requirements.txt and tests/test_figures.py checks the sent spec equals st.altair_chart's.
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from analytics import theme
from ui import state


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure ready to send: its Vega-Lite spec, a file name, and a way to rebuild the chart."""

    spec: dict
    name: str
    rebuild: Callable[[], Any]  # the Altair chart (for exports, built on click)


def rendered_spec(chart) -> dict:
    """The Vega-Lite spec st.altair_chart would send for `chart` (in presentation mode when on)."""
    if theme.presenting():  # explicit text sizes grow with the theme's for the projector
        chart = theme.for_projector(chart)
    return _convert_altair_to_vega_lite_spec(chart)


@functools.cache  # one wrapper per function for the process: pages call this on every rerun
def cached_figure(func: Callable[..., Any], data: Callable[..., Any] | None = None) -> Callable[..., Figure]:
    """Cache the figure `func(db, *args, **options) -> Altair chart` per (database token, args,
    options, presentation mode).

    With `data`, the figure is `func(data(db, *args), **options)` and `data` is called through
    `state.cached`: a page that also shows `data` as a table computes it once for both.
    Arguments must be small and hashable (filters, options), as for `state.cached`.
    """
    def build(db_token: str, args: tuple, kwargs: dict, in_script_run: bool):
        if data is None:
            return func(state.database_for(db_token), *args, **kwargs)
        # the data comes from the page's cache, also for an export (on click, outside the run):
        # the view the page shows is not computed again for its download
        cached_data = state.cached(data)
        return func(cached_data(*args) if in_script_run else cached_data.for_token(db_token, *args), **kwargs)

    @st.cache_data(max_entries=128, show_spinner=False)
    def run(db_token: str, qualified_name: str, args: tuple, kwargs: tuple,
            presenting: bool) -> tuple[dict, str]:
        from ui.components import file_name_of
        chart = build(db_token, args, dict(kwargs), in_script_run=True)
        return rendered_spec(chart), file_name_of(chart)

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Figure:
        token = state.current_token()  # captured now: the export runs outside this script run
        spec, name = run(token, _qualified(func, data), args, tuple(sorted(kwargs.items())), theme.presenting())
        return Figure(spec, name, lambda: build(token, args, kwargs, in_script_run=False))

    return call


def _qualified(*funcs) -> str:
    return " of ".join(f"{f.__module__}.{f.__qualname__}" for f in funcs if f is not None)
