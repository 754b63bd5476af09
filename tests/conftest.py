"""Shared fixtures: the demo cohort (built once per run, in memory and as a file)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from analytics.build import DEMO_SOURCE, build_file, build_in_memory

ROOT = Path(__file__).resolve().parent.parent

# No wall-clock deadline per Hypothesis example: on the shared 2-core machine a 20 ms example took
# 297 ms under load and failed as "unreliable timings" (speed goals live in bench/, not in tests).
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(scope="session")
def demo_db():
    """The demo cohort in an in-memory DuckDB (unit tests of analytics/)."""
    db = build_in_memory(DEMO_SOURCE)
    yield db
    db.close()


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory) -> Path:
    """The demo cohort built as a file with the pinned DuckDB, as the run command builds it."""
    return build_file(DEMO_SOURCE, tmp_path_factory.mktemp("db") / "cohort.duckdb")


@pytest.fixture(scope="session")
def demo_file_db(demo_db_file):
    """The built demo file opened read-only, exactly as the app opens it."""
    from analytics.db import CohortDatabase
    db = CohortDatabase.open_file(demo_db_file)
    yield db
    db.close()


@pytest.fixture(autouse=True, scope="session")
def _app_database_env(demo_db_file):
    """AppTest runs the real app; point it at the freshly built file, never at a shared one."""
    previous = os.environ.get("BALL_COHORT_DB")
    os.environ["BALL_COHORT_DB"] = str(demo_db_file)
    yield
    if previous is None:
        os.environ.pop("BALL_COHORT_DB", None)
    else:
        os.environ["BALL_COHORT_DB"] = previous


@pytest.fixture(scope="session")
def reproduce_cohorts(demo_db_file, tmp_path_factory) -> dict[str, Path]:
    """Cohort files the reproduce scripts are run on: the demo and a 600-patient synthetic cohort."""
    from analytics.synthetic import build_synthetic_file
    synthetic = build_synthetic_file(600, tmp_path_factory.mktemp("synthetic") / "synthetic.duckdb", seed=7)
    return {"demo": Path(demo_db_file), "synthetic": synthetic}
