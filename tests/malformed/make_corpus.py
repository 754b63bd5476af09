"""Regenerate the malformed-file corpus and its table of expected errors (expected.csv).

    .venv/bin/python tests/malformed/make_corpus.py

Each case is one file. mode 'replace': uploaded as `upload_as` together with the other demo
tables as CSV; mode 'alone': uploaded by itself (a whole workbook). expected.csv gives where
the error must point (file, sheet, spreadsheet row with header = 1, column) and a phrase of
its problem text. tests/test_import_malformed.py reads that table.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO = ROOT / "data" / "demo_cohort"
TABLES = ("cohort_info", "patients", "events", "mutations", "measurements")


def demo(table: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False)


def to_csv(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode("utf-8")


def edited(table: str, row: int, column: str, value: str) -> bytes:
    """The demo table with one cell changed; `row` is the spreadsheet row (header = 1)."""
    frame = demo(table)
    frame.loc[row - 2, column] = value
    return to_csv(frame)


def main() -> None:
    cases: list[dict] = []

    def add(case, data: bytes, upload_as, row, column, problem, mode="replace", sheet="", file=None,
            suffix=".csv"):
        name = f"{case}{suffix}"
        (HERE / name).write_bytes(data)
        cases.append({"case": name, "upload_as": upload_as, "mode": mode, "file": file or upload_as,
                      "sheet": sheet, "row": "" if row is None else row, "column": column or "",
                      "problem": problem})

    patients_text = (DEMO / "patients.csv").read_text()
    # --- bad files
    add("empty_file", b"", "patients.csv", None, "", "the file is empty")
    add("whitespace_only", b"\n\n  \n", "events.csv", None, "", "the file is empty")
    latin = patients_text.replace("Site A", "H\u00f4pital A", 3).encode("latin-1")
    add("not_utf8", latin, "patients.csv", 2, "", "not UTF-8")
    add("semicolon_delimiter", to_csv(demo("patients"), sep=";"), "patients.csv", 1, "",
        "semicolons as separators")
    add("tab_delimiter", to_csv(demo("mutations"), sep="\t"), "mutations.csv", 1, "", "tabs as separators")
    cut = patients_text[:patients_text.index('"46,XY[20]"') + 5].encode()
    add("truncated_in_quote", cut, "patients.csv", 2, "", "truncated")
    lines = patients_text.splitlines()
    add("truncated_last_row", ("\n".join(lines[:5] + [lines[5][:30]]) + "\n").encode(), "patients.csv", 6, "",
        "looks truncated")
    add("wrong_file_name", to_csv(demo("patients")), "patient_list.csv", None, "", "is not one of the tables")
    add("header_only_patients", (lines[0] + "\n").encode(), "patients.csv", None, "", "no patients")
    # --- columns
    frame = demo("patients").drop(columns=["institution"])
    add("missing_required_column", to_csv(frame), "patients.csv", 1, "institution",
        "required column 'institution' is missing")
    frame = demo("patients").assign(hospital_ward="x")
    add("unknown_column", to_csv(frame), "patients.csv", 1, "hospital_ward", "unknown column")
    frame = demo("events")
    frame.insert(3, "day", frame.pop("day"), allow_duplicates=False)
    text = to_csv(demo("events")).decode().replace("event_id,patient_id,event_type,day,", "event_id,patient_id,event_type,event_type,", 1)
    add("duplicate_header", text.encode(), "events.csv", 1, "event_type", "names column 'event_type' twice")
    # --- values
    add("sex_not_allowed", edited("patients", 3, "sex", "X"), "patients.csv", 3, "sex", "not an allowed value")
    add("age_out_of_range", edited("patients", 4, "age_at_ball_dx", "7"), "patients.csv", 4, "age_at_ball_dx",
        "out of the allowed range")
    add("age_not_a_number", edited("patients", 5, "age_at_myeloma_dx", "sixty"), "patients.csv", 5,
        "age_at_myeloma_dx", "not a whole number")
    add("required_value_empty", edited("patients", 6, "institution", ""), "patients.csv", 6, "institution",
        "a value is required")
    add("duplicate_patient_id", edited("patients", 3, "patient_id", "S01"), "patients.csv", 3, "patient_id",
        "must be unique")
    add("boolean_not_true_false", edited("patients", 2, "myeloma_auto_hct", "maybe"), "patients.csv", 2,
        "myeloma_auto_hct", "not true/false")
    add("chromosome_number_out_of_range", edited("patients", 7, "modal_chromosome_number", "146"),
        "patients.csv", 7, "modal_chromosome_number", "out of the allowed range")
    add("myeloma_after_ball", edited("patients", 8, "age_at_myeloma_dx", "90"), "patients.csv", 8,
        "age_at_myeloma_dx", "after age at B-ALL diagnosis")
    add("event_type_not_allowed", edited("events", 4, "event_type", "remission"), "events.csv", 4, "event_type",
        "not an allowed value")
    add("mrd_sensitivity_out_of_range", edited("events", 5, "mrd_sensitivity", "5"), "events.csv", 5,
        "mrd_sensitivity", "out of the allowed range")
    add("duplicate_event_id", edited("events", 3, "event_id", "1"), "events.csv", 3, "event_id", "must be unique")
    add("variant_class_not_allowed", edited("mutations", 2, "variant_class", "Silent"), "mutations.csv", 2,
        "variant_class", "not an allowed value")
    add("value_with_percent_sign", edited("measurements", 3, "value", "9.5%"), "measurements.csv", 3, "value",
        "not a number")
    # --- references, duplicates, timeline
    add("unknown_patient_reference", edited("events", 6, "patient_id", "S99"), "events.csv", 6, "patient_id",
        "not in the patients table")
    frame = demo("mutations")
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    add("duplicate_mutation_row", to_csv(frame), "mutations.csv", len(frame) + 1, "", "repeats an earlier row")
    add("course_stops_before_start", edited("events", 2, "end_day", "-1700"), "events.csv", 2, "end_day",
        "before it starts")
    add("hct_before_diagnosis", edited("events", 6, "day", "-30"), "events.csv", 6, "day", "before the B-ALL diagnosis")
    add("event_after_death", edited("events", 38, "day", "600"), "events.csv", 38, "day", "after death")
    add("below_detection_inconsistent", edited("measurements", 2, "below_detection", "true"), "measurements.csv",
        2, "below_detection", "below_detection must be true exactly when value is empty")
    add("variant_in_unsequenced_patient", edited("mutations", 2, "patient_id", "S08"), "mutations.csv", 2,
        "patient_id", "not sequenced")
    frame = demo("cohort_info")
    add("two_cohort_info_rows", to_csv(pd.concat([frame, frame.assign(cohort_name="second")])), "cohort_info.csv",
        None, "", "exactly one row")
    # --- privacy
    frame = demo("patients").assign(patient_name="x")
    add("privacy_name_column", to_csv(frame), "patients.csv", 1, "patient_name", "suggests a name")
    frame = demo("patients").assign(MRN="")
    add("privacy_mrn_column", to_csv(frame), "patients.csv", 1, "MRN", "suggests a record number")
    frame = demo("patients").assign(date_of_birth="")
    add("privacy_birth_date_column", to_csv(frame), "patients.csv", 1, "date_of_birth", "suggests a date of birth")
    add("privacy_name_as_id", edited("patients", 4, "patient_id", "John Smith"), "patients.csv", 4, "patient_id",
        "a person's name")
    add("privacy_iso_date_value", edited("events", 7, "note", "seen 2021-03-04"), "events.csv", 7, "note",
        "a calendar date")
    add("privacy_us_date_value", edited("events", 8, "note", "biopsy 03/04/2021"), "events.csv", 8, "note",
        "a calendar date")
    add("privacy_month_name_date", edited("events", 9, "note", "HCT 4 Mar 2021"), "events.csv", 9, "note",
        "a calendar date")
    add("privacy_email_value", edited("cohort_info", 2, "description", "contact jane.doe@hospital.org"),
        "cohort_info.csv", 2, "description", "an e-mail address")
    add("privacy_phone_value", edited("events", 10, "note", "call (212) 555-0100"), "events.csv", 10, "note",
        "a phone number")
    add("privacy_address_value", edited("patients", 9, "institution", "1275 York Avenue"), "patients.csv", 9,
        "institution", "a street address")
    add("privacy_record_number_value", edited("events", 11, "note", "MRN 00123456"), "events.csv", 11, "note",
        "a medical record number")
    add("privacy_person_title", edited("events", 12, "cause", "per Dr. Smith"), "events.csv", 12, "cause",
        "a person's name")
    # --- privacy: ids that are record numbers, short dates and names in free text, look-alike ids,
    # control characters (issue 21)
    add("privacy_id_digits_only", edited("patients", 3, "patient_id", "123456"), "patients.csv", 3, "patient_id",
        "a record number used as an id")
    add("privacy_id_letter_and_digits", edited("patients", 4, "patient_id", "A1234567"), "patients.csv", 4,
        "patient_id", "a record number used as an id")
    add("privacy_id_social_security_number", edited("patients", 5, "patient_id", "123-45-6789"), "patients.csv",
        5, "patient_id", "a record number used as an id")
    add("privacy_free_text_month_day", edited("events", 13, "note", "seen March 4th"), "events.csv", 13, "note",
        "a calendar date")
    add("privacy_free_text_day_slash_month", edited("events", 14, "note", "marrow 4/3 clear"), "events.csv", 14,
        "note", "a calendar date")
    add("privacy_free_text_ordinal_of_month", edited("events", 15, "note", "relapse on the 3rd of March"),
        "events.csv", 15, "note", "a calendar date")
    add("privacy_free_text_iso_week", edited("events", 16, "note", "restaged 2021-W09"), "events.csv", 16, "note",
        "a calendar date")
    add("privacy_free_text_cjk_date", edited("events", 17, "note", "2021年3月4日 biopsy"), "events.csv", 17,
        "note", "a calendar date")
    add("privacy_free_text_full_name", edited("events", 18, "cause", "reported by John Smith"), "events.csv", 18,
        "cause", "a person's name")
    add("privacy_id_zero_width_space", edited("patients", 3, "patient_id", "S01\u200b"), "patients.csv", 3,
        "patient_id", "must be unique")
    add("privacy_id_fullwidth", edited("patients", 4, "patient_id", "\uff3301"), "patients.csv", 4, "patient_id",
        "must be unique")
    add("control_nul_in_value", edited("events", 19, "note", "ok\x00"), "events.csv", 19, "note",
        "control character (NUL)")
    add("control_ansi_escape_in_value", edited("events", 20, "note", "\x1b[31mred\x1b[0m"), "events.csv", 20,
        "note", "control character (ESC")
    # --- cBioPortal files (uploaded alone: a patient file is a study by itself)
    head = ("#Patient Identifier\tOverall Survival Status\tOverall Survival (Months)\n#d\td\td\n"
            "#STRING\tSTRING\tNUMBER\n#1\t1\t1\nPATIENT_ID\tOS_STATUS\tOS_MONTHS\n")
    add("cbioportal_os_status_contradiction", (head + "P1\t1:DECEASED\t3\nP2\t0:DECEASED\t5\n").encode(),
        "data_clinical_patient.txt", 7, "OS_STATUS", "the code 0 contradicts 'DECEASED'", mode="alone",
        suffix=".txt")
    add("cbioportal_os_status_living_as_event", (head + "P1\t1:LIVING\t3\n").encode(),
        "data_clinical_patient.txt", 6, "OS_STATUS", "the code 1 contradicts 'LIVING'", mode="alone", suffix=".txt")
    add("cbioportal_patient_id_date", (head + "P1\t0:LIVING\t3\n2021-03-04\tLIVING\t4\n").encode(),
        "data_clinical_patient.txt", 7, "PATIENT_ID", "a calendar date", mode="alone", suffix=".txt")

    # --- workbooks (uploaded alone)
    import sys
    sys.path.insert(0, str(ROOT))
    from openpyxl import load_workbook

    from analytics.importing.template import tables_from_folder, workbook_from_tables
    good = workbook_from_tables(tables_from_folder(DEMO))

    def book_bytes(change) -> bytes:
        book = load_workbook(io.BytesIO(good))
        change(book)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def formula(book):
        book["patients"]["E3"] = "=E2+1"
    add("workbook_formula", book_bytes(formula), "cohort.xlsx", 3, "age_at_ball_dx", "holds a formula",
        mode="alone", sheet="patients", suffix=".xlsx")

    def merged(book):
        book["events"].merge_cells("B2:B3")
    add("workbook_merged_cells", book_bytes(merged), "cohort.xlsx", None, "", "merged cells", mode="alone",
        sheet="events", suffix=".xlsx")
    add("workbook_truncated", good[: len(good) // 2], "cohort.xlsx", None, "", "cannot be opened",
        mode="alone", suffix=".xlsx")
    add("workbook_old_xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "cohort.xls", None, "",
        "old Excel format", mode="alone", suffix=".xls")

    def no_events(book):
        del book["events"]
    add("workbook_missing_sheet", book_bytes(no_events), "cohort.xlsx", None, "", "the table 'events' is missing",
        mode="alone", sheet="events", suffix=".xlsx")

    def date_cell(book):
        import datetime
        book["events"]["D4"] = datetime.date(2021, 3, 4)
    add("workbook_date_cell", book_bytes(date_cell), "cohort.xlsx", 4, "day", "a calendar date", mode="alone",
        sheet="events", suffix=".xlsx")

    def vaf_text(book):
        book["mutations"]["E3"] = "high"
    add("workbook_vaf_text", book_bytes(vaf_text), "cohort.xlsx", 3, "vaf", "not a number", mode="alone",
        sheet="mutations", suffix=".xlsx")

    with open(HERE / "expected.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(cases[0]))
        writer.writeheader()
        writer.writerows(cases)
    print(f"{len(cases)} cases written to {HERE}")


if __name__ == "__main__":
    main()
