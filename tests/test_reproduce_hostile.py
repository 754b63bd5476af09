"""A cohort's own labels can hold anything (quotes, backslashes, braces, line breaks): written
into a reproduce script they stay data, never become code, for every view's script."""
from __future__ import annotations

import ast
import csv
import shutil

import pytest

from analytics import reproduce
from analytics.build import DEMO_SOURCE, build_file
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from tests.reproduce_helpers import provenance, run_script, spec_from

PAYLOAD = 'Site "A"""\nprint("INJECTED")\n#{x}\\\'\''
GROUPED = {"survival": {"group": "institution"}, "overview": {"t1_group": "institution"},
           "response": {"group": "institution"}}


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    """The demo cohort with Site A renamed to a label that would end any Python string."""
    folder = tmp_path_factory.mktemp("hostile") / "cohort"
    shutil.copytree(DEMO_SOURCE, folder)
    with open(folder / "patients.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["institution"] = PAYLOAD if row["institution"] == "Site A" else row["institution"]
    with open(folder / "patients.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return build_file(folder, tmp_path_factory.mktemp("hostile-db") / "hostile.duckdb")


def _injected_calls(script: str) -> list[int]:
    """Lines where the payload's print(...) became a call of its own (not part of a string)."""
    return [node.lineno for node in ast.walk(ast.parse(script)) if isinstance(node, ast.Call)
            and any(isinstance(a, ast.Constant) and a.value == "INJECTED" for a in node.args)]


def _all_keys() -> list[str]:
    reproduce.available("")  # loads every page's builders
    return sorted(reproduce.SCRIPTS)


@pytest.mark.parametrize("key", _all_keys())
def test_every_script_keeps_a_hostile_label_as_data(hostile_file, key):
    page = key.split(".")[0]
    db = CohortDatabase.open_file(hostile_file)
    try:
        views = [GROUPED[page]] if key == "overview.table_one_by_group" else [{}, GROUPED.get(page, {})]
        for params in views:
            spec = spec_from(page, params)
            for cohort_filter in (CohortFilter(), CohortFilter(institution=(PAYLOAD,))):
                script = reproduce.script(key, db, cohort_filter, spec, provenance(hostile_file))
                assert _injected_calls(script) == [], key  # also: it parses
    finally:
        db.close()


def test_a_script_selects_the_hostile_label_right(hostile_file, tmp_path):
    """Run one: the label written with chr() selects exactly that institution's patients."""
    db = CohortDatabase.open_file(hostile_file)
    try:
        spec = spec_from("survival", {"group": "institution"})
        script = reproduce.script("survival.km", db, CohortFilter(institution=(PAYLOAD,)), spec,
                                  provenance(hostile_file))
        expected = db.query("SELECT count(*) AS n FROM patients WHERE institution = ?", [PAYLOAD])["n"].iloc[0]
    finally:
        db.close()
    run = run_script(script, tmp_path, hostile_file)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "INJECTED" not in run.stdout.replace(PAYLOAD, "")
    assert run.stdout.startswith(f"n = {expected},")
