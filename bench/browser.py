"""What a researcher waits for in the browser: every page and every export, against the floor.

    .venv/bin/python -m bench.browser                     # 32 patients and 10k, about 5 minutes
    .venv/bin/python -m bench.browser --sizes 32 --port 8771

Method. The app is started as the README documents it (scripts/run_app.sh = `streamlit run`),
one fresh server per cohort size (32 = the shipped demo; 10k built once with
analytics.synthetic into bench/results/cohorts/), and driven in headless Debian Chromium
(Playwright, `executable_path`). A time runs from the navigation (a `goto`, or the click on a
sidebar link, a filter or a download button) to the page being drawn: the sidebar shows its
patient count, Streamlit's root element reports the script not running and connected, and every
chart on the page has drawn its canvas or SVG (the same state waits as tests/e2e/conftest.py;
never a sleep). Exports run from the click to the downloaded file being complete.

Per size: the fresh server's first page (the default page, first request to the server); in
one session, each page's first visit (sidebar link; the server computes the view unless it
was warmed) and its revisit; each page in a new session (a new browser context: new
websocket session, cached results); a filter change on each page (the sidebar's "B-ALL
treatment" radio); then PNG, SVG and PDF of the Kaplan-Meier figure, its curve CSV and its
reproduce script (survival page), and the deck and the HTML report (Share & present).

The floor, measured in the same run on its own fresh server: a bare Streamlit app with one
Altair chart per page and the same number and kinds of sidebar widgets (bench/floor/floor_app.py).
Timings on a shared machine are only comparable within a run: the output gives ratios to the
floor and the load average at each phase. Results: bench/results/browser-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from pathlib import Path

from bench.app_server import (APP_IDLE, CHARTS_DRAWN, ROOT, WIDGETS_DRAWN, ScriptRuns, start_app_server,
                              stop_app_server)

RESULTS = ROOT / "bench" / "results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# url path, sidebar label (the landing page of the per-page session is "upload")
PAGES = [("overview", "Overview"), ("patient", "Patient"), ("genomics", "Genomics"),
         ("withdrawal", "Withdrawal"), ("response", "Response"), ("survival", "Survival"),
         ("compare", "Compare with published series"), ("dictionary", "Data dictionary"),
         ("share", "Share & present"), ("upload", "Load a cohort")]
LANDING = "upload"  # no chart and no computation: the per-page session starts here
FLOOR_PAGES = [("first", "First"), ("second", "Second")]
DEFAULT_PAGES = {"overview", "first"}  # served at the app's root (their own path is "page not found")
EXPORTS = ["png", "svg", "pdf", "csv", "reproduce", "deck", "report"]

# Targets of issue 20 (ratios within one run; seconds for the exports at 32 patients).
REVISIT_VS_FLOOR_MAX = 1.2
NEW_SESSION_VS_FLOOR_MAX = 1.3
FRESH_VS_FLOOR_MAX = 1.5
EXPORT_MAX_S = {"png": 0.5, "deck": 3.0, "report": 1.5}
LARGE_VS_32_MAX = 1.5

COUNT = re.compile(r"^<?\d+ of <?\d+ patients$")
_current_page = None  # the page a failed step is shown on (a screenshot beside the results)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Driver:
    """One browser; the timed steps of a user on a server at `url`."""

    def __init__(self, browser, url: str, timeout_s: float):
        self.browser, self.url, self.timeout = browser, url, timeout_s * 1000

    def new_page(self):
        context = self.browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(self.timeout)
        ScriptRuns(page)
        global _current_page
        _current_page = page
        return page

    def drawn(self, page) -> None:
        page.get_by_test_id("stSidebar").get_by_text(COUNT).wait_for(timeout=self.timeout)
        page.wait_for_function(APP_IDLE, timeout=self.timeout)
        page.wait_for_function(CHARTS_DRAWN, timeout=self.timeout)
        page.wait_for_function(WIDGETS_DRAWN, timeout=self.timeout)

    def open(self, path: str):
        """A new session on `path`: (page, seconds from the navigation to the page drawn)."""
        page = self.new_page()
        t0 = time.perf_counter()
        page.goto(f"{self.url}/{'' if path in DEFAULT_PAGES else path}")
        self.drawn(page)
        return page, time.perf_counter() - t0

    def rerun(self, page, action) -> float:
        """Seconds from `action` (a click) to the rerun it causes being finished and drawn."""
        t0 = time.perf_counter()
        ScriptRuns.of(page).after(action, self.timeout)
        page.wait_for_function(APP_IDLE, timeout=self.timeout)
        page.wait_for_function(CHARTS_DRAWN, timeout=self.timeout)
        page.wait_for_function(WIDGETS_DRAWN, timeout=self.timeout)
        return time.perf_counter() - t0

    def switch(self, page, label: str) -> float:
        link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True)
        return self.rerun(page, link.click)

    def treatment(self, page, choice: str) -> float:
        radio = page.get_by_test_id("stSidebar").get_by_test_id("stRadio").filter(
            has_text=re.compile("treatment|Treated")).first
        return self.rerun(page, lambda: radio.get_by_text(choice, exact=True).click())

    def download(self, page, button, dispatch: bool = False) -> float:
        """Seconds from the click on `button` to the downloaded file being complete."""
        target = button.locator("button").first if dispatch else button
        with page.expect_download(timeout=self.timeout) as info:
            t0 = time.perf_counter()
            if dispatch:
                target.dispatch_event("click")
            else:
                target.click()
        path = info.value.path()  # waits for the download to finish
        seconds = time.perf_counter() - t0
        page.wait_for_function(APP_IDLE, timeout=self.timeout)  # a button that reruns the page: its run
        if path is None or Path(path).stat().st_size == 0:
            raise RuntimeError(f"empty download {info.value.suggested_filename}")
        return seconds


def attempt(record: dict, key: str, func) -> None:
    """Run one timed step; a failure is recorded (and printed), never fatal to the run."""
    try:
        record[key] = round(func(), 3)
    except Exception as exc:  # noqa: BLE001 - reported per step
        record[key] = None
        if _current_page is not None:
            try:
                _current_page.screenshot(path=str(RESULTS / f"browser-error-{key}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - the error itself is what is reported
                pass
        record.setdefault("errors", []).append(f"{key}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        record.setdefault("error_details", []).append(str(exc)[-1500:])  # Playwright's call log
        print(f"    ! {key}: {record['errors'][-1]}", flush=True)


def fresh_servers(browser, timeout_s: float, repeats: int, start) -> tuple[object, str, dict]:
    """Start a server `repeats` times, timing its first page each time; the last one is left
    running for the rest of the measurements. Returns (process, url, measurements)."""
    out: dict = {"fresh_first_page_samples": [], "server_start_samples": []}
    for i in range(repeats):
        t0 = time.perf_counter()
        process, url = start()
        out["server_start_samples"].append(round(time.perf_counter() - t0, 3))
        attempt(out, "_fresh", lambda: _open_and_close(Driver(browser, url, timeout_s), ""))
        if out["_fresh"] is not None:
            out["fresh_first_page_samples"].append(out["_fresh"])
        if i < repeats - 1:
            stop_app_server(process)
    del out["_fresh"]
    samples = out["fresh_first_page_samples"]
    out["fresh_first_page_s"] = statistics.median(samples) if samples else None
    out["server_start_s"] = statistics.median(out["server_start_samples"])
    return process, url, out


def measure_floor(browser, port: int, timeout_s: float, repeats: int, fresh_repeats: int) -> dict:
    log = RESULTS / "browser_floor_server.log"
    out: dict = {"loadavg_start": loadavg()}
    process, url, fresh = fresh_servers(browser, timeout_s, fresh_repeats, lambda: start_app_server(
        log, port=port, script="bench/floor/floor_app.py"))
    out.update(fresh)
    try:
        driver = Driver(browser, url, timeout_s)
        page, _ = driver.open("first")
        attempt(out, "first_visit_s", lambda: driver.switch(page, "Second"))
        revisits, news, filters = [], [], []
        for _ in range(repeats):
            revisits += [driver.switch(page, "First"), driver.switch(page, "Second")]
            filters += [driver.treatment(page, "Yes")]
            driver.treatment(page, "Any")
        page.context.close()
        for _ in range(repeats):
            for path, _ in FLOOR_PAGES:
                other, seconds = driver.open(path)
                news.append(seconds)
                other.context.close()
        out.update(revisit_s=statistics.median(revisits), new_session_s=statistics.median(news),
                   filter_change_s=statistics.median(filters),
                   samples={"revisit": revisits, "new_session": news, "filter_change": filters})
    finally:
        stop_app_server(process)
    out["loadavg_end"] = loadavg()
    return out


def measure_app(browser, port: int, size: int, db: Path | None, timeout_s: float, fresh_repeats: int) -> dict:
    log = RESULTS / f"browser_app_{size}_server.log"
    out: dict = {"patients": size, "db": str(db or "data/cohort.duckdb"), "loadavg_start": loadavg(),
                 "pages": {p: {} for p, _ in PAGES}, "exports": {}}
    process, url, fresh = fresh_servers(browser, timeout_s, fresh_repeats,
                                        lambda: start_app_server(log, db, port=port))
    out.update(fresh)
    try:
        driver = Driver(browser, url, timeout_s)
        print(f"  {size}: fresh server first page {fresh.get('fresh_first_page_s')} s", flush=True)

        # one session: first visit of every page, then every page again
        page, _ = driver.open(LANDING)
        for path, label in PAGES:
            if path != LANDING:
                attempt(out["pages"][path], "first_visit_s", lambda: driver.switch(page, label))
        for path, label in PAGES:
            attempt(out["pages"][path], "revisit_s", lambda: driver.switch(page, label))
            attempt(out["pages"][path], "filter_change_s", lambda: driver.treatment(page, "Yes"))
            try:
                driver.treatment(page, "Any")
            except Exception:  # noqa: BLE001 - the next page's timing records any problem
                pass
        print(f"  {size}: first visits, revisits and filter changes done (load {loadavg()})", flush=True)
        page.context.close()
        for path, _ in PAGES:
            attempt(out["pages"][path], "new_session_s", lambda: _open_and_close(driver, path))
        print(f"  {size}: new sessions done (load {loadavg()})", flush=True)

        out["exports"] = measure_exports(driver)
        print(f"  {size}: exports {out['exports']}", flush=True)
    finally:
        stop_app_server(process)
    out["loadavg_end"] = loadavg()
    return out


def _open_and_close(driver: Driver, path: str) -> float:
    page, seconds = driver.open(path)
    page.context.close()
    return seconds


def measure_exports(driver: Driver) -> dict:
    exports: dict = {}
    page, _ = driver.open("survival")
    popover = page.get_by_test_id("stPopover").filter(has_text="Download figure").first

    def figure(fmt: str) -> float:
        page.wait_for_function(APP_IDLE, timeout=driver.timeout)
        button = page.get_by_test_id("stDownloadButton").filter(has_text=fmt.upper()).filter(visible=True).first
        if not button.is_visible():  # the popover stays open between formats
            popover.scroll_into_view_if_needed()
            popover.click()
        button.wait_for()
        # The popover's panel can sit partly outside the viewport (Playwright then refuses a
        # click, "element is outside of the viewport"): the click event is dispatched instead.
        return driver.download(page, button, dispatch=True)

    for fmt in ("png", "svg", "pdf"):
        attempt(exports, fmt, lambda: figure(fmt))
    attempt(exports, "csv", lambda: driver.download(
        page, page.get_by_test_id("stDownloadButton").filter(has_text="Download curve data (CSV)").first))
    attempt(exports, "reproduce", lambda: driver.download(
        page, page.get_by_test_id("stDownloadButton").filter(has_text="Reproduce in Python (.py)").first))
    driver.switch(page, "Share & present")
    attempt(exports, "deck", lambda: driver.download(
        page, page.get_by_test_id("stDownloadButton").filter(has_text="Build the deck").first))
    attempt(exports, "report", lambda: driver.download(
        page, page.get_by_test_id("stDownloadButton").filter(has_text="Build the HTML report").first))
    page.context.close()
    return exports


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def cohort_file(size: int) -> Path | None:
    if size == 32:
        return None  # the demo, as the README's command runs it
    from analytics.synthetic import ensure_synthetic_file
    return ensure_synthetic_file(size, RESULTS / "cohorts", seed=0)


# --- report ------------------------------------------------------------------------------------
def _s(x) -> str:
    return "-" if x is None else f"{x:.2f} s"


def _ratio(x, floor) -> str:
    return "-" if x is None or not floor else f"{x / floor:.2f}x"


def report(result: dict) -> list[str]:
    floor = result["floor"]
    lines = [f"Floor (bare Streamlit, 1 chart, 10 sidebar widgets): fresh first page {_s(floor['fresh_first_page_s'])} "
             f"(median of {floor.get('fresh_first_page_samples')}), "
             f"first visit {_s(floor['first_visit_s'])}, revisit {_s(floor['revisit_s'])}, new session "
             f"{_s(floor['new_session_s'])}, filter change {_s(floor['filter_change_s'])}; "
             f"load {floor['loadavg_start']} -> {floor['loadavg_end']}", ""]
    kinds = [("first_visit_s", "first_visit_s"), ("revisit_s", "revisit_s"),
             ("new_session_s", "new_session_s"), ("filter_change_s", "filter_change_s")]
    for app in result["apps"]:
        n = app["patients"]
        lines += [f"### {n:,} patients (load {app['loadavg_start']} -> {app['loadavg_end']}; server up in "
                  f"{_s(app['server_start_s'])})", "",
                  f"Fresh server, first page: {_s(app.get('fresh_first_page_s'))} (median of "
                  f"{app.get('fresh_first_page_samples')}) "
                  f"({_ratio(app.get('fresh_first_page_s'), floor['fresh_first_page_s'])} of the floor's)", "",
                  "| page | first visit | / floor | revisit | / floor | new session | / floor | filter change | / floor |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for path, _ in PAGES:
            row = app["pages"][path]
            cells = []
            for key, floor_key in kinds:
                cells += [_s(row.get(key)), _ratio(row.get(key), floor[floor_key])]
            lines.append(f"| {path} | " + " | ".join(cells) + " |")
        lines += ["", "| export | " + " | ".join(EXPORTS) + " |", "|---|" + "---|" * len(EXPORTS),
                  "| click to file | " + " | ".join(_s(app["exports"].get(e)) for e in EXPORTS) + " |", ""]
        for error in app.get("errors", []):
            lines.append(f"- error: {error}")
        for page_row in app["pages"].values():
            for error in page_row.get("errors", []):
                lines.append(f"- error: {error}")
        for error in app["exports"].get("errors", []):
            lines.append(f"- error: {error}")
    return lines


def targets(result: dict) -> list[tuple[str, bool | None, str]]:
    """(target, passed or None when not measured, measured value)."""
    floor, out = result["floor"], []
    by_size = {a["patients"]: a for a in result["apps"]}
    small = by_size.get(32)
    if small:
        fresh = small.get("fresh_first_page_s")
        out.append((f"32: fresh server first page <= {FRESH_VS_FLOOR_MAX}x floor",
                    None if fresh is None else fresh <= FRESH_VS_FLOOR_MAX * floor["fresh_first_page_s"],
                    _ratio(fresh, floor["fresh_first_page_s"])))
        for key, limit, label in (("revisit_s", REVISIT_VS_FLOOR_MAX, "revisit"),
                                  ("new_session_s", NEW_SESSION_VS_FLOOR_MAX, "new session")):
            for path, _ in PAGES:
                value = small["pages"][path].get(key)
                out.append((f"32: {path} {label} <= {limit}x floor",
                            None if value is None else value <= limit * floor[key], _ratio(value, floor[key])))
        for export, limit in EXPORT_MAX_S.items():
            value = small["exports"].get(export)
            out.append((f"32: {export} < {limit} s", None if value is None else value < limit, _s(value)))
    for n, app in by_size.items():
        if n == 32 or not small:
            continue
        pairs = [("fresh first page", app.get("fresh_first_page_s"), small.get("fresh_first_page_s"))]
        for path, _ in PAGES:
            for key, label in (("revisit_s", "revisit"), ("new_session_s", "new session"),
                               ("first_visit_s", "first visit"), ("filter_change_s", "filter change")):
                pairs.append((f"{path} {label}", app["pages"][path].get(key), small["pages"][path].get(key)))
        for export in EXPORTS:
            pairs.append((export, app["exports"].get(export), small["exports"].get(export)))
        for label, large, base in pairs:
            ok = None if large is None or base is None else large <= LARGE_VS_32_MAX * base
            out.append((f"{n:,}: {label} <= {LARGE_VS_32_MAX}x the 32-patient time", ok,
                        "-" if ok is None else f"{large / base:.2f}x"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,10k", help="cohort sizes (32 = the demo; others synthetic)")
    parser.add_argument("--port", type=int, default=8771, help="first of consecutive ports (floor, then each size)")
    parser.add_argument("--timeout", type=float, default=90, help="seconds per step")
    parser.add_argument("--floor-repeats", type=int, default=3, help="floor revisits/new sessions (median)")
    parser.add_argument("--fresh-repeats", type=int, default=2,
                        help="fresh servers per app and floor (median of their first pages)")
    args = parser.parse_args(argv)
    from tests.e2e.conftest import chromium_path
    chromium = chromium_path()
    if chromium is None:
        print("Chromium is not installed (scripts/ensure_chromium.sh installs it)")
        return 1
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    files = {n: cohort_file(n) for n in sizes}  # built before anything is timed
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    result: dict = {"started_utc": started, "loadavg_start": loadavg(), "cpus": os.cpu_count(),
                    "method": "scripts/run_app.sh server per size, headless Chromium (Playwright); "
                              "navigation to sidebar count + script idle + every chart drawn",
                    "apps": []}
    t0 = time.perf_counter()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            print(f"floor (load {loadavg()})", flush=True)
            result["floor"] = measure_floor(browser, args.port, args.timeout, args.floor_repeats,
                                            args.fresh_repeats)
            for i, n in enumerate(sizes, start=1):
                print(f"app at {n:,} patients (load {loadavg()})", flush=True)
                result["apps"].append(measure_app(browser, args.port + i, n, files[n], args.timeout,
                                                  args.fresh_repeats))
        finally:
            browser.close()
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["loadavg_end"] = loadavg()
    checks = targets(result)
    result["targets"] = [{"target": t, "pass": ok, "measured": m} for t, ok, m in checks]
    lines = report(result)
    lines += ["Targets (issue 20):", ""]
    for target, ok, measured in checks:
        lines.append(f"- {'PASS' if ok else 'MISS' if ok is False else 'n/a '} {target}: {measured}")
    passed = sum(ok is True for _, ok, _ in checks)
    lines += ["", f"{passed} of {len(checks)} targets met; run {result['wall_s']:.0f} s, load average "
                  f"{result['loadavg_start']} at the start, {result['loadavg_end']} at the end ({result['cpus']} CPUs)"]
    print("\n".join(lines))
    out = RESULTS / f"browser-{started}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
