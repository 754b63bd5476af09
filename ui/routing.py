"""Make sure every page runs through the entrypoint.

With a `pages/` folder beside the entrypoint, Streamlit starts each server (and each AppTest
run) in its legacy multipage mode, which runs a deep-linked page file directly, skipping
`streamlit_app.py` (no database, no filters). `st.navigation` switches that mode off by
clearing `PagesManager.uses_pages_directory`; a page that finds it was not routed by the
entrypoint does the same and reruns, so the entrypoint routes to this very page.
tests/test_navigation.py fails if Streamlit renames that switch.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.components import FIGURE_COUNTER

_ROUTED = "_routed_by_entrypoint"


def mark_routed() -> None:
    """Called by the entrypoint right before it runs the selected page."""
    st.session_state[_ROUTED] = True
    st.session_state[FIGURE_COUNTER] = 0  # see components.show_chart


def require_entrypoint() -> None:
    """First line of every page."""
    if st.session_state.pop(_ROUTED, False):
        return
    PagesManager.uses_pages_directory = False  # exactly what st.navigation itself does
    st.rerun()
