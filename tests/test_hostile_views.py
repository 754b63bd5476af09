"""No crash from a link or a file: URL filters outside the cohort, a patient with only a death
event, a day far beyond any follow-up, a cohort file that is truncated, foreign or replaced
while the app runs."""
from __future__ import annotations

import os
import shutil

import duckdb
import pandas as pd
import pytest

from analytics import patient
from analytics.build import DEMO_SOURCE, build_file
from analytics.db import REBUILD_COMMAND, CohortDatabase, CohortDatabaseError
from analytics.filters import CohortFilter
from analytics.importing import build_database, import_files
from analytics.importing.template import tables_from_folder
from analytics.survival import month_ticks
from tests.apptest_helpers import all_text, run_page

PAGES = ["overview", "patient", "genomics", "withdrawal", "response", "survival", "dictionary",
         "share", "upload"]


# --- URL filters outside the cohort ---------------------------------------------------------
@pytest.mark.parametrize("age", ["90-100", "0-10"])
@pytest.mark.parametrize("page", PAGES)
def test_age_outside_the_cohort_is_dropped_with_a_notice(page, age):
    at = run_page(f"pages/{page}.py", {"age": age})
    assert not at.exception
    assert f"{age} is outside this cohort (48-81): dropped" in all_text(at)
    assert "32 of 32 patients" in all_text(at)
    assert "age" not in at.query_params


def test_age_overlapping_the_cohort_is_clamped_with_a_notice():
    at = run_page("pages/overview.py", {"age": "60-1000000000000000000000"})
    assert not at.exception
    assert "clamped to 60-81" in all_text(at)
    assert at.query_params["age"] in ("60-81", ["60-81"])


@pytest.mark.parametrize("value", ["nan-inf", "1e309-5", "-inf-0", "5-", "--", "٣-٤"])
def test_age_that_is_not_a_whole_number_is_ignored(value):
    at = run_page("pages/survival.py", {"age": value})
    assert not at.exception
    assert "32 of 32 patients" in all_text(at)


# --- a patient with only a death event; a day far beyond any follow-up -----------------------
def death_only_tables() -> dict[str, pd.DataFrame]:
    """The demo cohort plus S99, whose only event is death on day 10 (as every cBioPortal
    1:DECEASED patient without a timeline)."""
    tables = tables_from_folder(DEMO_SOURCE)
    patients = tables["patients"]
    extra = patients[patients["patient_id"] == "S01"].assign(patient_id="S99")
    tables["patients"] = pd.concat([patients, extra], ignore_index=True)
    events = tables["events"]
    death = {column: "" for column in events.columns} | {
        "event_id": "9999", "patient_id": "S99", "event_type": "death", "day": "10"}
    tables["events"] = pd.concat([events, pd.DataFrame([death])], ignore_index=True)
    return tables


def death_only_files() -> list[tuple[str, bytes]]:
    return [(f"{name}.csv", frame.to_csv(index=False).encode()) for name, frame in death_only_tables().items()]


def test_key_facts_of_a_patient_with_only_a_death_event():
    result = import_files(death_only_files())
    assert result.ok, result.report.text()
    db = build_database(result.tables)
    facts = patient.key_facts(db, CohortFilter(), "S99").set_index("fact")["value"]
    assert facts["Overall survival"] == "0.3 months, died (cause not recorded)"
    assert facts["Status at last contact"] == "dead"  # no last-contact day to add


def test_every_page_with_a_patient_with_only_a_death_event():
    at = run_page("pages/upload.py")
    at.get("file_uploader")[0].set_value([(n, d, "text/csv") for n, d in death_only_files()]).run()
    at.button(key="upload_load").click().run()
    assert not at.exception
    at.query_params["patient"] = "S99"
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
    at.switch_page("pages/survival.py")
    at.query_params["endpoint"] = "OS"
    at.run()
    assert not at.exception


@pytest.mark.parametrize("months", [0, 1, 30, 999_999 / 30.4375, 1e12, float("inf"), float("nan"), -5])
def test_month_ticks_for_any_follow_up(months):
    ticks = month_ticks(months)
    assert ticks[0] == 0 and len(ticks) <= 12
    assert all(b > a for a, b in zip(ticks, ticks[1:]))


def test_km_chart_with_a_day_far_beyond_any_follow_up():
    from analytics.survival import curves_from_counts
    from analytics.survival.chart import km_chart
    counts = pd.DataFrame({"group": ["A", "A"], "time_days": [30, 999_999], "n_event": [1, 0],
                           "n_censored": [0, 1]})
    assert km_chart(curves_from_counts(counts), counts, title="OS").to_dict()


# --- cohort files: truncated, foreign, replaced ------------------------------------------------
def test_sqlite_file_is_refused_without_loading_an_extension(tmp_path, monkeypatch):
    path = tmp_path / "cohort.duckdb"
    import sqlite3
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE patients (id TEXT)")
    with pytest.raises(CohortDatabaseError, match="it is a SQLite database") as error:
        CohortDatabase.open_file(path)
    assert REBUILD_COMMAND in str(error.value)
    monkeypatch.setenv("BALL_COHORT_DB", str(path))
    at = run_page()
    assert not at.exception
    assert "is not a DuckDB database file (it is a SQLite database)" in all_text(at)


def test_the_shared_file_is_opened_without_extension_autoloading(demo_file_db):
    settings = demo_file_db.query("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                  "('autoload_known_extensions', 'autoinstall_known_extensions')")
    assert dict(zip(settings["name"], settings["value"])) == {
        "autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def test_truncated_duckdb_file_shows_the_rebuild_message(tmp_path, demo_db_file, monkeypatch):
    path = tmp_path / "cohort.duckdb"
    path.write_bytes(demo_db_file.read_bytes()[:5000])
    monkeypatch.setenv("BALL_COHORT_DB", str(path))
    at = run_page("pages/genomics.py")
    assert not at.exception
    assert "cannot be read" in all_text(at) and REBUILD_COMMAND in all_text(at)


def test_file_truncated_in_place_under_the_running_app(tmp_path, demo_db_file, monkeypatch):
    path = tmp_path / "cohort.duckdb"
    shutil.copy(demo_db_file, path)
    monkeypatch.setenv("BALL_COHORT_DB", str(path))
    at = run_page("pages/genomics.py")
    assert not at.exception and "32 of 32 patients" in all_text(at)
    with open(path, "r+b") as handle:  # in place: same inode
        handle.truncate(path.stat().st_size // 3)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    at.run()
    assert not at.exception
    assert "cannot be read" in all_text(at) and REBUILD_COMMAND in all_text(at)


def test_an_atomically_replaced_file_is_seen_on_the_next_run(tmp_path, monkeypatch):
    """DuckDB hands back the open instance for a path: the old handle must be closed first."""
    path = tmp_path / "cohort.duckdb"
    build_file(DEMO_SOURCE, path)
    monkeypatch.setenv("BALL_COHORT_DB", str(path))
    at = run_page("pages/overview.py")
    assert "32 of 32 patients" in all_text(at)
    smaller = tables_from_folder(DEMO_SOURCE)
    keep = {"S01", "S02", "S05", "S06", "S08"}
    folder = tmp_path / "five"
    folder.mkdir()
    for name, frame in smaller.items():
        if "patient_id" in frame:
            frame = frame[frame["patient_id"].isin(keep)]
        frame.to_csv(folder / f"{name}.csv", index=False)
    build_file(folder, tmp_path / "beside.duckdb")
    os.replace(tmp_path / "beside.duckdb", path)  # the README's atomic rebuild
    at.run()
    assert not at.exception
    assert "5 of 5 patients" in all_text(at)
    other = run_page("pages/overview.py")  # a new session too
    assert "5 of 5 patients" in all_text(other)


def test_closing_waits_for_running_queries_and_refuses_new_ones(demo_db_file, tmp_path):
    path = tmp_path / "c.duckdb"
    shutil.copy(demo_db_file, path)
    db = CohortDatabase.open_file(path)
    with db._cursor() as cursor:
        import threading
        closer = threading.Thread(target=db.close)
        closer.start()
        closer.join(timeout=0.5)
        assert closer.is_alive()  # waits for the query in flight
        assert cursor.execute("SELECT count(*) FROM patients").fetchone() == (32,)
    closer.join(timeout=5)
    assert not closer.is_alive()
    with pytest.raises(CohortDatabaseError, match="Reload the page"):
        db.query("SELECT 1")
    assert duckdb.connect(str(path), read_only=True).execute("SELECT count(*) FROM patients").fetchone() == (32,)


def test_a_run_whose_file_is_replaced_midway_gets_the_reload_message(tmp_path, monkeypatch):
    """Another session reopened the replaced file (closing the old handle) while this session's
    page was being computed: the page says so, no error page."""
    from ui import state
    path = tmp_path / "cohort.duckdb"
    build_file(DEMO_SOURCE, path)
    monkeypatch.setenv("BALL_COHORT_DB", str(path))
    at = run_page("pages/overview.py")
    token = at.session_state["db_token"]
    old = state._DATABASES[token]
    old.close()
    state._DATABASES.pop(token)
    with pytest.raises(CohortDatabaseError, match="Reload the page"):
        state.database_for(token)
    with pytest.raises(CohortDatabaseError, match="Reload the page"):
        old.query("SELECT 1")
