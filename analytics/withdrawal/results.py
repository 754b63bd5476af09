"""What the withdrawal page shows: aggregate- and screen-sized results (`page_view`), and the
figures of the drawn patients, so a cached view is cheap to copy out.

>>> from analytics.build import build_in_memory
>>> view = page_view(build_in_memory("data/demo_cohort"), CohortFilter())
>>> view.regressors, view.assessable
(5, 9)
"""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.withdrawal.charts import timing_chart, trajectory_chart
from analytics.withdrawal.comparison import SUMMARY_COLUMNS, comparison_of
from analytics.withdrawal.kinetics import (KINETICS_COLUMNS, classification_counts, kinetics_of, measurements,
                                           overview_of, series_batches)
from analytics.withdrawal.rule import (ANALYTE_OPTIONS, CLASS_LABELS, CLASSES, LEUKEMIC, NO_SERIES_TREATED, NO_SERIES_UNTREATED,
                                       NOT_ASSESSABLE, REGRESSION_CLASSES, SHORT_LABELS, SPECIMENS, RegressionRule)


PATIENTS_DRAWN_MAX = 120  # per-patient charts and links: the first N in the default order
TABLE_ROWS_MAX = 1000     # on-screen kinetics rows (counts and tests use every patient)
IDS_LISTED = 50           # patient ids listed in a sentence
SERIES_BATCH_ROWS = 40_000  # measurements per kinetics pass of page_view (whole series each)


def _series_where(analyte: str, specimen: str) -> tuple[str, list]:
    """WHERE over `measurements` rows of the series `measurements(analyte, specimen)` reads."""
    if analyte not in ANALYTE_OPTIONS or specimen not in SPECIMENS:
        raise ValueError(f"unknown analyte {analyte!r} or specimen {specimen!r}")
    if analyte == LEUKEMIC:
        return "specimen = ? AND analyte IN (?, ?)", [specimen, "b_lymphoblasts_pct", "immature_b_pct"]
    return "specimen = ? AND analyte = ?", [specimen, analyte]


def drawn_series(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                 specimen: str = "marrow", limit: int = PATIENTS_DRAWN_MAX) -> tuple[list[str], int]:
    """The first `limit` patients with a series, in the default order (by id, as
    `cohort.patient_order`), and how many filtered patients have one."""
    where, params = _series_where(analyte, specimen)
    sub, sub_params = cohort_filter.patient_ids_sql()
    with_series = (f"SELECT DISTINCT patient_id FROM measurements WHERE {where} "
                   f"AND patient_id IN ({sub})")
    ids = db.query(f"{with_series} ORDER BY patient_id LIMIT ?",
                   params + sub_params + [int(limit)])["patient_id"].tolist()
    n = int(db.scalar(f"SELECT count(*) FROM ({with_series}) AS s", params + sub_params))
    return ids, n


def drawn_trajectories(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str, specimen: str,
                       rule: RegressionRule, limit: int = PATIENTS_DRAWN_MAX):
    """(ids, n_series, data, classes) of the first `limit` patients with a series: their ids in
    the default order, how many filtered patients have a series, their `measurements` and
    their class under `rule` (patient -> class); only those patients' series are read."""
    ids, n_series = drawn_series(db, cohort_filter, analyte, specimen, limit)
    data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(ids))
    kinetics = kinetics_of(data, ids, rule)
    return ids, n_series, data, dict(zip(kinetics["patient_id"], kinetics["classification"]))


def trajectory_figure(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                      specimen: str = "marrow", rule: RegressionRule = RegressionRule(),
                      time_axis: str = "withdrawal", scale: str = "linear",
                      facet: bool = False) -> alt.TopLevelMixin:
    """The trajectories of the first `PATIENTS_DRAWN_MAX` patients with a series (default
    order), coloured by their class under `rule`: only those patients' series are read.

    >>> from analytics.synthetic import build_synthetic_in_memory
    >>> chart = trajectory_figure(build_synthetic_in_memory(200, seed=1), CohortFilter())
    >>> chart.to_dict()["layer"][0]["mark"]["type"]
    'line'
    """
    ids, n_series, data, classes = drawn_trajectories(db, cohort_filter, analyte, specimen, rule)
    if not ids:
        raise ValueError("no patient of the selection has a series of this analyte and specimen")
    return trajectory_chart(data, classes, time_axis, scale, facet, ids,
                            y_title=trajectory_y_title(analyte, specimen, data))


def trajectory_y_title(analyte: str, specimen: str, data: pd.DataFrame) -> str:
    """The trajectories' y-axis title: the analyte, the unit of its `measurements` and the specimen."""
    return f"{SHORT_LABELS[analyte]} ({data['unit'].iloc[0]}, {specimen})"


def timing_figure(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
                  specimen: str = "marrow", rule: RegressionRule = RegressionRule()) -> alt.Chart:
    """Stop day vs diagnosis for the first `PATIENTS_DRAWN_MAX` patients with a stop day
    (default order), coloured by what followed: only those patients' series are read."""
    where, params = cohort_filter.where_sql()
    head = db.query(f"SELECT patient_id, len_stop_day, first_treatment_day, treated FROM patient_summary "
                    f"WHERE ({where}) AND len_stop_day IS NOT NULL ORDER BY patient_id LIMIT ?",
                    params + [PATIENTS_DRAWN_MAX])
    ids = head["patient_id"].tolist()
    data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(ids))
    with_data = set(data["patient_id"])
    kinetics = kinetics_of(data, [p for p in ids if p in with_data], rule)
    return timing_chart(overview_of(head, kinetics), ids)


@dataclass(frozen=True)
class WithdrawalView:
    """What the withdrawal page shows for one view: counts, tests, capped tables and ids.

    Screen-sized whatever the cohort size (no row per patient beyond the caps), so a cached
    view costs little to copy out on every rerun."""

    n_patients: int                    # filtered patients
    n_series: int                      # of them with a series of the analyte
    counts: dict                       # class -> patients
    single_ids: tuple[str, ...]        # first IDS_LISTED patients with a single measurement
    n_single: int
    kinetics_head: pd.DataFrame        # first TABLE_ROWS_MAX rows of kinetics_table
    continuous: pd.DataFrame
    categorical: pd.DataFrame
    n_with_stop: int                   # patients with a recorded lenalidomide stop day
    n_nonpositive_drawn: int           # drawn values <= 0 (not drawable on a log scale)
    with_series: tuple[tuple[str, str], ...]   # (patient, class label), first PATIENTS_DRAWN_MAX
    without_series: tuple[tuple[str, str], ...]  # (patient, what followed), first PATIENTS_DRAWN_MAX
    n_without_series: int

    @property
    def assessable(self) -> int:
        return self.n_series - self.counts[NOT_ASSESSABLE]

    @property
    def regressors(self) -> int:
        return sum(self.counts[c] for c in REGRESSION_CLASSES)


def page_view(db: CohortDatabase, cohort_filter: CohortFilter, analyte: str = LEUKEMIC,
              specimen: str = "marrow", rule: RegressionRule = RegressionRule(),
              batch_rows: int = SERIES_BATCH_ROWS) -> WithdrawalView:
    """The withdrawal page's numbers and capped tables, from one kinetics pass over the series
    in batches of about `batch_rows` measurements (whole series each, `series_batches`).

    No frame of every filtered patient or measurement: the kinetics come from the series alone
    (their rows are in the default order already), batch by batch, keeping counts, the capped
    heads and the assessable patients' classes (at a million patients, all 322k measurements
    with the kinetics' intermediates took about 150 MB per session, five sessions at once went
    over the server's memory target; bench.sessions_rss); the summary columns the comparison uses are read for the
    patients with a series only, and the patients without one are counted and listed (first
    PATIENTS_DRAWN_MAX) in DuckDB. At a million patients the summary frame of every patient was
    about 214 MB (and twice that while fetched). A per-patient reference (`analyse`) lives in
    tests/oracles/withdrawal.py."""
    counts, n_series, n_single = {c: 0 for c in CLASSES}, 0, 0
    heads, single_ids, drawn_classes, assessable = [], [], [], []
    for data in series_batches(db, cohort_filter, analyte, specimen, batch_rows):
        order = list(pd.unique(data["patient_id"]))  # ORDER BY patient_id: the default order
        part = kinetics_of(data, order, rule)
        del data
        n_series += len(part)
        for c, n in classification_counts(part).items():
            counts[c] += n
        single = part.loc[part["n_measurements"] < 2, "patient_id"]
        n_single += len(single)
        single_ids += single.head(IDS_LISTED - len(single_ids)).tolist()
        room = TABLE_ROWS_MAX - sum(map(len, heads))
        if room > 0:
            heads.append(part.head(room))
        drawn = part.head(PATIENTS_DRAWN_MAX - len(drawn_classes))
        drawn_classes += list(zip(drawn["patient_id"], drawn["classification"]))
        assessable.append(part.loc[part["classification"] != NOT_ASSESSABLE, ["patient_id", "classification"]])
        del part
    kinetics_head = (pd.concat(heads, ignore_index=True) if heads else
                     pd.DataFrame(columns=KINETICS_COLUMNS)).reset_index(drop=True)
    kinetics = (pd.concat(assessable, ignore_index=True) if assessable else
                pd.DataFrame(columns=["patient_id", "classification"]))
    where, params = cohort_filter.where_sql()
    series_where, series_params = _series_where(analyte, specimen)
    with_series = f"SELECT DISTINCT patient_id FROM measurements WHERE {series_where}"
    summary = db.query(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM patient_summary WHERE ({where}) "
                       f"AND patient_id IN ({with_series}) ORDER BY patient_id", params + series_params)
    continuous, categorical = comparison_of(summary, kinetics)
    del summary
    totals = db.query(f"SELECT count(*) AS n, count(len_stop_day) AS n_stop FROM patient_summary "
                      f"WHERE {where}", params).iloc[0]
    without = db.query(
        f"SELECT patient_id, CASE WHEN coalesce(treated, FALSE) THEN ? ELSE ? END AS followed "
        f"FROM patient_summary WHERE ({where}) AND patient_id NOT IN ({with_series}) "
        f"ORDER BY patient_id LIMIT ?",
        [NO_SERIES_TREATED, NO_SERIES_UNTREATED, *params, *series_params, PATIENTS_DRAWN_MAX])
    drawn = {p for p, _ in drawn_classes}
    drawn_data = measurements(db, cohort_filter, analyte, specimen, ids=tuple(sorted(drawn)))
    return WithdrawalView(
        n_patients=int(totals["n"]), n_series=n_series, counts=counts,
        single_ids=tuple(single_ids), n_single=n_single, kinetics_head=kinetics_head,
        continuous=continuous, categorical=categorical,
        n_with_stop=int(totals["n_stop"]),
        n_nonpositive_drawn=int((drawn_data["level"] <= 0).sum()),
        with_series=tuple((p, CLASS_LABELS[c]) for p, c in drawn_classes),
        without_series=tuple(map(tuple, without.itertuples(index=False))),
        n_without_series=int(totals["n"]) - n_series)
