"""Genomic alterations (being split by concept; this step only moves the modules)."""
from analytics.genomics.features import *  # noqa: F401,F403
from analytics.genomics.features import (_CLINICAL_ORDER, _STATUS_RANK, _mutations, _patients,  # noqa: F401
                                         _ploidy_features, _structural_features)
