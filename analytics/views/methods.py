"""Statistical-methods paragraphs for the views: estimators, intervals, tests, endpoint
definitions, software and references, in plain English for a manuscript.

Example
-------
>>> "Clopper" in REFERENCES["clopper_pearson"]
True
>>> software("lifelines").startswith("Analyses used Python")
True
"""
from __future__ import annotations

import dataclasses
import functools
import platform
from importlib import metadata
from typing import Callable

REFERENCES = {
    "kaplan_meier": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. "
                    "J Am Stat Assoc 1958;53:457-481.",
    "greenwood": "Greenwood M. The natural duration of cancer. Reports on Public Health and Medical "
                 "Subjects 33. London: HMSO; 1926.",
    "loglog": "Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data. 2nd ed. "
              "Wiley; 2002.",
    "logrank": "Mantel N. Evaluation of survival data and two new rank order statistics arising in its "
               "consideration. Cancer Chemother Rep 1966;50:163-170.",
    "reverse_km": "Schemper M, Smith TL. A note on quantifying follow-up in studies of failure time. "
                  "Control Clin Trials 1996;17:343-346.",
    "holm": "Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.",
    "cox": "Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.",
    "efron": "Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc "
             "1977;72:557-565.",
    "schoenfeld": "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted "
                  "residuals. Biometrika 1994;81:515-526.",
    "landmark": "Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response. J Clin Oncol "
                "1983;1:710-719.",
    "time_dependent": "Mantel N, Byar DP. Evaluation of response-time data involving transient states. "
                      "J Am Stat Assoc 1974;69:81-86.",
    "simon_makuch": "Simon R, Makuch RW. A non-parametric graphical representation of the relationship "
                    "between survival and the occurrence of an event. Stat Med 1984;3:35-44.",
    "immortal_time": "Suissa S. Immortal time bias in pharmaco-epidemiology. Am J Epidemiol "
                     "2008;167:492-499.",
    "aalen_johansen": "Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov "
                      "chains based on censored observations. Scand J Stat 1978;5:141-150.",
    "clopper_pearson": "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the "
                       "case of the binomial. Biometrika 1934;26:404-413.",
    "fisher": "Fisher RA. On the interpretation of chi-square from contingency tables. J R Stat Soc "
              "1922;85:87-94.",
    "mann_whitney": "Mann HB, Whitney DR. On a test of whether one of two random variables is stochastically "
                    "larger than the other. Ann Math Stat 1947;18:50-60.",
    "freeman_halton": "Freeman GH, Halton JH. Note on an exact treatment of contingency, goodness of fit "
                      "and other problems of significance. Biometrika 1951;38:141-149.",
    "benjamini_hochberg": "Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and "
                          "powerful approach to multiple testing. J R Stat Soc B 1995;57:289-300.",
    "epv": "Peduzzi P, Concato J, Kemper E, Holford TR, Feinstein AR. A simulation study of the number of "
           "events per variable in logistic regression analysis. J Clin Epidemiol 1996;49:1373-1379.",
}


@functools.lru_cache(maxsize=64)  # reading package metadata scans site-packages (~10 ms a name)
def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def software(*packages: str) -> str:
    """'Analyses used Python 3.11.7 with duckdb 2.0.0, lifelines 0.30.3 ...' (installed versions)."""
    names = ("duckdb", "pandas", *packages)
    listed = ", ".join(f"{n} {_version(n)}" for n in dict.fromkeys(names))
    return f"Analyses used Python {platform.python_version()} with {listed}."


def cite(*keys: str) -> str:
    """The references of `keys`, numbered, as one paragraph."""
    return "References: " + " ".join(f"[{i}] {REFERENCES[k]}" for i, k in enumerate(keys, start=1))


def paragraph(sentences: list[str], packages: tuple[str, ...], references: tuple[str, ...]) -> str:
    return " ".join(s for s in sentences if s) + " " + software(*packages) + "\n\n" + cite(*references)


def describes(methods: Callable[[object], str]) -> Callable:
    """Decorate a view function `(db, cohort_filter, spec, small_cell_k=0) -> ViewResult` so its
    result carries `methods(spec)` as its methods paragraph (unless it set one itself)."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def run(db, cohort_filter, spec, *args, **kwargs):
            result = view(db, cohort_filter, spec, *args, **kwargs)
            if result.methods:
                return result
            return dataclasses.replace(result, methods=methods(spec))
        return run
    return decorate
