"""The server launcher (scripts/run_app.sh -> ui.warm_start) warms what the first page needs."""
import sys

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
