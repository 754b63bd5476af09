"""Synthetic cohort generator: deterministic, same schema, relations that hold, every page's
analytics run on it."""
from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from analytics import cohort, survival
from analytics.build import build_in_memory
from analytics.filters import CohortFilter
from analytics.synthetic import CHUNK, build_synthetic_file, build_synthetic_in_memory


@pytest.fixture(scope="module")
def db():
    # More than one chunk, so chunk boundaries (ids, event ids) are exercised.
    return build_synthetic_in_memory(CHUNK + 1500, seed=7)


def _table_dump(database, table: str):
    return database.query(f"SELECT * FROM {table} ORDER BY ALL")


def test_deterministic_and_seed_dependent():
    a, b, c = (build_synthetic_in_memory(300, seed=s) for s in (3, 3, 4))
    for table in ("patients", "events", "mutations", "measurements"):
        assert _table_dump(a, table).equals(_table_dump(b, table)), table
    assert not _table_dump(a, "events").equals(_table_dump(c, "events"))


def test_same_schema_as_demo(db):
    demo = build_in_memory("data/demo_cohort")
    for relation in ("cohort_info", "patients", "events", "mutations", "measurements", "patient_summary"):
        assert db.describe(relation).equals(demo.describe(relation)), relation
    assert db.synthetic is True
    assert "Not patient data" in db.description


def test_sizes_and_keys(db):
    n = CHUNK + 1500
    assert db.scalar("SELECT count(*) FROM patients") == n
    assert db.scalar("SELECT count(DISTINCT patient_id) FROM patients") == n
    ids = db.query("SELECT min(event_id) lo, max(event_id) hi, count(*) k FROM events").iloc[0]
    assert (ids.lo, ids.hi) == (1, ids.k)  # contiguous across chunks
    for table in ("events", "mutations", "measurements"):
        orphans = db.scalar(f"SELECT count(*) FROM {table} WHERE patient_id NOT IN (SELECT patient_id FROM patients)")
        assert orphans == 0, table
    for table in ("events", "mutations", "measurements"):
        assert db.scalar(f"SELECT count(*) FROM {table}") > 0, table


def test_relations_hold(db):
    q = db.scalar
    # every patient has lenalidomide before B-ALL diagnosis (day 0): latency > 0
    assert q("SELECT count(*) FROM patient_summary WHERE latency_days IS NULL OR latency_days <= 0") == 0
    assert q("SELECT count(*) FROM patient_summary WHERE len_stop_day > 0") == 0
    # responses only for treated patients; relapse only after a CR/CRi, before death
    assert q("SELECT count(*) FROM patient_summary WHERE best_response IS NOT NULL AND NOT treated") == 0
    assert q("SELECT count(*) FROM patient_summary WHERE relapse_day IS NOT NULL "
             "AND (first_cr_day IS NULL OR relapse_day <= first_cr_day)") == 0
    assert q("SELECT count(*) FROM patient_summary WHERE relapse_day > death_day") == 0
    assert q("SELECT count(*) FROM patient_summary WHERE hct_day > coalesce(relapse_day, hct_day) "
             "OR hct_day > coalesce(death_day, hct_day)") == 0
    # last contact is the day of death for those who died
    assert q("SELECT count(*) FROM patient_summary WHERE death_day IS NOT NULL "
             "AND last_contact_day IS NOT NULL AND last_contact_day <> death_day") == 0
    # TP53 is evaluated only in sequenced patients and enriched in low hypodiploid leukaemia
    assert q("SELECT count(*) FROM patient_summary WHERE sequencing_assay IS NULL AND tp53_status IS NOT NULL") == 0
    rates = db.query("SELECT ploidy_category = 'low hypodiploid' AS low, avg((tp53_status = 'mutated')::INT) r "
                     "FROM patient_summary WHERE tp53_status IS NOT NULL GROUP BY 1").set_index("low")["r"]
    assert rates[True] > 0.7 > 0.3 > rates[False]
    # "not evaluated" exists (NULLs) but is a minority, never coded as negative
    tp53_null = q("SELECT avg((tp53_status IS NULL)::INT) FROM patient_summary")
    assert 0.1 < tp53_null < 0.3
    # measurements never after death / last contact
    assert q("SELECT count(*) FROM measurements m JOIN patient_summary s USING (patient_id) "
             "WHERE m.day > coalesce(s.death_day, s.last_contact_day)") == 0
    # TP53 shortens survival
    med = db.query("SELECT tp53_status, median(os_days) m FROM patient_summary WHERE tp53_status IS NOT NULL "
                   "GROUP BY 1").set_index("tp53_status")["m"]
    assert med["mutated"] < med["wild-type"]


def test_survival_analytics_run(db):
    spec = survival.SurvivalSpec(endpoint="OS", group="tp53_status")
    counts = survival.km_counts(db, CohortFilter(), spec)
    assert counts[["n_event", "n_censored"]].to_numpy().sum() == survival.patient_table(
        db, CohortFilter(), spec)["included"].sum()
    lr = survival.logrank_from_counts(counts)
    assert lr.p_value < 1e-6  # TP53 was generated with a higher death hazard
    assert cohort.count_patients(db, CohortFilter(tp53=("mutated",))) > 0


def test_file_build_is_atomic_and_readable(tmp_path):
    out = build_synthetic_file(500, tmp_path / "c.duckdb", seed=2)
    assert [p.name for p in tmp_path.iterdir()] == ["c.duckdb"]
    with duckdb.connect(str(out), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM patient_summary").fetchone()[0] == 500


def test_rejects_empty():
    with pytest.raises(ValueError):
        build_synthetic_in_memory(0)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 120), seed=st.integers(0, 2**31))
def test_any_size_satisfies_schema_and_counts(n, seed):
    db = build_synthetic_in_memory(n, seed=seed)
    assert db.scalar("SELECT count(*) FROM patient_summary") == n
    assert db.scalar("SELECT count(*) FROM patient_summary WHERE os_days < 0") == 0
