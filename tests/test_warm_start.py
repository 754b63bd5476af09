"""The server launcher (scripts/run_app.sh -> ui.warm_start) warms what the first page needs."""
import gc
import sys
import threading
import weakref

from ui import state, warm_start


def test_warm_imports_the_page_modules_and_opens_the_shared_cohort_file(monkeypatch):
    monkeypatch.delenv(state.DATABASE_ENV, raising=False)
    path = str(state.database_path())
    state._SHARED.pop(path, None)
    warm_start.warm()
    assert all(name in sys.modules for name in warm_start.MODULES)
    assert path in state._SHARED  # the handle the first page's open_database() hands out
    db = state._SHARED[path][2]
    assert db.query("SELECT count(*) AS n FROM patients")["n"].iloc[0] > 0


def test_the_documented_command_starts_the_server_through_the_warm_start():
    from pathlib import Path
    script = (Path(__file__).resolve().parents[1] / "scripts" / "run_app.sh").read_text()
    assert "-m ui.warm_start streamlit_app.py" in script


def test_heap_limits_apply_on_glibc():
    libc = warm_start._glibc()
    if libc is None:  # musl or macOS: the launcher runs without them
        assert warm_start.limit_heap() is False
    else:
        assert libc.mallopt(warm_start.M_ARENA_MAX, warm_start.ARENAS) == 1


def test_warm_and_freeze_takes_what_was_loaded_out_of_the_collectors_sight(monkeypatch):
    monkeypatch.setattr(warm_start, "warm", lambda: None)
    try:
        warm_start.warm_and_freeze()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


class _Cycle:
    def __init__(self):
        self.me = self


def test_collects_a_cycle_once_quiet_and_trims_the_heap_on_its_period():
    class Libc:
        trims = 0

        def malloc_trim(self, pad):
            Libc.trims += 1
    keeper = warm_start.Housekeeping(Libc(), now=0.0)
    ref = weakref.ref(_Cycle())
    assert ref() is not None  # a cycle: only the collector frees it
    release = threading.Event()
    script = threading.Thread(target=release.wait, name=warm_start.SCRIPT_THREAD)
    script.start()
    try:
        assert warm_start.script_running()
        assert keeper.tick(30.0) is False and ref() is not None  # a run is on
    finally:
        release.set()
        script.join()
    assert keeper.tick(30.0 + warm_start.QUIET_S / 2) is False and ref() is not None  # not quiet long enough
    assert Libc.trims == 1  # its own period, whatever the runs
    assert keeper.tick(30.0 + warm_start.QUIET_S) is True and ref() is None
    again = weakref.ref(_Cycle())
    assert keeper.tick(40.0) is False and again() is not None  # too soon after the last one
    assert keeper.tick(30.0 + warm_start.QUIET_S + warm_start.COLLECT_AT_MOST_EVERY_S) is True and again() is None


def test_a_server_never_quiet_is_still_collected():
    keeper = warm_start.Housekeeping(None, now=0.0)
    release = threading.Event()
    script = threading.Thread(target=release.wait, name=warm_start.SCRIPT_THREAD)
    script.start()
    try:
        ref = weakref.ref(_Cycle())
        assert keeper.tick(1.0) is False
        ref2 = weakref.ref(_Cycle())
        assert keeper.tick(warm_start.COLLECT_AT_LEAST_EVERY_S) is True and ref() is None and ref2() is None
    finally:
        release.set()
        script.join()


def test_streamlit_runs_without_its_per_run_collection_unless_told(monkeypatch):
    from streamlit.web import cli
    seen = []
    monkeypatch.setattr(warm_start, "limit_heap", lambda: True)
    monkeypatch.setattr(warm_start, "warm_and_freeze", lambda: None)
    monkeypatch.setattr(cli, "main", lambda: seen.append(list(sys.argv)) or 0)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    warm_start.main(["streamlit_app.py", "--server.port", "8600"])
    warm_start.main(["streamlit_app.py", "--runner.postScriptGC", "true"])
    assert seen[0] == ["streamlit", "run", "streamlit_app.py", "--server.port", "8600", "--runner.postScriptGC", "false"]
    assert seen[1] == ["streamlit", "run", "streamlit_app.py", "--runner.postScriptGC", "true"]
    from streamlit import config
    assert "runner.postScriptGC" in config.get_config_options()  # the option still exists
