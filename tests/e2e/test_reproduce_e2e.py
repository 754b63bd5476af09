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

# case: (page path and link query, the view's key, the start of a result sentence the page shows
# and the script must print: the numbers that follow are read off the page)
CASES = {
    "survival-km-by-sex": ("survival?group=sex&milestones=6%2C+18", "survival.km",
                           "Log-rank test (2 groups): chi-square"),
    "overview-table1-by-sex": ("?t1_group=sex&age=50-75", "overview.table_one_by_group",
                               "characteristics tested; p < 0.05"),
    "compare-forest-pooled": ("compare?compare_tab=Forest+plot&forest=bcr_abl1_positive&pool_cohort=yes",
                              "compare.forest", "BCR::ABL1 positive: pooled"),
    "withdrawal-kinetics-rule": ("withdrawal?wd_partial=40&wd_scale=log", "withdrawal.kinetics",
                                 "Regression before B-ALL therapy:"),
}


def _download(page, button_text: str, view_key: str | None = None):
    """Click a download (the one of view `view_key` where a page shows several) and return its file."""
    buttons = page.get_by_test_id("stDownloadButton").filter(has_text=button_text)
    if view_key is not None:  # Streamlit marks a keyed element's container with st-key-<key>
        prefix = "repro_nb_" if "notebook" in button_text else "repro_py_"
        buttons = page.locator(f".st-key-{prefix}{view_key.replace('.', '_')}").get_by_test_id("stDownloadButton")
    with page.expect_download(timeout=120_000) as download:
        buttons.first.click()
    return download.value.path()


@pytest.mark.parametrize("case", list(CASES))
def test_reproduce_script_from_the_page_prints_the_pages_result(app_url, page, tmp_path, case):
    link, view_key, sentence_start = CASES[case]
    page.goto(f"{app_url}/{link}")
    wait_for_app(page)
    shown = page.get_by_test_id("stMarkdownContainer").filter(has_text=sentence_start).last
    shown.wait_for()
    sentence = shown.inner_text().strip()
    script = open(_download(page, "Reproduce in Python (.py)", view_key), encoding="utf-8").read()
    for option in link.split("?")[1].split("&"):
        assert option in script, script[:600]  # the view's link is in the script
    path = tmp_path / "view.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, "-I", str(path)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sentence in run.stdout.splitlines(), (sentence, run.stdout[-2000:])
    book = nbformat.read(_download(page, "Reproduce as a notebook (.ipynb)", view_key), as_version=4)
    code = [cell.source for cell in book.cells if cell.cell_type == "code"]
    assert len(code) >= 3 and all(source in script for source in code)  # the same code, in cells


def test_csv_from_the_page_starts_with_its_provenance(app_url, page):
    page.goto(f"{app_url}/survival?group=hct")
    wait_for_app(page)
    text = open(_download(page, "Download curve data (CSV)"), encoding="utf-8").read()
    head = [line for line in text.splitlines() if line.startswith("# ")]
    assert head[0].startswith("# Provenance: the first") and any("group=hct" in line for line in head)
    assert any(line.startswith("# Data: cohort.duckdb SHA-256 ") for line in head)
    assert any("Immortal-time bias" in line for line in head)
