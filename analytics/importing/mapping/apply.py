"""Applying a confirmed mapping: the five own-format tables built from the source (dates turned
into days in memory and discarded), problems pointed back at the source cells, and the import."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import pandas as pd

from analytics.importing import privacy
from analytics.importing.mapping.reading import Source, read_source
from analytics.importing.mapping.suggestion import ColumnMapping, Mapping, suggest
from analytics.importing.mapping.targets import CONSTANTS, EVENT_FIELDS, MAX_CODES, PATIENT_COLUMNS, TARGETS
from analytics.importing.mapping.values import INTEGER, is_na, parse_date
from analytics.importing.redcap import SourceTable
from analytics.importing.report import ImportResult, Report
from analytics.importing.sources import OWN_TABLES, RawTable
from analytics.importing.specs import column_specs
from analytics.importing.validation import validate


Origin = tuple[str, str | None, int, str]   # file, sheet, row, source column


class _Out:
    """Rows of one own-format table, each cell remembering where it came from."""

    def __init__(self, table: str):
        self.table, self.columns = table, list(column_specs()[table])
        self.rows: list[dict[str, str]] = []
        self.origins: list[dict[str, Origin]] = []

    def add(self, values: dict[str, str], origins: dict[str, Origin]) -> None:
        self.rows.append(values)
        self.origins.append(origins)

    def raw(self) -> RawTable:
        frame = pd.DataFrame([[r.get(c) or "" for c in self.columns] for r in self.rows], columns=self.columns,
                             index=pd.Index(range(2, len(self.rows) + 2), name="row"), dtype=object)
        return RawTable(self.table, frame, f"{self.table} (mapped)", None, 1)


@dataclass
class Applied:
    raws: dict[str, RawTable] | None
    origins: dict[str, list[dict[str, Origin]]]
    not_mapped: list[str]
    dates_converted: int = 0


def apply(source: Source, mapping: Mapping, report: Report) -> Applied:
    """Build the five own-format tables from `source` as `mapping` says (dates -> days, in memory)."""
    not_mapped = list(source.dropped)
    order = mapping.date_order
    per_patient: dict[str, dict[str, tuple[str, Origin]]] = {}
    patient_first: dict[str, Origin] = {}
    anchors: dict[str, tuple[dt.date, Origin]] = {}
    pending_events = []      # (pid, kind, {column: (value, origin, is_day)})
    date_columns: set[str] = set()
    converted = 0

    def located(table: SourceTable, row: int, column: str, problem: str, fix: str, value=None, warn=False):
        add = report.warning if warn else report.error
        add(table.file, problem, fix, sheet=table.sheet, row=int(row), column=column, value=value)

    for table in source.tables:
        columns = mapping.tables.get(table.name)
        if columns is None:
            report.warning(table.file, f"table '{table.name}' is not in the mapping: none of its columns is "
                                       "read", "Map its columns on the page (step 3) and save the mapping again.",
                           sheet=table.sheet)
            not_mapped.append(f"{table.file}{f', sheet {table.sheet}' if table.sheet else ''}: table "
                              f"'{table.name}' (not in the mapping)")
            continue
        unknown = [c for c in table.frame.columns if c not in columns]
        for column in unknown:
            report.warning(table.file, f"column '{column}' is not in the mapping: dropped, not stored",
                           "Map it on the page if it should be imported, then save the mapping again.",
                           sheet=table.sheet, row=1, column=column)
        for column, m in columns.items():
            if column not in table.frame.columns and m.target is not None:
                report.error(table.file, f"the mapping reads column '{column}' but the table '{table.name}' "
                                         "has no such column", "Upload the same layout the mapping was made "
                                                               "for, or correct the mapping.",
                             sheet=table.sheet, row=1, column=column)
        dropped = [c for c in table.frame.columns if columns.get(c, ColumnMapping(None)).target is None
                   and c not in ("redcap_event_name", "redcap_repeat_instrument")]
        if dropped:
            not_mapped.append(f"{table.file}{f', sheet {table.sheet}' if table.sheet else ''}"
                              f"{f' ({table.name})' if source.kind == 'redcap' else ''}: "
                              f"{', '.join(dropped)} (not mapped: dropped, never stored)")
        mapped = {c: m for c, m in columns.items() if m.target is not None and c in table.frame.columns}
        id_columns = [c for c, m in mapped.items() if m.target == "patient_id"]
        if not id_columns:
            if mapped:
                report.error(table.file, f"no column of table '{table.name}' is mapped to the patient pseudonym",
                             "Map the column holding the patient id (e.g. record_id, Study no) to patient_id.",
                             sheet=table.sheet, row=1)
            continue
        id_column = id_columns[0]
        for column, m in list(mapped.items()):
            distinct = len(set(table.frame[column]) - {""})
            if TARGETS[m.target].kind == "coded" and distinct > MAX_CODES:
                report.error(table.file, f"column '{column}' has {distinct} different values: it is not a column "
                                         f"of codes for {TARGETS[m.target].label}",
                             "Map it to another target, or leave it not mapped.", sheet=table.sheet, row=1,
                             column=column)
                del mapped[column]
        by_target = {m.target: c for c, m in mapped.items()}
        for row, cells in table.frame.iterrows():
            pid = str(cells[id_column]).strip()
            if not pid:
                if any(str(cells[c]).strip() for c in mapped if c != id_column):
                    located(table, row, id_column, "this row has values but no patient id",
                            "Fill in the patient id, or delete the row.")
                continue
            per_patient.setdefault(pid, {})
            patient_first.setdefault(pid, (table.file, table.sheet, int(row), id_column))
            values: dict[str, tuple[object, Origin]] = {}
            for column, m in mapped.items():
                if column == id_column:
                    continue
                target = TARGETS[m.target]
                raw_value = str(cells[column]).strip()
                origin = (table.file, table.sheet, int(row), column)
                if target.kind == "coded":
                    if raw_value == "":
                        continue
                    looks = privacy.looks_like_identifier(raw_value)
                    if looks is not None:  # not echoed: it may be what the app must not keep
                        located(table, row, column, f"the value looks like {looks}, not a code of "
                                f"{target.label}", "Map this column to another target, or leave it not mapped.")
                        continue
                    if raw_value not in m.values:
                        located(table, row, column, f"the value '{raw_value}' has no meaning in the mapping for "
                                f"{target.label}", "Say what it means on the page (step 3) and save the mapping "
                                                   "again, or correct the cell.", value=raw_value)
                        continue
                    meaning = m.values[raw_value]
                    if meaning in ("", None):
                        if meaning == "":
                            located(table, row, column, f"the value '{raw_value}' is not yet given a meaning for "
                                    f"{target.label}", "Choose its meaning on the page (step 3).", value=raw_value)
                        continue
                    values[m.target] = (meaning, origin)
                    continue
                if is_na(raw_value):
                    continue
                if target.kind in ("date", "day"):
                    date_columns.add(f"{table.name}: {column}")
                    if target.kind == "day" and INTEGER.match(raw_value):
                        values[m.target] = (int(float(raw_value)), origin)
                        continue
                    date = parse_date(raw_value, order)
                    if date is None:
                        # the cell is not echoed: it may be a date the app must not keep
                        located(table, row, column, "neither a calendar date nor a whole number of days",
                                "Enter a date (e.g. 2021-03-04) or days from the B-ALL diagnosis.")
                        continue
                    values[m.target] = (date, origin)
                    continue
                values[m.target] = (raw_value, origin)
            # Patient level: one value per patient; a second, different one is a located error.
            for key, (value, origin) in values.items():
                target = TARGETS[key]
                if target.event is not None:
                    continue
                if key == "ball_dx_date":
                    if not isinstance(value, dt.date):
                        located(table, row, origin[3], "the B-ALL diagnosis date is not a calendar date",
                                "Map the calendar date of the B-ALL diagnosis (day 0) to this target.")
                        continue
                    first = anchors.get(pid)
                    if first and first[0] != value:
                        located(table, row, origin[3], f"a second, different B-ALL diagnosis date for patient {pid} "
                                f"(first at row {first[1][2]})", "Keep one diagnosis date per patient.")
                        continue
                    anchors[pid] = (value, origin)
                    continue
                seen = per_patient[pid].get(key)
                if seen and seen[0] != value:
                    located(table, row, origin[3], f"patient {pid} has a different {target.label} at row "
                            f"{seen[1][2]} ({seen[1][3]}: '{seen[0]}')", "Keep one value per patient.", value=value)
                    continue
                per_patient[pid][key] = (value, origin)
            for kind, fields in EVENT_FIELDS.items():
                start = values.get(fields["day"])
                if start is None:
                    stray = [by_target[t] for t in fields.values() if t in values]
                    if stray and fields["day"] in by_target:
                        located(table, row, stray[0], f"a {kind.replace('_', ' ')} value without its date or day: "
                                "not imported", f"Fill in {by_target[fields['day']]}.", warn=True)
                    continue
                pending_events.append((pid, kind, table, {col: values[t] for col, t in fields.items()
                                                          if t in values}))
    # Days relative to the B-ALL diagnosis; the dates themselves go no further than this loop.
    out = {t: _Out(t) for t in OWN_TABLES}
    row_lines = {f["day"][1][:3]: f["line"] for _, kind, _, f in pending_events
                 if kind == "treatment_line" and "line" in f}   # (file, sheet, row) -> (line, origin)
    event_id = 0
    # A patient only in an event table: one error for the patient (below), not one per date.
    gives_facts = any(per_patient.values()) or bool(anchors)
    orphans = {pid for pid, attrs in per_patient.items() if gives_facts and not attrs and pid not in anchors}
    for pid, kind, table, fields in pending_events:
        if pid in orphans:
            continue
        row_values: dict[str, str] = {"patient_id": pid, "event_type": kind}
        origins: dict[str, Origin] = {}
        ok = True
        for column, (value, origin) in fields.items():
            origins[column] = origin
            if isinstance(value, dt.date):
                anchor = anchors.get(pid)
                if anchor is None:
                    located(table, origin[2], origin[3], f"a calendar date for patient {pid}, who has no B-ALL "
                            "diagnosis date: it cannot be turned into days", "Map the B-ALL diagnosis date column "
                            "(day 0) and fill it in for this patient.")
                    ok = False
                    continue
                value = (value - anchor[0]).days
                converted += 1
            row_values[column] = str(value)
        if not ok:
            continue
        if kind == "treatment_line" and "line" not in row_values and mapping.constants.get("line_number"):
            row_values["line"] = mapping.constants["line_number"]
        if kind == "response_assessment" and "line" not in row_values:
            # A response on the same row as a treatment line belongs to that line.
            line = row_lines.get(fields["day"][1][:3])
            if line is not None:
                row_values["line"], origins["line"] = str(line[0]), line[1]
            elif mapping.constants.get("response_line"):
                row_values["line"] = mapping.constants["response_line"]
        event_id += 1
        row_values["event_id"] = str(event_id)
        origins.setdefault("patient_id", origins.get("day"))
        out["events"].add(row_values, origins)
    converted += sum(1 for _ in anchors)
    # Patients, TP53, cohort_info.
    for pid in per_patient:
        attrs = per_patient[pid]
        first = patient_first[pid]
        if pid in orphans:
            file, sheet, row, column = first
            report.error(file, f"patient {pid} is in this table but in no row that gives patient facts (sex, "
                               "ages, diagnosis date...)", "Add the patient to the patients' table, or correct "
                                                           "the id (ids are compared exactly).",
                         sheet=sheet, row=row, column=column, value=pid)
            continue
        row_values = {"patient_id": pid}
        origins: dict[str, Origin] = {"patient_id": first}
        for column in PATIENT_COLUMNS:
            if column in attrs:
                row_values[column], origins[column] = str(attrs[column][0]), attrs[column][1]
            elif mapping.constants.get(column):
                row_values[column] = mapping.constants[column]
        status = attrs.get("tp53_status")
        if status is not None and not row_values.get("sequencing_assay"):
            row_values["sequencing_assay"] = mapping.constants.get("tp53_assay", "")
            origins["sequencing_assay"] = status[1]
        out["patients"].add(row_values, origins)
        if status is not None and status[0] == "mutated":
            change = attrs.get("tp53_protein_change")
            klass = attrs.get("tp53_variant_class")
            inferred = variant_class(change[0]) if change and not klass else None
            if not klass and not inferred:
                file, sheet, row, column = status[1]
                report.error(file, f"TP53 is mutated for patient {pid} but the variant class is not given"
                             + (f" and cannot be read from '{change[0]}'" if change else ""),
                             "Map a TP53 variant class column, or a protein change such as p.R248Q "
                             "(missense, nonsense and in-frame changes are recognised).",
                             sheet=sheet, row=row, column=column)
                continue
            mutation = {"patient_id": pid, "gene": "TP53", "protein_change": change[0] if change else "",
                        "variant_class": klass[0] if klass else inferred,
                        "assay": row_values.get("sequencing_assay", "")}
            out["mutations"].add(mutation, {"patient_id": status[1], "gene": status[1],
                                            **({"protein_change": change[1]} if change else {}),
                                            "variant_class": (klass or change or status)[1]})
    cohort = mapping.cohort
    out["cohort_info"].add({"cohort_name": str(cohort.get("cohort_name") or ""),
                            "synthetic": "true" if str(cohort.get("synthetic")).lower() in ("true", "1") else "false",
                            "description": str(cohort.get("description") or "")}, {})
    required = [c for c, spec in column_specs()["patients"].items() if spec.required and c != "patient_id"]
    for column in required:  # an optional column nobody gives gets one warning (below)
        if not any(m.target == column for cols in mapping.tables.values() for m in cols.values()) \
                and not mapping.constants.get(column):
            report.error("(mapping)", f"no column is mapped to {TARGETS[column].label} and no value is given for "
                                      "every patient", f"Map a column to {column}"
                         + (" or enter it for every patient (step 3)." if column in CONSTANTS else "."))
    mapped_targets = {m.target for cols in mapping.tables.values() for m in cols.values()}
    for column in PATIENT_COLUMNS:
        if column not in mapped_targets and column not in required and not mapping.constants.get(column) and not (
                column == "sequencing_assay" and "tp53_status" in mapped_targets):
            report.warning("(mapping)", f"no source column gives {column}: it is not evaluated (empty) for every "
                                        "patient", f"Map a column to {column} on the page if the source has it.",
                           column=column)
    if date_columns:
        report.warning(", ".join(sorted({t.file for t in source.tables})),
                       f"{converted} calendar date(s) in {', '.join(sorted(date_columns))} were turned into days "
                       "relative to each patient's B-ALL diagnosis date in memory and then discarded: no date is "
                       "stored", "Nothing to do; the saved mapping does the same next time.")
    if not report.ok:
        return Applied(None, {}, not_mapped, converted)
    return Applied({t: o.raw() for t, o in out.items()}, {t: o.origins for t, o in out.items()}, not_mapped,
                   converted)


_PROTEIN = re.compile(r"^p\.\(?([A-Z](?:[a-z]{2})?)(\d+)"
                      r"([A-Z](?:[a-z]{2})?|\*|Ter|X|del|dup|ins\w*|delins\w*|fs\S*)\)?$")


def variant_class(change: str) -> str | None:
    """The variant class a protein change states unambiguously (frameshifts do not say del or ins)."""
    m = _PROTEIN.match(str(change).strip())
    if not m:
        return None
    tail = m[3]
    if tail in ("*", "Ter", "X"):
        return "Nonsense_Mutation"
    if tail.startswith("fs"):
        return None
    if tail == "del":
        return "In_Frame_Del"
    if tail.startswith(("ins", "dup")):
        return "In_Frame_Ins"
    if tail.startswith("delins"):
        return None
    return "Missense_Mutation" if tail != m[1] else None


def relocate(report: Report, applied: Applied) -> Report:
    """Point every problem found in a built table at the source file, sheet, row and column."""
    by_file = {f"{t} (mapped)": t for t in OWN_TABLES}
    issues = []
    for issue in report.issues:
        table = by_file.get(issue.file)
        if table is None or issue.row is None or not 2 <= issue.row < len(applied.origins.get(table, [])) + 2:
            issues.append(issue)
            continue
        cells = applied.origins[table][issue.row - 2]
        origin = cells.get(issue.column or "") or cells.get("patient_id") or next(iter(cells.values()), None)
        note = f" [{table}.{issue.column}]" if issue.column else f" [{table}]"
        if origin is None:
            issues.append(replace(issue, problem=issue.problem + note + " (a value given by the mapping)"))
            continue
        file, sheet, row, column = origin
        from_mapping = issue.column and issue.column not in cells
        issues.append(replace(issue, file=file, sheet=sheet, row=row,
                              column=column if not from_mapping else issue.column,
                              problem=issue.problem + note + (" (a value given by the mapping)" if from_mapping
                                                              else "")))
    report.issues[:] = issues
    return report


def import_mapped(files: list[tuple[str, bytes]], mapping: Mapping | None = None):
    """Read, map (the suggestion when `mapping` is None), validate: an ImportResult of kind 'mapped'."""
    report = Report()
    source = read_source(files, report)
    if source is None:
        return ImportResult(report, None, "mapped")
    used = mapping or suggest(source)
    applied = apply(source, used, report)
    result_tables = None
    if applied.raws is not None:
        report, result_tables = validate(applied.raws, report)
        relocate(report, applied)
    return ImportResult(report, result_tables, "mapped", applied.not_mapped, mapping=used, source=source)
