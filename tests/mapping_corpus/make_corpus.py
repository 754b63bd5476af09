"""Write the mapping corpus: a group's own spreadsheet and a REDCap export, both invented.

    python tests/mapping_corpus/make_corpus.py

Five (spreadsheet) and four (REDCap) invented patients, nothing real: the names of columns,
codes and the calendar dates are what a group's files look like, the people do not exist.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
D = dt.datetime.fromisoformat


def spreadsheet() -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    patients = book.active
    patients.title = "Patients"
    patients.append(["Study no", "Initials", "Centre", "Gender", "Age at dx", "Age at MM diagnosis", "Prior ASCT",
                     "dx_date", "Len start date", "Len stop date", "WBC", "BM blasts %", "CD10", "CD19", "CD20",
                     "CD22", "CNS", "Ph status", "Karyotype", "Modal number", "Ploidy", "TP53 status",
                     "TP53 variant", "Allo HCT date", "Relapse date", "Date of death", "Cause of death",
                     "Last follow-up", "Status at last FU", "Comments"])
    rows = [
        ["LB-001", "XX", "North", "M", 66, 61, "Yes", D("2019-03-04"), D("2014-06-10"), D("2019-02-20"), 3.1, 81,
         "pos", "pos", "neg", "pos", "CNS1", "neg", "46,XY[20]", 46, "diploid", "wild-type", None,
         D("2019-09-15"), None, None, None, D("2023-05-02"), "NED", "seen in clinic"],
        ["LB-002", "XX", "North", "Female", 71, 66, "No", D("2020-01-31"), D("2015-11-02"), D("2020-01-31"), 1.9,
         88, "pos", "pos", "not done", "pos", "CNS1", "neg", "35,X,-X,-2,-3,-7,-12,-13,-15,-16,-17[12]/46,XX[8]", 35,
         "low hypodiploid", "mutated", "p.R248Q", None, D("2021-02-10"), D("2021-07-19"), "B-ALL", None, None,
         None],
        ["LB-003", "XX", "South", "F", 58, 55, "unknown", D("2021-06-15"), D("2018-09-01"), D("2021-05-30"), 4.0,
         35, "pos", "pos", "not done", "pos", None, "neg", None, None, None, "not done", None, None, None, None,
         None, D("2022-12-01"), "NED", "watch and wait after stopping lenalidomide"],
        ["LB-004", "XX", "South", "Male", 64, 58, "Yes", D("2018-11-20"), D("2013-03-01"), D("2018-11-20"), 6.2,
         70, "pos", "pos", "pos", "neg", "CNS2", "neg", "38,XY,-3,-4,-7,-15,-16,-17,-20,-22[15]/46,XY[5]", 38,
         "low hypodiploid", "mutated", "p.Y220C", None, None, None, None, D("2022-08-30"), "NED", None],
        ["LB-005", "XX", "North", "M", 69, 63, "No", D("2022-02-14"), D("2016-05-05"), D("2022-01-31"), 12.5, 92,
         "pos", "pos", "neg", "pos", "CNS1", "pos", "46,XY,t(9;22)(q34;q11.2)[20]", 46, "diploid", "wild-type",
         None, None, None, D("2022-06-30"), "infection", None, None, None],
    ]
    for row in rows:
        patients.append(row)
    for row in patients.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy"
    lines = book.create_sheet("Treatment")
    lines.append(["Study no", "Line", "Regimen", "Regimen type", "Start date", "End date", "Response",
                  "Response date", "MRD"])
    for row in [
        ["LB-001", 1, "hyper-CVAD", "intensive", "08/03/2019", "01/08/2019", "CR", "10/04/2019", "negative"],
        ["LB-002", 1, "mini-hyper-CVD + inotuzumab ozogamicin", "inotuzumab", "05/02/2020", "30/06/2020", "CR",
         "09/03/2020", "positive"],
        ["LB-002", 2, "blinatumomab", "blinatumomab", "20/02/2021", "01/05/2021", "refractory", "01/04/2021",
         "positive"],
        ["LB-004", 1, "hyper-CVAD", "intensive", "25/11/2018", "30/04/2019", "CRi", "28/12/2018", "not done"],
        ["LB-005", 1, "vincristine + dexamethasone", "low intensity", "18/02/2022", "01/05/2022", "PR",
         "20/03/2022", None],
    ]:
        lines.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


DICTIONARY_HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                     "Choices, Calculations, OR Slider Labels", "Field Note",
                     "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
                     "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
                     "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation"]
FIELDS = [  # name, form, type, label, choices, validation
    ("record_id", "demographics", "text", "Record ID", "", ""),
    ("sex", "demographics", "radio", "Sex", "1, Male | 2, Female", ""),
    ("age_dx", "demographics", "text", "Age at B-ALL diagnosis", "", "integer"),
    ("age_mm", "demographics", "text", "Age at myeloma diagnosis", "", "integer"),
    ("ball_dx_date", "diagnosis", "text", "Date of B-ALL diagnosis", "", "date_ymd"),
    ("markers", "diagnosis", "checkbox", "Blast immunophenotype (positive markers)",
     "1, CD10 | 2, CD19 | 3, CD20 | 4, CD22", ""),
    ("ph", "diagnosis", "radio", "BCR::ABL1 (Ph)", "0, Negative | 1, Positive | 9, Not done", ""),
    ("tp53", "diagnosis", "dropdown", "TP53 status", "1, Mutated | 2, Wild-type | 3, Not done", ""),
    ("tp53_hgvsp", "diagnosis", "text", "TP53 protein change", "", ""),
    ("asct", "diagnosis", "yesno", "Prior autologous transplant", "", ""),
    ("len_start", "lenalidomide_courses", "text", "Lenalidomide start date", "", "date_ymd"),
    ("len_stop", "lenalidomide_courses", "text", "Lenalidomide stop date", "", "date_ymd"),
    ("len_regimen", "lenalidomide_courses", "dropdown", "Lenalidomide course", "1, Rd | 2, VRd | 3, Maintenance", ""),
    ("tx_line", "treatment_lines", "text", "Line of therapy", "", "integer"),
    ("tx_regimen", "treatment_lines", "text", "Regimen", "", ""),
    ("tx_category", "treatment_lines", "dropdown", "Regimen category",
     "1, Intensive chemotherapy | 2, Inotuzumab-based reduced intensity | 3, Blinatumomab | 4, TKI | "
     "5, Low intensity | 6, CAR T | 7, Other", ""),
    ("tx_start", "treatment_lines", "text", "Treatment start date", "", "date_ymd"),
    ("tx_end", "treatment_lines", "text", "Treatment end date", "", "date_ymd"),
    ("resp_date", "response_assessments", "text", "Response assessment date", "", "date_ymd"),
    ("resp_line", "response_assessments", "text", "Line assessed", "", "integer"),
    ("resp", "response_assessments", "dropdown", "Response", "1, CR | 2, CRi | 3, PR | 4, Refractory | "
     "5, Not evaluable", ""),
    ("resp_mrd", "response_assessments", "radio", "MRD", "1, Negative | 2, Positive | 3, Not done", ""),
    ("hct_date", "followup", "text", "Allogeneic HCT date", "", "date_ymd"),
    ("relapse_date", "followup", "text", "Relapse date", "", "date_ymd"),
    ("death_date", "followup", "text", "Date of death", "", "date_ymd"),
    ("death_cause", "followup", "text", "Cause of death", "", ""),
    ("fu_date", "followup", "text", "Date of last follow-up", "", "date_ymd"),
    ("fu_status", "followup", "radio", "Disease status at last follow-up",
     "1, No evidence of disease | 2, Active disease", ""),
]
FORMS = ["demographics", "diagnosis", "lenalidomide_courses", "treatment_lines", "response_assessments", "followup"]
REPEATING = {"lenalidomide_courses", "treatment_lines", "response_assessments"}


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def redcap_dictionary() -> bytes:
    rows = [DICTIONARY_HEADER]
    for name, form, kind, label, choices, validation in FIELDS:
        rows.append([name, form, "", kind, label, choices, "", validation] + [""] * 10)
    return _csv(rows)


def _columns() -> list[str]:
    columns = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group"]
    for form in FORMS:
        for name, f, kind, _, choices, _ in FIELDS:
            if f != form or name == "record_id":
                continue
            if kind == "checkbox":
                columns += [f"{name}___{c.split(',')[0].strip()}" for c in choices.split("|")]
            else:
                columns.append(name)
        columns.append(f"{form}_complete")
    return columns


def redcap_export() -> bytes:
    columns = _columns()
    records = [  # (record fields, [(instrument, instance, fields)])
        ({"record_id": "1", "redcap_data_access_group": "site_a", "sex": "1", "age_dx": "67", "age_mm": "62",
          "ball_dx_date": "2020-05-11", "markers___1": "1", "markers___2": "1", "markers___3": "0",
          "markers___4": "1", "ph": "0", "tp53": "2", "asct": "1", "fu_date": "2024-02-01", "fu_status": "1",
          "hct_date": "2020-10-20"},
         [("lenalidomide_courses", 1, {"len_start": "2015-01-12", "len_stop": "2015-06-30", "len_regimen": "2"}),
          ("lenalidomide_courses", 2, {"len_start": "2015-09-01", "len_stop": "2020-05-11", "len_regimen": "3"}),
          ("treatment_lines", 1, {"tx_line": "1", "tx_regimen": "hyper-CVAD", "tx_category": "1",
                                  "tx_start": "2020-05-15", "tx_end": "2020-09-30"}),
          ("response_assessments", 1, {"resp_date": "2020-06-16", "resp_line": "1", "resp": "1", "resp_mrd": "1"})]),
        ({"record_id": "2", "redcap_data_access_group": "site_a", "sex": "2", "age_dx": "72", "age_mm": "65",
          "ball_dx_date": "2021-09-03", "markers___1": "1", "markers___2": "1", "markers___3": "1",
          "markers___4": "1", "ph": "0", "tp53": "1", "tp53_hgvsp": "p.R273H", "asct": "0",
          "relapse_date": "2022-04-02", "death_date": "2022-08-14", "death_cause": "B-ALL"},
         [("lenalidomide_courses", 1, {"len_start": "2015-02-20", "len_stop": "2021-08-20", "len_regimen": "1"}),
          ("treatment_lines", 1, {"tx_line": "1", "tx_regimen": "mini-hyper-CVD + inotuzumab ozogamicin",
                                  "tx_category": "2", "tx_start": "2021-09-07", "tx_end": "2022-01-15"}),
          ("response_assessments", 1, {"resp_date": "2021-10-08", "resp_line": "1", "resp": "2", "resp_mrd": "2"}),
          ("treatment_lines", 2, {"tx_line": "2", "tx_regimen": "blinatumomab", "tx_category": "3",
                                  "tx_start": "2022-04-10", "tx_end": "2022-06-20"}),
          ("response_assessments", 2, {"resp_date": "2022-05-12", "resp_line": "2", "resp": "4", "resp_mrd": "3"})]),
        ({"record_id": "3", "redcap_data_access_group": "site_b", "sex": "2", "age_dx": "60", "age_mm": "57",
          "ball_dx_date": "2022-01-20", "markers___1": "1", "markers___2": "1", "ph": "9", "tp53": "3",
          "fu_date": "2023-07-01", "fu_status": "1"},
         [("lenalidomide_courses", 1, {"len_start": "2019-03-01", "len_stop": "2021-12-01", "len_regimen": "3"})]),
        ({"record_id": "4", "redcap_data_access_group": "site_b", "sex": "1", "age_dx": "70", "age_mm": "64",
          "ball_dx_date": "2019-12-02", "markers___1": "1", "markers___2": "1", "markers___4": "1", "ph": "1",
          "tp53": "2", "asct": "1", "fu_date": "2021-03-15", "fu_status": "2"},
         [("lenalidomide_courses", 1, {"len_start": "2014-04-04", "len_stop": "2019-11-25", "len_regimen": "2"}),
          ("treatment_lines", 1, {"tx_line": "1", "tx_regimen": "ponatinib + blinatumomab", "tx_category": "4",
                                  "tx_start": "2019-12-06", "tx_end": "2020-06-01"}),
          ("response_assessments", 1, {"resp_date": "2020-01-08", "resp_line": "1", "resp": "1", "resp_mrd": "1"})]),
    ]
    rows = [columns]
    for fields, repeats in records:
        row = {c: "" for c in columns}
        row.update(fields)
        for form in FORMS:
            if form not in REPEATING:
                row[f"{form}_complete"] = "2"
        rows.append([row[c] for c in columns])
        for instrument, instance, values in repeats:
            row = {c: "" for c in columns}
            row.update({"record_id": fields["record_id"], "redcap_repeat_instrument": instrument,
                        "redcap_repeat_instance": str(instance),
                        "redcap_data_access_group": fields["redcap_data_access_group"],
                        f"{instrument}_complete": "2", **values})
            rows.append([row[c] for c in columns])
    return _csv(rows)


def main() -> None:
    (HERE / "our_series.xlsx").write_bytes(spreadsheet())
    (HERE / "LenBALL_DATA_2026-01-15_1030.csv").write_bytes(redcap_export())
    (HERE / "LenBALL_DataDictionary_2026-01-15.csv").write_bytes(redcap_dictionary())


if __name__ == "__main__":
    main()
