"""The reproduce tests run their scripts in children of a warm runner (tests/script_runner.py);
here one script per page also runs in a fresh interpreter (`python -I view.py DATA_FILE` in an
empty folder, as a reader runs it), and the two runs must agree: exit status, everything printed
and every file written, byte for byte. Set REPRODUCE_FRESH=1 to run every script of the suite fresh."""
from __future__ import annotations

import pytest

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from tests.reproduce_helpers import provenance, run_script, spec_from

# one view per page, each with its figure where it has one, together importing every library the
# scripts use (lifelines, scipy.stats, statsmodels, altair and vl_convert, duckdb, numpy, pandas)
ONE_PER_PAGE = [("survival.km", {"group": "sex"}), ("overview.table_one", {}), ("genomics.cooccurrence", {}),
                ("response.best_response", {}), ("withdrawal.kinetics", {}), ("compare.forest", {}),
                ("dictionary.columns", {}), ("patient.timeline", {"patient": "S05"})]


def test_one_script_per_page():
    reproduce._load_builders()
    assert {key.split(".")[0] for key in reproduce.SCRIPTS} == {key.split(".")[0] for key, _ in ONE_PER_PAGE}


def _files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


@pytest.mark.parametrize(("key", "params"), ONE_PER_PAGE, ids=[key for key, _ in ONE_PER_PAGE])
def test_fresh_interpreter_and_warm_runner_agree(reproduce_cohorts, key, params, tmp_path):
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        script = reproduce.script(key, db, CohortFilter(), spec_from(key.split(".")[0], params),
                                  provenance(data_file))
    finally:
        db.close()
    fresh_folder, warm_folder = tmp_path / "fresh", tmp_path / "warm"
    fresh_folder.mkdir()
    warm_folder.mkdir()
    fresh = run_script(script, fresh_folder, data_file, fresh=True)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    warm = run_script(script, warm_folder, data_file)
    assert (warm.returncode, warm.stdout, warm.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert fresh.stdout.strip()
    assert _files(warm_folder) == _files(fresh_folder)
