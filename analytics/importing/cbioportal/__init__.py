"""cBioPortal study files, as published, mapped onto the app's schema; what cannot be mapped is listed.

Files are found the way cBioPortal finds them: every `meta_*.txt` names its data file
(`data_filename:`) and says what it holds (`genetic_alteration_type`/`datatype`): CLINICAL
PATIENT_ATTRIBUTES (the patient file), SAMPLE_ATTRIBUTES (the sample file), TIMELINE, and
MUTATION_EXTENDED (a MAF). Without meta files the usual names are recognised
(`data_clinical_patient[s].txt`, `data_clinical_sample[s].txt`, `data_mutations*.txt` or
`*.maf`, `data_timeline*.txt`). `meta_study.txt` gives the study's name; a case list with stable
id `*_sequenced` (`cases_sequenced.txt`) the sequenced samples. Other data types are listed as
not mapped and not read.

Mapping (nothing is invented: what a study does not say stays empty = not evaluated, with one
warning per column; cBioPortal's NA tokens - `NA`, `[Not Available]`, `[Unknown]`,
`[Not Applicable]`, `Not Applicable`, `[Not Evaluated]`, `[Discrepancy]`, empty ... - are
not evaluated and quoted in the report):

- patients: PATIENT_ID; SEX (Male/Female/M/F); AGE -> age at B-ALL diagnosis (completed
  years); KARYOTYPE, CNS_STATUS; INSTITUTION or CENTER, else the study's name (a warning says
  so); lineage from the diagnostic sample's ONCOTREE_CODE (BLL/TLL) or CANCER_TYPE_DETAILED.
- OS_STATUS + OS_MONTHS -> a death (`1:DECEASED`, `DECEASED`) or last contact (`0:LIVING`,
  `LIVING`) on day round(OS_MONTHS x 30.4375). A code contradicting its word (`0:DECEASED`) is an
  error; a patient without both is not evaluable for survival (one warning, not an error).
- EFS source, chosen by the user (`efs_source`): the timeline's relapse/progression rows, or one
  of the study's other `*_STATUS`/`*_MONTHS` pairs (DFS, PFS, EFS...) whose events (`1:...`)
  become relapse events (relapse or progression: the pair does not say which), or none (EFS then
  counts deaths and induction failures only). `endpoint_sources` says what each would yield.
- The diagnostic sample per patient: see `SAMPLE_RULE`. Mutations: that sample's rows of the
  MAF, the app's seven protein-altering Variant_Classification values; Hugo_Symbol, HGVSp_Short,
  VAF = t_alt_count / (t_alt_count + t_ref_count). A patient is sequenced when the sample is in
  the sequenced case list, or (without one) when it appears in the MAF; otherwise not evaluated.
- timeline (START_DATE/STOP_DATE taken as days from the B-ALL diagnosis): TREATMENT with
  lenalidomide -> lenalidomide_course, an allogeneic transplant -> hct, other treatments with a
  LINE -> treatment_line; STATUS remission with LINE -> response_assessment, death -> death
  (unless OS_STATUS gave it), relapse/progression -> relapse when the timeline is the EFS source.

Only the columns the mapping uses are read, normalised (Unicode NFKC, invisible characters
removed) and stored, so only they meet the privacy guard (on the mapped values, located back at
the study file's row and column); every other column is listed as not mapped and never stored.

>>> from analytics.importing.report import Report
>>> rows = ["#Patient Identifier\\tSex\\tAge\\tOS status\\tOS months",
...         "#d\\td\\td\\td\\td", "#STRING\\tSTRING\\tNUMBER\\tSTRING\\tNUMBER", "#1\\t1\\t1\\t1\\t1",
...         "PATIENT_ID\\tSEX\\tAGE\\tOS_STATUS\\tOS_MONTHS", "P1\\tFemale\\t70\\t1:DECEASED\\t10.5"]
>>> sample = "PATIENT_ID\\tSAMPLE_ID\\tONCOTREE_CODE\\nP1\\tP1-T\\tBLL\\n"
>>> report = Report()
>>> raws, not_mapped = read_study([("data_clinical_patient.txt", "\\n".join(rows).encode()),
...                                ("data_clinical_sample.txt", sample.encode())], report)
>>> raws["events"].frame[["patient_id", "event_type", "day"]].values.tolist()
[['P1', 'death', '320']]
>>> raws["patients"].frame[["sex", "age_at_ball_dx", "lineage"]].values.tolist()
[['F', '70', 'B']]
>>> status_code("DECEASED", "OS"), status_code("1:DECEASED", "OS"), status_code("0:DECEASED", "OS")[1]
(('1', None), ('1', None), "the code 0 contradicts 'DECEASED' (an event)")
"""
from analytics.importing.cbioportal.assemble import read_study, relocate
from analytics.importing.cbioportal.clinical import SAMPLE_RULE
from analytics.importing.cbioportal.endpoints import (EndpointSource, default_efs_source, endpoint_sources,
                                                      status_code)
from analytics.importing.cbioportal.study import collect

__all__ = ["SAMPLE_RULE", "EndpointSource", "collect", "default_efs_source", "endpoint_sources", "read_study",
           "relocate", "status_code"]
