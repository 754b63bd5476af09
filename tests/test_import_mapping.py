"""The mapping step on a group's own spreadsheet and a REDCap export (both invented, in
tests/mapping_corpus): suggestions, import, reuse of the saved mapping (library and CLI), no date
stored anywhere, located errors."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from analytics.importing import build_database, import_files, mapping as mp, privacy
from analytics.importing.__main__ import main as cli
from analytics.importing.report import Report

CORPUS = Path(__file__).resolve().parent / "mapping_corpus"
SPREADSHEET = [("our_series.xlsx", (CORPUS / "our_series.xlsx").read_bytes())]
REDCAP = [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("LenBALL_*.csv"))]
DATE_LIKE = re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/(19|20)\d{2}\b")


def _targets(mapping: mp.Mapping, table: str) -> dict[str, str | None]:
    return {column: m.target for column, m in mapping.tables[table].items()}


def confirmed_redcap_mapping() -> mp.Mapping:
    """The suggestion with the one decision it leaves to the user."""
    mapping = import_files(REDCAP).mapping
    mapping.tables["treatment_lines"]["tx_category"].values["Inotuzumab-based reduced intensity"] = \
        "reduced-intensity with inotuzumab"
    mapping.cohort.update(cohort_name="Registry export", synthetic=True)
    return mapping


# --- suggestions ------------------------------------------------------------------------------
def test_spreadsheet_suggestions():
    result = import_files(SPREADSHEET)
    assert result.kind == "mapped" and result.source.kind == "spreadsheet"
    mapping = result.mapping
    assert _targets(mapping, "Patients") == {
        "Study no": "patient_id", "Initials": None, "Centre": "institution", "Gender": "sex",
        "Age at dx": "age_at_ball_dx", "Age at MM diagnosis": "age_at_myeloma_dx", "Prior ASCT": "myeloma_auto_hct",
        "dx_date": "ball_dx_date", "Len start date": "len_start", "Len stop date": "len_stop", "WBC": "wbc_k_per_ul",
        "BM blasts %": "marrow_blast_pct", "CD10": "cd10", "CD19": "cd19", "CD20": "cd20", "CD22": "cd22",
        "CNS": "cns_status", "Ph status": "bcr_abl1", "Karyotype": "karyotype_iscn",
        "Modal number": "modal_chromosome_number", "Ploidy": "ploidy_category", "TP53 status": "tp53_status",
        "TP53 variant": "tp53_protein_change", "Allo HCT date": "hct_day", "Relapse date": "relapse_day",
        "Date of death": "death_day", "Cause of death": "death_cause", "Last follow-up": "last_contact_day",
        "Status at last FU": "disease_status", "Comments": None}
    assert _targets(mapping, "Treatment") == {
        "Study no": "patient_id", "Line": "line_number", "Regimen": "line_regimen",
        "Regimen type": "line_regimen_category", "Start date": "line_start", "End date": "line_stop",
        "Response": "response", "Response date": "response_day", "MRD": "mrd_status"}
    values = mapping.tables["Patients"]
    assert values["Gender"].values == {"F": "F", "Female": "F", "M": "M", "Male": "M"}
    assert values["TP53 status"].values == {"mutated": "mutated", "not done": None, "wild-type": "wild-type"}
    assert values["CD20"].values == {"neg": "negative", "not done": None, "pos": "positive"}
    assert values["Prior ASCT"].values == {"No": "false", "Yes": "true", "unknown": None}
    assert mapping.date_order == "DMY"          # 30/06/2020 can only be day first
    assert mapping.constants["lineage"] == "B"  # no lineage column: a value for every patient, shown


def test_redcap_export_is_recognised_decoded_and_suggested():
    result = import_files(REDCAP)
    source, mapping = result.source, result.mapping
    assert source.kind == "redcap"
    assert [t.name for t in source.tables] == ["record", "lenalidomide_courses", "response_assessments",
                                               "treatment_lines"]
    record = source.table("record").frame
    assert record["sex"].tolist() == ["Male", "Female", "Female", "Male"]        # choices decoded
    assert record["markers___3"].tolist() == ["Unchecked", "Checked", "", ""]    # checkbox, blank = not asked
    assert source.table("record").labels["markers___3"] == "Blast immunophenotype (positive markers): CD20"
    assert len(source.table("treatment_lines").frame) == 4                       # repeating rows = events
    assert _targets(mapping, "record") == {
        "record_id": "patient_id", "redcap_data_access_group": "institution", "sex": "sex",
        "age_dx": "age_at_ball_dx", "age_mm": "age_at_myeloma_dx", "ball_dx_date": "ball_dx_date",
        "markers___1": "cd10", "markers___2": "cd19", "markers___3": "cd20", "markers___4": "cd22",
        "ph": "bcr_abl1", "tp53": "tp53_status", "tp53_hgvsp": "tp53_protein_change", "asct": "myeloma_auto_hct",
        "hct_date": "hct_day", "relapse_date": "relapse_day", "death_date": "death_day",
        "death_cause": "death_cause", "fu_date": "last_contact_day", "fu_status": "disease_status"}
    assert _targets(mapping, "treatment_lines") == {
        "record_id": "patient_id", "redcap_data_access_group": None, "redcap_repeat_instance": None,
        "tx_line": "line_number", "tx_regimen": "line_regimen", "tx_category": "line_regimen_category",
        "tx_start": "line_start", "tx_end": "line_stop"}
    # an unticked box is not a negative result; 'Not done' is not evaluated
    assert mapping.tables["record"]["markers___3"].values == {"Checked": "positive", "Unchecked": None}
    assert mapping.tables["record"]["ph"].values == {"Negative": "negative", "Not done": None, "Positive": "positive"}
    # the one code without a suggestion is left to the user, and blocks until decided (located)
    assert mapping.tables["treatment_lines"]["tx_category"].values["Inotuzumab-based reduced intensity"] == ""
    (error,) = result.report.errors
    assert (error.file, error.row, error.column) == ("LenBALL_DATA_2026-01-15_1030.csv", 9, "tx_category")
    assert any("form status" in item for item in result.not_mapped)


# --- a confirmed mapping imports ------------------------------------------------------------------
def _summary(tables) -> pd.DataFrame:
    return build_database(tables).query("SELECT * FROM patient_summary ORDER BY patient_id").set_index("patient_id")


def test_confirmed_spreadsheet_mapping_imports_with_days_from_diagnosis():
    result = import_files(SPREADSHEET)
    assert result.ok, result.report.text()
    s = _summary(result.tables)
    assert list(s.index) == ["LB-001", "LB-002", "LB-003", "LB-004", "LB-005"]
    # 2020-01-31 diagnosis: relapse 2021-02-10 = day 376, death 2021-07-19 = day 535
    assert (s.loc["LB-002", "relapse_day"], s.loc["LB-002", "death_day"]) == (376, 535)
    # 2019-03-04 diagnosis: lenalidomide 2014-06-10 .. 2019-02-20, HCT 2019-09-15
    assert (s.loc["LB-001", "latency_days"], s.loc["LB-001", "len_stop_day"], s.loc["LB-001", "hct_day"]) == \
        (1728, -12, 195)
    assert s.loc["LB-001", "len_cumulative_days"] == 1716          # derived from the course
    assert s.loc["LB-002", "best_response"] == "CR"
    assert pd.isna(s.loc["LB-002", "induction_failure_day"])       # the refractory response is line 2
    assert s.loc["LB-003", "treated"] == False  # noqa: E712  untreated after withdrawal
    assert pd.isna(s.loc["LB-003", "tp53_status"])                 # 'not done': not evaluated
    assert s.loc["LB-002", "tp53_status"] == "mutated" and s.loc["LB-001", "tp53_status"] == "wild-type"
    assert pd.isna(s.loc["LB-002", "cd20"]) and pd.isna(s.loc["LB-003", "myeloma_auto_hct"])
    muts = result.tables["mutations"].set_index("patient_id")
    assert muts.loc["LB-002", "protein_change"] == "p.R248Q"
    assert muts.loc["LB-002", "variant_class"] == "Missense_Mutation"


def test_confirmed_redcap_mapping_imports_repeating_instruments_as_events():
    result = import_files(REDCAP, confirmed_redcap_mapping())
    assert result.ok, result.report.text()
    s = _summary(result.tables)
    assert list(s.index) == ["1", "2", "3", "4"]
    assert s.loc["1", "institution"] == "site_a" and s.loc["3", "institution"] == "site_b"
    # record 1: two courses 2015-01-12..2015-06-30 and 2015-09-01..2020-05-11 (diagnosis)
    assert (s.loc["1", "latency_days"], s.loc["1", "len_cumulative_days"]) == (1946, 169 + 1714)
    assert pd.isna(s.loc["1", "cd20"]) and s.loc["2", "cd20"] == "positive"   # unticked: not evaluated
    assert pd.isna(s.loc["3", "bcr_abl1"]) and s.loc["4", "bcr_abl1"] == "positive"
    assert s.loc["2", "first_line_regimen_category"] == "reduced-intensity with inotuzumab"
    events = result.tables["events"]
    assert len(events[events.event_type == "treatment_line"]) == 4
    assert events[(events.patient_id == "2") & (events.event_type == "response_assessment")]["line"].tolist() == \
        ["1", "2"]
    assert s.loc["2", "tp53_status"] == "mutated" and pd.isna(s.loc["3", "tp53_status"])


# --- the saved mapping, reused --------------------------------------------------------------------
@pytest.mark.parametrize("files,make", [(SPREADSHEET, lambda: import_files(SPREADSHEET).mapping),
                                        (REDCAP, confirmed_redcap_mapping)], ids=["spreadsheet", "redcap"])
def test_saved_mapping_reused_by_the_library_and_the_cli_gives_identical_tables(files, make, tmp_path):
    mapping = make()
    text = mapping.to_json()
    again = mp.Mapping.from_json(text, "m.json", Report())
    assert again.to_json() == text
    first, second = import_files(files, mapping), import_files(files, again)
    assert first.ok and second.ok
    for table in first.tables:
        pd.testing.assert_frame_equal(first.tables[table], second.tables[table], obj=table)
    # the CLI with --mapping writes the same cohort
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    (tmp_path / "m.json").write_text(text)
    out = tmp_path / "ours.duckdb"
    assert cli([str(tmp_path / n) for n, _ in files] + ["--mapping", str(tmp_path / "m.json"),
                                                          "--out", str(out)]) == 0
    db = build_database(first.tables)
    with duckdb.connect(str(out), read_only=True) as written:
        for table in ("patients", "events", "mutations", "measurements", "patient_summary"):
            a = written.sql(f"SELECT * FROM {table} ORDER BY ALL").df()
            b = db.query(f"SELECT * FROM {table} ORDER BY ALL")
            pd.testing.assert_frame_equal(a, b, obj=table)


def test_the_mapping_file_holds_no_date_and_no_patient_value():
    for files, mapping in ((SPREADSHEET, import_files(SPREADSHEET).mapping), (REDCAP, confirmed_redcap_mapping())):
        text = mapping.to_json()
        assert not DATE_LIKE.search(text)
        for pid in ("LB-001", "LB-002", "seen in clinic", "p.R248Q", "hyper-CVAD"):
            assert pid not in text
        assert json.loads(text)["format"] == "ball-cohort-mapping"


def test_cli_without_a_mapping_writes_the_suggestion_and_imports_nothing(tmp_path, capsys):
    path = tmp_path / "our_series.xlsx"
    path.write_bytes(SPREADSHEET[0][1])
    out = tmp_path / "x.duckdb"
    assert cli([str(path), "--out", str(out)]) == 1
    assert "need a mapping" in capsys.readouterr().err and not out.exists()
    suggestion = tmp_path / "m.json"
    assert cli([str(path), "--write-mapping", str(suggestion), "--out", str(out)]) == 0
    assert not out.exists()
    assert mp.Mapping.from_json(suggestion.read_text(), "m.json", Report()).to_json() == \
        import_files(SPREADSHEET).mapping.to_json()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "ball-cohort-mapping", "tables": {"Patients": {"Gender": {"target": "gender"}}}}')
    assert cli([str(path), "--mapping", str(bad), "--out", str(out)]) == 1
    assert "unknown target 'gender'" in capsys.readouterr().out and not out.exists()


# --- no date is stored ------------------------------------------------------------------------------
@pytest.mark.parametrize("files,make", [(SPREADSHEET, lambda: import_files(SPREADSHEET).mapping),
                                        (REDCAP, confirmed_redcap_mapping)], ids=["spreadsheet", "redcap"])
def test_no_date_in_any_table_of_the_stored_database(files, make, tmp_path):
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    (tmp_path / "m.json").write_text(make().to_json())
    out = tmp_path / "ours.duckdb"
    assert cli([str(tmp_path / n) for n, _ in files] + ["--mapping", str(tmp_path / "m.json"),
                                                          "--out", str(out)]) == 0
    with duckdb.connect(str(out), read_only=True) as db:
        tables = [r[0] for r in db.sql("SELECT table_name FROM information_schema.tables").fetchall()]
        assert set(tables) >= {"patients", "events", "mutations", "measurements", "cohort_info", "patient_summary"}
        for table in tables:
            types = db.sql(f"DESCRIBE {table}").df()
            assert not types.column_type.str.contains("DATE|TIME", regex=True).any(), table
            frame = db.sql(f"SELECT * FROM {table}").df()
            for column in frame.columns:
                for value in frame[column].dropna().astype(str):
                    assert not DATE_LIKE.search(value), (table, column, value)
                    assert privacy.looks_like_identifier(value) != "a calendar date", (table, column, value)
        # the dropped columns' values are nowhere
        everything = " ".join(db.sql(f"SELECT * FROM {t}").df().astype(str).to_csv() for t in tables)
        assert "seen in clinic" not in everything and "watch and wait" not in everything


# --- errors stay located ------------------------------------------------------------------------------
def _edited_workbook(sheet: str, cell: str, value) -> list[tuple[str, bytes]]:
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(SPREADSHEET[0][1]))
    book[sheet][cell] = value
    out = io.BytesIO()
    book.save(out)
    return [("our_series.xlsx", out.getvalue())]


@pytest.mark.parametrize("sheet,cell,value,column,row,problem", [
    ("Patients", "D4", "X", "Gender", 4, "the value 'X' has no meaning in the mapping"),
    ("Patients", "E3", "sixty", "Age at dx", 3, "not a whole number"),
    ("Patients", "E5", 130, "Age at dx", 5, "out of the allowed range"),
    ("Treatment", "F2", "01/02/2019", "End date", 2, "stops (end_day -31) before it starts"),
    ("Treatment", "E3", "soon", "Start date", 3, "neither a calendar date nor a whole number of days"),
    ("Patients", "AA3", "cardiac arrest on 12/03/2021", "Cause of death", 3, "calendar date"),
], ids=["unknown code", "not a number", "out of range", "timeline", "bad date", "date in free text"])
def test_errors_name_the_source_file_sheet_row_and_column(sheet, cell, value, column, row, problem):
    files = _edited_workbook(sheet, cell, value)
    result = import_files(files, import_files(SPREADSHEET).mapping)
    assert not result.ok
    hits = [i for i in result.report.errors if problem in i.problem]
    assert hits, result.report.text()
    issue = hits[0]
    assert (issue.file, issue.sheet, issue.row, issue.column) == ("our_series.xlsx", sheet, row, column)


def test_redcap_errors_name_the_export_row_and_column():
    name, data = REDCAP[0]
    lines = data.decode().splitlines()
    lines[1] = lines[1].replace(",site_a,1,67,", ",site_a,7,67,")      # sex code 7: not a choice
    result = import_files([(name, ("\n".join(lines) + "\n").encode()), REDCAP[1]], confirmed_redcap_mapping())
    (issue,) = result.report.errors
    assert (issue.file, issue.row, issue.column, issue.value) == (name, 2, "sex", "7")
    assert "not a choice of field sex" in issue.problem
    only_data = import_files([REDCAP[0]])
    assert "data dictionary is missing" in only_data.report.errors[0].problem


def test_a_date_without_the_diagnosis_date_is_located_and_not_guessed():
    files = _edited_workbook("Patients", "H3", None)   # LB-002 loses its B-ALL diagnosis date
    result = import_files(files, import_files(SPREADSHEET).mapping)
    issues = [i for i in result.report.errors if "no B-ALL diagnosis date" in i.problem]
    assert issues and all(i.row == 3 or i.sheet == "Treatment" for i in issues)
    assert {i.sheet for i in issues} == {"Patients", "Treatment"}


# --- pieces ---------------------------------------------------------------------------------------
def test_date_parsing_and_order():
    assert mp.parse_date("2021-03-04", None).isoformat() == "2021-03-04"
    assert mp.parse_date("2021-03-04T00:00:00", None).isoformat() == "2021-03-04"
    assert mp.parse_date("04/03/2021", "DMY").isoformat() == "2021-03-04"
    assert mp.parse_date("04/03/2021", "MDY").isoformat() == "2021-04-03"
    assert mp.parse_date("04/03/2021", None) is None            # ambiguous without an order
    assert mp.parse_date("30/06/2020", None).isoformat() == "2020-06-30"
    assert mp.parse_date("4 Mar 2021", None).isoformat() == "2021-03-04"
    assert mp.parse_date("31/02/2021", "DMY") is None and mp.parse_date("p.R248Q", "DMY") is None


@settings(max_examples=50, deadline=None)
@given(st.dates(min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2040-12-31").date()),
       st.integers(-4000, 4000))
def test_days_from_diagnosis_are_exact_for_any_dates(anchor, offset):
    event = anchor + pd.Timedelta(days=offset).to_pytimedelta()
    if not (1990 <= event.year <= 2040):
        return
    frame = pd.DataFrame({"id": ["P1"], "dx": [anchor.strftime("%d/%m/%Y")], "death": [event.isoformat()],
                          "sex": ["F"], "age": ["60"]}, index=[2])
    source = mp.Source("spreadsheet", [mp.SourceTable("t", "t.csv", frame)])
    mapping = mp.Mapping({"t": {"id": mp.ColumnMapping("patient_id"), "dx": mp.ColumnMapping("ball_dx_date"),
                                "death": mp.ColumnMapping("death_day"),
                                "sex": mp.ColumnMapping("sex", {"F": "F"}),
                                "age": mp.ColumnMapping("age_at_ball_dx")}},
                         {"institution": "X", "lineage": "B"}, "DMY")
    applied = mp.apply(source, mapping, Report())
    events = applied.raws["events"].frame
    assert events["day"].tolist() == [str(offset)]


def test_variant_class_is_read_only_when_the_change_says_it():
    assert mp.variant_class("p.R248Q") == "Missense_Mutation"
    assert mp.variant_class("p.Arg248Gln") == "Missense_Mutation"
    assert mp.variant_class("p.R213*") == "Nonsense_Mutation"
    assert mp.variant_class("p.K120fs") is None            # deletion or insertion: not said
    assert mp.variant_class("c.375+1G>A") is None


def test_own_format_files_still_go_the_own_way():
    from analytics.importing.template import tables_from_folder, workbook_from_tables
    book = workbook_from_tables(tables_from_folder("data/demo_cohort"))
    assert not mp.wants_mapping([("cohort.xlsx", book)])
    assert not mp.wants_mapping([("data_clinical_patient.txt", b"#x\n")])
    header = (CORPUS.parent / "malformed" / "wrong_file_name.csv").read_bytes()
    assert not mp.wants_mapping([("wrong_file_name.csv", header)])
    assert mp.wants_mapping(SPREADSHEET) and mp.wants_mapping(REDCAP)


@pytest.mark.parametrize("text,problem", [
    ('{"format": "ball-cohort-mapping", "tables": {"Patients": {"Gender": "sex"}}}', "should be an object"),
    ('{"format": "ball-cohort-mapping", "tables": []}', "should be an object"),
    ('{"format": "ball-cohort-mapping", "tables": {"Patients": {"Gender": {"target": "sex", '
     '"values": {"Male": "male"}}}}}', "'male' is not a value of sex"),
    ('{"format": "ball-cohort-mapping", "date_order": "YMD"}', "date_order 'YMD'"),
    ('[1, 2]', "not a cohort mapping file"),
], ids=["column not an object", "tables not an object", "meaning not allowed", "date order", "not a mapping"])
def test_a_hand_edited_mapping_file_gets_a_message_not_an_exception(text, problem):
    report = Report()
    assert mp.Mapping.from_json(text, "m.json", report) is None
    assert any(problem in i.problem for i in report.errors), report.text()


def test_a_date_column_mapped_to_a_coded_target_is_refused_and_not_saved():
    mapping = import_files(SPREADSHEET).mapping
    source = import_files(SPREADSHEET).source
    dates = sorted(set(source.table("Patients").frame["dx_date"]))
    mapping.tables["Patients"]["dx_date"] = mp.ColumnMapping("sex", {d: "F" for d in dates})
    assert not DATE_LIKE.search(mapping.to_json())
    result = import_files(SPREADSHEET, mapping)
    issues = [i for i in result.report.errors if i.column == "dx_date"]
    assert issues and all("looks like a calendar date" in i.problem and i.value is None for i in issues)


def test_person_name_columns_are_never_suggested_but_a_regimen_name_is():
    frame = pd.DataFrame({"Study no": ["A1"], "Patient name": ["Ann Other"], "Regimen name": ["hyper-CVAD"],
                          "Start date": ["2020-01-02"], "Surname": ["Other"]}, index=[2])
    mapping = mp.suggest(mp.Source("spreadsheet", [mp.SourceTable("t", "t.csv", frame)]))
    assert _targets(mapping, "t") == {"Study no": "patient_id", "Patient name": None, "Regimen name": "line_regimen",
                                      "Start date": "line_start", "Surname": None}


def test_longitudinal_redcap_export_with_events_gives_the_same_cohort():
    """The same records laid out in two arms (baseline, follow-up) as redcap_event_name rows."""
    name, data = REDCAP[0]
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    followup = ["hct_date", "relapse_date", "death_date", "death_cause", "fu_date", "fu_status", "followup_complete"]
    main = frame[frame.redcap_repeat_instrument == ""]
    baseline = main.copy()
    baseline[followup] = ""
    later = main.copy()
    keep = ["record_id", "redcap_data_access_group", *followup]
    later[[c for c in later.columns if c not in keep]] = ""
    rows = pd.concat([baseline.assign(redcap_event_name="baseline_arm_1"),
                      later.assign(redcap_event_name="followup_arm_1"),
                      frame[frame.redcap_repeat_instrument != ""].assign(redcap_event_name="baseline_arm_1")])
    rows = rows[["record_id", "redcap_event_name", *[c for c in frame.columns if c != "record_id"]]]
    longitudinal = [(name, rows.to_csv(index=False).encode()), REDCAP[1]]
    mapping = confirmed_redcap_mapping()
    a = import_files(REDCAP, mapping)
    b = import_files(longitudinal, mapping)
    assert b.ok, b.report.text()
    pd.testing.assert_frame_equal(_summary(a.tables), _summary(b.tables))


def test_a_patient_only_in_the_treatment_sheet_is_one_located_error():
    files = _edited_workbook("Treatment", "A3", "LB-020")
    result = import_files(files, import_files(SPREADSHEET).mapping)
    issues = [i for i in result.report.errors if "LB-020" in i.problem]
    assert len(issues) == 1
    assert (issues[0].sheet, issues[0].row, issues[0].column) == ("Treatment", 3, "Study no")


def test_a_required_attribute_nobody_gives_is_one_error_for_the_mapping():
    mapping = import_files(SPREADSHEET).mapping
    mapping.tables["Patients"]["Gender"] = mp.ColumnMapping(None)
    result = import_files(SPREADSHEET, mapping)
    from analytics.importing.specs import column_specs
    if column_specs()["patients"]["sex"].required:
        assert [i.file for i in result.report.errors if "no column is mapped to Sex" in i.problem] == ["(mapping)"]
    else:  # sex may be not evaluated: one warning for the column
        assert [i.column for i in result.report.warnings if "no source column gives sex" in i.problem] == ["sex"]


def test_a_data_named_spreadsheet_is_mapped_not_taken_for_cbioportal():
    assert mp.wants_mapping([("data_2024.xlsx", SPREADSHEET[0][1])])
