"""Cohort overview: Table 1 (`baseline`), Table 1 by group with tests (`by_group`), distributions
of lenalidomide latency and exposure (`exposure`) and the patient table (`patient_list`).

The names other packages use are importable from here: `from analytics import overview;
overview.table_one(...)`.
"""
from analytics.overview.baseline import (CATEGORICAL, CONTINUOUS, CONTINUOUS_SQL, TABLE_ONE_COLUMNS, Categorical,
                                         Continuous, categorical_rows, continuous_row, prepared_summary, table_one,
                                         table_one_display, with_months)
from analytics.overview.exposure import (DOT_PLOT_MAX_PATIENTS, EXPOSURE_MEASURES, dot_plot, dot_positions,
                                         exposure_chart, exposure_counts, exposure_values, histogram_plot)
from analytics.overview.patient_list import (PATIENT_TABLE_COLUMNS, patient_link_params, patient_table,
                                             patient_table_head)
from analytics.overview import baseline, by_group, exposure, patient_list

__all__ = [
    "CATEGORICAL", "CONTINUOUS", "CONTINUOUS_SQL", "TABLE_ONE_COLUMNS", "Categorical", "Continuous",
    "categorical_rows", "continuous_row", "prepared_summary", "table_one", "table_one_display", "with_months",
    "DOT_PLOT_MAX_PATIENTS", "EXPOSURE_MEASURES", "dot_plot", "dot_positions", "exposure_chart", "exposure_counts",
    "exposure_values", "histogram_plot",
    "PATIENT_TABLE_COLUMNS", "patient_link_params", "patient_table", "patient_table_head",
    "baseline", "by_group", "exposure", "patient_list",
]
