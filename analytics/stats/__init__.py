"""Small-sample statistics shared by the pages: plain arithmetic on counts (no database, no Streamlit).

* `clopper_pearson` (binomial.py): exact interval of a proportion.
* `fisher_exact_2x2` (fisher.py): Fisher's exact test of a 2x2 table with the *conditional* MLE
  odds ratio and its exact CI (as R's ``fisher.test``), and the *sample* odds ratio ad/bc.
* `freeman_halton` (rxc.py): Fisher's exact test of an r x c table.
* `benjamini_hochberg`, `adjust_pvalues` (multiple.py): BH; Holm and Bonferroni.

SciPy and statsmodels are used wherever they give the same numbers (2x2 test and odds ratios, BH);
the r x c test and Holm are hand-written, and rxc.py and multiple.py say why.
"""
from analytics.stats.binomial import clopper_pearson
from analytics.stats.fisher import REL_TOL, FisherResult, fisher_exact_2x2
from analytics.stats.multiple import adjust_pvalues, benjamini_hochberg
from analytics.stats.rxc import (MAX_ENUMERATED_TABLES, MONTE_CARLO_DRAWS, MONTE_CARLO_SEED, RxCTestResult,
                                 freeman_halton)

__all__ = ["REL_TOL", "MAX_ENUMERATED_TABLES", "MONTE_CARLO_DRAWS", "MONTE_CARLO_SEED", "FisherResult",
           "RxCTestResult", "adjust_pvalues", "benjamini_hochberg", "clopper_pearson", "fisher_exact_2x2", "freeman_halton"]
