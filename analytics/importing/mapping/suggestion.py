"""The mapping (source column -> target, codes, constants, date order; saved as JSON) and the
suggested mapping of a source."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from analytics.importing import privacy
from analytics.importing.mapping.reading import Source
from analytics.importing.mapping.targets import (COHORT_FIELDS, CONSTANTS, DATE_ORDERS, FORMAT, NEVER_SUGGESTED,
                                                 PERSON_NAME, TARGETS, VERSION, Target)
from analytics.importing.mapping.values import NUMERIC_DATE, column_kind, is_na, normalised, suggest_values
from analytics.importing.report import Report


def _name_score(names: list[str], target: Target) -> float:
    best = 0.0
    for name in names:
        a = normalised(name)
        if not a:
            continue
        for synonym in target.synonyms:
            b = normalised(synonym)
            if a == b:
                return 1.0
            tokens_a, tokens_b = set(a.split()), set(b.split())
            jaccard = len(tokens_a & tokens_b) / len(tokens_a | tokens_b)
            best = max(best, SequenceMatcher(None, a, b).ratio(), jaccard)
    return best


def _compatible(kind: str, target: Target) -> bool:
    return {"id": kind in ("text", "coded", "integer"),
            "text": kind in ("text", "coded"),
            "integer": kind == "integer",
            "number": kind in ("integer", "number"),
            "coded": kind in ("coded", "integer", "text"),
            "date": kind == "date",
            "day": kind in ("date", "integer")}[target.kind]


@dataclass
class ColumnMapping:
    target: str | None                                   # None = not mapped (dropped, never stored)
    values: dict[str, str | None] = field(default_factory=dict)   # coded targets: source -> allowed


def _codes(values: dict[str, str | None]) -> dict[str, str | None]:
    """The codes a mapping file may hold: never a value that looks like a date or an identifier."""
    return {k: v for k, v in values.items() if privacy.looks_like_identifier(k) is None}


@dataclass
class Mapping:
    tables: dict[str, dict[str, ColumnMapping]]
    constants: dict[str, str] = field(default_factory=dict)
    date_order: str = "DMY"
    cohort: dict = field(default_factory=lambda: {"cohort_name": "Uploaded cohort", "synthetic": False,
                                                  "description": "Imported with a column mapping."})

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "version": VERSION, "date_order": self.date_order,
            "constants": dict(sorted(self.constants.items(), key=lambda kv: list(CONSTANTS).index(kv[0])
                                     if kv[0] in CONSTANTS else len(CONSTANTS))),
            "cohort": {k: self.cohort[k] for k in sorted(self.cohort, key=lambda k: COHORT_FIELDS.index(k)
                                                         if k in COHORT_FIELDS else len(COHORT_FIELDS))},
            "tables": {t: {c: {"target": m.target, **({"values": _codes(m.values)} if m.values else {})}
                           for c, m in cols.items()} for t, cols in self.tables.items()},
        }, indent=1, ensure_ascii=False, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, file: str, report: Report) -> "Mapping | None":
        """A saved mapping; every problem is a located error (never an exception)."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            report.error(file, f"the mapping file is not JSON ({exc})", "Upload the mapping file the app saved.")
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            report.error(file, "this is not a cohort mapping file (no \"format\": \"ball-cohort-mapping\")",
                         "Upload the mapping file the app saved.")
            return None
        def shaped(value) -> bool:
            """Every level of the file is a JSON object (or absent)."""
            if value is None or isinstance(value, dict):
                return True
            report.error(file, f"the mapping file's {where} should be an object",
                         "Upload the mapping file the app saved, or correct it by hand.")
            return False

        tables: dict[str, dict[str, ColumnMapping]] = {}
        where = "tables"
        if not shaped(data.get("tables")):
            return None
        for table, columns in (data.get("tables") or {}).items():
            where = f"table {table}"
            if not shaped(columns):
                continue
            tables[table] = {}
            for column, spec in (columns or {}).items():
                where = f"table {table}, column {column}"
                if not shaped(spec):
                    continue
                target = (spec or {}).get("target")
                if target is not None and target not in TARGETS:
                    report.error(file, f"table {table}, column {column}: unknown target '{target}'",
                                 f"Use one of: {', '.join(TARGETS)}; or null (not mapped).", column=column)
                    continue
                values = (spec or {}).get("values") or {}
                if not shaped(values):
                    continue
                allowed = set((TARGETS[target].allowed or {}) if target else ())
                wrong = [v for v in values.values() if v not in (None, "") and v not in allowed]
                if wrong:
                    report.error(file, f"table {table}, column {column}: '{wrong[0]}' is not a value of {target}",
                                 f"Use one of: {', '.join(sorted(allowed))}; or null (not evaluated).",
                                 column=column)
                    continue
                tables[table][column] = ColumnMapping(target, {str(k): v for k, v in values.items()})
        for name in ("constants", "cohort"):
            where = name
            if not shaped(data.get(name)):
                return None
        order = data.get("date_order", "DMY")
        if order not in DATE_ORDERS:
            report.error(file, f"date_order '{order}' is not one of {', '.join(DATE_ORDERS)}",
                         "Use DMY (day first) or MDY (month first).")
        if not report.ok:
            return None
        return cls(tables, {k: str(v) for k, v in (data.get("constants") or {}).items() if v not in (None, "")},
                   order, {**cls({}).cohort, **(data.get("cohort") or {})})


def _date_order(source: Source) -> str:
    votes = {"DMY": 0, "MDY": 0}
    for table in source.tables:
        for column in table.frame.columns:
            for value in table.frame[column]:
                m = NUMERIC_DATE.match(str(value).strip())
                if m:
                    votes["DMY"] += int(m[1]) > 12
                    votes["MDY"] += int(m[2]) > 12
    return "MDY" if votes["MDY"] > votes["DMY"] else "DMY"


def suggest(source: Source) -> Mapping:
    """A first mapping for `source`, to be confirmed or corrected by the user."""
    tables: dict[str, dict[str, ColumnMapping]] = {}
    taken_patient_level: set[str] = set()
    for table in source.tables:
        frame = table.frame
        kinds = {c: column_kind(table, c) for c in frame.columns}
        candidates = []
        for column in frame.columns:
            label = privacy.identifier_column(column)
            if label == "a name" and not PERSON_NAME.match(normalised(column)):
                label = None  # 'Regimen name', 'Drug name': not a person's name
            if label in NEVER_SUGGESTED or column in ("redcap_event_name", "redcap_repeat_instrument",
                                             "redcap_survey_identifier"):
                continue
            label_text = table.labels.get(column, column)
            # A REDCap checkbox column is one choice: its choice label says what it is.
            names = [label_text.rsplit(":", 1)[-1], label_text] if "___" in column else [column, label_text]
            values = [v for v in frame[column] if not is_na(v)]
            for target in TARGETS.values():
                if not _compatible(kinds[column], target) and kinds[column] != "empty":
                    continue
                if label == "a calendar date" and target.kind not in ("date", "day"):
                    continue
                score = _name_score(names, target)
                if target.kind == "coded" and values:
                    suggested = suggest_values(target, values)
                    known = [v for v in suggested.values() if v != ""]
                    coverage = len(known) / len(suggested)
                    if coverage < 0.5:
                        continue
                    score += 0.1 * coverage
                if score >= 0.8:
                    candidates.append((score, column, target.key))
        columns: dict[str, ColumnMapping] = {c: ColumnMapping(None) for c in frame.columns}
        used: set[str] = set()
        # The record id is REDCap's first column; otherwise the best-named id column.
        if source.kind == "redcap":
            columns[frame.columns[0]] = ColumnMapping("patient_id")
            used.add("patient_id")
        for score, column, key in sorted(candidates, key=lambda c: (-c[0], c[1])):
            target = TARGETS[key]
            if columns[column].target or key in used or (target.event is None and key != "patient_id"
                                                         and key in taken_patient_level):
                continue
            values = suggest_values(target, [v for v in frame[column]]) if target.kind == "coded" else {}
            columns[column] = ColumnMapping(key, values)
            used.add(key)
            if target.event is None:
                taken_patient_level.add(key)
        if "redcap_repeat_instance" in frame.columns and "line_start" in used and "line_number" not in used:
            columns["redcap_repeat_instance"] = ColumnMapping("line_number")
        if "redcap_data_access_group" in frame.columns and "institution" not in taken_patient_level:
            columns["redcap_data_access_group"] = ColumnMapping("institution")
            taken_patient_level.add("institution")
        tables[table.name] = columns
    constants = {"line_number": "1", "response_line": "1", "tp53_assay": "TP53 status as recorded by the source"}
    if "lineage" not in taken_patient_level:
        constants["lineage"] = "B"  # the app's cohorts are B-ALL; shown on the page to confirm
    names = sorted({t.file for t in source.tables})
    return Mapping(tables, constants, _date_order(source),
                   {"cohort_name": Path(names[0]).stem if names else "Uploaded cohort", "synthetic": False,
                    "description": f"Imported from {', '.join(names)} with a column mapping."})
