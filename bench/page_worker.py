"""One page of the real app at one cohort size, run under Streamlit's AppTest in this process.

    python -m bench.page_worker --db FILE --page survival --repeats 5

Prints one JSON object: server-side seconds per interaction (every run of the entrypoint +
sidebar + page, as a server does for each rerun; cold = st.cache_data emptied first), peak
RSS of this process, and bytes of every chart (serialized Vega-Lite element, inline data) and
every data frame element the page sends. Run in a subprocess per page so RSS is per page.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = str(ROOT / "streamlit_app.py")

# Per page: (label, action) interactions after the first load. Actions are applied to the
# AppTest and followed by one timed run. Cache is NOT cleared for these: a filter or group
# change is a new cache key, so it is computed, as on a live server.
FILTER = ("filter change (sidebar: sex = F)", lambda at: at.multiselect(key="flt_sex").set_value(["F"]))
INTERACTIONS = {
    "overview": [FILTER],
    "patient": [FILTER],
    "genomics": [FILTER, ("sort change (oncoprint sort)", lambda at: _second_option(at.selectbox(key="onco_sort")))],
    "withdrawal": [FILTER, ("scale change (log)", lambda at: at.radio(key="withdrawal.scale").set_value("log"))],
    "response": [FILTER, ("group change (compare by)", lambda at: _second_option(at.selectbox(key="response.group")))],
    "survival": [FILTER, ("group change (group by TP53)", lambda at: at.selectbox(key="survival.group").set_value("tp53_status"))],
    "dictionary": [FILTER],
}


def _second_option(widget):
    """Choose the first option that is not the current one (selectbox or radio)."""
    current = widget.index if hasattr(widget, "index") else None
    index = 1 if current in (None, 0) else 0
    return _set_index(widget, index)


def _set_index(widget, index: int):
    if hasattr(widget, "select_index"):
        return widget.select_index(index)
    return widget.set_value(widget.options[index])


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def element_bytes(at) -> dict:
    """Serialized size of what the page sends: charts and data frames, per element."""
    charts, frames = [], []

    def walk(node):
        for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
            walk(child)
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind in ("arrow_vega_lite_chart", "vega_lite_chart"):
            charts.append(proto.ByteSize())
        elif proto is not None and kind in ("arrow_data_frame", "dataframe", "table", "arrow_table"):
            frames.append(proto.ByteSize())

    walk(at._tree)
    return {"charts": charts, "frames": frames}


def timed_run(at, timeout: float) -> float:
    t0 = time.perf_counter()
    at.run(timeout=timeout)
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value[:300]}")
    return elapsed


def _partial(result: dict, cold: list, warm: list) -> None:
    """Print what is measured so far as one JSON line (the last line printed wins)."""
    print(json.dumps({**result, "cold_s": cold, "warm_s": warm,
                      "cold_median_s": statistics.median(cold) if cold else None,
                      "warm_median_s": statistics.median(warm) if warm else None,
                      "peak_rss_mb": peak_rss_mb()}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--page", required=True, choices=list(INTERACTIONS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    os.environ["BALL_COHORT_DB"] = str(Path(args.db).resolve())
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    result: dict = {"page": args.page, "db": args.db}
    at = AppTest.from_file(ENTRYPOINT, default_timeout=args.timeout)
    # Open the cohort (cache_resource, once per server) on the default page with a filter that
    # matches nobody, so the untimed warm-up does not compute the overview at full size.
    at.query_params["treated"] = "no"
    at.query_params["regimen"] = "intensive chemotherapy"
    at.run()
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    del at.query_params["treated"], at.query_params["regimen"]
    at.radio(key="flt_treated").set_value("Any")
    at.multiselect(key="flt_regimen").set_value([])
    at.switch_page(f"pages/{args.page}.py")
    baseline = rss_mb()
    result["rss_baseline_mb"] = baseline

    cold, warm = [], []
    try:
        for _ in range(max(1, args.repeats // 2)):
            st.cache_data.clear()
            cold.append(timed_run(at, args.timeout))
        result["bytes"] = element_bytes(at)
        for _ in range(args.repeats):
            warm.append(timed_run(at, args.timeout))
        _partial(result, cold, warm)  # kept by bench.run if an interaction later times out
        for label, action in INTERACTIONS[args.page]:
            action(at)
            result.setdefault("interactions", {})[label] = timed_run(at, args.timeout)
            b = element_bytes(at)
            result["bytes"]["charts"] = sorted(set(result["bytes"]["charts"]) | set(b["charts"]))
            result["bytes"]["frames"] = sorted(set(result["bytes"]["frames"]) | set(b["frames"]))
            _partial(result, cold, warm)
    except Exception as exc:  # reported, not hidden: a page that fails at scale is a finding
        result["error"] = f"{type(exc).__name__}: {str(exc)[:400]}"
    result["cold_s"] = cold
    result["warm_s"] = warm
    result["cold_median_s"] = statistics.median(cold) if cold else None
    result["warm_median_s"] = statistics.median(warm) if warm else None
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
