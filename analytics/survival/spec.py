"""What a survival analysis estimates (`SurvivalSpec`) and the allow-lists it is checked against:
endpoints, EFS events, time origins, populations, grouping attributes."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any


# --- allow-lists ---------------------------------------------------------------------------
ENDPOINTS = {"OS": "Overall survival", "EFS": "Event-free survival"}
# EFS event -> patient_summary column holding its (first) day
EFS_EVENT_COLUMNS = {"induction_failure": "induction_failure_day", "relapse": "relapse_day",
                     "death": "death_day"}
EFS_EVENT_LABELS = {"induction_failure": "induction failure", "relapse": "relapse", "death": "death"}
ALL_EFS_EVENTS = tuple(EFS_EVENT_COLUMNS)
ORIGINS = {"diagnosis": "B-ALL diagnosis", "first_treatment": "start of first B-ALL treatment"}
POPULATIONS = {"all": "All patients", "treated": "Treated patients"}
# group key -> label. Categorical: patient_summary columns; NULL is "not evaluated", its own group.
CATEGORICAL_GROUPS = {
    "institution": "Institution", "sex": "Sex", "tp53_status": "TP53",
    "ploidy_category": "Ploidy category", "bcr_abl1": "BCR::ABL1", "cns_status": "CNS status",
    "best_response": "Best response", "first_line_regimen_category": "First-line regimen",
    "cd20": "CD20", "myeloma_auto_hct": "Prior autologous HCT (myeloma)",
    "treated": "B-ALL treatment", "hct": "Allogeneic HCT (ever)",
}
CONTINUOUS_GROUPS = {
    "age_at_ball_dx": "Age at B-ALL diagnosis (years)", "wbc_k_per_ul": "WBC (K/µL)",
    "marrow_blast_pct": "Marrow blasts (%)", "latency_days": "Latency from lenalidomide (days)",
    "len_cumulative_days": "Cumulative lenalidomide (days)",
    "modal_chromosome_number": "Modal chromosome number",
}
BOOLEAN_GROUPS = {"myeloma_auto_hct", "treated", "hct"}
# Groups defined by something that happens after time zero: naive comparison is biased.
POST_BASELINE_GROUPS = {"hct", "best_response"}
MIN_GROUP_SIZE = 5  # below this a group's estimates are flagged as unreliable


@dataclass(frozen=True)
class SurvivalSpec:
    """What is being estimated. Hashable: it keys the page cache directly.

    endpoint: "OS" or "EFS"; efs_events: which events end EFS; origin: time zero;
    population: "all" or "treated"; group: a key of CATEGORICAL_GROUPS or CONTINUOUS_GROUPS
    (None = whole cohort); cutoff: split value for a continuous group (< cutoff vs >= cutoff).
    """

    endpoint: str = "EFS"
    efs_events: tuple[str, ...] = ALL_EFS_EVENTS
    origin: str = "diagnosis"
    population: str = "all"
    group: str | None = None
    cutoff: float | None = None

    def validate(self) -> "SurvivalSpec":
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown time origin {self.origin!r}")
        if self.population not in POPULATIONS:
            raise ValueError(f"unknown population {self.population!r}")
        if self.endpoint == "EFS":
            if not self.efs_events:
                raise ValueError("EFS needs at least one event type")
            unknown = set(self.efs_events) - set(EFS_EVENT_COLUMNS)
            if unknown:
                raise ValueError(f"unknown EFS events {sorted(unknown)}")
        if self.group is not None and self.group not in CATEGORICAL_GROUPS \
                and self.group not in CONTINUOUS_GROUPS:
            raise ValueError(f"{self.group!r} is not an allowed grouping attribute")
        if self.group in CONTINUOUS_GROUPS and (self.cutoff is None or not math.isfinite(self.cutoff)):
            raise ValueError(f"grouping by {self.group} needs a numeric cutoff")
        return self

    def with_(self, **changes: Any) -> "SurvivalSpec":
        return replace(self, **changes)

    @property
    def event_columns(self) -> list[str]:
        if self.endpoint == "OS":
            return ["death_day"]
        return [EFS_EVENT_COLUMNS[e] for e in ALL_EFS_EVENTS if e in self.efs_events]

    @property
    def event_names(self) -> list[str]:
        if self.endpoint == "OS":
            return ["death"]
        return [e for e in ALL_EFS_EVENTS if e in self.efs_events]

    def endpoint_label(self) -> str:
        if self.endpoint == "OS":
            return ENDPOINTS["OS"]
        if set(self.efs_events) == set(ALL_EFS_EVENTS):
            return ENDPOINTS["EFS"]
        return f"{ENDPOINTS['EFS']} ({', '.join(EFS_EVENT_LABELS[e] for e in self.event_names)})"

    def group_label(self) -> str:
        if self.group is None:
            return "All"
        if self.group in CATEGORICAL_GROUPS:
            return CATEGORICAL_GROUPS[self.group]
        return f"{CONTINUOUS_GROUPS[self.group]} split at {format_number(self.cutoff)}"


def format_number(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}"
