"""Run the real app (entrypoint + one page) under Streamlit's AppTest.

    at = run_page("pages/survival.py", {"tp53": "mutated"})
    assert not at.exception

`filters` are URL query parameters (the same the app writes), so a test states a view the
way a shared link does. Standard page states for every page: FULL, EMPTY, SINGLE.
"""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = str(ROOT / "streamlit_app.py")

FULL: dict = {}
EMPTY = {"tp53": "mutated", "bcr_abl1": "positive"}  # no patient is both in the demo cohort
SINGLE = {"age": "48-48"}                            # exactly one demo patient (S28)
PAGE_STATES = {"full": FULL, "empty": EMPTY, "single": SINGLE}


def run_page(page: str | None = None, query: dict | None = None, timeout: float = 60) -> AppTest:
    """Run the app with `query` in the URL, then switch to `page` (e.g. 'pages/overview.py')."""
    at = AppTest.from_file(ENTRYPOINT, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def as_read(markdown: str) -> str:
    """Markdown source as a reader sees its characters: backslash escapes (ui.text.md_escape on
    user-controlled values) removed."""
    return _MD_ESCAPE.sub(r"\1", markdown)


def all_text(at: AppTest) -> str:
    """Every markdown/caption/info/warning/error text on the page, for content assertions
    (as read: Markdown backslash escapes removed)."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header",
                 "subheader", "metric"):
        for element in getattr(at, kind, []):
            parts.append(str(getattr(element, "value", "")) + " " + str(getattr(element, "label", "")))
    return as_read("\n".join(parts))
