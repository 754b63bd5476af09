"""Deployment settings fail closed, and a link too large for Streamlit is said to be ignored."""
from __future__ import annotations

import pytest

from tests.apptest_helpers import all_text, run_page
from ui import access


@pytest.mark.parametrize("value", ["enabled", "ture", "2", "public", " YES "])
def test_unrecognised_public_value_means_public(monkeypatch, value):
    monkeypatch.setenv(access.PUBLIC_ENV, value)
    assert access.settings().public is True


@pytest.mark.parametrize("value", ["0", "false", "Off", "no"])
def test_only_a_recognised_off_value_means_not_public(monkeypatch, value):
    monkeypatch.setenv(access.PUBLIC_ENV, value)
    assert access.settings().public is False


def test_unrecognised_public_value_hides_patient_level_views(monkeypatch):
    monkeypatch.setenv(access.PUBLIC_ENV, "enabled")
    at = run_page("pages/overview.py")
    assert not at.exception
    assert "Public deployment" in all_text(at) and not at.dataframe


@pytest.mark.parametrize("value", ["five", "-1", "5.5"])
def test_invalid_small_cell_k_refuses_to_serve(monkeypatch, value):
    monkeypatch.setenv(access.SMALL_CELL_ENV, value)
    at = run_page("pages/overview.py")
    assert not at.exception
    text = all_text(at)
    assert "settings are invalid" in text and access.SMALL_CELL_ENV in text
    assert not at.table and not at.dataframe and not at.get("vega_lite_chart")
    assert "patients" not in " ".join(m.value for m in at.sidebar.markdown)


def test_a_link_streamlit_ignores_is_reported():
    at = run_page("pages/overview.py", {"institution": ["Site A"] * 2000})
    assert not at.exception
    assert "the whole link (2,000 parameters" in all_text(at)
    assert "32 of 32 patients" in all_text(at)  # Streamlit dropped it: unfiltered, and said so


def test_a_long_link_within_streamlit_limits_is_applied():
    at = run_page("pages/overview.py", {"institution": ["Site A"] * 900, "sex": "F"})
    assert not at.exception
    assert "the whole link" not in all_text(at)
    assert "32 of 32 patients" not in all_text(at)
