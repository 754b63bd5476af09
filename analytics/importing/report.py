"""The validation report: one `Issue` per problem, located the way a spreadsheet shows it.

Rows are 1-based as a spreadsheet shows them (the header is row 1, the first patient row 2;
for a cBioPortal file with four '#' rows the header is row 5). Errors block the import,
warnings do not.

>>> r = Report()
>>> r.error("patients.csv", "bad sex", "Use F or M.", row=3, column="sex", value="X")
>>> r.ok, len(r.errors), r.issues[0].where()
(False, 1, 'patients.csv, row 3, column sex')
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

REPORT_COLUMNS = ["severity", "file", "sheet", "row", "column", "value", "problem", "fix"]


@dataclass(frozen=True)
class Issue:
    severity: str            # "error" | "warning"
    file: str
    problem: str
    fix: str
    sheet: str | None = None
    row: int | None = None   # spreadsheet row (header = 1)
    column: str | None = None
    value: str | None = None

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def text(self) -> str:
        value = "" if self.value is None else f" (value: {self.value!r})"
        return f"{self.severity.upper()}: {self.where()}: {self.problem}{value}. Fix: {self.fix}"


MAX_ISSUES = 1000  # listed; beyond, counted (a 2 MB file of bad cells held 900,000 issues, 900 MB)


@dataclass
class Report:
    """The issues found, at most MAX_ISSUES of them listed; the rest are counted in `omitted`
    (by severity) and summarised as one last line, so a hostile file cannot grow it unbounded.

    >>> r = Report()
    >>> for i in range(MAX_ISSUES + 5):
    ...     r.error("p.csv", "bad", "Fix it.", row=i + 2)
    >>> len(r.issues), r.omitted["error"], r.ok, r.frame().iloc[-1]["problem"]
    (1000, 5, False, 'and 5 more problems not listed (the first 1,000 are)')
    """
    issues: list[Issue] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0})

    @property
    def full(self) -> bool:
        return len(self.issues) >= MAX_ISSUES

    def add(self, severity: str, file: str, problem: str, fix: str, *, sheet: str | None = None,
            row: int | None = None, column: str | None = None, value=None) -> None:
        if self.full:
            self.omitted[severity] += 1
            return
        if value is not None:
            value = str(value)
            if len(value) > 80:
                value = value[:77] + "..."
        self.issues.append(Issue(severity, file, problem, fix, sheet, row, column, value))

    def error(self, file: str, problem: str, fix: str, **where) -> None:
        self.add("error", file, problem, fix, **where)

    def warning(self, file: str, problem: str, fix: str, **where) -> None:
        self.add("warning", file, problem, fix, **where)

    def extend(self, other: "Report") -> None:
        for issue in other.issues:
            self.add(issue.severity, issue.file, issue.problem, issue.fix, sheet=issue.sheet,
                     row=issue.row, column=issue.column, value=issue.value)
        for severity, count in other.omitted.items():
            self.omitted[severity] += count

    def _summary(self) -> list[Issue]:
        """One line for the issues not listed, if any."""
        n = sum(self.omitted.values())
        if not n:
            return []
        return [Issue("error" if self.omitted["error"] else "warning", "(all files)",
                      f"and {n:,} more problems not listed (the first {MAX_ISSUES:,} are)", "fix these first")]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.omitted["error"]

    def frame(self) -> pd.DataFrame:
        """The report as a table (errors first), for display and CSV download."""
        rows = [asdict(i) for i in self.issues + self._summary()]
        frame = pd.DataFrame(rows, columns=REPORT_COLUMNS)
        if not frame.empty:
            frame["row"] = frame["row"].astype("Int64")
            frame = frame.sort_values("severity", kind="stable").reset_index(drop=True)
        return frame

    def text(self) -> str:
        return "\n".join(i.text() for i in sorted(self.issues, key=lambda i: i.severity) + self._summary())


@dataclass
class ImportResult:
    """What an import gives back: its report and, when nothing blocks, the validated tables."""

    report: Report
    tables: dict[str, pd.DataFrame] | None    # validated text tables, None when errors block
    kind: str                                  # "workbook", "csv", "cbioportal" or "unknown"
    not_mapped: list[str] = field(default_factory=list)   # cBioPortal items that have no place
    endpoint_sources: list = field(default_factory=list)  # cBioPortal: what each EFS source would yield
    efs_source: str | None = None                         # cBioPortal: the EFS source used
    mapping: object | None = None              # kind "mapped": the mapping.Mapping applied
    source: object | None = None               # kind "mapped": the mapping.Source read

    @property
    def ok(self) -> bool:
        return self.tables is not None and self.report.ok
