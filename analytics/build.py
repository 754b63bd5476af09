"""Build a cohort DuckDB file (or an in-memory cohort) from the four CSV tables.

The file is written atomically: to a temporary file beside the target, then renamed, so a
failed build never leaves a half-written or missing database behind.

    python -m analytics.build --source data/demo_cohort --out data/cohort.duckdb
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

import duckdb

from analytics.db import CohortDatabase

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")  # load order respects references
DEMO_SOURCE = Path(__file__).resolve().parent.parent / "data" / "demo_cohort"


def _load(connection: duckdb.DuckDBPyConnection, source: Path) -> None:
    connection.execute(SCHEMA_SQL.read_text())
    for table in TABLES:
        csv_path = source / f"{table}.csv"
        if not csv_path.exists():
            raise FileNotFoundError(f"{csv_path}: missing (every cohort needs {', '.join(TABLES)})")
        # Read everything as text and let the INSERT cast to the schema's types, so a bad value
        # fails against the schema rather than against a guessed CSV type.
        connection.execute(
            f"INSERT INTO {table} BY NAME "
            "SELECT * FROM read_csv(?, header = true, all_varchar = true, nullstr = '')",
            [str(csv_path)])
    materialize_summary(connection)


def materialize_summary(connection: duckdb.DuckDBPyConnection) -> None:
    """Store the derived `patient_summary` view as a table, computed once after loading.

    A cohort file is read-only once built, so nothing can make the stored rows stale, and
    every page queries `patient_summary`: as a view each query re-derives every patient's
    endpoints from the events (0.6-2 s and over 1 GB at 1,000,000 patients); as a table it is
    a column scan. Same name, columns, types and rows as the view in schema.sql.
    """
    connection.execute("CREATE TABLE patient_summary_rows AS SELECT * FROM patient_summary ORDER BY patient_id")
    connection.execute("DROP VIEW patient_summary")
    connection.execute("ALTER TABLE patient_summary_rows RENAME TO patient_summary")


def build_file(source: str | Path, out: str | Path) -> Path:
    """Build `out` from the CSV tables in `source`; replace it only when the build succeeded."""
    source = Path(source)
    return write_atomically(out, lambda connection: _load(connection, source))


def write_atomically(out: str | Path, fill: Callable[[duckdb.DuckDBPyConnection], None]) -> Path:
    """Create a DuckDB file at `out` with `fill(connection)`: written to a temporary file beside
    it, then renamed, so a failed build never replaces (or half-writes) an existing file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    os.unlink(tmp_name)  # DuckDB must create the file itself
    try:
        connection = duckdb.connect(tmp_name)
        try:
            fill(connection)
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        os.replace(tmp_name, out)
    finally:
        for leftover in (tmp_name, tmp_name + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return out


def build_in_memory(source: str | Path) -> CohortDatabase:
    """The same cohort in an in-memory database (tests, session-only cohorts)."""
    source = Path(source)
    connection = duckdb.connect(":memory:")
    _load(connection, source)
    return CohortDatabase(connection)


def ensure_demo_database(path: str | Path) -> Path:
    """Build the demo database at `path` if it is missing (the run command and app start-up)."""
    path = Path(path)
    if not path.exists():
        build_file(DEMO_SOURCE, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(DEMO_SOURCE), help="folder with the four CSV tables")
    parser.add_argument("--out", default="data/cohort.duckdb", help="DuckDB file to write")
    args = parser.parse_args(argv)
    try:
        path = build_file(args.source, args.out)
    except (duckdb.Error, FileNotFoundError) as exc:
        print(f"build failed, '{args.out}' left as it was: {exc}", file=sys.stderr)
        return 1
    print(f"built {path} with DuckDB {duckdb.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
