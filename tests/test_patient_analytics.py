"""analytics.patient: facts, timeline rows and tables, checked against the raw events."""
import pytest

from analytics import patient
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH

ALL = CohortFilter()


def test_status_of_known_filtered_and_unknown(demo_db):
    assert patient.patient_status(demo_db, ALL, "S05") == "in cohort"
    tp53 = demo_db.scalar("SELECT tp53_status FROM patient_summary WHERE patient_id = 'S05'")
    other = CohortFilter(tp53=("wild-type" if tp53 == "mutated" else "mutated",))
    assert patient.patient_status(demo_db, other, "S05") == "filtered out"
    assert patient.patient_status(demo_db, ALL, "S99") == "unknown"
    assert patient.patient_status(demo_db, ALL, "' OR 1=1 --") == "unknown"  # parameterized


def test_nothing_is_returned_outside_the_filter(demo_db):
    excluded = CohortFilter(age=(0, 1))
    assert patient.key_facts(demo_db, excluded, "S05").empty
    assert patient.timeline_events(demo_db, excluded, "S05").empty
    assert patient.mutations(demo_db, excluded, "S05").empty
    assert patient.measurements(demo_db, excluded, "S05").empty


@pytest.mark.parametrize("pid", ["S01", "S05", "S12", "S28"])
def test_timeline_has_every_event_once(demo_db, pid):
    raw = demo_db.query("SELECT * FROM events WHERE patient_id = ?", [pid])
    rows = patient.timeline_events(demo_db, ALL, pid)
    died = (raw.event_type == "death").any()
    expected = len(raw) - (int((raw.event_type == "last_contact").sum()) if died else 0)
    assert len(rows) == expected
    assert set(rows.lane) <= set(patient.LANES)
    assert (rows.end >= rows.start).all()
    assert rows.start_months.tolist() == pytest.approx((rows.start / DAYS_PER_MONTH).round(1).tolist())
    courses = raw[raw.event_type == "lenalidomide_course"]
    assert (rows.category == "Lenalidomide").sum() == len(courses)


def test_response_markers_follow_mrd(demo_db):
    rows = patient.timeline_events(demo_db, ALL, "S05")
    first = rows[rows.lane == "Response"].iloc[0]
    raw = demo_db.query("SELECT response, mrd_status FROM events WHERE patient_id = 'S05' AND "
                        "event_type = 'response_assessment' ORDER BY day").iloc[0]
    assert first.category == patient.timeline._response_marker(raw.response, raw.mrd_status)
    assert patient.timeline._response_marker("CR", None) == "CR/CRi, MRD not evaluated"  # never 'negative'
    assert patient.timeline._response_marker("CRi", "negative") == "CR/CRi, MRD-negative"


@pytest.mark.parametrize("window", list(patient.WINDOWS))
@pytest.mark.parametrize("pid", ["S01", "S05", "S12", "S28"])
def test_timeline_chart_builds(demo_db, pid, window):
    spec = patient.timeline_chart(patient.timeline_events(demo_db, ALL, pid), window=window).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["axis"]["orient"] == "top"  # months axis


def test_key_facts_match_the_summary(demo_db):
    s = demo_db.query("SELECT * FROM patient_summary WHERE patient_id = 'S05'").iloc[0]
    facts = patient.key_facts(demo_db, ALL, "S05").set_index("fact")["value"]
    assert facts["Age at B-ALL diagnosis"] == f"{s.age_at_ball_dx} years"
    assert facts["Overall survival"].startswith(f"{s.os_days / DAYS_PER_MONTH:.1f} months")
    assert facts["Latency from first exposure"] == f"{s.latency_days / DAYS_PER_MONTH:.1f} months"
    assert s.karyotype_iscn == facts["Karyotype"]


def test_unsequenced_patient_reads_not_evaluated(demo_db):
    pid = demo_db.scalar("SELECT min(patient_id) FROM patients WHERE sequencing_assay IS NULL")
    facts = patient.key_facts(demo_db, ALL, pid).set_index("fact")["value"]
    assert facts["TP53"].startswith("not evaluated")


def test_efs_event_kind_is_the_first_event(demo_db):
    summary = demo_db.query("SELECT * FROM patient_summary")
    for _, row in summary.iterrows():
        kind = patient.efs_event_kind(row)
        if not row.efs_event:
            assert kind is None
        else:
            day = {"induction failure": row.induction_failure_day, "relapse": row.relapse_day,
                   "death": row.death_day}[kind]
            assert day == row.efs_days


def test_measurements_say_below_detection(demo_db):
    labs = patient.measurements(demo_db, ALL, "S12")
    raw = demo_db.query("SELECT * FROM measurements WHERE patient_id = 'S12'")
    assert len(labs) == len(raw)
    assert labs.Result.str.startswith("below detection").sum() == raw.below_detection.sum()
    assert labs.Day.is_monotonic_increasing


def test_mutations_vaf_in_percent(demo_db):
    variants = patient.mutations(demo_db, ALL, "S05")
    raw = demo_db.query("SELECT * FROM mutations WHERE patient_id = 'S05' ORDER BY gene")
    assert variants["VAF (%)"].tolist() == pytest.approx((raw.vaf * 100).round(1).tolist())
