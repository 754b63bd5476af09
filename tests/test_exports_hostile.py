"""Exports a user can trigger hold no spreadsheet formula: Streamlit's own table toolbar
"Download as CSV" (which writes cells raw) is switched off app-wide; the app's CSV buttons
neutralise formula cells."""
from __future__ import annotations

import tomllib

from analytics.export import safe_csv
from tests.apptest_helpers import ROOT

FORMULA = "=cmd|' /C calc'!A0"


def test_builtin_table_download_is_disabled_app_wide():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_the_setting_reaches_the_browser(monkeypatch):
    """What Streamlit sends each new session (the frontend hides the toolbar download from it)."""
    from streamlit import config
    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("client.disableDataExport") is True
        from streamlit.runtime import app_session
        import inspect
        assert 'msg.disable_data_export = config.get_option("client.disableDataExport")' in \
            inspect.getsource(app_session)
    finally:
        config.get_config_options(force_reparse=True)


def test_app_csv_neutralises_formulas():
    import pandas as pd
    text = safe_csv(pd.DataFrame({"note": [FORMULA, "+1", "-1+2", "@SUM(A1)", "ok"]})).decode()
    assert "\r\n=" not in text and "'=cmd" in text and "'+1" in text and "'@SUM" in text
