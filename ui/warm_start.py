"""Start the app's server with its heavy imports, the cohort file and the figure renderer warmed.

    python -m ui.warm_start streamlit_app.py [streamlit run options]    (what scripts/run_app.sh runs)

Streamlit imports a page's modules inside the first visitor's script run, so a fresh server's
first page paid for importing SciPy, lifelines, DuckDB, Altair and the analytics modules and for
opening the cohort file (several seconds; bench.browser measures it against a bare Streamlit
page). Here a background thread does that work while the server starts: the first script run
finds the modules loaded (Python's per-module import lock makes it wait for a module being
imported, never import it twice), the read-only handle open (the same process-wide handle
`ui.state` hands out), and vl-convert's renderer started for the first download. Nothing is
computed for a view, so the first visitor's own run never competes with a guess.
"""
from __future__ import annotations

import importlib
import logging
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
           "analytics.survival_cox", "analytics.survival_cr", "analytics.export", "analytics.disclosure",
           "analytics.figure_export")

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
    try:
        import vl_convert
        vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 1}]},
                                    "encoding": {"x": {"field": "x", "type": "quantitative"}}})
    except Exception as error:  # noqa: BLE001
        log.warning("warm start: vl-convert failed: %s", error)
    log.info("warm start done in %.1f s", time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    threading.Thread(target=warm, name="warm-start", daemon=True).start()
    from streamlit.web import cli
    sys.argv = ["streamlit", "run", *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
