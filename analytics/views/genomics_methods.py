"""The methods paragraph of the Genomics page's views (what was counted among whom, the exact
intervals and tests in plain English), read by the view functions in `analytics.views.genomics`."""
from __future__ import annotations

from analytics.views.methods import paragraph


def genomics_methods(spec) -> str:
    return paragraph([
        "Alterations were counted among patients evaluable for each: sequenced (a sequencing assay recorded) "
        "for a gene mutation, an expert-assessed ploidy category recorded for a ploidy category, a BCR::ABL1 "
        "result recorded for the fusion, and a karyotype with at least one clone (ISCN text read by a "
        "rule-based parser) for a structural aberration; a patient not tested is not evaluated, never "
        "counted as unaltered. Frequencies have exact (Clopper-Pearson) 95% confidence intervals [1]. "
        "Co-occurrence of two alterations was tested among patients evaluable for both with Fisher's exact "
        "test [2] (two-sided; conditional maximum-likelihood odds ratio with exact CI), and across all pairs "
        "with at least 10 patients evaluable for both and each alteration present in two or more of them, with "
        "Benjamini-Hochberg false-discovery-rate q-values [3]. Ploidy categories by modal chromosome "
        "number: near-haploid 24-31, low hypodiploid 32-39, high hypodiploid 40-43, near-diploid 44-45, "
        "diploid 46, hyperdiploid above 46."], ("scipy",), ("clopper_pearson", "fisher", "benjamini_hochberg"))
