"""Server memory with several concurrent browser sessions: the real app, the real server.

    .venv/bin/python -m bench.sessions_rss --db bench/results/cohorts/synthetic_1000000_s0.duckdb \
        --sessions 5 [--pages overview,survival,...]

Method: the app is started exactly as deployed (scripts/run_app.sh = `streamlit run`) with
BALL_COHORT_DB pointing at the cohort; N headless Chromium contexts (Playwright, one browser,
separate contexts = separate Streamlit sessions, no shared cookies) open every page at the same
time, each with a different sidebar filter (so each session computes its own results, as
different researchers would). While they run, the resident memory (VmRSS) of the server's
process tree is read from /proc every 0.25 s (no psutil). Reported: RSS after start-up, peak
RSS during the sessions, RSS at the end, and each session's wall time per page.

Why a real server and browsers rather than N AppTests in one process: AppTest runs the script
without the websocket/protobuf delivery, the per-session message queues and the forward-message
cache that a real server keeps; those are part of what a server holds while sessions are open.
Chromium runs in separate processes (children of this script, not of the server), so its memory
is not counted.

Prints one JSON line (last line of stdout) for bench.run; `--out` also writes it to a file.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.app_server import start_app_server

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["overview", "patient", "genomics", "withdrawal", "response", "survival", "dictionary"]
# A different view per session (like different researchers); values exist in synthetic cohorts.
FILTERS = [{}, {"sex": "F"}, {"sex": "M"}, {"tp53": "mutated"}, {"institution": "Site A"},
           {"tp53": "wild-type"}, {"ploidy": "low hypodiploid"}, {"treated": "yes"},
           {"institution": "Site B", "sex": "F"}, {"sex": "M", "tp53": "mutated"}]
COUNT = re.compile(r"^\d+ of \d+ patients$")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    """All descendants of pid, from /proc/<pid>/task/*/children (or a /proc scan)."""
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        kids: list[int] = []
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
        found += kids
        stack += kids
    return found


def tree_rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
        except OSError:
            pass
    return total / 1e6


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self._halt = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self._halt.is_set():
            self.samples.append((time.perf_counter() - t0, tree_rss_mb(self.pid)))
            self._halt.wait(self.every)

    def stop(self) -> list[tuple[float, float]]:
        self._halt.set()
        self.join()
        return self.samples


def start_server(db: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    return start_app_server(log_path, db, timeout=180)


async def session(browser, url: str, index: int, pages: list[str], timeout_ms: int, views: int) -> dict:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    out: dict = {"filter": FILTERS[index % views], "pages": {}, "problems": []}
    query = urlencode(out["filter"], doseq=True)
    try:
        for name in pages:
            t0 = time.perf_counter()
            try:
                await page.goto(f"{url}/{name}?{query}", timeout=timeout_ms)
                await page.get_by_test_id("stSidebar").get_by_text(COUNT).wait_for(timeout=timeout_ms)
                await page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"] "
                    "[data-testid=\"stStatusWidgetRunningIcon\"]')", timeout=timeout_ms)
                errors = await page.get_by_test_id("stException").count()
                if errors:
                    out["problems"].append(f"{name}: {errors} exception(s) shown")
            except Exception as exc:  # noqa: BLE001 - reported per page
                out["problems"].append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            out["pages"][name] = time.perf_counter() - t0
    finally:
        await context.close()
    return out


async def drive(url: str, n: int, pages: list[str], timeout_ms: int, chromium: str, views: int) -> list[dict]:
    from playwright.async_api import async_playwright
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*[session(browser, url, i, pages, timeout_ms, views) for i in range(n)])
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--page-timeout", type=float, default=600, help="seconds per page and session")
    parser.add_argument("--views", type=int, default=None,
                        help="distinct filters among the sessions (default: one per session); fewer "
                             "views = sessions share cached results, as colleagues on one view do")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if chromium is None:
        print(json.dumps({"error": "chromium not installed"}))
        return 1
    db = Path(args.db).resolve()
    pages = [p for p in args.pages.split(",") if p]
    log_path = ROOT / "bench" / "results" / "sessions_rss_server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process, url = start_server(db, log_path)
    try:
        time.sleep(2)
        start_rss = tree_rss_mb(process.pid)
        sampler = Sampler(process.pid)
        sampler.start()
        t0 = time.perf_counter()
        views = max(1, min(args.views or args.sessions, len(FILTERS)))
        sessions = asyncio.run(drive(url, args.sessions, pages, int(args.page_timeout * 1000), chromium, views))
        wall = time.perf_counter() - t0
        samples = sampler.stop()
        end_rss = tree_rss_mb(process.pid)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
    peak_t, peak = max(samples, key=lambda s: s[1])
    result = {"db": str(db), "db_mb": db.stat().st_size / 1e6, "sessions": args.sessions, "pages": pages,
              "distinct_views": views,
              "method": "scripts/run_app.sh server + Playwright/Chromium contexts; /proc statm of the server tree",
              "loadavg_at_start": os.getloadavg(), "rss_after_start_mb": start_rss, "peak_rss_mb": peak,
              "peak_at_s": peak_t, "rss_end_mb": end_rss, "wall_s": wall,
              "session_wall_s": [sum(s["pages"].values()) for s in sessions],
              "per_session": sessions,
              "problems": [f"session {i}: {p}" for i, s in enumerate(sessions) for p in s["problems"]],
              "samples": samples[:: max(1, len(samples) // 400)]}
    text = json.dumps(result)
    if args.out:
        Path(args.out).write_text(text)
    print(f"peak server RSS {peak:.0f} MB at {peak_t:.0f} s (after start {start_rss:.0f} MB, end {end_rss:.0f} MB); "
          f"{args.sessions} sessions x {len(pages)} pages in {wall:.0f} s; problems: {len(result['problems'])}")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
