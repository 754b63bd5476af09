"""Presentation mode for lab meetings: `?present=1` in any link.

Larger chart text, thicker lines and bigger points (the `ball_cohort` theme's presentation
variant, analytics.theme), larger page text, and the sidebar collapsed when the page opens.
Palette and patient order are the same as in normal mode: only sizes change.
"""
from __future__ import annotations

import streamlit as st

from analytics import theme
from ui.url import url_option

KEY = "present"  # URL parameter and widget key

_CSS = """
<style>
/* Projector: larger body text, metrics and tables; charts scale through the Altair theme. */
[data-testid="stMain"] { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 2.6rem; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] table { font-size: 1.15rem; }
</style>
"""


def _parse(raw: str | list[str]) -> bool:
    text = raw if isinstance(raw, str) else raw[0]
    return {"1": True, "0": False}[text]


def requested() -> bool:
    """Is presentation mode on for this run? Read before st.set_page_config (sidebar state)."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    try:
        return _parse(st.query_params.get(KEY, "0"))
    except KeyError:
        return False


def initial_sidebar_state() -> str:
    return "collapsed" if requested() else "auto"


def sidebar_toggle() -> bool:
    """The sidebar switch (mirrored as `present=1` in the URL); applies the mode to this run."""
    url_option(KEY, False, parse=_parse, serialize=lambda on: "1" if on else "0")
    on = st.sidebar.toggle("Presentation mode", key=KEY,
                           help="Larger text, lines and points for a projector; the sidebar starts "
                                "collapsed when a link with present=1 is opened.")
    theme.use_presentation(on)  # this session's charts only (thread-local, see analytics.theme)
    if on:
        st.html(_CSS)
    return on
