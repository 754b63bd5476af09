"""Bombs uploaded through the browser to the real server (scripts/run_app.sh): each is refused
with its message within seconds, and the server's peak RSS (VmHWM) stays well under 1 GB (a
1.3 MB workbook took it to 7.6 GB before uploads were bounded)."""
from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest

from bench.app_server import start_app_server, stop_app_server
from tests.e2e.conftest import ROOT, wait_for_app
from tests.hostile import corpus

pytestmark = pytest.mark.e2e

BOMBS = {  # case -> the refusal the page must show
    "rows_1000000.xlsx": "expands to 326 MB of XML",
    "rows_60000_varied.xlsx": "more than 50,000 rows",
    "zip_bomb.xlsx": "expands to 210 MB of XML",
    "rows_60000.xlsx": "times (limit 100)",
}


def peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


@pytest.fixture(scope="module")
def server():
    process, url = start_app_server(ROOT / "artifacts" / "e2e-hostile-server.log", timeout=120)
    yield process, url
    stop_app_server(process)


def test_bombs_are_refused_quickly_and_the_server_stays_small(server, page, tmp_path):
    process, url = server
    page.goto(f"{url}/upload")
    page.get_by_role("heading", name="Load a cohort").wait_for(timeout=60000)
    wait_for_app(page)
    before = peak_rss_kb(process.pid)
    for case, refusal in BOMBS.items():
        path = tmp_path / case
        path.write_bytes(corpus.build(case))
        started = time.monotonic()
        page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(str(path))
        page.get_by_text(re.compile(re.escape(refusal))).first.wait_for(state="attached", timeout=30000)
        assert time.monotonic() - started < 15, case
        assert urllib.request.urlopen(url + "/_stcore/health", timeout=5).read() == b"ok"
    peak = peak_rss_kb(process.pid)
    print(f"server VmHWM before uploads {before / 1024:.0f} MB, after the bombs {peak / 1024:.0f} MB")
    assert peak < 1024 * 1024, f"peak RSS {peak / 1024:.0f} MB"
    assert peak - before < 300 * 1024, f"the bombs added {(peak - before) / 1024:.0f} MB"
