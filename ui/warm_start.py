"""Start the app's server with its heavy imports, the cohort file and the figure renderer warmed.

    python -m ui.warm_start streamlit_app.py [streamlit run options]    (what scripts/run_app.sh runs)

Streamlit imports a page's modules inside the first visitor's script run, so a fresh server's
first page paid for importing SciPy, lifelines, DuckDB, Altair and the analytics modules and for
opening the cohort file (several seconds; bench.browser measures it against a bare Streamlit
page). Here a background thread does that work while the server starts: the first script run
finds the modules loaded (Python's per-module import lock makes it wait for a module being
imported, never import it twice), the read-only handle open (the same process-wide handle
`ui.state` hands out). Nothing is computed for a view, so the first visitor's own run never
competes with a guess. vl-convert (figure files) is left to the first download: its renderer
holds about 65 MB for the life of the process. The long-lived objects the warm start loaded are
then frozen for the garbage collector (`gc.freeze`), so a collection scans only what sessions
create.

Garbage collection: Streamlit collects after every script run (`runner.postScriptGC`), holding the
interpreter before the run's last messages reach the browser; the launcher turns that off and
collects once no session's script has run for two seconds, at most every 20 s, instead (a revisit no longer waits
for it; Python's own generational collection runs meanwhile).

Memory (glibc only; elsewhere nothing changes): sessions run in threads, and glibc gives threads
their own malloc arenas (up to 8 per core), each keeping the peak of what it once held; the
server is limited to 2 arenas, and every few seconds freed heap is handed back to the system
(malloc_trim), so memory a finished computation freed (a page's pandas frames at 1M
patients) is not kept for the next session's peak (bench.sessions_rss measures it).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib
import logging
import os
import sys
import threading
import time

# What the entrypoint and the pages import (the analytics view modules pull in SciPy, lifelines,
# DuckDB); the deck's python-pptx stays out: it is imported when a deck is built.
MODULES = ("pandas", "altair", "duckdb", "scipy.stats", "lifelines", "analytics.theme", "ui.access",
           "ui.components", "ui.filters", "ui.presentation", "ui.routing", "ui.share_link", "ui.state",
           "ui.views", "ui.figures", "analytics.views.overview", "analytics.views.patient",
           "analytics.views.genomics", "analytics.views.withdrawal", "analytics.views.response",
           "analytics.views.survival", "analytics.views.compare", "analytics.views.dictionary",
           "analytics.survival.cox", "analytics.survival.competing_risks", "analytics.export", "analytics.disclosure")

log = logging.getLogger("ball.warm_start")


def warm() -> None:
    t0 = time.perf_counter()
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - warming is an optimisation, never a failure
            log.warning("warm start: importing %s failed: %s", name, error)
    try:
        from ui import state
        path = state.database_path()
        if path.resolve() == state.DEFAULT_DATABASE.resolve():
            state.ensure_demo_database(path)
        if path.exists():
            state._open_shared(str(path), state._file_version(path), state.memory_limit())
    except Exception as error:  # noqa: BLE001 - the first page reports a bad file itself
        log.warning("warm start: opening the cohort file failed: %s", error)
    log.info("warm start done in %.1f s", time.perf_counter() - t0)


def warm_and_freeze() -> None:
    """`warm`, then the objects it loaded (about 180k: the libraries live as long as the process)
    are moved out of the garbage collector's sight, so each collection scans only what sessions
    create (a full collection of them took 0.3-1 s on a shared 2-core machine)."""
    warm()
    gc.freeze()


M_ARENA_MAX = -8  # glibc mallopt parameter
ARENAS = int(os.environ.get("BALL_MALLOC_ARENAS", "2"))
TRIM_EVERY_S = 5.0
QUIET_S = 2.0  # a full collection waits for this long without a script run,
COLLECT_AT_MOST_EVERY_S = 20.0  # comes no sooner than this after the last one (Python's own
COLLECT_AT_LEAST_EVERY_S = 60.0  # generational collection runs meanwhile), or when busy this long
SCRIPT_THREAD = "ScriptRunner.scriptThread"  # the name Streamlit gives a session's script-run thread
# Streamlit's own collection after every run is turned off (it held the interpreter before the
# run's last messages went out); `Housekeeping` collects when no script has run for a moment instead.
STREAMLIT_OPTIONS = ("--runner.postScriptGC", "false")


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def script_running() -> bool:
    return any(thread.name == SCRIPT_THREAD and thread.is_alive() for thread in threading.enumerate())


def _allocations() -> tuple[int, int]:
    """Changes whenever Python objects were allocated (young-generation count and collections)."""
    return gc.get_count()[0], gc.get_stats()[0]["collections"]


class Housekeeping:
    """Garbage collection off the path of a page: `tick(now)` is called about once a second; a
    full collection runs once no script has run for QUIET_S, at least COLLECT_AT_MOST_EVERY_S after
    the last one, if objects were allocated since (on a server never quiet: every
    COLLECT_AT_LEAST_EVERY_S). With a 10k cohort's results cached, a collection every quiet moment
    took 10% of the interpreter while a researcher switched pages. The heap is trimmed every
    TRIM_EVERY_S (ctypes releases the interpreter during malloc_trim)."""

    def __init__(self, libc, now: float):
        self.libc, self.quiet_since, self.collected_at, self.trimmed_at = libc, now, now, now
        self.allocations = _allocations()

    def tick(self, now: float) -> bool:
        """One look; True when it collected."""
        collected = False
        if script_running():
            self.quiet_since = now
        allocated = _allocations() != self.allocations
        since = now - self.collected_at
        if allocated and ((now - self.quiet_since >= QUIET_S and since >= COLLECT_AT_MOST_EVERY_S)
                          or since >= COLLECT_AT_LEAST_EVERY_S):
            gc.collect()
            self.collected_at, collected = now, True
        if self.libc is not None and now - self.trimmed_at >= TRIM_EVERY_S:
            self.libc.malloc_trim(0)
            self.trimmed_at = now
        self.allocations = _allocations()
        return collected


def _housekeeping_forever(libc) -> None:
    keeper = Housekeeping(libc, time.monotonic())
    while True:
        time.sleep(1.0)  # a period, not a wait for a state: nothing to wait for
        keeper.tick(time.monotonic())


def limit_heap() -> bool:
    """Fewer malloc arenas (glibc), and the housekeeping thread; False where glibc is not there
    (the collection still runs)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)  # before any other thread exists
    threading.Thread(target=_housekeeping_forever, args=(libc,), name="housekeeping", daemon=True).start()
    return libc is not None


def main(argv: list[str] | None = None) -> int:
    limit_heap()
    threading.Thread(target=warm_and_freeze, name="warm-start", daemon=True).start()
    from streamlit.web import cli
    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith(STREAMLIT_OPTIONS[0]) for a in args):
        args += STREAMLIT_OPTIONS
    sys.argv = ["streamlit", "run", *args]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
