"""The one module that touches DuckDB.

A `CohortDatabase` holds one DuckDB connection and hands every query its own cursor, so
concurrent Streamlit sessions (threads) never share a cursor. The shared cohort file is always
opened read-only: the app never writes to it. Uploaded cohorts (session-only) live in an
in-memory database built by `analytics.build`.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any, Sequence

import duckdb
import pandas as pd

DEFAULT_MEMORY_LIMIT = "500MB"  # per process; README "Settings" (BALL_DUCKDB_MEMORY_LIMIT)
REBUILD_COMMAND = "python -m analytics.build --source data/demo_cohort --out data/cohort.duckdb"


class CohortDatabaseError(RuntimeError):
    """A cohort database that cannot be opened or read, with a message for a human."""


def _unreadable(path: Path, exc: Exception) -> CohortDatabaseError:
    return CohortDatabaseError(
        f"Cohort database '{path}' cannot be read ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0]}). It may be corrupt or written by another DuckDB "
        f"version (this app uses DuckDB {duckdb.__version__}). Delete it and rebuild "
        f"with: {REBUILD_COMMAND}")


class CohortDatabase:
    """Read access to one cohort database.

    Examples
    --------
    >>> from analytics.build import build_in_memory
    >>> db = build_in_memory("data/demo_cohort")
    >>> int(db.scalar("SELECT count(*) FROM patients"))
    32
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self._connection = connection
        self.path: Path | None = None  # the file, when opened from one (reproduce scripts name it)
        self._lock = threading.Lock()  # cursor creation only; queries run in parallel
        info = self.query("SELECT cohort_name, synthetic, description FROM cohort_info LIMIT 1")
        if info.empty:
            raise CohortDatabaseError("The cohort has no cohort_info row (name, synthetic, description).")
        self.label = str(info.at[0, "cohort_name"])
        self.synthetic = bool(info.at[0, "synthetic"])
        self.description = str(info.at[0, "description"])

    @classmethod
    def open_file(cls, path: str | Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> "CohortDatabase":
        """Open `path` read-only. `memory_limit` (e.g. "500MB") caps DuckDB's buffer pool and
        working memory for this process (DuckDB's own default is 80% of the machine's RAM);
        beyond it DuckDB spills to a temporary folder (the system's, not beside the read-only
        file). DuckDB refuses a second in-process handle on the same file with another
        configuration, so every caller gets the same one unless it asks otherwise."""
        path = Path(path)
        if not path.exists():
            raise CohortDatabaseError(
                f"Cohort database '{path}' does not exist. Build it with: {REBUILD_COMMAND}")
        config = {"memory_limit": memory_limit,
                  "temp_directory": str(Path(tempfile.gettempdir()) / "ball-cohort-duckdb")}
        try:  # checked apart, so a bad setting is not reported as a bad file
            duckdb.connect(":memory:", config={"memory_limit": memory_limit}).close()
        except duckdb.Error as exc:
            raise CohortDatabaseError(f"Memory limit {memory_limit!r} is not a DuckDB memory size "
                                      f"(e.g. 500MB or 2GB): {str(exc).splitlines()[0]}") from exc
        try:
            connection = duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.Error as exc:
            raise _unreadable(path, exc) from exc
        try:
            db = cls(connection)
        except duckdb.Error as exc:
            raise _unreadable(path, exc) from exc
        db.path = path
        return db

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._connection.cursor()

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """Run one parameterized query on a fresh cursor and return a DataFrame."""
        cursor = self._cursor()
        try:
            return cursor.execute(sql, params or []).df()
        finally:
            cursor.close()

    def scalar(self, sql: str, params: Sequence[Any] | dict | None = None) -> Any:
        cursor = self._cursor()
        try:
            row = cursor.execute(sql, params or []).fetchone()
            return None if row is None else row[0]
        finally:
            cursor.close()

    def describe(self, relation: str) -> pd.DataFrame:
        """Column names and types of a table or view (name checked against the catalog)."""
        known = set(self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")["table_name"])
        if relation not in known:
            raise ValueError(f"unknown table or view: {relation!r}")
        return self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [relation])

    def close(self) -> None:
        self._connection.close()
