"""Survival analysis: endpoints and the per-patient working table (`spec`, `patients`),
Kaplan-Meier and log-rank tests from DuckDB-aggregated counts (`km`, `comparisons`), one Kaplan-Meier
view's numbers (`summary`), Cox models (`cox`), competing risks (`competing_risks`), HCT and other
post-baseline groupings without immortal-time bias (`hct`, `simon_makuch`) and the Altair
figures (`chart`).

The names other packages use are importable from here: `from analytics import survival;
survival.km_summary(...)`.
"""
from analytics.survival.spec import (ALL_EFS_EVENTS, BOOLEAN_GROUPS, CATEGORICAL_GROUPS, CONTINUOUS_GROUPS,
                                     EFS_EVENT_COLUMNS, EFS_EVENT_LABELS, ENDPOINTS, MIN_GROUP_SIZE, ORIGINS,
                                     POPULATIONS, POST_BASELINE_GROUPS, SurvivalSpec, format_number)
from analytics.survival.patients import (continuous_median, group_expression, inclusion_summary, km_counts,
                                         patient_sql, patient_table)
from analytics.survival.km import (curves_from_counts, fit_km, followup_from_counts, km_curves, km_summary,
                                   median_followup, median_with_ci, month_ticks, months_text, ordered_groups,
                                   percent_text, risk_table, step_value_at, summary_from_counts, survival_at)
from analytics.survival.comparisons import (LogRankResult, adjust_pvalues, evaluated_only, logrank, logrank_from_counts,
                                        pairwise_from_counts)
from analytics.survival.summary import (KMView, curve_table, km_view, parse_milestones, summary_display,
                                     suppress_small_groups, view_caption, view_from_counts)
from analytics.survival import chart, comparisons, competing_risks, cox, hct, simon_makuch

__all__ = [
    "ALL_EFS_EVENTS", "BOOLEAN_GROUPS", "CATEGORICAL_GROUPS", "CONTINUOUS_GROUPS", "EFS_EVENT_COLUMNS",
    "EFS_EVENT_LABELS", "ENDPOINTS", "MIN_GROUP_SIZE", "ORIGINS", "POPULATIONS", "POST_BASELINE_GROUPS",
    "SurvivalSpec", "format_number",
    "continuous_median", "group_expression", "inclusion_summary", "km_counts", "patient_sql", "patient_table",
    "curves_from_counts", "fit_km", "followup_from_counts", "km_curves", "km_summary", "median_followup",
    "median_with_ci", "month_ticks", "months_text", "ordered_groups", "percent_text", "risk_table",
    "step_value_at", "summary_from_counts", "survival_at",
    "LogRankResult", "adjust_pvalues", "evaluated_only", "logrank", "logrank_from_counts", "pairwise_from_counts",
    "KMView", "curve_table", "km_view", "parse_milestones", "summary_display", "suppress_small_groups",
    "view_caption", "view_from_counts",
    "chart", "comparisons", "competing_risks", "cox", "hct", "simon_makuch",
]
