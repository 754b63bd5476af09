"""`python -m analytics.importing FILES --out path.duckdb`: validate, print the located report,
exit 1 leaving the old file untouched on errors; write atomically on success."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

from analytics.build import DEMO_SOURCE
from analytics.db import CohortDatabase
from analytics.importing.__main__ import main
from analytics.importing.template import tables_from_folder, workbook_from_tables

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics.importing", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_success_writes_the_cohort_file(tmp_path):
    book = tmp_path / "cohort.xlsx"
    book.write_bytes(workbook_from_tables(tables_from_folder(DEMO_SOURCE)))
    out = tmp_path / "out" / "cohort.duckdb"
    done = run_cli(str(book), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "32 patients" in done.stderr
    db = CohortDatabase.open_file(out)
    assert int(db.scalar("SELECT count(*) FROM patient_summary")) == 32
    db.close()
    assert sorted(p.name for p in out.parent.iterdir()) == ["cohort.duckdb"]  # no temporary left


def test_errors_print_the_report_and_leave_the_old_file_untouched(tmp_path, capsys):
    tables = tables_from_folder(DEMO_SOURCE)
    folder = tmp_path / "csv"
    folder.mkdir()
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    patients.loc[2, "sex"] = "X"            # spreadsheet row 4
    patients.to_csv(folder / "patients.csv", index=False)
    out = tmp_path / "cohort.duckdb"
    out.write_bytes(b"the old file")
    code = main([str(p) for p in sorted(folder.glob("*.csv"))] + ["--out", str(out)])
    assert code == 1
    assert out.read_bytes() == b"the old file"
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert list(rows[0]) == ["severity", "file", "sheet", "row", "column", "value", "problem", "fix"]
    assert [(r["severity"], r["file"], r["row"], r["column"], r["value"]) for r in rows] == [
        ("error", "patients.csv", "4", "sex", "X")]
    assert "nothing written" in captured.err
    # the same through the real command line
    done = run_cli(*[str(p) for p in sorted(folder.glob("*.csv"))], "--out", str(out))
    assert done.returncode == 1 and "patients.csv,,4,sex,X" in done.stdout
    assert out.read_bytes() == b"the old file"


def test_missing_input_file_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.xlsx"), "--out", str(tmp_path / "x.duckdb")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()
