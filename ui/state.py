"""The cohort database a session is looking at, cached query calls, and the active filter."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

import streamlit as st

from analytics.build import ensure_demo_database
from analytics.db import CohortDatabase, CohortDatabaseError
from analytics.filters import CohortFilter

DEFAULT_DATABASE = Path(__file__).resolve().parent.parent / "data" / "cohort.duckdb"
DATABASE_ENV = "BALL_COHORT_DB"  # point the app at another cohort file
FILTER_KEY = "cohort_filter"

# Databases by token, so cached functions can take a small hashable token instead of the handle.
_DATABASES: dict[str, CohortDatabase] = {}

T = TypeVar("T")


def database_path() -> Path:
    return Path(os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE)


@st.cache_resource(show_spinner="Opening the cohort database…")
def _open_shared(path: str, mtime_ns: int) -> CohortDatabase:
    # One read-only handle per file version for the whole server; cursors are per query.
    return CohortDatabase.open_file(path)


def open_database() -> tuple[CohortDatabase, str]:
    """The session's cohort and its cache token. Raises CohortDatabaseError with a readable text."""
    path = database_path()
    if path.resolve() == DEFAULT_DATABASE.resolve():
        ensure_demo_database(path)  # a missing demo file is built, never an error
    if not path.exists():
        raise CohortDatabaseError(f"Cohort database '{path}' does not exist (set by {DATABASE_ENV}).")
    mtime = path.stat().st_mtime_ns
    db = _open_shared(str(path), mtime)
    token = f"file:{path}:{mtime}"
    _DATABASES[token] = db
    return db, token


def current_database() -> CohortDatabase:
    return _DATABASES[st.session_state["db_token"]]


def current_token() -> str:
    return st.session_state["db_token"]


def current_filter() -> CohortFilter:
    return st.session_state.get(FILTER_KEY, CohortFilter())


def cached(func: Callable[..., T]) -> Callable[..., T]:
    """Cache `func(db, *args)` per (database token, args): bounded, keyed on small values.

    Pages call `cached(analytics_function)(*args)`; the session's database is supplied here.
    Arguments must be small and hashable (filters, options), never data frames.
    """
    @st.cache_data(max_entries=128, show_spinner=False)
    def run(db_token: str, qualified_name: str, args: tuple, kwargs: tuple) -> Any:
        return func(_DATABASES[db_token], *args, **dict(kwargs))

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> T:
        return run(current_token(), f"{func.__module__}.{func.__qualname__}", args,
                   tuple(sorted(kwargs.items())))

    return call
