"""URL state: every view is a link.

Streamlit clears query parameters when the user switches page, so the entrypoint writes the
cohort filters back on every run, and each page registers its own options with `url_option`.
A value from the URL seeds the widget whenever the widget has no state (a session's first
run, or after Streamlit dropped widget state on a page switch); afterwards the widget is the
truth and the URL follows it.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import streamlit as st

def url_option(key: str, default: Any, *, parse: Callable[[str | list[str]], Any] = str,
               serialize: Callable[[Any], str | list[str]] = str, multi: bool = False) -> None:
    """Make widget `key` round-trip through the URL parameter of the same name.

    Call before creating the widget (which must use `key=key` and no explicit default). Invalid
    URL values fall back to `default` silently: a hand-edited link never raises.
    """
    if key not in st.session_state:
        st.session_state[key] = default
        if key in st.query_params:
            raw = st.query_params.get_all(key) if multi else st.query_params[key]
            try:
                st.session_state[key] = parse(raw)
            except (ValueError, TypeError, KeyError):
                pass  # keep the default
    value = st.session_state[key]
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    else:
        st.query_params[key] = serialize(value)


def choice_parser(options: Sequence[Any]) -> Callable[[str], Any]:
    """A parser that accepts only one of `options` (compared as text)."""
    by_text = {str(o): o for o in options}

    def parse(raw: str | list[str]) -> Any:
        text = raw if isinstance(raw, str) else raw[0]
        if text not in by_text:
            raise ValueError(text)
        return by_text[text]
    return parse
