"""Cohort filters shared by every page: one frozen value, turned into parameterized SQL.

Column names never come from users: each filter field maps to a column in `FILTER_COLUMNS`.
Empty selections mean "no restriction". The category `NOT_EVALUATED` selects NULLs, so "not
evaluated" is a value one can filter on, never folded into "negative".
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

NOT_EVALUATED = "not evaluated"

# filter field -> patient_summary column (the allow-list)
FILTER_COLUMNS: dict[str, str] = {
    "institution": "institution",
    "sex": "sex",
    "bcr_abl1": "bcr_abl1",
    "tp53": "tp53_status",
    "ploidy": "ploidy_category",
    "regimen": "first_line_regimen_category",
}
RANGE_COLUMNS = {"age": "age_at_ball_dx"}
FLAG_COLUMNS = {"treated": "treated", "hct": "hct"}

FILTER_LABELS = {
    "institution": "Institution", "sex": "Sex", "age": "Age at B-ALL diagnosis",
    "bcr_abl1": "BCR::ABL1", "tp53": "TP53", "ploidy": "Ploidy category",
    "treated": "B-ALL treatment", "regimen": "First-line regimen", "hct": "Allogeneic HCT",
}


@dataclass(frozen=True)
class CohortFilter:
    """Which patients a view shows. Hashable, so it keys caches directly.

    Examples
    --------
    >>> f = CohortFilter(tp53=("mutated",), age=(60, 70))
    >>> f.where_sql()[0]
    '(tp53_status IN (?)) AND (age_at_ball_dx BETWEEN ? AND ?)'
    >>> CohortFilter.from_query_params(f.to_query_params()) == f
    True
    """

    institution: tuple[str, ...] = ()
    sex: tuple[str, ...] = ()
    age: tuple[int, int] | None = None
    bcr_abl1: tuple[str, ...] = ()
    tp53: tuple[str, ...] = ()
    ploidy: tuple[str, ...] = ()
    treated: bool | None = None
    regimen: tuple[str, ...] = ()
    hct: bool | None = None

    def is_empty(self) -> bool:
        return self == CohortFilter()

    def where_sql(self) -> tuple[str, list[Any]]:
        """A WHERE condition over `patient_summary` and its parameters ('TRUE' when unfiltered)."""
        clauses: list[str] = []
        params: list[Any] = []
        for name, column in FILTER_COLUMNS.items():
            chosen: tuple[str, ...] = getattr(self, name)
            if not chosen:
                continue
            values = [v for v in chosen if v != NOT_EVALUATED]
            parts = []
            if values:
                parts.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
            if NOT_EVALUATED in chosen:
                parts.append(f"{column} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
        for name, column in RANGE_COLUMNS.items():
            bounds = getattr(self, name)
            if bounds is not None:
                clauses.append(f"({column} BETWEEN ? AND ?)")
                params.extend(bounds)
        for name, column in FLAG_COLUMNS.items():
            flag = getattr(self, name)
            if flag is not None:
                clauses.append(f"({column} = ?)")
                params.append(flag)
        return (" AND ".join(clauses) or "TRUE"), params

    def patient_ids_sql(self) -> tuple[str, list[Any]]:
        """A subquery of the selected patient ids, for `patient_id IN (...)`."""
        where, params = self.where_sql()
        return f"SELECT patient_id FROM patient_summary WHERE {where}", params

    def describe(self) -> str:
        """Human-readable summary of the active filters (captions, export footers)."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ((), None):
                continue
            label = FILTER_LABELS[f.name]
            if f.name == "age":
                parts.append(f"{label} {value[0]}-{value[1]} y")
            elif isinstance(value, bool):
                parts.append(f"{label}: {'yes' if value else 'no'}")
            else:
                parts.append(f"{label}: {', '.join(value)}")
        return "; ".join(parts) or "no filters"

    # --- URL round trip -------------------------------------------------------------------
    def to_query_params(self) -> dict[str, str | list[str]]:
        params: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ((), None):
                continue
            if f.name in RANGE_COLUMNS:
                params[f.name] = f"{value[0]}-{value[1]}"
            elif isinstance(value, bool):
                params[f.name] = "yes" if value else "no"
            else:
                params[f.name] = list(value)
        return params

    @classmethod
    def from_query_params(cls, params: Mapping[str, Any]) -> "CohortFilter":
        """Parse URL parameters; unknown keys and malformed values are ignored, never raised."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in params:
                continue
            raw = params[f.name]
            values = [raw] if isinstance(raw, str) else list(raw)
            if f.name in RANGE_COLUMNS:
                try:
                    low, high = (int(x) for x in values[0].split("-", 1))
                except (ValueError, IndexError):
                    continue
                kwargs[f.name] = (min(low, high), max(low, high))
            elif f.name in FLAG_COLUMNS:
                if values and values[0] in ("yes", "no"):
                    kwargs[f.name] = values[0] == "yes"
            else:
                kwargs[f.name] = tuple(dict.fromkeys(str(v) for v in values if str(v)))
        return cls(**kwargs)

    def with_(self, **changes: Any) -> "CohortFilter":
        return replace(self, **changes)
