"""The one module that reads DuckDB: every query of the app and its views goes through here.

A `CohortDatabase` holds one DuckDB connection and hands every query its own cursor, so
concurrent Streamlit sessions (threads) never share a cursor. The shared cohort file is always
opened read-only: the app never writes to it. Uploaded cohorts (session-only) live in an
in-memory database built by `analytics.build`.

Two modules open DuckDB to write, and only databases they are creating: `analytics.build`
(the cohort file, built in a temporary file and renamed into place, and in-memory cohorts) and
`analytics.synthetic` (synthetic cohorts for tests and benchmarks, in memory or as a file
through `build.write_atomically`). Both hand the result over as a `CohortDatabase`. The
reproduce scripts (`analytics.reproduce`) are standalone and open the file read-only themselves.
"""
from __future__ import annotations

import logging
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pandas as pd

log = logging.getLogger("ball.db")

# Per process; README "Settings" (BALL_DUCKDB_MEMORY_LIMIT). 250MB: five sessions on the 1M
# cohort peaked at 854 MB server RSS with 500MB, 749 MB with 250MB, same wall time, no error;
# 150MB made queries fail with DuckDB's out-of-memory error (bench.sessions_rss).
DEFAULT_MEMORY_LIMIT = "250MB"
# Queries of the shared file running at once (more wait for a slot). Every query already uses
# DuckDB's threads (one per core) and the machine has two cores, so more at once is no faster,
# but each holds its working memory and its result frame at the same time (bench.sessions_rss).
QUERIES_AT_ONCE = 2
# A query waits at most this long for a slot, then runs anyway (logged): a slot held by a reader
# that was abandoned mid-way (an unfinished query_batches) may cost memory, never a hung server.
SLOT_WAIT_S = 20.0
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

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path | None = None,
                 queries_at_once: int | None = None):
        self._connection = connection
        # None: no limit (in-memory cohorts of one session); the shared file: QUERIES_AT_ONCE
        self._slots = threading.BoundedSemaphore(queries_at_once) if queries_at_once else None
        self.path = path  # the file, when opened from one (reproduce scripts name it; None: in memory)
        # Guards cursor creation and the count of queries in flight (queries run in parallel),
        # so `close` waits for running queries instead of cutting them off.
        self._state = threading.Condition()
        self._active = 0
        self._closed = False
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
        foreign = _not_duckdb(path)
        if foreign:
            raise CohortDatabaseError(
                f"Cohort database '{path}' cannot be read: it is not a DuckDB database file ({foreign}). Point "
                f"BALL_COHORT_DB at a cohort database, or rebuild it with: {REBUILD_COMMAND}")
        # Never fetch or load an extension because of a file's content (DuckDB would otherwise
        # download the sqlite scanner from the internet to read a SQLite file).
        # DuckDB's own allocator (jemalloc, built in) keeps the pages a finished query freed
        # until that thread allocates again; its background threads hand them back to the
        # system after a short decay, so one session's aggregation at 1M patients is not held
        # for the life of the server (a 700k-responder MRD grouping: +440 MB kept without,
        # +185 MB with; bench.sessions_rss).
        config = {"memory_limit": memory_limit, "allocator_background_threads": True,
                  "temp_directory": str(Path(tempfile.gettempdir()) / "ball-cohort-duckdb"),
                  "autoload_known_extensions": False, "autoinstall_known_extensions": False}
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
            return cls(connection, path, QUERIES_AT_ONCE)
        except duckdb.Error as exc:
            connection.close()
            raise _unreadable(path, exc) from exc

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor for one query. A file that breaks under a running app (truncated or
        overwritten in place) is reported as a CohortDatabaseError with the rebuild command.
        Waits for a slot when `queries_at_once` queries are running (held until the cursor closes)."""
        slot = self._slots is not None and self._slots.acquire(timeout=SLOT_WAIT_S)
        if self._slots is not None and not slot:
            log.warning("no query slot free after %.0f s: running the query without one", SLOT_WAIT_S)
        try:
            with self._state:
                if self._closed:
                    raise CohortDatabaseError("The cohort database was replaced while this page was being "
                                              "computed. Reload the page.")
                self._active += 1
                try:
                    cursor = self._connection.cursor()
                except BaseException:
                    self._active -= 1
                    raise
        except BaseException:
            if slot:
                self._slots.release()
            raise
        try:
            yield cursor
        except (duckdb.IOException, duckdb.SerializationException) as exc:
            if self.path is None:
                raise
            raise _unreadable(self.path, exc) from exc
        finally:
            cursor.close()
            with self._state:
                self._active -= 1
                self._state.notify_all()
            if slot:
                self._slots.release()

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """Run one parameterized query on a fresh cursor and return a DataFrame."""
        with self._cursor() as cursor:
            return cursor.execute(sql, params or []).df()

    def query_batches(self, sql: str, params: Sequence[Any] | dict | None = None,
                      rows: int = 65536) -> Iterator[pd.DataFrame]:
        """Run one query and yield its result as DataFrames of at most `rows` rows each, so a
        caller that reduces the rows never holds all of them in pandas."""
        with self._cursor() as cursor:
            result = cursor.execute(sql, params or [])
            vectors = max(1, rows // 2048)  # DuckDB hands rows over in vectors of 2048
            while True:
                chunk = result.fetch_df_chunk(vectors)
                if chunk.empty:
                    return
                for start in range(0, len(chunk), rows):
                    yield chunk.iloc[start:start + rows].reset_index(drop=True)

    def scalar(self, sql: str, params: Sequence[Any] | dict | None = None) -> Any:
        with self._cursor() as cursor:
            row = cursor.execute(sql, params or []).fetchone()
            return None if row is None else row[0]

    def describe(self, relation: str) -> pd.DataFrame:
        """Column names and types of a table or view (name checked against the catalog)."""
        known = set(self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")["table_name"])
        if relation not in known:
            raise ValueError(f"unknown table or view: {relation!r}")
        return self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [relation])

    def close(self, wait_seconds: float = 30.0) -> None:
        """Refuse new queries, let running ones finish (up to `wait_seconds`), then close.

        Closing matters for a file: DuckDB keeps one instance per path and process, and a new
        connection to a replaced file would get the old, still open, instance."""
        with self._state:
            self._closed = True
            self._state.wait_for(lambda: self._active == 0, timeout=wait_seconds)
            self._connection.close()


def _not_duckdb(path: Path) -> str | None:
    """What the file is instead of a DuckDB database (by its first bytes), or None.

    DuckDB files carry the magic bytes 'DUCK' at offset 8."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return f"it cannot be read: {exc.strerror}"
    if len(head) < 12:
        return f"it is {len(head)} bytes long, truncated or empty"
    if head.startswith(b"SQLite format 3"):
        return "it is a SQLite database"
    if head[8:12] != b"DUCK":
        return "its header is not DuckDB's"
    return None
