"""Share and present (AppTest): the copy-link box, view options that were missing from the URL,
presentation mode, and the optional access gate."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import altair as alt
import pandas as pd
import pytest

from analytics import theme
from tests.apptest_helpers import ENTRYPOINT, all_text, run_page
from streamlit.testing.v1 import AppTest


def _link(at) -> tuple[str, dict]:
    codes = [c.value for c in at.sidebar.code]
    assert len(codes) == 1, codes
    parts = urlsplit(codes[0])
    return parts.path, parse_qs(parts.query)


@pytest.mark.parametrize("page, query, widget", [
    ("pages/genomics.py", {"gen_tab": "Mutation table", "mut_min_vaf": "0.3", "tp53": "mutated"},
     ("number_input", "mut_min_vaf", 0.3)),
    ("pages/dictionary.py", {"dict_search": "TP53"}, ("text_input", "dict_search", "TP53")),
    ("pages/survival.py", {"surv_tab": "Cox model", "endpoint": "OS", "group": "sex"},
     ("selectbox", "group", "sex")),
    ("pages/withdrawal.py", {"wd_scale": "log", "wd_layout": "facet"}, ("radio", "wd_scale", "log")),
])
def test_link_reproduces_the_view(page, query, widget):
    at = run_page(page, query)
    assert not at.exception
    kind, key, value = widget
    assert getattr(at, kind)(key=key).value == value
    path, params = _link(at)
    assert path == "/" + page.removeprefix("pages/").removesuffix(".py")
    assert {k: v[0] for k, v in params.items()} == query  # every option, nothing else
    # Opening that link in a new session gives the same widget values.
    again = run_page(page, {k: v[0] for k, v in params.items()})
    assert getattr(again, kind)(key=key).value == value
    assert _link(again) == (path, params)


def test_tab_choice_is_part_of_the_view():
    at = run_page("pages/genomics.py", {"gen_tab": "Co-occurrence"})
    assert at.session_state["gen_tab"] == "Co-occurrence"
    at = run_page("pages/genomics.py", {"gen_tab": "no such tab"})  # hand-edited link: default
    assert not at.exception and at.session_state["gen_tab"] == "Frequencies"
    assert "gen_tab" not in _link(at)[1]


def test_link_is_absolute_when_the_browser_reports_the_address():
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.context["url"] = "https://cohort.example.org"
    at.query_params["sex"] = "F"
    at.run()
    assert [c.value for c in at.sidebar.code] == ["https://cohort.example.org/?sex=F"]


def test_presentation_mode_round_trips_and_leaves_other_runs_alone():
    at = run_page("pages/overview.py", {"present": "1"})
    assert not at.exception and at.toggle(key="present").value is True
    assert _link(at)[1]["present"] == ["1"]
    at.toggle(key="present").set_value(False).run()
    assert "present" not in _link(at)[1]
    assert not theme.presenting()  # this (test) thread never switched the theme


def test_presentation_theme_same_palette_larger_marks():
    chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_line().encode(x="x:Q", y="x:Q")
    theme.use_presentation(False)
    normal = chart.to_dict()["config"]
    theme.use_presentation(True)
    try:
        big = chart.to_dict()["config"]
    finally:
        theme.use_presentation(False)
    assert big["range"]["category"] == normal["range"]["category"] == theme.PALETTE
    assert big["axis"]["labelFontSize"] >= normal["axis"]["labelFontSize"] + 6
    assert big["line"]["strokeWidth"] >= 3
    with alt.theme.enable(theme.PRESENTATION_THEME_NAME):  # the variant by name, as registered
        assert chart.to_dict()["config"]["axis"]["labelFontSize"] == theme.PRESENTATION_FONT_SIZE
