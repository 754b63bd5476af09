"""The app started exactly as documented (scripts/run_app.sh = `streamlit run`) on a free port.

Shared by the browser tests (tests/e2e) and the memory benchmark (bench.sessions_rss), so both
measure and test the server a user starts.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
import weakref
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app_server(log_path: Path, db: Path | None = None, timeout: float = 180, *,
                     port: int | None = None, script: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start the app (on the cohort file `db`, else the demo file) and wait until it is healthy.

    `port`: a fixed port (default: a free one). `script`: another Streamlit script run the same
    way from the checkout (the benchmark's floor app) instead of scripts/run_app.sh.

    Returns the process (its own process group: stop it with `stop_app_server`) and its URL.
    Raises RuntimeError naming the log when it exits or is not healthy within `timeout` s.
    """
    env = {k: v for k, v in os.environ.items() if k != "BALL_COHORT_DB"}
    if db is not None:
        env["BALL_COHORT_DB"] = str(db)
    port = port or free_port()
    command = (["scripts/run_app.sh"] if script is None else
               [str(ROOT / ".venv" / "bin" / "streamlit"), "run", script])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")
    process = subprocess.Popen(
        [*command, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()  # the child keeps its own handle
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}; see {log_path}")
    stop_app_server(process)
    raise RuntimeError(f"app not healthy in {timeout:.0f} s; see {log_path}")


def stop_app_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    process.wait(timeout=20)


# The app's own state, read from attributes Streamlit's frontend keeps on its root element:
# waits are on states the page reaches, never on time (they must hold with both cores busy).
APP_IDLE = ("() => { const app = document.querySelector('[data-testid=stApp]');"
            " return !!app && app.getAttribute('data-test-script-state') === 'notRunning'"
            " && app.getAttribute('data-test-connection-state') === 'CONNECTED'; }")
# Streamlit loads some widgets' code on first use and shows a grey skeleton until it arrives (a
# new browser context fetches it again): the page is drawn when none is left.
WIDGETS_DRAWN = "() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0"
CHARTS_DRAWN = ("() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))"
                ".every(c => { const g = c.querySelector('canvas, svg');"
                " return !!g && g.getBoundingClientRect().width > 0; })")

class ScriptRuns:
    """The script runs a page's server reports finished, read from Streamlit's websocket frames.

    The root element's script-state attribute is not enough to see that a run happened: a quick
    run can start and finish within one browser render, and the attribute never changes (seen
    under load). Every run ends with a ForwardMsg `script_finished` frame, which is counted here.

        runs = ScriptRuns(page)           # before the page's first navigation
        runs.after(lambda: link.click())  # returns when a run the click caused has finished
    """

    _attached: "weakref.WeakKeyDictionary" = None  # page -> its ScriptRuns (see `of`)

    def __init__(self, page):
        self.sockets: list = []
        page.on("websocket", lambda ws: self.sockets.append(ws))
        if ScriptRuns._attached is None:
            ScriptRuns._attached = weakref.WeakKeyDictionary()
        ScriptRuns._attached[page] = self

    @classmethod
    def of(cls, page) -> "ScriptRuns":
        """The watcher attached to `page` (created before its first navigation)."""
        runs = cls._attached.get(page) if cls._attached is not None else None
        if runs is None:
            raise RuntimeError("this page's script runs are not watched: call ScriptRuns(page) "
                               "right after creating it, before its first navigation")
        return runs

    @staticmethod
    def finished(payload) -> bool:
        if isinstance(payload, str):
            return False
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        try:
            msg = ForwardMsg.FromString(payload)
        except Exception:  # noqa: BLE001 - not a ForwardMsg: not a finished run
            return False
        return (msg.WhichOneof("type") == "script_finished"
                and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN)

    def after(self, action, timeout_ms: float) -> None:
        """Do `action` and return when the server has reported a run finished after it."""
        live = [ws for ws in self.sockets if not ws.is_closed()]
        if not live:
            raise RuntimeError("no open Streamlit websocket on this page")
        with live[-1].expect_event("framereceived", predicate=self.finished, timeout=timeout_ms):
            action()
