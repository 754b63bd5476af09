"""Every CSV a page offers starts with the view's provenance (title, link, cohort file SHA-256,
filters, app version) and the view's caveats, and still reads as the table with the skip the
first line states."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics import reproduce
from tests.apptest_helpers import run_page
from tests.test_small_cell_apptest import DownloadCapture


def _csvs(downloads: DownloadCapture) -> dict[str, bytes]:
    built = dict(downloads.deferred((".csv",)))
    built.update({name: data for name, data in downloads.files if name.endswith(".csv")})
    return built


def _read(data: bytes) -> tuple[list[str], pd.DataFrame]:
    text = data.decode("utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# Provenance: the first ")
    skip = int(first.split("skiprows=")[1].rstrip(")"))
    lines = text.splitlines()[:skip]
    assert all(line.startswith("# ") for line in lines)
    return lines, pd.read_csv(io.StringIO(text), skiprows=skip)


@pytest.mark.parametrize("page, query, name, caveat", [
    ("survival", {"group": "hct"}, "km_efs_curves.csv", "Immortal-time bias"),
    ("overview", {"sex": "F"}, "table1.csv", None),
    ("dictionary", {}, "data_dictionary.csv", None),
])
def test_csv_downloads_carry_provenance_and_caveats(monkeypatch, demo_db_file, page, query, name, caveat):
    downloads = DownloadCapture(monkeypatch)
    at = run_page(f"pages/{page}.py", query)
    assert not at.exception
    csvs = {}
    for file_name, data in _csvs(downloads).items():  # (the app's first page ran too: keep this page's)
        lines, table = _read(data)
        link = next(line for line in lines if line.startswith("# Link: "))
        if link.split("?")[0].endswith(f"/{page}"):
            csvs[file_name] = data
            assert not table.empty, file_name
            text = "\n".join(lines)
            assert f"SHA-256 {reproduce.file_sha256(demo_db_file)}" in text
            assert f"App version: {reproduce.app_version()}" in text
            for key, value in query.items():
                assert f"{key}={value}" in link, link
    assert name in csvs, sorted(csvs)
    if caveat:
        assert caveat in csvs[name].decode()
    if query.get("sex"):
        assert "Filters: Sex: F" in csvs[name].decode()
