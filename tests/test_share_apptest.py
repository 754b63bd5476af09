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
     ("selectbox", "survival.group", "sex")),
    ("pages/withdrawal.py", {"wd_scale": "log", "wd_layout": "facet"}, ("radio", "withdrawal.scale", "log")),
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


# --- access gate (st.login + allow-list), public deployment, small cells -----------------------
def _gated(user: dict, page: str | None = "pages/overview.py") -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.secrets["access"] = {"require_login": True, "allowed_emails": ["ana@lab.org"],
                            "allowed_domains": ["hospital.org"]}
    at.user = user
    at.run()
    if page is not None and not at.exception and at.get("download_button"):
        at.switch_page(page)
        at.run()
    return at


def _shows_data(at) -> bool:
    return bool(at.dataframe) or bool(at.table) or "patients" in " ".join(m.value for m in at.sidebar.markdown)


def test_gate_off_by_default_shows_data():
    at = run_page("pages/overview.py")
    assert not at.exception and _shows_data(at)
    assert not [b for b in at.button if b.label == "Sign in"]


def test_gate_logged_out_user_sees_no_data():
    at = _gated({"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not _shows_data(at) and not at.get("vega_lite_chart") and not at.sidebar.code
    assert "restricted to invited collaborators" in all_text(at)


def test_gate_unlisted_user_sees_no_data():
    at = _gated({"is_logged_in": True, "email": "eve@evil-hospital.org", "email_verified": True})
    assert not at.exception
    assert "not on this deployment's allow-list" in all_text(at)
    assert not _shows_data(at) and not at.get("vega_lite_chart")
    assert [b.label for b in at.button] == ["Sign out"]


@pytest.mark.parametrize("email", ["Ana@Lab.org", "bo@hospital.org"])
def test_gate_listed_user_sees_the_app(email):
    at = _gated({"is_logged_in": True, "email": email, "email_verified": True}, page=None)
    assert not at.exception and _shows_data(at)
    assert f"Signed in as {email}" in all_text(at) + " ".join(c.value for c in at.sidebar.caption)


def test_public_deployment_hides_patient_level_tables(monkeypatch):
    monkeypatch.setenv("BALL_PUBLIC_DEPLOYMENT", "1")
    at = run_page("pages/overview.py")
    assert not at.exception
    assert "patient-level table and its download are not shown" in all_text(at)
    assert "patient_table" not in [d.key for d in at.dataframe if hasattr(d, "key")]
    assert not [b for b in at.get("download_button") if "patient" in str(b.proto.label).lower()]
    at = run_page("pages/patient.py", {"patient": "S05"})
    assert not at.exception and "patient-level pages are not available" in all_text(at)
    assert not at.get("vega_lite_chart") and not at.dataframe
    at = run_page("pages/share.py")
    assert not at.exception and "patient page is left out of the deck" in all_text(at)


def test_small_cell_suppression_in_table_one(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    at = run_page("pages/overview.py")
    assert not at.exception
    cells = at.table[0].value.astype(str).to_numpy().ravel().tolist()
    assert "<5/32" in cells and "1/32 (3%)" not in cells


@pytest.mark.parametrize("state", ["full", "empty", "single"])
def test_share_page_states(state):
    from tests.apptest_helpers import PAGE_STATES
    at = run_page("pages/share.py", PAGE_STATES[state])
    assert not at.exception
    text = all_text(at)
    if state == "empty":
        assert "No patients match" in text and not at.get("download_button")
    else:
        labels = [b.proto.label for b in at.get("download_button")]
        assert labels == ["Build the deck (.pptx)", "Build the HTML report"]
        assert "view slides" in text
