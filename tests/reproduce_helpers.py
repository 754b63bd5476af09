"""Run a view's "Reproduce in Python" script the way a reader would, and compare what it prints
with the page's result.

    result, printed = run_view(survival_views.km, "survival.km", data_file, {"group": "sex"}, tmp_path)
    assert_table_printed(printed, result.tables["summary"])

The script runs as `python -I view.py DATA_FILE` in an empty folder, so nothing of the app can be
imported (in a child of a warm runner that has the libraries imported, tests/script_runner.py, or
in a fresh interpreter: `fresh=True`, or every script with REPRODUCE_FRESH=1); it must print each
of the view's tables as tab-separated lines (header, then rows).
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
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


SCRIPT_TIMEOUT = 240  # seconds, per script
# REPRODUCE_FRESH=1 runs every script in its own fresh interpreter (slow: ~4 s of imports each).
ALWAYS_FRESH = os.environ.get("REPRODUCE_FRESH", "") not in ("", "0")


def run_script(script: str, folder: Path, data_file: Path, fresh: bool = False) -> subprocess.CompletedProcess:
    """Write `script` to `folder` and run it on `data_file` as `python -I view.py DATA_FILE` in
    `folder`: in a child of the warm runner (tests/script_runner.py, isolated and without the app,
    as a fresh interpreter), or with `fresh` (or REPRODUCE_FRESH=1) in a fresh interpreter."""
    path = folder / "view.py"
    path.write_text(script)
    if fresh or ALWAYS_FRESH:
        return run_fresh(path, [str(data_file)], folder)
    return _warm_runner().run(path, [str(data_file)], folder)


def run_fresh(path: Path, args: list[str], folder: Path) -> subprocess.CompletedProcess:
    """`python -I path ARGS` in `folder`, a new interpreter."""
    return subprocess.run([sys.executable, "-I", str(path), *args], cwd=folder, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT)


class WarmRunner:
    """Client of tests/script_runner.py: one runner process per test process (each xdist worker),
    started on first use in an empty folder and stopped at exit; restarted after a timeout or crash."""

    def __init__(self):
        self._folder = Path(tempfile.mkdtemp(prefix="script_runner_"))
        self._process: subprocess.Popen | None = None
        self._log = None
        self._count = 0
        atexit.register(self.close)

    def _start(self) -> None:
        empty = self._folder / "cwd"
        empty.mkdir(exist_ok=True)
        self._log = open(self._folder / "runner.log", "ab")
        # start_new_session: a timeout ends the runner and its forked children as one process group
        self._process = subprocess.Popen([sys.executable, "-I", str(Path(__file__).with_name("script_runner.py"))],
                                         cwd=empty, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                         start_new_session=True)
        ready = self._answer(SCRIPT_TIMEOUT)
        assert ready.get("ready"), ready

    def _answer(self, timeout: float) -> dict:
        stream = self._process.stdout
        readable, _, _ = select.select([stream], [], [], timeout)
        if not readable:
            self.stop()
            raise subprocess.TimeoutExpired(["script_runner"], timeout)
        line = stream.readline()
        if not line:
            log = (self._folder / "runner.log").read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"script runner ended unexpectedly:\n{log}")
        return json.loads(line)

    def run(self, path: Path, args: list[str], folder: Path) -> subprocess.CompletedProcess:
        if self._process is None or self._process.poll() is not None:
            self._start()
        self._count += 1
        out, err = self._folder / f"{self._count}.out", self._folder / f"{self._count}.err"
        request = {"script": str(path), "args": args, "cwd": str(folder), "stdout": str(out), "stderr": str(err)}
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            answer = self._answer(SCRIPT_TIMEOUT)
        except BaseException:  # a timeout, or pytest-timeout interrupting us: the protocol state is lost
            self.stop()
            raise
        # read as subprocess.run(text=True) decodes: locale encoding, universal newlines
        completed = subprocess.CompletedProcess([sys.executable, "-I", str(path), *args], answer["returncode"],
                                                out.read_text(), err.read_text())
        out.unlink()
        err.unlink()
        return completed

    def stop(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                try:
                    os.killpg(self._process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._log.close()
            self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)


_RUNNER: WarmRunner | None = None


def _warm_runner() -> WarmRunner:
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = WarmRunner()
    return _RUNNER


def run_view(view: Callable, key: str, data_file: Path, params: dict, folder: Path,
             cohort_filter: CohortFilter = CohortFilter(), spec=None, fresh: bool = False):
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
    run = run_script(text, folder, data_file, fresh=fresh)
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
