"""The "copy link" control shown on every page: the exact URL of the current view.

The entrypoint calls `link_slot()` before the page runs and `show_link()` after it (also when
the page stopped early), because the page's own options reach the URL while it runs.
"""
from __future__ import annotations

from typing import Iterable
from urllib.parse import urlencode

import streamlit as st


def view_query() -> list[tuple[str, str]]:
    """The URL's query parameters (repeated keys kept), in a stable order."""
    pairs: list[tuple[str, str]] = []
    for key in st.query_params:
        for value in st.query_params.get_all(key):
            pairs.append((key, value))
    return pairs


def app_address(page_paths: Iterable[str] = ()) -> str:
    """The app's address as the browser told it ('' when it did not), without a page path.

    `st.context.url` is meant to be the app's address without the page, but on a page's first
    load it can still end in the page's path: any trailing path of `page_paths` is removed here.
    """
    base = (st.context.url or "").rstrip("/")
    known = {p for p in page_paths if p}
    while base and base.rsplit("/", 1)[-1] in known:
        base = base.rsplit("/", 1)[0]
    return base


def view_url(url_path: str, page_paths: Iterable[str] = ()) -> str:
    """Absolute link to this view when the browser told us the app's address, else relative."""
    query = urlencode(view_query())
    return f"{app_address((*page_paths, url_path))}/{url_path}" + (f"?{query}" if query else "")


VIEWS_KEY = "_page_views"  # url_path -> that page's last URL parameters (for the deck)


def page_views() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Each visited page's last view, hashable (analytics.deck.page_results takes it)."""
    return tuple(sorted(st.session_state.get(VIEWS_KEY, {}).items()))


def link_slot():
    with st.sidebar:
        return st.empty()


def show_link(slot, url_path: str, page_paths: Iterable[str] = ()) -> None:
    views = dict(st.session_state.get(VIEWS_KEY, {}))
    views[url_path or "overview"] = tuple(view_query())
    st.session_state[VIEWS_KEY] = views
    with slot.container():
        st.markdown("**Link to this view**")
        st.code(view_url(url_path, page_paths), language=None, wrap_lines=True)
        st.caption("Copy it with the icon at the right of the box: page, filters and options "
                   "open exactly as shown here.")
