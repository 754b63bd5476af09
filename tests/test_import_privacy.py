"""The privacy guard's widened patterns (issue 21): record numbers as ids, short dates and full
names in free text, look-alike ids normalised before comparison, control characters refused."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.importing import import_files
from analytics.importing.privacy import control_character, looks_like_identifier, normalised_text

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_cohort"
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")


def demo_files(**frames: pd.DataFrame) -> list[tuple[str, bytes]]:
    out = []
    for table in TABLES:
        frame = frames.get(table)
        data = (DEMO / f"{table}.csv").read_bytes() if frame is None else frame.to_csv(index=False).encode()
        out.append((f"{table}.csv", data))
    return out


def demo(table: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("value", ["A1234567", "123-45-6789", "123456", "AB0012345", "John Smith"])
def test_record_numbers_and_names_are_refused_as_ids(value):
    assert looks_like_identifier(value, id_column=True) is not None


@pytest.mark.parametrize("value", ["S01", "TCGA-A2-A04P", "TEST_PATIENT_1", "UPN 12", "12345"])
def test_pseudonyms_pass(value):
    assert looks_like_identifier(value, id_column=True) is None


@pytest.mark.parametrize("value", ["seen March 4th", "marrow 4/3 clear", "on the 3rd of March", "restaged 2021-W09",
                                   "2021年3月4日 biopsy", "3月4日", "reported by John Smith", "Mar 4 marrow"])
def test_short_dates_and_names_in_free_text_are_refused(value):
    assert looks_like_identifier(value, free_text=True) is not None


@pytest.mark.parametrize("value", ["CR after cycle 2", "MRD by flow, 1e-4", "Relapse at day 120",
                                   "infection (sepsis)", "Hyper-CVAD"])
def test_clinical_free_text_passes(value):
    assert looks_like_identifier(value, free_text=True) is None


def test_coded_columns_keep_their_shorter_forms():
    # a karyotype's clone separator is not a date: short forms are checked in free text only
    assert looks_like_identifier("45,X,-7[3]/46,XY[17]") is None
    assert looks_like_identifier("47,XY,+8/46,XY") is None


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8),
       st.lists(st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e"]), max_size=3),
       st.booleans())
def test_invisible_characters_and_fullwidth_forms_normalise_to_the_same_id(plain, invisibles, fullwidth):
    shown = "".join(chr(ord(c) + 0xFEE0) for c in plain) if fullwidth else plain
    for invisible in invisibles:
        shown = shown[:1] + invisible + shown[1:]
    assert normalised_text(shown) == plain


def test_look_alike_ids_are_one_patient_or_refused_never_three():
    patients = demo("patients")
    patients.loc[1, "patient_id"] = "S01\u200b"     # row 3
    patients.loc[2, "patient_id"] = "\uff3301"      # row 4 (fullwidth S)
    result = import_files(demo_files(patients=patients))
    assert not result.ok
    unique = [(i.row, i.column) for i in result.report.errors if "must be unique" in i.problem]
    assert unique == [(3, "patient_id"), (4, "patient_id")]
    # an event that names the patient with an invisible character is the same patient
    events = demo("events")
    events.loc[0, "patient_id"] = events.loc[0, "patient_id"] + "\u200b"
    result = import_files(demo_files(events=events))
    assert result.ok, result.report.text()
    assert set(result.tables["patients"]["patient_id"]) >= set(result.tables["events"]["patient_id"])
    normalised = [i for i in result.report.warnings if "normalised (Unicode NFKC)" in i.problem]
    assert [(i.file, i.row, i.column) for i in normalised] == [("events.csv", 2, "patient_id")]


@pytest.mark.parametrize("value, name", [("a\x00b", "NUL"), ("\x1b[31mred\x1b[0m", "ESC (an ANSI terminal code)"),
                                         ("bell\x07", "U+0007"), ("x\x9b", "U+009B")])
def test_control_characters_are_named_and_refused(value, name):
    assert control_character(value) == name
    events = demo("events")
    events.loc[3, "note"] = value
    result = import_files(demo_files(events=events))
    assert [(i.file, i.row, i.column) for i in result.report.errors] == [("events.csv", 5, "note")]


def test_tabs_and_line_breaks_in_a_quoted_cell_are_text():
    assert control_character("line one\nline two\tend\r") is None
