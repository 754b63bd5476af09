"""The database layer: read-only, a cursor per query, readable errors, atomic builds."""
import shutil
import threading

import duckdb
import pytest

from analytics.build import DEMO_SOURCE, build_file
from analytics.db import REBUILD_COMMAND, CohortDatabase, CohortDatabaseError
from tests.apptest_helpers import all_text, run_page


def test_the_app_handle_is_read_only(demo_file_db):
    with pytest.raises(duckdb.Error):
        demo_file_db.query("DELETE FROM patients")
    assert demo_file_db.scalar("SELECT count(*) FROM patients") == 32


def test_cohort_info_marks_the_demo_as_synthetic(demo_file_db):
    assert demo_file_db.synthetic is True
    assert "Synthetic" in demo_file_db.label


def test_missing_file_message_names_the_rebuild_command(tmp_path):
    with pytest.raises(CohortDatabaseError, match="does not exist") as error:
        CohortDatabase.open_file(tmp_path / "absent.duckdb")
    assert REBUILD_COMMAND in str(error.value)


def test_corrupt_file_gives_a_readable_message(tmp_path):
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(CohortDatabaseError) as error:
        CohortDatabase.open_file(corrupt)
    message = str(error.value)
    assert "cannot be read" in message and REBUILD_COMMAND in message and "Traceback" not in message


def test_damaged_version_header_gives_a_readable_message(demo_db_file, tmp_path):
    # A file whose header claims another storage version (DuckDB refuses it; here the header
    # checksum catches the change first). Either way the user sees the rebuild command.
    foreign = tmp_path / "foreign.duckdb"
    shutil.copy(demo_db_file, foreign)
    data = bytearray(foreign.read_bytes())
    magic = data.find(b"DUCK")
    assert magic >= 0
    data[magic + 4:magic + 12] = (1).to_bytes(8, "little")
    foreign.write_bytes(bytes(data))
    with pytest.raises(CohortDatabaseError, match="another DuckDB version") as error:
        CohortDatabase.open_file(foreign)
    assert REBUILD_COMMAND in str(error.value)


def test_a_database_without_the_cohort_schema_is_refused_readably(tmp_path):
    other = tmp_path / "other.duckdb"
    connection = duckdb.connect(str(other))
    connection.execute("CREATE TABLE something_else (x INTEGER)")
    connection.close()
    with pytest.raises(CohortDatabaseError, match="cohort_info"):
        CohortDatabase.open_file(other)


def test_app_shows_the_message_not_a_traceback(tmp_path, monkeypatch):
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"\0garbage" * 500)
    monkeypatch.setenv("BALL_COHORT_DB", str(corrupt))
    at = run_page()
    assert not at.exception
    assert "cannot be read" in all_text(at)


def test_failed_build_leaves_the_old_file_untouched(tmp_path, demo_db_file):
    target = tmp_path / "cohort.duckdb"
    shutil.copy(demo_db_file, target)
    before = target.read_bytes()
    bad_source = tmp_path / "bad"
    shutil.copytree(DEMO_SOURCE, bad_source)
    (bad_source / "patients.csv").write_text("patient_id,institution,sex,age_at_ball_dx,lineage\n"
                                             "X1,Site A,unknown,70,B\n")
    with pytest.raises(duckdb.Error):
        build_file(bad_source, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".cohort")) == []


def test_concurrent_queries_use_their_own_cursors(demo_file_db):
    results, errors = [], []

    def work(i):
        try:
            for _ in range(20):
                results.append(int(demo_file_db.scalar(
                    "SELECT count(*) FROM patient_summary WHERE age_at_ball_dx >= ?", [40 + i])))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 160


def _view_rows_equal_stored_rows(connection) -> None:
    """The stored patient_summary has exactly the rows the schema's view derives."""
    from tests.cohort_helpers import summary_view_sql
    connection.execute("CREATE TEMP VIEW derived_summary AS " + summary_view_sql())
    kind = connection.execute("SELECT table_type FROM information_schema.tables "
                              "WHERE table_name = 'patient_summary'").fetchone()[0]
    assert kind == "BASE TABLE"
    n = connection.execute("SELECT count(*) FROM patient_summary").fetchone()[0]
    assert n == connection.execute("SELECT count(*) FROM derived_summary").fetchone()[0] > 0
    for a, b in (("derived_summary", "patient_summary"), ("patient_summary", "derived_summary")):
        assert connection.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL "
                                  f"SELECT * FROM {b})").fetchone()[0] == 0
    assert [r[:2] for r in connection.execute("DESCRIBE patient_summary").fetchall()] == \
        [r[:2] for r in connection.execute("DESCRIBE derived_summary").fetchall()]


def test_built_cohort_stores_the_derived_summary():
    import duckdb
    from analytics import build
    connection = duckdb.connect()
    build._load(connection, build.DEMO_SOURCE)
    _view_rows_equal_stored_rows(connection)


def test_synthetic_cohort_stores_the_derived_summary():
    import duckdb
    from analytics.synthetic import generate
    connection = duckdb.connect()
    generate(connection, 3000, seed=2)
    _view_rows_equal_stored_rows(connection)


def test_memory_limit_caps_duckdb_for_the_shared_file(demo_db_file, tmp_path):
    import shutil
    from analytics.db import CohortDatabase
    copy = shutil.copy(demo_db_file, tmp_path / "capped.duckdb")  # the demo file is open with the default
    capped = CohortDatabase.open_file(copy, memory_limit="300MB")
    try:
        limit = capped.scalar("SELECT current_setting('memory_limit')")
        assert limit.endswith("MiB") and 280 < float(limit.split()[0]) < 290  # 300 MB = 286.1 MiB
        assert capped.scalar("SELECT count(*) FROM patient_summary") > 0
    finally:
        capped.close()


def test_a_wrong_memory_limit_is_named(demo_db_file):
    import pytest
    from analytics.db import CohortDatabase, CohortDatabaseError
    with pytest.raises(CohortDatabaseError, match="'lots' is not a DuckDB memory size"):
        CohortDatabase.open_file(demo_db_file, memory_limit="lots")


def test_the_shared_file_hands_freed_memory_back(demo_file_db):
    """DuckDB's allocator purges freed pages in the background (bench.sessions_rss)."""
    assert demo_file_db.scalar("SELECT current_setting('allocator_background_threads')") is True


@pytest.mark.parametrize("rows", [1, 7, 100, 5000])
def test_query_batches_are_the_query_in_pieces(demo_file_db, rows):
    sql = "SELECT patient_id, day FROM measurements ORDER BY patient_id, day, analyte"
    pieces = list(demo_file_db.query_batches(sql, rows=rows))
    assert all(0 < len(p) <= rows for p in pieces)
    import pandas as pd
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), demo_file_db.query(sql))


def test_the_shared_file_runs_at_most_queries_at_once(demo_file_db, monkeypatch):
    """More concurrent queries than QUERIES_AT_ONCE wait for a slot (bounded working memory)."""
    from analytics import db as dbmod
    running, most = [0], [0]
    lock = threading.Lock()
    real = demo_file_db._connection

    class Counting:
        def cursor(self):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            cursor = real.cursor()
            close = cursor.close

            class Wrapped:
                def execute(self, *a):
                    return cursor.execute(*a)

                def close(self):
                    with lock:
                        running[0] -= 1
                    close()
            return Wrapped()

    monkeypatch.setattr(demo_file_db, "_connection", Counting())
    threads = [threading.Thread(target=lambda: [demo_file_db.scalar(
        "SELECT count(*) FROM events, range(20)") for _ in range(3)]) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= most[0] <= dbmod.QUERIES_AT_ONCE


def test_readers_abandoned_mid_way_never_hang_the_next_query(demo_file_db, monkeypatch):
    """Two readers left unfinished hold both slots; a query waits SLOT_WAIT_S, then runs anyway."""
    from analytics import db as dbmod
    monkeypatch.setattr(dbmod, "SLOT_WAIT_S", 0.2)
    held = [demo_file_db.query_batches("SELECT * FROM events", rows=1) for _ in range(dbmod.QUERIES_AT_ONCE)]
    for reader in held:
        next(reader)  # started, never finished: its slot stays taken
    assert demo_file_db.scalar("SELECT count(*) FROM patients") > 0
    for reader in held:
        reader.close()  # closing the reader gives its slot back
    assert all(demo_file_db._slots.acquire(timeout=0) for _ in range(dbmod.QUERIES_AT_ONCE))
    for _ in range(dbmod.QUERIES_AT_ONCE):
        demo_file_db._slots.release()
