"""cBioPortal studies as published: files found through meta_*.txt, any names, full MAFs, NA
tokens, status codes with or without the 1:/0: prefix, several samples per patient, what is not
mapped is dropped (never stored, never checked), what is missing is not evaluated (one warning
per column), and the EFS relapse source is chosen, not guessed."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.importing import build_database, import_files
from analytics.importing.__main__ import main
from analytics.importing.cbioportal import SAMPLE_RULE, endpoint_sources, status_code
from tests.test_cbioportal_import import PATIENTS, study


def clinical(header: list[str], rows: list[list[str]]) -> bytes:
    """A clinical file as cBioPortal writes it: four '#' rows, the header on row 5."""
    lines = ["#" + "\t".join(header), "#" + "\t".join(header), "#" + "\t".join("STRING" for _ in header),
             "#" + "\t".join("1" for _ in header), "\t".join(header)]
    return ("\n".join(lines + ["\t".join(r) for r in rows]) + "\n").encode()


def meta(kind: str, datatype: str, filename: str) -> bytes:
    return (f"cancer_study_identifier: test\ngenetic_alteration_type: {kind}\ndatatype: {datatype}\n"
            f"data_filename: {filename}\n").encode()


MAF_HEADER = ("Hugo_Symbol\tEntrez_Gene_Id\tCenter\tNCBI_Build\tChromosome\tStart_Position\tEnd_Position\tStrand\t"
              "Variant_Classification\tVariant_Type\tReference_Allele\tTumor_Seq_Allele2\tTumor_Sample_Barcode\t"
              "Matched_Norm_Sample_Barcode\tHGVSc\tHGVSp\tHGVSp_Short\tt_ref_count\tt_alt_count\tcDNA_position\t"
              "CDS_position\tProtein_position\tDOMAINS\tgene_name_WU\tstart_WU")


def maf(rows: list[tuple[str, str, str, str]]) -> bytes:
    """(gene, sample, class, protein change) -> a MAF with the standard columns, real-looking values."""
    lines = ["#version 2.4", MAF_HEADER]
    for gene, sample, vclass, change in rows:
        lines.append("\t".join([gene, "7157", "genome.wustl.edu", "GRCh37", "17", "7577120", "7577120", "+",
                                vclass, "SNP", "C", "T", sample, sample[:-2] + "10", "c.743G>A", "p.Arg248Gln",
                                change, "55", "45", "933/2579", "26-27/1923", "80/1910",
                                "Pfam_domain:PF00870,Superfamily_domains:SSF49417", "TP53", "7577120"]))
    return ("\n".join(lines) + "\n").encode()


STUDY_META = b"type_of_cancer: bll\ncancer_study_identifier: test\nname: Published-layout study\n"


def published(patients: bytes, samples: bytes, mutations: bytes | None = None, **extra) -> list:
    """A study with cBioPortal's own plural names, a .maf and the meta files naming them."""
    files = {"meta_study.txt": STUDY_META,
             "meta_clinical_patients.txt": meta("CLINICAL", "PATIENT_ATTRIBUTES", "data_clinical_patients.txt"),
             "meta_clinical_samples.txt": meta("CLINICAL", "SAMPLE_ATTRIBUTES", "data_clinical_samples.txt"),
             "data_clinical_patients.txt": patients, "data_clinical_samples.txt": samples}
    if mutations is not None:
        files["meta_mutations_extended.txt"] = meta("MUTATION_EXTENDED", "MAF", "data_mutations_extended.maf")
        files["data_mutations_extended.maf"] = mutations
    files.update(extra)
    return [(n, d) for n, d in files.items() if d is not None]


BASIC_PATIENTS = clinical(["PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS"],
                          [["P1", "Female", "70", "1:DECEASED", "10"], ["P2", "Male", "65", "0:LIVING", "20"],
                           ["P3", "Female", "61", "0:LIVING", "30"]])
BASIC_SAMPLES = clinical(["PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE"],
                         [["P1", "P1-01", "BLL"], ["P2", "P2-01", "BLL"], ["P3", "P3-01", "BLL"]])


def test_files_are_found_through_the_meta_files_whatever_their_names():
    renamed = [("meta_study.txt", STUDY_META),
               ("meta_a.txt", meta("CLINICAL", "PATIENT_ATTRIBUTES", "clinical_p.tsv")),
               ("meta_b.txt", meta("CLINICAL", "SAMPLE_ATTRIBUTES", "clinical_s.tsv")),
               ("meta_c.txt", meta("MUTATION_EXTENDED", "MAF", "variants.maf")),
               ("meta_cna.txt", meta("COPY_NUMBER_ALTERATION", "DISCRETE", "data_cna.txt")),
               ("clinical_p.tsv", BASIC_PATIENTS), ("clinical_s.tsv", BASIC_SAMPLES),
               ("variants.maf", maf([("TP53", "P1-01", "Missense_Mutation", "p.R248Q")])),
               ("data_cna.txt", b"Hugo_Symbol\tP1-01\nTP53\t-2\n")]
    result = import_files(renamed)
    assert result.ok, result.report.text()
    assert result.tables["patients"]["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert result.tables["mutations"][["patient_id", "gene"]].values.tolist() == [["P1", "TP53"]]
    assert result.tables["cohort_info"]["cohort_name"].tolist() == ["Published-layout study"]
    assert any("data_cna.txt (COPY_NUMBER_ALTERATION DISCRETE, named by meta_cna.txt)" in n
               for n in result.not_mapped)


def test_plural_names_and_a_full_maf_are_read():
    files = published(BASIC_PATIENTS, BASIC_SAMPLES,
                      maf([("TP53", "P1-01", "Missense_Mutation", "p.R248Q"),
                           ("KRAS", "P2-01", "Silent", "p.G12G")]))
    result = import_files(files)
    assert result.ok, result.report.text()
    assert result.kind == "cbioportal"
    # Start_Position 7577120, CDS_position 26-27/1923, Protein_position 80/1910, DOMAINS, gene_name_WU:
    # annotation, never called record numbers, dates or names; listed as not mapped
    assert not [i for i in result.report.issues if i.column in ("Start_Position", "CDS_position",
                                                                 "Protein_position", "DOMAINS", "gene_name_WU")]
    text = "\n".join(result.not_mapped)
    assert "standard MAF column(s) of genomic coordinates" in text
    for column in ("Start_Position", "Entrez_Gene_Id", "Center"):
        assert column in text
    assert "1 variant(s) of class Silent" in text


def test_columns_that_are_not_mapped_are_dropped_not_refused():
    samples = clinical(["PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE", "DATE_ADDED", "Patient_Name"],
                       [["P1", "P1-01", "BLL", "Not Applicable", "x"], ["P2", "P2-01", "BLL", "2021-03-04", "y"],
                        ["P3", "P3-01", "BLL", "Not Applicable", "z"]])
    result = import_files(published(BASIC_PATIENTS, samples))
    assert result.ok, result.report.text()
    assert any("columns DATE_ADDED, Patient_Name (no place in the schema; not stored)" in n
               for n in result.not_mapped)
    db = build_database(result.tables)
    stored = "".join(db.query(f"SELECT * FROM {t}").to_csv() for t in ("patients", "events", "mutations"))
    assert "2021-03-04" not in stored and "DATE_ADDED" not in stored
    db.close()


NA_TOKENS = ["NA", "[Not Available]", "[Unknown]", "[Not Applicable]", "Not Applicable", "[Not Evaluated]",
             "[Discrepancy]", ""]


def test_na_tokens_are_not_evaluated_with_one_warning_quoting_them():
    rows = [[f"P{i}", token, "70", "0:LIVING", "5"] for i, token in enumerate(NA_TOKENS, start=1)]
    rows.append(["P9", "Male", "[Not Available]", "0:LIVING", "5"])
    patients = clinical(["PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS"], rows)
    samples = clinical(["PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE"], [[r[0], r[0] + "-01", "BLL"] for r in rows])
    result = import_files(published(patients, samples))
    assert result.ok, result.report.text()
    sex = [i for i in result.report.warnings if i.column == "SEX"]
    assert len(sex) == 1                                   # one warning for the column, not one per row
    assert "not evaluated for 8 of 9 patient(s)" in sex[0].problem
    for token in NA_TOKENS:
        assert repr(token) in sex[0].problem               # each token quoted as the file has it
    assert (sex[0].row, sex[0].value) == (6, "'NA'")
    age = [i for i in result.report.warnings if i.column == "AGE"]
    assert len(age) == 1 and age[0].value == "'[Not Available]'" and age[0].row == 14
    db = build_database(result.tables)
    got = db.query("SELECT count(*) FILTER (WHERE sex IS NULL) AS sex, count(*) FILTER (WHERE age_at_ball_dx "
                   "IS NULL) AS age FROM patients")
    assert got.values.tolist() == [[8, 1]]
    db.close()


@pytest.mark.parametrize("value, expected", [
    ("1:DECEASED", "1"), ("DECEASED", "1"), ("0:LIVING", "0"), ("LIVING", "0"), (" 1 : DECEASED ", "1"),
    ("1:Recurred/Progressed", "1"), ("Recurred/Progressed", "1"), ("0:DiseaseFree", "0"), ("DiseaseFree", "0"),
    ("1:PROGRESSION", "1"), ("0:CENSORED", "0"), ("1:Anything the study calls its event", "1")])
def test_status_codes_with_or_without_the_prefix(value, expected):
    assert status_code(value, "OS") == (expected, None)


@pytest.mark.parametrize("value", ["0:DECEASED", "1:LIVING", "0:Recurred/Progressed", "1:DiseaseFree",
                                   "2:UNKNOWN", "MAYBE"])
def test_contradictory_or_unknown_status_is_a_problem(value):
    code, problem = status_code(value, "OS")
    assert code is None and problem


def test_status_without_prefix_gives_the_same_events_and_contradictions_are_located():
    plain = BASIC_PATIENTS.replace(b"1:DECEASED", b"DECEASED").replace(b"0:LIVING", b"LIVING")
    a, b = import_files(published(BASIC_PATIENTS, BASIC_SAMPLES)), import_files(published(plain, BASIC_SAMPLES))
    assert a.ok and b.ok
    assert a.tables["events"].equals(b.tables["events"])
    bad = BASIC_PATIENTS.replace(b"P2\tMale\t65\t0:LIVING", b"P2\tMale\t65\t0:DECEASED").replace(
        b"P3\tFemale\t61\t0:LIVING", b"P3\tFemale\t61\t1:LIVING")
    result = import_files(published(bad, BASIC_SAMPLES))
    assert not result.ok
    assert [(i.file, i.row, i.column, i.value) for i in result.report.errors] == [
        ("data_clinical_patients.txt", 7, "OS_STATUS", "0:DECEASED"),
        ("data_clinical_patients.txt", 8, "OS_STATUS", "1:LIVING")]
    assert "contradicts" in result.report.errors[0].problem


def test_follow_up_missing_is_a_warning_and_only_survival_loses_the_patient():
    patients = BASIC_PATIENTS.replace(b"0:LIVING\t20", b"0:LIVING\t[Not Available]")
    result = import_files(published(patients, BASIC_SAMPLES))
    assert result.ok, result.report.text()
    warning = next(i for i in result.report.warnings if "no usable OS_STATUS" in i.problem)
    assert (warning.row, warning.column, warning.value) == (7, "OS_MONTHS", "'[Not Available]'")
    db = build_database(result.tables)
    got = db.query("SELECT patient_id, os_days FROM patient_summary ORDER BY patient_id")
    assert got["patient_id"].tolist() == ["P1", "P2", "P3"] and got["os_days"].isna().tolist() == [False, True, False]
    db.close()


def test_the_diagnostic_sample_is_chosen_by_the_stated_rule_and_normals_are_ignored():
    samples = clinical(["PATIENT_ID", "SAMPLE_ID", "SAMPLE_TYPE", "ONCOTREE_CODE"], [
        ["P1", "P1-N", "Normal", "BLL"], ["P1", "P1-R", "Recurrence", "BLL"], ["P1", "P1-01", "Primary", "BLL"],
        ["P2", "P2-R", "Recurrence", "BLL"], ["P2", "P2-01", "", "BLL"],   # no primary stated: first listed
        ["P3", "P3-01", "Primary", "TLL"]])
    tcga = clinical(["PATIENT_ID", "SAMPLE_ID"], [  # TCGA sample codes: 10 normal, 02 recurrent, 01 primary
        ["P1", "TCGA-AB-0001-10"], ["P1", "TCGA-AB-0001-02"], ["P1", "TCGA-AB-0001-01"],
        ["P2", "TCGA-AB-0002-01"], ["P3", "TCGA-AB-0003-01"]])
    mutations = maf([("TP53", "P1-01", "Missense_Mutation", "p.R248Q"), ("NRAS", "P1-R", "Missense_Mutation", "p.G12D"),
                     ("KRAS", "P1-N", "Missense_Mutation", "p.G12V"), ("IKZF1", "P2-R", "Nonsense_Mutation", "p.R5*")])
    result = import_files(published(BASIC_PATIENTS, samples, mutations))
    assert result.ok, result.report.text()
    assert result.tables["mutations"][["patient_id", "gene"]].values.tolist() == [["P1", "TP53"], ["P2", "IKZF1"]]
    rule = next(i for i in result.report.warnings if "several tumour samples" in i.problem)
    assert "2 patient(s) have several tumour samples and 1 normal sample(s)" in rule.problem
    assert SAMPLE_RULE in rule.problem
    assert result.tables["patients"]["lineage"].tolist() == ["B", "B", "T"]
    tcga_maf = maf([("TP53", "TCGA-AB-0001-01", "Missense_Mutation", "p.R248Q"),
                    ("NRAS", "TCGA-AB-0001-02", "Missense_Mutation", "p.G12D")])
    result = import_files(published(BASIC_PATIENTS, tcga, tcga_maf))
    assert result.ok, result.report.text()
    assert result.tables["mutations"]["gene"].tolist() == ["TP53"]


def test_a_study_without_sex_age_or_lineage_gets_one_warning_per_column_and_loads():
    patients = clinical(["PATIENT_ID", "OS_STATUS", "OS_MONTHS"], [[f"P{i}", "0:LIVING", str(i)] for i in range(1, 40)])
    samples = clinical(["PATIENT_ID", "SAMPLE_ID"], [[f"P{i}", f"P{i}-01"] for i in range(1, 40)])
    result = import_files(published(patients, samples))
    assert result.ok, result.report.text()
    assert not result.report.errors
    per_column = Counter(i.column for i in result.report.warnings)
    for column in ("SEX", "AGE", "KARYOTYPE", "CNS_STATUS"):
        assert per_column[column] == 1
    assert sum("lineage is not evaluated for 39 of 39" in i.problem for i in result.report.warnings) == 1
    assert len(result.report.warnings) < 12  # not one per row
    db = build_database(result.tables)
    got = db.query("SELECT count(*) AS n, count(sex) AS sex, count(age_at_ball_dx) AS age, count(lineage) AS lin "
                   "FROM patients")
    assert got.values.tolist() == [[39, 0, 0, 0]]
    db.close()


def test_only_the_patient_id_blocks():
    patients = clinical(["SEX", "OS_STATUS"], [["Female", "0:LIVING"]])
    result = import_files(published(patients, BASIC_SAMPLES))
    assert not result.ok
    assert [(i.file, i.row, i.column) for i in result.report.errors] == [("data_clinical_patients.txt", 5, "PATIENT_ID")]


# --- endpoint sources -------------------------------------------------------------------------

def test_endpoint_sources_say_what_each_would_yield():
    sources = {s.name: s for s in endpoint_sources(study())}
    assert list(sources) == ["OS", "DFS", "timeline"]
    assert (sources["OS"].patients, sources["OS"].events) == (10, 5)
    dfs_events = sum(p[5].startswith("1:") for p in PATIENTS)
    dfs_patients = sum(p[5] != "NA" for p in PATIENTS)
    assert (sources["DFS"].patients, sources["DFS"].events) == (dfs_patients, dfs_events) == (9, 5)
    assert (sources["timeline"].patients, sources["timeline"].events) == (1, 1)


def test_the_chosen_efs_source_gives_the_relapses_and_is_said():
    default = import_files(study())
    assert default.ok and default.efs_source == "timeline"
    assert "EFS source (by default): relapse/progression STATUS rows" in default.report.text()
    chosen = import_files(study(), efs_source="DFS")
    assert chosen.ok, chosen.report.text()
    assert chosen.efs_source == "DFS"
    events = chosen.tables["events"]
    relapses = events[events.event_type == "relapse"]
    assert sorted(relapses.patient_id) == sorted(p[0] for p in PATIENTS if p[5].startswith("1:"))
    assert set(relapses.note) == {"DFS_STATUS 1:Recurred/Progressed (cBioPortal), recorded as relapse/progression"}
    assert "EFS source (as chosen): DFS_STATUS/DFS_MONTHS" in chosen.report.text()
    assert "EFS relapse source (as chosen): DFS_STATUS/DFS_MONTHS" in chosen.tables["cohort_info"]["description"].iloc[0]
    assert any("relapse/progression row(s): the timeline is not the chosen EFS source" in n for n in chosen.not_mapped)
    db = build_database(chosen.tables)
    got = db.query("SELECT patient_id, efs_event_day, relapse_day, death_day FROM patient_summary "
                   "WHERE efs_event ORDER BY patient_id")
    # the DFS events (at half the OS time in this study) end EFS before the deaths
    dfs = [p for p in PATIENTS if p[5].startswith("1:")]
    assert got["patient_id"].tolist() == [p[0] for p in dfs]
    assert got["efs_event_day"].tolist() == got["relapse_day"].tolist() == [
        round(float(f"{p[3] // 2 / 30.4375:.4f}") * 30.4375) for p in dfs]
    db.close()
    none = import_files(study(), efs_source="none")
    assert none.ok and not (none.tables["events"].event_type == "relapse").any()
    wrong = import_files(study(), efs_source="RFS")
    assert not wrong.ok and "the EFS source 'RFS' is not offered" in wrong.report.text()


def test_a_contradictory_status_of_the_chosen_pair_is_located():
    from tests.test_cbioportal_import import patient_file
    bad = patient_file().replace(b"1:Recurred/Progressed", b"0:Recurred/Progressed", 1)
    result = import_files(study(**{"data_clinical_patient.txt": bad}), efs_source="DFS")
    assert [(i.file, i.row, i.column) for i in result.report.errors] == [("data_clinical_patient.txt", 6, "DFS_STATUS")]


def test_cli_takes_a_study_folder_and_the_efs_source(tmp_path, capsys):
    folder = tmp_path / "study"
    (folder / "case_lists").mkdir(parents=True)
    for name, data in study():
        (folder / name).write_bytes(data)
    out = tmp_path / "study.duckdb"
    assert main([str(folder), "--efs-source", "DFS", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "survival source DFS: 9 patients, 5 events" in err and "EFS source used: DFS" in err
    from analytics.db import CohortDatabase
    db = CohortDatabase.open_file(out)
    assert int(db.scalar("SELECT count(*) FROM events WHERE event_type = 'relapse'")) == 5
    assert "DFS_STATUS/DFS_MONTHS" in db.scalar("SELECT description FROM cohort_info")
    db.close()
    assert main([str(folder), "--efs-source", "XYZ", "--out", str(tmp_path / "x.duckdb")]) == 1


def test_own_format_csv_names_are_not_taken_for_cbioportal_files():
    from analytics.importing import _kind
    assert [_kind(n) for n in ("data_clinical_patients.txt", "data_mutations_extended.maf", "meta_study.txt",
                               "cases_sequenced.txt", "data_patients.csv", "patients.csv", "data.xlsx")] == [
        "cbioportal", "cbioportal", "cbioportal", "cbioportal", "csv", "csv", "workbook"]
    # a study folder's README travels with the study: listed as not read, not refused
    result = import_files(published(BASIC_PATIENTS, BASIC_SAMPLES, **{"README.txt": b"about this study"}))
    assert result.ok and any(n.startswith("README.txt: ") for n in result.not_mapped)


def test_only_attribute_ids_are_offered_as_endpoint_sources():
    patients = clinical(["PATIENT_ID", "OS_STATUS", "OS_MONTHS", "[x](http://e.example)_STATUS",
                         "[x](http://e.example)_MONTHS", "PFS_STATUS", "PFS_MONTHS"],
                        [["P1", "0:LIVING", "3", "1:EVENT", "2", "1:PROGRESSION", "2"]])
    samples = clinical(["PATIENT_ID", "SAMPLE_ID"], [["P1", "P1-01"]])
    assert [s.name for s in endpoint_sources(published(patients, samples))] == ["OS", "PFS"]


def test_patient_facts_of_an_imported_study_say_not_evaluated():
    from analytics.filters import CohortFilter
    from analytics.patient import key_facts
    patients = clinical(["PATIENT_ID", "OS_STATUS", "OS_MONTHS"], [["P1", "1:DECEASED", "10"], ["P2", "NA", "NA"]])
    samples = clinical(["PATIENT_ID", "SAMPLE_ID"], [["P1", "P1-01"], ["P2", "P2-01"]])
    result = import_files(published(patients, samples))
    assert result.ok, result.report.text()
    db = build_database(result.tables)
    dead = key_facts(db, CohortFilter(), "P1").set_index("fact")["value"]   # only a death event
    assert dead["Sex"] == "not evaluated" and dead["Age at B-ALL diagnosis"] == "not evaluated"
    assert dead["Overall survival"] == "10.0 months, died (cause not recorded)" and dead["Status at last contact"] == "dead"
    lost = key_facts(db, CohortFilter(), "P2").set_index("fact")["value"]   # no follow-up at all
    assert lost["Overall survival"].startswith("not evaluated") and lost["Status at last contact"] == "unknown"
    db.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NA_TOKENS + ["Female", "Male"]), st.sampled_from(NA_TOKENS + ["66"]),
                          st.sampled_from(NA_TOKENS + ["1:DECEASED", "0:LIVING", "DECEASED", "LIVING"]),
                          st.sampled_from(NA_TOKENS + ["12.5"]), st.sampled_from(NA_TOKENS + ["BLL"])),
                min_size=1, max_size=6))
def test_any_mix_of_na_tokens_loads_as_not_evaluated_never_as_a_value(rows):
    ids = [f"P{i}" for i in range(1, len(rows) + 1)]
    patients = clinical(["PATIENT_ID", "SEX", "AGE", "OS_STATUS", "OS_MONTHS"],
                        [[pid, sex, age, status, months] for pid, (sex, age, status, months, _) in zip(ids, rows)])
    samples = clinical(["PATIENT_ID", "SAMPLE_ID", "ONCOTREE_CODE"],
                       [[pid, pid + "-01", code] for pid, (*_, code) in zip(ids, rows)])
    result = import_files(published(patients, samples))
    assert result.ok, result.report.text()
    stored = result.tables["patients"].set_index("patient_id")
    events = result.tables["events"].set_index("patient_id")
    for pid, (sex, age, status, months, code) in zip(ids, rows):
        assert (stored.at[pid, "sex"] is None) == (sex in NA_TOKENS)
        assert (stored.at[pid, "age_at_ball_dx"] is None) == (age in NA_TOKENS)
        assert (stored.at[pid, "lineage"] is None) == (code in NA_TOKENS)
        followed = status not in NA_TOKENS and months not in NA_TOKENS
        assert (pid in events.index) == followed
        if followed:
            assert events.at[pid, "event_type"] == ("death" if "DECEASED" in status else "last_contact")
            assert events.at[pid, "day"] == "380"   # round(12.5 x 30.4375)
