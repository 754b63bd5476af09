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
CHARTS_DRAWN = ("() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))"
                ".every(c => { const g = c.querySelector('canvas, svg');"
                " return !!g && g.getBoundingClientRect().width > 0; })")

# Counts the page's reruns from here on into window[<counter>]. A run is a change of the
# script-state attribute to or from "running": the observer's callback comes after the change, and
# a quick run may already be over by then, so the old value counts too (a run seen as
# running -> notRunning). Observed on the whole document: an element that is replaced would take
# its observer with it.
WATCH_RUNS = """counter => {
    window[counter] = 0;
    const name = counter + 'Observer';
    if (window[name]) window[name].disconnect();
    window[name] = new MutationObserver(records => {
        for (const r of records)
            if (r.oldValue === 'running' || r.target.getAttribute('data-test-script-state') === 'running')
                window[counter] += 1; });
    window[name].observe(document.documentElement, {attributes: true, subtree: true,
        attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""
