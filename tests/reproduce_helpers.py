"""Run a view's "Reproduce in Python" script the way a reader would, and compare what it prints
with the page's result.

    result, printed = run_view(survival_views.km, "survival.km", data_file, {"group": "sex"}, tmp_path)
    assert_table_printed(printed, result.tables["summary"])

The script runs in a fresh interpreter (`python -I`) in an empty folder, so nothing of the app can
be imported; it must print each of the view's tables as tab-separated lines (header, then rows).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pandas as pd

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.views.registry import pages as registered_pages


def provenance(data_file: Path, link: str = "http://localhost/view") -> reproduce.Provenance:
    return reproduce.Provenance(str(data_file), reproduce.file_sha256(data_file), "test", link)


def spec_from(page: str, params: dict):
    """The page's spec from link parameters (a test's view must be a valid link)."""
    spec, notices = registered_pages()[page].spec.from_params(params)
    assert not notices, notices
    return spec


def run_script(script: str, folder: Path, data_file: Path) -> subprocess.CompletedProcess:
    """Write `script` to `folder` and run it on `data_file` in a fresh, isolated interpreter."""
    path = folder / "view.py"
    path.write_text(script)
    return subprocess.run([sys.executable, "-I", str(path), str(data_file)], cwd=folder, capture_output=True,
                          text=True, timeout=240)


def run_view(view: Callable, key: str, data_file: Path, params: dict, folder: Path,
             cohort_filter: CohortFilter = CohortFilter(), spec=None):
    """The page's result of `view` and the lines its script printed (asserting the script ran
    cleanly and imports nothing of the app)."""
    db = CohortDatabase.open_file(data_file)
    try:
        page = key.split(".")[0]
        spec = spec if spec is not None else spec_from(page, params)
        text = reproduce.script(key, db, cohort_filter, spec, provenance(data_file))
        result = view(db, cohort_filter, spec)
    finally:
        db.close()
    assert "import analytics" not in text and "from analytics" not in text and "import ui" not in text
    run = run_script(text, folder, data_file)
    assert run.returncode == 0, run.stderr[-3000:]
    return result, run.stdout.splitlines()


def execute_notebook(book, folder: Path) -> str:
    """Run a notebook (nbformat object) in `folder` with a fresh kernel; return the text it printed."""
    import nbclient
    nbclient.NotebookClient(book, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return "".join(o.get("text", "") for cell in book.cells if cell.cell_type == "code" for o in cell.outputs)


def table_lines(frame: pd.DataFrame) -> list[str]:
    """A table as the scripts print it: tab-separated header, then one line per row (str of each cell)."""
    return ["\t".join(str(c) for c in frame.columns)] + [
        "\t".join(str(v) for v in row) for row in frame.itertuples(index=False)]


def assert_table_printed(printed: list[str], frame: pd.DataFrame) -> None:
    """`frame` appears in `printed` as consecutive lines, word for word."""
    expected = table_lines(frame)
    assert expected[0] in printed, f"header not printed: {expected[0]!r}"
    start = printed.index(expected[0])
    shown = printed[start:start + len(expected)]
    differ = [f"page:   {e!r}\nscript: {g!r}" for e, g in zip(expected, shown) if e != g]
    assert shown == expected, "\n".join(differ[:5]) or f"{len(shown)} of {len(expected)} lines printed"
