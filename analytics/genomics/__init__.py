"""Genomic alterations: every alteration is a feature with three states per patient (altered,
no alteration, not evaluated), decided by the rules in `features`; `frequencies`, `oncoprint`,
`co_occurrence`, `cytogenetics` (karyotype and ploidy per patient) and `mutations` (variants,
TP53) build the page's tables and figures on them; `karyotype` parses ISCN karyotypes.

The names other packages use are importable from here: `from analytics import genomics;
genomics.alteration_frequencies(...)`.
"""
from analytics.genomics.karyotype import (PLOIDY_BANDS, PLOIDY_ORDER, Clone, Karyotype, masked_hypodiploidy_reason,
                                          parse_karyotype, ploidy_category, short_label)
from analytics.genomics.features import (ALTERATION_COLORS, ALTERED, CLASS_GROUPS, GROUP_COLUMNS, GROUP_FUSION,
                                         GROUP_MUTATION, GROUP_PLOIDY, GROUP_STRUCTURAL, NO_ALTERATION, PLOIDY_COLORS,
                                         cohort_genes, feature_groups, feature_matrix, feature_names, mutation_rows,
                                         pattern_status, patient_rows, ploidy_features, status_patterns,
                                         structural_features)
from analytics.genomics.frequencies import alteration_frequencies, frequency_chart
from analytics.genomics.oncoprint import (CLINICAL_TRACK_SQL, CLINICAL_TRACKS, ONCOPRINT_MAX_PATIENTS, clinical_tracks,
                                          oncoprint_chart, oncoprint_order, oncoprint_slide_chart,
                                          oncoprint_sort_options, oncoprint_title)
from analytics.genomics.co_occurrence import cooccurrence, cooccurrence_heatmap, cooccurrence_matrix
from analytics.genomics.mutations import (MARKS_PER_PATIENT_MAX, TP53_DOMAINS, TP53_LENGTH, lollipop_chart,
                                          mutation_table, protein_position, tp53_variants, vaf_chart)
from analytics.genomics.cytogenetics import karyotype_table, modal_number_chart

__all__ = [
    "PLOIDY_BANDS", "PLOIDY_ORDER", "Clone", "Karyotype", "masked_hypodiploidy_reason", "parse_karyotype",
    "ploidy_category", "short_label",
    "ALTERATION_COLORS", "ALTERED", "CLASS_GROUPS", "GROUP_COLUMNS", "GROUP_FUSION", "GROUP_MUTATION", "GROUP_PLOIDY",
    "GROUP_STRUCTURAL", "NO_ALTERATION", "PLOIDY_COLORS", "cohort_genes", "feature_groups", "feature_matrix",
    "feature_names", "mutation_rows", "pattern_status", "patient_rows", "ploidy_features", "status_patterns",
    "structural_features",
    "alteration_frequencies", "frequency_chart",
    "CLINICAL_TRACK_SQL", "CLINICAL_TRACKS", "ONCOPRINT_MAX_PATIENTS", "clinical_tracks", "oncoprint_chart",
    "oncoprint_order", "oncoprint_slide_chart", "oncoprint_sort_options", "oncoprint_title",
    "cooccurrence", "cooccurrence_heatmap", "cooccurrence_matrix",
    "MARKS_PER_PATIENT_MAX", "TP53_DOMAINS", "TP53_LENGTH", "lollipop_chart", "mutation_table", "protein_position",
    "tp53_variants", "vaf_chart",
    "karyotype_table", "modal_number_chart",
]
