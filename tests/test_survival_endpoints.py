"""Endpoint derivation (OS/EFS, EFS event set, time origin, population, groups) and CSV safety,
checked against a plain-Python derivation from the patient_summary rows."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics.export import safe_csv

from analytics.cohort import filtered_summary
from analytics.filters import CohortFilter
from analytics.survival import (ALL_EFS_EVENTS, EFS_EVENT_COLUMNS, SurvivalSpec, km_counts,
                                patient_table)


def expected_rows(summary: pd.DataFrame, spec: SurvivalSpec) -> dict:
    """Independent derivation: {patient_id: (time_days, event)} for included patients."""
    out = {}
    columns = ["death_day"] if spec.endpoint == "OS" else [EFS_EVENT_COLUMNS[e] for e in spec.efs_events]
    for _, r in summary.iterrows():
        if spec.population == "treated" and not r["treated"]:
            continue
        origin = 0 if spec.origin == "diagnosis" else r["first_treatment_day"]
        if pd.isna(origin):
            continue
        days = [r[c] for c in columns if pd.notna(r[c])]
        end = min(days) if days else r["last_contact_day"]
        out[r["patient_id"]] = (int(end - origin), int(bool(days)))
    return out


@pytest.mark.parametrize("spec", [
    SurvivalSpec(), SurvivalSpec(endpoint="OS"), SurvivalSpec(efs_events=("relapse",)),
    SurvivalSpec(efs_events=("relapse", "death")), SurvivalSpec(population="treated"),
    SurvivalSpec(endpoint="OS", origin="first_treatment"),
    SurvivalSpec(efs_events=("induction_failure", "death"), origin="first_treatment")])
def test_working_table_matches_independent_derivation(demo_db, spec):
    summary = filtered_summary(demo_db, CohortFilter())
    table = patient_table(demo_db, CohortFilter(), spec)
    included = table[table["included"]]
    got = {r.patient_id: (int(r.time_days), int(r.event)) for r in included.itertuples()}
    assert got == expected_rows(summary, spec)


def test_efs_default_equals_schema_efs_columns(demo_db):
    summary = filtered_summary(demo_db, CohortFilter()).set_index("patient_id")
    table = patient_table(demo_db, CohortFilter(), SurvivalSpec()).set_index("patient_id")
    assert (table["time_days"] == summary["efs_days"]).all()
    assert (table["event"].astype(bool) == summary["efs_event"]).all()


def test_event_type_names_the_first_event_and_untreated_have_no_treatment_origin(demo_db):
    table = patient_table(demo_db, CohortFilter(), SurvivalSpec()).set_index("patient_id")
    assert table.loc["S08", "status"] == "event: induction failure"   # failure day 42, death 190
    assert table.loc["S13", "status"] == "event: death"               # died without relapse
    assert table.loc["S01", "status"] == "censored at last contact"
    ft = patient_table(demo_db, CohortFilter(), SurvivalSpec(origin="first_treatment")).set_index("patient_id")
    untreated = ft[ft["first_treatment_day"].isna()]
    assert len(untreated) == 4 and not untreated["included"].any()
    assert set(untreated["exclusion_reason"]) == {"no time origin (never treated)"}
    # time is reset to the treatment start
    assert ft.loc["S04", "time_days"] == 1300 - 95


def test_filters_and_population_restrict_patients(demo_db):
    f = CohortFilter(institution=("Site B",))
    table = patient_table(demo_db, f, SurvivalSpec(population="treated"))
    assert set(table["patient_id"]) == {"S04", "S08", "S11", "S16", "S19", "S28"}
    assert patient_table(demo_db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",)),
                         SurvivalSpec()).empty


def test_groups_keep_not_evaluated_separate_and_split_continuous(demo_db):
    counts = km_counts(demo_db, CohortFilter(), SurvivalSpec(group="tp53_status"))
    sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1).to_dict()
    assert sizes == {"mutated": 9, "wild-type": 10, "not evaluated": 13}
    table = patient_table(demo_db, CohortFilter(), SurvivalSpec(group="age_at_ball_dx", cutoff=65))
    summary = filtered_summary(demo_db, CohortFilter()).set_index("patient_id")
    for r in table.itertuples():
        assert r.group == ("< 65" if summary.loc[r.patient_id, "age_at_ball_dx"] < 65 else "≥ 65")
    hct = patient_table(demo_db, CohortFilter(), SurvivalSpec(group="hct"))
    assert set(hct["group"]) == {"yes", "no"}


@pytest.mark.parametrize("bad", [
    dict(endpoint="PFS"), dict(origin="myeloma"), dict(population="some"), dict(efs_events=()),
    dict(efs_events=("progression",)), dict(group="patient_id; DROP TABLE patients"),
    dict(group="age_at_ball_dx"), dict(group="age_at_ball_dx", cutoff=float("nan"))])
def test_invalid_specs_are_rejected(demo_db, bad):
    with pytest.raises(ValueError):
        patient_table(demo_db, CohortFilter(), SurvivalSpec(**bad))


def test_all_efs_events_listed():
    assert set(ALL_EFS_EVENTS) == {"induction_failure", "relapse", "death"}


def test_csv_neutralises_formula_injection():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "ok", None],
                          "n": [1, -2, 3, 4, 5, 6]})
    text = safe_csv(frame).decode()
    back = pd.read_csv(io.StringIO(text))
    assert back["name"].tolist()[:5] == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "ok"]
    assert back["n"].tolist() == [1, -2, 3, 4, 5, 6]  # numbers stay numbers
    for line in text.splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@"))
