"""Table 1 by group: an overall column, one column per level of a grouping, n per column, the
not-evaluated rows, and a p-value per characteristic with the test named (gtsummary's
`tbl_summary(by=) |> add_p()`).

Every column is `baseline.table_one` itself, run on the filtered cohort restricted to the
group (so a cell means exactly what it means in the overall Table 1). Tests compare the groups
with an evaluated value; patients "not evaluated" for the grouping get their own column but are
never in a test, and not-evaluated values of a characteristic are never in its test either:
Fisher's exact test for a 2 x 2 table, the Freeman-Halton extension of Fisher's exact test for
larger tables (exact enumeration, `stats.freeman_halton`), Wilcoxon rank-sum (Mann-Whitney U) for a
continuous characteristic between two groups, Kruskal-Wallis for three or more.

Example
-------
>>> from analytics.build import build_in_memory
>>> t = table_one_by_group(build_in_memory("data/demo_cohort"), CohortFilter(), "sex")
>>> t.columns[:3], t.n_by_column
(['Overall', 'F', 'M'], {'Overall': 32, 'F': 15, 'M': 17})
>>> t.table.loc[t.table["characteristic"] == "TP53", "test"].iloc[0]
"Fisher's exact test"
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.overview import baseline
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.format import p_value
from analytics.stats import freeman_halton

# grouping key -> (label, SQL giving each patient's group; NULL = not evaluated). Allow-list:
# only these expressions reach SQL.
GROUPINGS: dict[str, tuple[str, str]] = {
    "hct": ("Allogeneic HCT", "CASE WHEN hct THEN 'yes' ELSE 'no' END"),
    "best_response": ("Best response", "CASE WHEN best_response IN ('CR', 'CRi') THEN 'CR/CRi' "
                                        "WHEN best_response IS NULL THEN NULL ELSE 'no CR/CRi' END"),
    "tp53_status": ("TP53", "tp53_status"),
    "institution": ("Institution", "institution"),
    "sex": ("Sex", "sex"),
    "treated": ("B-ALL treatment received", "CASE WHEN treated THEN 'yes' ELSE 'no' END"),
    "bcr_abl1": ("BCR::ABL1", "bcr_abl1"),
    "ploidy_category": ("Ploidy category", "ploidy_category"),
    "first_line_regimen_category": ("First-line regimen", "first_line_regimen_category"),
    "cns_status": ("CNS status", "cns_status"),
    "myeloma_auto_hct": ("Autologous HCT for myeloma",
                         "CASE WHEN myeloma_auto_hct IS NULL THEN NULL WHEN myeloma_auto_hct THEN 'yes' "
                         "ELSE 'no' END"),
}
# Known only after treatment started: comparing baseline characteristics by them is descriptive.
POST_BASELINE = {"hct", "best_response"}
SMALL_GROUP = 10


@dataclass(frozen=True)
class _GroupFilter:
    """The cohort filter narrowed to one group (what `baseline.table_one` needs of a filter)."""

    base: CohortFilter
    condition: str
    params: tuple = ()

    def where_sql(self) -> tuple[str, list[Any]]:
        where, params = self.base.where_sql()
        return f"({where}) AND ({self.condition})", [*params, *self.params]


@dataclass(frozen=True)
class TableOneByGroup:
    """`table`: one row per characteristic level (the overall Table 1's rows), a display column
    per group (`columns`), `p` and `test` on the first row of each characteristic;
    `n_by_column`: patients per column; `notes`: caveats to show with it."""

    grouping: str
    columns: list[str]
    n_by_column: dict[str, int]
    table: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def group_levels(db: CohortDatabase, cohort_filter: CohortFilter, grouping: str) -> list[tuple[str | None, int]]:
    """(group, patients) in display order; None = not evaluated (last)."""
    label, expression = GROUPINGS[grouping]
    where, params = cohort_filter.where_sql()
    rows = db.query(f'SELECT CAST({expression} AS VARCHAR) AS g, count(*) AS n FROM patient_summary '
                    f'WHERE {where} GROUP BY 1', params)
    levels = [(g if g == g else None, int(n)) for g, n in rows.itertuples(index=False)]
    return sorted(levels, key=lambda item: (item[0] is None, str(item[0])))


def _categorical_test(block: pd.DataFrame, groups: list[str]) -> tuple[float, str]:
    """Exact test of a characteristic's evaluated levels across the evaluated groups."""
    counts = block[block["kind"] == "categorical"][[f"n::{g}" for g in groups]].to_numpy(dtype=float)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return math.nan, "no test (one level or one group evaluated)"
    table = counts.astype(int)
    result = freeman_halton(table)  # exact enumeration (SciPy's R x C default is Monte Carlo)
    name = "Fisher's exact test" if table.shape == (2, 2) else "Fisher-Freeman-Halton exact test"
    if not result.method.startswith("exact"):
        name += f" ({result.method})"
    return float(result.p_value), name


def _continuous_test(values: pd.DataFrame, key: str, groups: list[str]) -> tuple[float, str]:
    samples = [values.loc[values["g"] == g, key].dropna().to_numpy(float) for g in groups]
    samples = [s for s in samples if len(s)]
    if len(samples) < 2:
        return math.nan, "no test (fewer than two groups evaluated)"
    if len(samples) == 2:
        return float(stats.mannwhitneyu(*samples, alternative="two-sided").pvalue), "Wilcoxon rank-sum test"
    return float(stats.kruskal(*samples).pvalue), "Kruskal-Wallis test"


def table_one_by_group(db: CohortDatabase, cohort_filter: CohortFilter, grouping: str) -> TableOneByGroup:
    if grouping not in GROUPINGS:
        raise ValueError(f"{grouping!r} is not an allowed grouping")
    label, expression = GROUPINGS[grouping]
    overall = baseline.table_one(db, cohort_filter)
    levels = group_levels(db, cohort_filter, grouping)
    columns = ["Overall"] + [NOT_EVALUATED if g is None else g for g, _ in levels]
    n_by_column = {"Overall": int(overall.loc[overall["kind"] == "count", "n"].iloc[0])}
    table = overall.copy()
    table["Overall"] = overall["display"]
    key = ["characteristic", "level", "kind"]
    for group, n in levels:
        name = NOT_EVALUATED if group is None else group
        condition = f"({expression}) IS NULL" if group is None else f"CAST({expression} AS VARCHAR) = ?"
        part = baseline.table_one(db, _GroupFilter(cohort_filter, condition, () if group is None else (group,)))
        part = part[key + ["display", "n"]].rename(columns={"display": name, "n": f"n::{name}"})
        table = table.merge(part, on=key, how="left")
        table[name] = table[name].fillna("0")
        n_by_column[name] = n
    tested = [g for g, _ in levels if g is not None]
    where, params = cohort_filter.where_sql()
    sql = baseline.CONTINUOUS_SQL  # the same expressions as Table 1's continuous rows
    values = db.query(f"SELECT CAST({expression} AS VARCHAR) AS g, "
                      + ", ".join(f"CAST({sql[spec.key]} AS DOUBLE) AS {spec.key}" for spec in baseline.CONTINUOUS)
                      + f" FROM patient_summary WHERE ({where}) AND ({expression}) IS NOT NULL", params)
    itself = {spec.label for spec in baseline.CATEGORICAL if spec.column == grouping}
    p_values, tests = [], []
    for characteristic, block in table.groupby("characteristic", sort=False):
        kind = block["kind"].iloc[0]
        if kind == "count":
            p, test = math.nan, ""
        elif characteristic in itself:
            p, test = math.nan, "the grouping itself"
        elif kind == "continuous":
            spec = next(s for s in baseline.CONTINUOUS if f"{s.label}, {s.unit}" == characteristic)
            p, test = _continuous_test(values, spec.key, tested)
        else:
            p, test = _categorical_test(block.fillna({f"n::{g}": 0 for g in tested}), tested)
        p_values += [p] + [math.nan] * (len(block) - 1)
        tests += [test] + [""] * (len(block) - 1)
    table["p"] = p_values
    table["p_text"] = [p_value(p, missing="") for p in p_values]
    table["test"] = tests
    notes = []
    if grouping in POST_BASELINE:
        notes.append(f"{label} is known only after treatment started (HCT after transplant, response after "
                     "induction): patients had to live long enough to reach it, so differences are "
                     "descriptive, not causes or effects.")
    small = [name for name, n in n_by_column.items() if name not in ("Overall", NOT_EVALUATED) and n < SMALL_GROUP]
    if small:
        notes.append(f"Small groups ({', '.join(small)}: fewer than {SMALL_GROUP} patients): exact tests keep "
                     "their size but have little power; a large p-value is not evidence of no difference.")
    if len(tested) > 1:
        notes.append(f"{sum(~np.isnan(p_values))} characteristics tested without correction for multiple "
                     "comparisons: read the p-values as descriptive.")
    if NOT_EVALUATED in n_by_column:
        notes.append(f"Patients not evaluated for {label} are shown in their own column and left out of every test.")
    return TableOneByGroup(grouping, columns, n_by_column, table, tuple(notes))


def display(result: TableOneByGroup) -> pd.DataFrame:
    """The table as a reader sees it: characteristic, level, a column per group headed with its
    n, p-value and test."""
    shown = result.table[["characteristic", "level"] + result.columns + ["p_text", "test"]].copy()
    shown.columns = (["Characteristic", ""] + [f"{c} (n = {result.n_by_column[c]})" for c in result.columns]
                     + ["p", "Test"])
    first = shown["Characteristic"].ne(shown["Characteristic"].shift())
    shown.loc[~first, "Characteristic"] = ""
    return shown.reset_index(drop=True)


def to_docx(result: TableOneByGroup, title: str, footnote: str) -> bytes:
    """The table as a Word document (python-docx): journals take Word tables."""

    from docx import Document  # imported here: only the Word download needs it
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    shown = display(result)
    document = Document()
    section = document.sections[0]
    if len(shown.columns) > 6:  # wide tables on a landscape page
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(title, level=2)
    table = document.add_table(rows=1, cols=len(shown.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, shown.columns):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in shown.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    for note in (footnote, *result.notes):
        document.add_paragraph(note).runs[0].font.size = Pt(8)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
