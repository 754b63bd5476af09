"""Fetch a cohort DuckDB file served over HTTP(S) to a local path the app can open read-only.

The app reads the cohort named by BALL_COHORT_DB (a local path). A cohort published on a web
server or object store (a presigned S3/GCS URL is plain HTTPS) is copied once to local disk,
atomically (temporary file beside the target, then rename), and re-fetched only when the
server reports a different size or Last-Modified/ETag. DuckDB's own remote attach needs the
httpfs extension, which is downloaded from extensions.duckdb.org at first use; where that is
possible, see README "Scale and deployment".

    python -m analytics.remote https://example.org/cohort.duckdb --out /srv/cohort.duckdb
    BALL_COHORT_DB=/srv/cohort.duckdb scripts/run_app.sh
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

from analytics.db import CohortDatabase


def _fingerprint(headers) -> dict:
    return {k: headers.get(k) for k in ("Content-Length", "Last-Modified", "ETag")}


def fetch_cohort(url: str, out: str | Path, timeout: float = 60) -> Path:
    """Copy the database at `url` to `out` unless `out` already holds that version.

    The copy is checked by opening it as a cohort (schema, cohort_info) before it replaces
    `out`, so a truncated or wrong download never replaces a working file.
    """
    out = Path(out)
    meta_path = out.with_name(out.name + ".source.json")
    head = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(head, timeout=timeout) as response:
        fingerprint = {"url": url, **_fingerprint(response.headers)}
    if out.exists() and meta_path.exists() and json.loads(meta_path.read_text()) == fingerprint:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".download", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as target, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, target, length=1 << 20)
            expected = response.headers.get("Content-Length")
        if expected is not None and os.path.getsize(tmp_name) != int(expected):
            raise OSError(f"incomplete download of {url}: {os.path.getsize(tmp_name)} of {expected} bytes")
        CohortDatabase.open_file(tmp_name).close()  # raises CohortDatabaseError when unreadable
        os.replace(tmp_name, out)
        meta_path.write_text(json.dumps(fingerprint))
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch a cohort DuckDB file from HTTP(S).")
    parser.add_argument("url")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    path = fetch_cohort(args.url, args.out)
    print(f"{path} ready; start the app with BALL_COHORT_DB={path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
