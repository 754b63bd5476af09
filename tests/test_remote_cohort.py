"""A cohort served over HTTP (local http.server) is fetched atomically and opens read-only;
DuckDB cannot open it over HTTP itself without the httpfs extension (not installable here)."""
from __future__ import annotations

import functools
import http.server
import threading

import duckdb
import pytest

from analytics.cohort import count_patients
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.remote import fetch_cohort
from analytics.synthetic import build_synthetic_file


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    build_synthetic_file(300, root / "cohort.duckdb", seed=5)
    (root / "broken.duckdb").write_bytes(b"not a database" * 100)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_fetch_then_open_read_only(served, tmp_path):
    base, root = served
    out = fetch_cohort(f"{base}/cohort.duckdb", tmp_path / "local" / "cohort.duckdb")
    db = CohortDatabase.open_file(out)
    assert count_patients(db, CohortFilter()) == 300
    assert db.synthetic
    with pytest.raises(duckdb.Error):  # the app's handle is read-only
        db.query("CREATE TABLE x (i INTEGER)")
    db.close()
    # same version on the server: not downloaded again (file untouched)
    mtime = out.stat().st_mtime_ns
    assert fetch_cohort(f"{base}/cohort.duckdb", out) == out
    assert out.stat().st_mtime_ns == mtime


def test_bad_download_never_replaces_a_working_file(served, tmp_path):
    base, _ = served
    local = tmp_path / "local"
    out = fetch_cohort(f"{base}/cohort.duckdb", local / "cohort.duckdb")
    before = out.read_bytes()
    with pytest.raises(Exception):
        fetch_cohort(f"{base}/broken.duckdb", out)
    assert out.read_bytes() == before
    # no temporary download left behind
    assert sorted(p.name for p in local.iterdir()) == ["cohort.duckdb", "cohort.duckdb.source.json"]


def test_duckdb_http_attach_needs_httpfs(served):
    """Documents the limit measured here: DuckDB itself reads http(s):// only via httpfs."""
    base, _ = served
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS remote (READ_ONLY)", [f"{base}/cohort.duckdb"])
    except duckdb.Error as exc:
        assert "httpfs" in str(exc)
    else:  # httpfs available (e.g. a deployment with internet): then it must read the cohort
        assert con.execute("SELECT count(*) FROM remote.patients").fetchone()[0] == 300
    finally:
        con.close()


def test_replicas_share_one_read_only_file(tmp_path):
    """Several app processes (replicas) can open the same cohort file read-only at once."""
    import subprocess
    import sys
    path = build_synthetic_file(200, tmp_path / "shared.duckdb", seed=2)
    here = CohortDatabase.open_file(path)  # this process keeps its handle open meanwhile
    code = ("from analytics.db import CohortDatabase; from analytics.cohort import count_patients; "
            "from analytics.filters import CohortFilter; import sys; "
            "db = CohortDatabase.open_file(sys.argv[1]); print(count_patients(db, CohortFilter()))")
    procs = [subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            timeout=120) for _ in range(2)]
    assert [p.stdout.strip() for p in procs] == ["200", "200"], [p.stderr[-300:] for p in procs]
    assert count_patients(here, CohortFilter()) == 200
    here.close()
