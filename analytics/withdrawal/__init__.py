"""Leukemia kinetics after lenalidomide withdrawal: what is measured and the regression rule
(`rule`), each patient's kinetics and class (`kinetics`), who regresses (`comparison`), the
page's screen-sized results (`results`) and its figures (`charts`).

The names other packages use are importable from here: `from analytics import withdrawal;
withdrawal.kinetics_table(...)`.
"""
from analytics.withdrawal.rule import (AFTER, ANALYTE_OPTIONS, ANALYTES, BEFORE, BELOW, CLASS_COLORS, CLASS_LABELS,
                                       CLASSES, COMPLETE, DETECTED, FOLLOWED_COLORS, LEUKEMIC, NO_SERIES_TREATED,
                                       NO_SERIES_UNTREATED, NONE, NOT_ASSESSABLE, PARTIAL, PROGRESSION,
                                       REGRESSION_CLASSES, SCALES, SHORT_LABELS, SPECIMENS, THERAPY, TIME_AXES,
                                       RegressionRule)
from analytics.withdrawal.kinetics import (KINETICS_COLUMNS, classification_counts, kinetics_of, kinetics_table,
                                           measurements, overview_of)
from analytics.withdrawal.comparison import CATEGORICAL, CONTINUOUS, EXACT_MWU_MAX, SUMMARY_COLUMNS, comparison_of
from analytics.withdrawal.charts import timing_chart, trajectory_chart
from analytics.withdrawal.results import (IDS_LISTED, PATIENTS_DRAWN_MAX, TABLE_ROWS_MAX, WithdrawalView, drawn_series,
                                       drawn_trajectories, page_view, timing_figure, trajectory_figure,
                                       trajectory_y_title)
from analytics.withdrawal import charts, comparison, kinetics, results, rule

__all__ = [
    "AFTER", "ANALYTE_OPTIONS", "ANALYTES", "BEFORE", "BELOW", "CLASS_COLORS", "CLASS_LABELS", "CLASSES", "COMPLETE",
    "DETECTED", "FOLLOWED_COLORS", "LEUKEMIC", "NO_SERIES_TREATED", "NO_SERIES_UNTREATED", "NONE", "NOT_ASSESSABLE",
    "PARTIAL", "PROGRESSION", "REGRESSION_CLASSES", "SCALES", "SHORT_LABELS", "SPECIMENS", "THERAPY", "TIME_AXES",
    "RegressionRule",
    "KINETICS_COLUMNS", "classification_counts", "kinetics_of", "kinetics_table", "measurements", "overview_of",
    "CATEGORICAL", "CONTINUOUS", "EXACT_MWU_MAX", "SUMMARY_COLUMNS", "comparison_of",
    "timing_chart", "trajectory_chart",
    "IDS_LISTED", "PATIENTS_DRAWN_MAX", "TABLE_ROWS_MAX", "WithdrawalView", "drawn_series", "drawn_trajectories",
    "page_view", "timing_figure", "trajectory_figure", "trajectory_y_title",
    "charts", "comparison", "kinetics", "results", "rule",
]
