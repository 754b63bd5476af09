"""The malformed-file corpus (tests/malformed/, table expected.csv): each file is refused with
an error located at the file, sheet, row and column a data manager would look at."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analytics.importing import import_files

CORPUS = Path(__file__).resolve().parent / "malformed"
DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_cohort"
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")
CASES = list(csv.DictReader(open(CORPUS / "expected.csv")))


def test_corpus_is_large_enough_and_complete():
    assert len(CASES) >= 30
    assert {c["case"] for c in CASES} == {p.name for p in CORPUS.iterdir()
                                          if p.name not in ("expected.csv", "make_corpus.py")}


def _upload(case: dict) -> list[tuple[str, bytes]]:
    data = (CORPUS / case["case"]).read_bytes()
    if case["mode"] == "alone":
        return [(case["upload_as"], data)]
    replaced = Path(case["upload_as"]).stem
    others = [(f"{t}.csv", (DEMO / f"{t}.csv").read_bytes()) for t in TABLES if t != replaced]
    return others + [(case["upload_as"], data)]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_malformed_file_gives_located_readable_error(case):
    result = import_files(_upload(case))
    assert not result.ok and result.tables is None
    errors = result.report.errors
    matching = [e for e in errors if case["problem"] in e.problem]
    assert matching, f"no error mentions {case['problem']!r}; got:\n{result.report.text()}"
    issue = matching[0]
    assert issue.file == case["file"]
    assert (issue.sheet or "") == case["sheet"]
    assert issue.row == (int(case["row"]) if case["row"] else None), issue.text()
    assert (issue.column or "") == case["column"], issue.text()
    assert issue.fix and len(issue.text()) < 600  # a readable sentence with a way to fix it


def test_demo_tables_as_csv_pass_without_errors():
    result = import_files([(f"{t}.csv", (DEMO / f"{t}.csv").read_bytes()) for t in TABLES])
    assert result.ok, result.report.text()
    assert result.report.issues == []
