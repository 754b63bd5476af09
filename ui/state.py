"""The cohort database a session is looking at, cached query calls, and the active filter."""
from __future__ import annotations

import dataclasses
import functools
import os
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, TypeVar

import streamlit as st

from analytics.build import ensure_demo_database
from analytics.db import DEFAULT_MEMORY_LIMIT, CohortDatabase, CohortDatabaseError
from analytics.filters import CohortFilter

DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "data" / "cohort.duckdb"
DATABASE_ENV = "BALL_COHORT_DB"  # point the app at another cohort file
MEMORY_LIMIT_ENV = "BALL_DUCKDB_MEMORY_LIMIT"  # DuckDB memory cap for the shared cohort file
FILTER_KEY = "cohort_filter"

SESSION_COHORT_KEY = "session_cohort"  # an uploaded cohort: {"token", "db", "files"} in this session only
_SESSION_ID_KEY = "_session_uuid"

# Databases by token, so cached functions can take a small hashable token instead of the handle.
# Weak values: a session-only cohort is owned by its session's state and goes when the session
# goes; the shared file's handle is owned by st.cache_resource.
_DATABASES: "weakref.WeakValueDictionary[str, CohortDatabase]" = weakref.WeakValueDictionary()

T = TypeVar("T")


def database_path() -> Path:
    return Path(os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE)


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


# The shared file's handle, one per path for the whole server: (file version, memory limit, db).
_SHARED: dict[str, tuple[tuple[int, int], str, CohortDatabase]] = {}
_SHARED_LOCK = threading.Lock()


def _file_version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_ino  # an atomic rebuild (write beside, rename) changes both


def _open_shared(path: str, version: tuple[int, int], limit: str) -> CohortDatabase:
    """One read-only handle per file version for the whole server; cursors are per query.

    When the file changes, the old handle is closed before the new one is opened: DuckDB keeps
    one instance per path and process, and would hand back the old file's still-open instance
    (so an atomic rebuild would not be seen until a restart)."""
    with _SHARED_LOCK:
        current = _SHARED.get(path)
        if current is not None and current[:2] == (version, limit):
            return current[2]
        if current is not None:
            del _SHARED[path]
            for token in [t for t, db in _DATABASES.items() if db is current[2]]:
                _DATABASES.pop(token, None)
            current[2].close()
        db = CohortDatabase.open_file(path, memory_limit=limit)
        _SHARED[path] = (version, limit, db)
        return db


def _session_id() -> str:
    if _SESSION_ID_KEY not in st.session_state:
        st.session_state[_SESSION_ID_KEY] = uuid.uuid4().hex
    return st.session_state[_SESSION_ID_KEY]


def _reset_filters() -> None:
    """A different cohort has other institutions/ages: start it unfiltered (widgets and URL)."""
    for key in list(st.session_state.keys()):
        if str(key).startswith("flt_") or key == FILTER_KEY:
            del st.session_state[key]
    for field in dataclasses.fields(CohortFilter):  # else the sidebar re-seeds them from the URL
        if field.name in st.query_params:
            del st.query_params[field.name]


def use_session_cohort(db: CohortDatabase, content_hash: str, files: tuple[str, ...] = ()) -> str:
    """Make `db` (an in-memory cohort built from validated uploads) this session's cohort.

    Its token carries this session's id and the uploads' content hash, so cached results are
    never shared with another session (nor with another upload). The shared file is untouched.
    """
    token = f"session:{_session_id()}:{content_hash}"
    use_demo_cohort()
    st.session_state[SESSION_COHORT_KEY] = {"token": token, "db": db, "files": tuple(files)}
    _DATABASES[token] = db
    st.session_state["db_token"] = token
    return token


def use_demo_cohort() -> None:
    """Drop this session's uploaded cohort (if any) and go back to the shared cohort file."""
    previous = st.session_state.pop(SESSION_COHORT_KEY, None)
    if previous is not None:
        _DATABASES.pop(previous["token"], None)
        previous["db"].close()
    _reset_filters()


def session_cohort() -> dict | None:
    """This session's uploaded cohort ({"token", "db", "files"}), or None on the shared cohort."""
    return st.session_state.get(SESSION_COHORT_KEY)


def open_database() -> tuple[CohortDatabase, str]:
    """The session's cohort and its cache token. Raises CohortDatabaseError with a readable text.

    An uploaded cohort of this session comes first; otherwise the shared file (read-only)."""
    uploaded = session_cohort()
    if uploaded is not None:
        _DATABASES[uploaded["token"]] = uploaded["db"]
        return uploaded["db"], uploaded["token"]
    path = database_path()
    if path.resolve() == DEFAULT_DATABASE.resolve():
        ensure_demo_database(path)  # a missing demo file is built, never an error
    if not path.exists():
        raise CohortDatabaseError(f"Cohort database '{path}' does not exist (set by {DATABASE_ENV}).")
    version = _file_version(path)
    db = _open_shared(str(path), version, memory_limit())
    token = f"file:{path}:{version[0]}:{version[1]}"
    _DATABASES[token] = db
    return db, token


def current_database() -> CohortDatabase:
    return database_for(st.session_state["db_token"])


def database_for(token: str) -> CohortDatabase:
    """The database a cache token names (cached functions take the token, not the handle).

    A token can outlive its database within one run: the shared file was replaced (its old
    handle closed by another session) while this page was being computed."""
    try:
        return _DATABASES[token]
    except KeyError:
        raise CohortDatabaseError("The cohort database was replaced while this page was being "
                                  "computed. Reload the page.") from None


def current_token() -> str:
    return st.session_state["db_token"]


def current_filter() -> CohortFilter:
    return st.session_state.get(FILTER_KEY, CohortFilter())


@functools.cache  # one wrapper per function for the process: pages call this on every rerun
def cached(func: Callable[..., T]) -> Callable[..., T]:
    """Cache `func(db, *args)` per (database token, args): bounded, keyed on small values.

    Pages call `cached(analytics_function)(*args)`; the session's database is supplied here.
    Arguments must be small and hashable (filters, options), never data frames.
    """
    @st.cache_data(max_entries=128, show_spinner=False)
    def run(db_token: str, qualified_name: str, args: tuple, kwargs: tuple) -> Any:
        return func(database_for(db_token), *args, **dict(kwargs))

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> T:
        return run(current_token(), f"{func.__module__}.{func.__qualname__}", args,
                   tuple(sorted(kwargs.items())))

    def for_token(db_token: str, *args: Any, **kwargs: Any) -> T:
        """The same cache outside a script run (a download), for the database `db_token` names."""
        return run(db_token, f"{func.__module__}.{func.__qualname__}", args, tuple(sorted(kwargs.items())))

    call.for_token = for_token
    return call
