"""The published-series file (data/published_series.csv) and its loader: every row is typed,
sourced and consistent, and every kind of error is reported with file, line and column."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from analytics.published import (CHARACTERISTICS, COLUMNS, PUBLISHED_FILE, PublishedSeriesError, load_published,
                                 series_table, validate)

ROOT = Path(__file__).resolve().parent.parent


def raw_file() -> pd.DataFrame:
    return pd.read_csv(PUBLISHED_FILE, dtype=str, keep_default_na=False)


def errors_of(raw: pd.DataFrame) -> list[str]:
    with pytest.raises(PublishedSeriesError) as caught:
        validate(raw, "published_series.csv")
    return caught.value.errors


def row_index(raw: pd.DataFrame, series_id: str, characteristic: str) -> int:
    return raw.index[(raw.series_id == series_id) & (raw.characteristic == characteristic)][0]


def test_the_shipped_file_is_valid_and_every_figure_has_its_quote():
    table = load_published()
    assert len(table) == len(raw_file()) >= 25
    assert (table["source_quote"].str.len() > 20).all()
    assert table["reference"].str.len().gt(0).all()
    assert set(table["characteristic"]) <= set(CHARACTERISTICS)


def test_the_three_required_series_are_present_with_their_headline_figures():
    table = load_published().set_index(["series_id", "characteristic"])
    series = series_table(load_published()).set_index("series_id")
    assert series.loc["geyer2023", "reference"] == "doi:10.1182/bloodadvances.2022009212"
    assert int(series.loc["geyer2023", "n_patients"]) == 32
    assert int(series.loc["mskcc2017", "n_patients"]) == 9
    assert series.loc["mskcc2017", "part_of"] == "geyer2023"  # the 9 are among the 32 (PUBLISHED_FACTS.md)
    tp53 = table.loc[("bloodadv2023_clonal", "tp53_mutated")]
    assert (int(tp53.numerator), int(tp53.denominator)) == (14, 17)
    assert "236" in series.loc["bloodadv2023_clonal", "reference"]


def test_the_reference_study_has_figures_f1_to_f12():
    table = load_published()
    facts = table.loc[table["fact"] != ""]
    assert set(facts["series_id"]) == {"geyer2023"}
    assert sorted(set(facts["fact"]), key=lambda f: int(f[1:])) == [f"F{i}" for i in range(1, 13)]


def test_each_quote_contains_the_number_it_gives():
    """A typed number that is not in its quote is a typing error (Ph-negative / 'all' rows give
    their count in words, so they are checked against the series size instead)."""
    for row in load_published().to_dict("records"):
        quote = row["source_quote"]
        numbers = {m.replace(",", "") for m in re.findall(r"\d+(?:\.\d+)?", quote)}
        words = {"Sixteen": "16", "Eight": "8", "dual": "2"}
        numbers |= {v for w, v in words.items() if w in quote}
        for column in ("numerator", "denominator"):
            value = row[column]
            if pd.isna(value) or int(value) == 0:
                continue
            assert str(int(value)) in numbers or int(value) == row["n_patients"], (row["line"], column)
        if row["median"] is not None and not pd.isna(row["median"]) and row["median"] != float("inf"):
            assert f"{row['median']:.{row['decimals']}f}" in numbers, (row["line"], "median")


def test_no_published_number_is_typed_into_display_code():
    distinctive = ("35.4", "57.3", "9/19", "8/26", "25/28", "14/17", "31/32")
    for path in ("analytics/views/compare.py", "analytics/compare.py", "pages/compare.py",
                 "analytics/reproduce/compare.py"):  # its scripts embed the rows when written
        text = (ROOT / path).read_text()
        assert not [d for d in distinctive if d in text], path


@pytest.mark.parametrize("column, value, expected", [
    ("numerator", "20", "column numerator: 20 is larger than the denominator 19"),
    ("numerator", "nine", 'column numerator: "nine" is not a whole number >= 0'),
    ("denominator", "-3", 'column denominator: "-3" is not a whole number >= 0'),
    ("denominator", "40", "column denominator: 40 is larger than the series' 32 patients"),
    ("characteristic", "tp53_deleted", 'column characteristic: unknown "tp53_deleted"'),
    ("unit", "months", 'column unit: "months" but tp53_mutated is in patients'),
    ("source_quote", "", "column source_quote: empty"),
    ("fact", "F-6", 'column fact: "F-6" is not a figure number'),
    ("median", "12", "column median: tp53_mutated is a proportion: no median or range"),
    ("citation", "Someone else 2023", "column citation: differs from the first row of series geyer2023"),
    ("part_of", "nobody2020", 'column part_of: unknown series "nobody2020"'),
    ("series_id", "Geyer 2023", 'column series_id: "Geyer 2023" is not an id'),
])
def test_a_bad_value_is_reported_with_line_and_column(column, value, expected):
    raw = raw_file()
    i = row_index(raw, "geyer2023", "tp53_mutated")
    raw.loc[i, column] = value
    errors = errors_of(raw)
    line = i + 2
    assert any(e.startswith(f"published_series.csv, line {line}, ") and expected in e for e in errors), errors


@pytest.mark.parametrize("changes, expected", [
    ({"median": "130"}, "range 5-119 does not hold the median 130"),
    ({"range_high": ""}, "column range_high: a range needs both ends"),
    ({"median": ""}, "column median: latency_months is a median: the median is needed"),
    ({"median": "inf"}, 'column median: "inf" is not a finite number or NR'),
    ({"numerator": "3"}, "latency_months is a median: no numerator or denominator"),
])
def test_median_rows_are_checked(changes, expected):
    raw = raw_file()
    i = row_index(raw, "geyer2023", "latency_months")
    for column, value in changes.items():
        raw.loc[i, column] = value
    assert any(f"line {i + 2}, " in e and expected in e for e in errors_of(raw)), errors_of(raw)


def test_a_proportion_needs_both_counts_and_a_figure_may_be_given_once():
    raw = raw_file()
    i = row_index(raw, "geyer2023", "tp53_mutated")
    raw.loc[i, "denominator"] = ""
    duplicate = raw.loc[[row_index(raw, "geyer2023", "b_lineage")]]
    raw = pd.concat([raw, duplicate], ignore_index=True)
    errors = errors_of(raw)
    assert any(f"line {i + 2}, column denominator: tp53_mutated is a proportion" in e for e in errors)
    first = row_index(raw, "geyer2023", "b_lineage") + 2
    assert any(f"line {len(raw) + 1}, column characteristic: b_lineage of geyer2023 already given on line {first}"
               in e for e in errors)


def test_every_problem_is_listed_not_only_the_first():
    raw = raw_file()
    raw.loc[0, "n_patients"] = "many"
    raw.loc[3, "numerator"] = "x"
    assert len(errors_of(raw)) >= 2


def test_missing_columns_and_unreadable_files(tmp_path):
    raw = raw_file().drop(columns=["source_quote", "unit"])
    assert errors_of(raw) == ["published_series.csv: missing column(s) unit, source_quote"]
    with pytest.raises(PublishedSeriesError, match="nothing.csv: file not found"):
        load_published(tmp_path / "nothing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PublishedSeriesError, match="bad.csv: not a readable UTF-8 CSV"):
        load_published(bad)


def test_a_copy_of_the_file_loads_the_same(tmp_path):
    copy = tmp_path / "published.csv"
    copy.write_text(PUBLISHED_FILE.read_text())
    assert load_published(copy).equals(load_published())
    assert list(pd.read_csv(io.StringIO(PUBLISHED_FILE.read_text()), nrows=0).columns) == list(COLUMNS)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_a_proportion_is_accepted_exactly_when_numerator_le_denominator_le_patients(numerator, denominator, n):
    raw = raw_file()
    raw = raw[raw.series_id == "bloodadv2023_clonal"].copy()  # a series with one row
    raw["numerator"], raw["denominator"], raw["n_patients"] = str(numerator), str(denominator), str(n)
    valid = 1 <= n and numerator <= denominator <= n
    if valid:
        table = validate(raw)
        assert (int(table["numerator"].iloc[0]), int(table["denominator"].iloc[0])) == (numerator, denominator)
    else:
        assert errors_of(raw)
