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

import contextlib
import dataclasses
import functools
import hashlib
import re
import threading
from typing import Any, Callable

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from analytics import theme
from ui import state


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure ready to send: its Vega-Lite spec, a file name, and a way to rebuild the chart."""

    spec: dict
    name: str
    rebuild: Callable[[], Any]  # the Altair chart (for exports, built on click)


def rendered_spec(chart) -> dict:
    """The Vega-Lite spec st.altair_chart would send for `chart` (in presentation mode when on).

    As st.altair_chart does it, with public Altair and Arrow calls: each data frame becomes a
    named dataset of Arrow IPC bytes (named by their hash), which st.vega_lite_chart sends
    as they are; Altair's "default" theme gives way to "none" (its fixed width and height do
    not fit a page column). tests/test_figures.py checks the sent spec equals st.altair_chart's.
    """
    if theme.presenting():  # explicit text sizes grow with the theme's for the projector
        chart = theme.for_projector(chart)
    datasets: dict[str, bytes] = {}
    # Altair's theme and data transformer are process-wide settings: one conversion at a time.
    with _ALTAIR_SETTINGS_LOCK:
        plain = alt.theme.enable("none") if alt.theme.active == "default" else contextlib.nullcontext()
        with plain, alt.data_transformers.enable(_ARROW_TRANSFORMER, datasets=datasets):
            spec = chart.to_dict()
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec


_ALTAIR_SETTINGS_LOCK = threading.Lock()
_ARROW_TRANSFORMER = "app_arrow_datasets"


def _to_named_arrow_dataset(data: pd.DataFrame, datasets: dict[str, bytes]) -> dict[str, str]:
    """Altair data transformer: store `data` as Arrow IPC bytes under their hash, refer to it by name."""
    try:
        table = pa.Table.from_pandas(data)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column of mixed types is sent as text
        table = pa.Table.from_pandas(data.astype({c: "string" for c in data.select_dtypes("object")}))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    ipc = sink.getvalue().to_pybytes()
    name = hashlib.blake2b(ipc, digest_size=16, usedforsecurity=False).hexdigest()
    datasets[name] = ipc
    return {"name": name}


alt.data_transformers.register(_ARROW_TRANSFORMER, _to_named_arrow_dataset)


def file_name_of(chart) -> str:
    """A file name from the chart's title ("figure" when it has none)."""
    title = getattr(chart, "title", None)
    text = getattr(title, "text", title)
    if isinstance(text, (list, tuple)):
        text = " ".join(map(str, text))
    if not isinstance(text, str) or not text:
        return "figure"
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "figure"


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
