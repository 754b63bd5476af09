"""One patient: key facts, recorded events, mutations and measurements (`record`) and the
timeline (`timeline`). Every function takes the cohort filter and returns nothing for a patient
outside it.

The names other packages use are importable from here: `from analytics import patient;
patient.key_facts(...)`.
"""
from analytics.patient.record import (efs_event_kind, is_missing, key_facts, measurements, mutations,
                                      patient_choices, patient_status, raw_events, summary_row)
from analytics.patient.timeline import (BAR_COLORS, LANES, MARKERS, WINDOWS, timeline_chart, timeline_events,
                                        timeline_figure)
from analytics.patient import record, timeline

__all__ = [
    "efs_event_kind", "is_missing", "key_facts", "measurements", "mutations", "patient_choices", "patient_status",
    "raw_events", "summary_row",
    "BAR_COLORS", "LANES", "MARKERS", "WINDOWS", "timeline_chart", "timeline_events", "timeline_figure",
    "record", "timeline",
]
