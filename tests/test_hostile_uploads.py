"""The hostile-upload corpus (tests/hostile/, table expected.csv): bombs, forged workbooks,
numbers and days out of any range are refused quickly, with a located message, and the
refusal of a bomb costs little memory (measured in a fresh process)."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.importing import import_files
from tests.hostile import corpus

HOSTILE = Path(__file__).resolve().parent / "hostile"
DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_cohort"
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")
CASES = list(csv.DictReader(open(HOSTILE / "expected.csv")))
MALFORMED = Path(__file__).resolve().parent / "malformed" / "expected.csv"
BOMBS = ["rows_1000000.xlsx", "rows_60000.xlsx", "rows_60000_varied.xlsx", "zip_bomb.xlsx", "ratio_bomb.xlsx"]


def test_corpus_files_match_the_table():
    stored = {p.name for p in HOSTILE.iterdir() if p.suffix in (".csv", ".xlsx") and p.name != "expected.csv"}
    assert stored == {c["case"] for c in CASES if c["generated"] == "no"}
    for case in CASES:
        if case["generated"] == "no":  # the stored file is what the builder makes
            assert (HOSTILE / case["case"]).read_bytes() == corpus.build(case["case"]), case["case"]


def test_malformed_and_hostile_corpus_together_hold_at_least_80_cases():
    assert len(list(csv.DictReader(open(MALFORMED)))) + len(CASES) >= 80


def _data(case: dict) -> bytes:
    return (HOSTILE / case["case"]).read_bytes() if case["generated"] == "no" else corpus.build(case["case"])


def _upload(case: dict, data: bytes) -> list[tuple[str, bytes]]:
    if case["mode"] == "alone":
        return [(case["upload_as"], data)]
    replaced = Path(case["upload_as"]).stem
    return [(f"{t}.csv", (DEMO / f"{t}.csv").read_bytes()) for t in TABLES if t != replaced] + [
        (case["upload_as"], data)]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_hostile_file_is_refused_with_a_located_message(case):
    files = _upload(case, _data(case))
    result = import_files(files)
    assert not result.ok and result.tables is None
    matching = [e for e in result.report.errors if case["problem"] in e.problem]
    assert matching, f"no error mentions {case['problem']!r}; got:\n{result.report.text()}"
    issue = matching[0]
    assert issue.file == case["file"]
    assert (issue.sheet or "") == case["sheet"]
    assert issue.row == (int(case["row"]) if case["row"] else None), issue.text()
    assert (issue.column or "") == case["column"], issue.text()
    assert issue.fix and len(issue.text()) < 800


def test_forged_dimension_does_not_pad_rows():
    """A valid template whose sheets claim A1:XFD1048576 imports with its real rows only."""
    data = corpus.forged_dimension_template()
    result = import_files([("cohort.xlsx", data)])
    assert result.ok, result.report.text()
    assert max(len(table) for table in result.tables.values()) < 1_000


# Peak RSS from /proc (VmHWM): getrusage's ru_maxrss of a child can still hold the parent's
# size at fork time (438 MB under a full pytest run), VmHWM starts afresh at exec.
_MEASURE = """
import json, re, sys
from analytics.importing import import_files
def peak_kb():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
data = open(sys.argv[1], "rb").read()
before = peak_kb()
result = import_files([("cohort.xlsx", data)])
print(json.dumps({"ok": result.ok,
                  "before_kb": before, "peak_kb": peak_kb(),
                  "errors": [e.problem for e in result.report.errors]}))
"""


@pytest.mark.parametrize("bomb", BOMBS)
def test_bomb_refusal_peak_memory_stays_small(bomb, tmp_path):
    """Peak RSS of a fresh process that imports the bomb: well under 1 GB (the million-row
    workbook took the server to 7.6 GB before reading was bounded)."""
    path = tmp_path / bomb
    path.write_bytes(corpus.build(bomb))
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                         cwd=HOSTILE.parent.parent, timeout=120, check=True)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    assert not measured["ok"] and measured["errors"]
    assert measured["peak_kb"] < 400 * 1024, measured
    assert measured["peak_kb"] - measured["before_kb"] < 100 * 1024, measured


def test_a_file_of_bad_cells_gives_a_bounded_report():
    """900,000 problems are not listed one by one (nor computed column after column once the
    report is full): the first 1,000, then one line with the count."""
    from analytics.importing.report import MAX_ISSUES
    case = next(c for c in CASES if c["case"] == "every_cell_bad.csv")
    result = import_files(_upload(case, _data(case)))
    assert len(result.report.issues) == MAX_ISSUES and result.report.omitted["error"] > 0
    assert "more problems not listed" in result.report.frame().iloc[-1]["problem"]
    assert not result.ok
