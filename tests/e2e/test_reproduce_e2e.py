"""A researcher's flow in Chromium: open a view from a link, download its "Reproduce in Python"
script, its notebook and its CSV, run the script in a fresh interpreter outside the app, and
find the page's own result sentence in what the script prints."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

# (page path and link query, the view's heading or title to find its downloads under, a result
# sentence the page shows and the script must print, its start only: numbers follow)
CASES = {
    "survival-km-by-sex": ("survival?group=sex&milestones=6%2C+18", "Log-rank test (2 groups): chi-square"),
}


def _download(page, button_text: str, index: int = 0):
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text=button_text).nth(index).click()
    return download.value.path()


@pytest.mark.parametrize("case", list(CASES))
def test_reproduce_script_from_the_page_prints_the_pages_result(app_url, page, tmp_path, case):
    link, sentence_start = CASES[case]
    page.goto(f"{app_url}/{link}")
    wait_for_app(page)
    shown = page.get_by_text(sentence_start).first
    shown.wait_for()
    sentence = shown.inner_text().strip()
    script = open(_download(page, "Reproduce in Python (.py)"), encoding="utf-8").read()
    assert link.split("?")[1].split("&")[0] in script  # the view's link is in the script
    path = tmp_path / "view.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, "-I", str(path)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sentence in run.stdout.splitlines(), (sentence, run.stdout[-2000:])
    book = nbformat.read(_download(page, "Reproduce as a notebook (.ipynb)"), as_version=4)
    assert any(sentence_start.split(" (")[0] in cell.source for cell in book.cells)


def test_csv_from_the_page_starts_with_its_provenance(app_url, page):
    page.goto(f"{app_url}/survival?group=hct")
    wait_for_app(page)
    text = open(_download(page, "Download curve data (CSV)"), encoding="utf-8").read()
    head = [line for line in text.splitlines() if line.startswith("# ")]
    assert head[0].startswith("# Provenance: the first") and any("group=hct" in line for line in head)
    assert any(line.startswith("# Data: cohort.duckdb SHA-256 ") for line in head)
    assert any("Immortal-time bias" in line for line in head)
