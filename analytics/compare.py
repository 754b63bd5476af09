"""The current cohort beside published series: the cohort's figures (computed by the app's own
analytics, never typed), exact intervals, Fisher's exact test, and random-effects pooling of
proportions across series.

Pooling: logit proportions (0.5 added to both cells of a series with 0 or all events, the usual
continuity correction), inverse-variance random-effects model from statsmodels'
`combine_effects`; DerSimonian-Laird (one-step method of moments) or Paule-Mandel (iterated).
statsmodels 0.15 does not truncate the DerSimonian-Laird tau² at zero (it returns (Q - df) / C
even when Q < df, and then weights by 1 / (v - |tau²|)); the DerSimonian-Laird estimator is
max(0, that), so a negative value is read as 0: the random-effects estimate is then the
fixed-effect one. I² = max(0, (Q - df) / Q).

Example
-------
>>> pooled = pool_proportions([(9, 19), (14, 17), (4, 9)], method="dl")
>>> round(pooled.estimate, 3), round(pooled.i2, 3), pooled.k
(0.592, 0.614, 3)
>>> round(fisher_p(9, 19, 14, 17), 4)
0.0411
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import fisher_exact
from statsmodels.stats.meta_analysis import combine_effects

from analytics import overview, response, withdrawal
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.format import number, percent, percent_range
from analytics.published import CHARACTERISTICS, COUNT, MEDIAN, PROPORTION
from analytics.stats import clopper_pearson
from analytics.views.survival import SurvivalPageSpec, km

POOLING_METHODS = {"dl": "DerSimonian-Laird", "pm": "Paule-Mandel"}
_STATSMODELS_METHOD = {"dl": "dl", "pm": "iterated"}
CONTINUITY = 0.5


@dataclass(frozen=True)
class CohortFigure:
    """One characteristic of the current cohort as the app computes it.

    proportion: numerator of denominator (evaluable); count: numerator (denominator = patients
    it was looked for in, or None); median: median, low, high of n evaluable patients
    (median inf = not reached)."""

    key: str
    numerator: int | None = None
    denominator: int | None = None
    median: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0
    source: str = ""
    looked_in: str = ""  # a count's denominator in words ("with serial marrow values")


# Table 1 rows that give a characteristic: (Table 1 characteristic, level)
_TABLE_ONE_PROPORTIONS = {
    "b_lineage": ("Lineage", "B-lineage"),
    "bcr_abl1_positive": ("BCR::ABL1", "positive"),
    "cd10_positive": ("CD10", "positive"),
    "male": ("Sex", "male"),
    "tp53_mutated": ("TP53", "mutated"),
    "low_hypodiploid": ("Ploidy category", "low hypodiploid"),
    "myeloma_auto_hct": ("Autologous HCT for myeloma", "yes"),
    "treated": ("B-ALL treatment received", "yes"),
}
_TABLE_ONE_MEDIANS = {"age_ball": "age_at_ball_dx", "age_myeloma": "age_at_myeloma_dx",
                      "latency_months": "latency_months", "cumulative_months": "cumulative_months"}
_SOURCE_TABLE_ONE = "Table 1 (analytics.overview.table_one)"


def _continuous_label(key: str) -> str:
    spec = next(c for c in overview.CONTINUOUS if c.key == key)
    return f"{spec.label}, {spec.unit}"


def _efs_medians(db: CohortDatabase, cohort_filter: CohortFilter) -> dict[str, CohortFigure]:
    """Median EFS of treated patients, and of treated patients by allogeneic HCT, from the
    survival page's Kaplan-Meier view (the same numbers the page shows)."""
    source = "Kaplan-Meier, survival page (analytics.views.survival.km)"
    treated, _ = SurvivalPageSpec.from_params({"endpoint": "EFS", "population": "treated"})
    whole = km(db, cohort_filter, treated)
    out = {"efs_treated_months": CohortFigure("efs_treated_months", median=whole.numbers.get("median_months"),
                                              n=int(whole.numbers.get("n", 0)), source=source)}
    by_hct = km(db, cohort_filter, treated.with_(group="hct")).tables["summary_raw"]
    yes = by_hct[by_hct["group"] == "yes"] if len(by_hct) else by_hct
    out["efs_hct_months"] = CohortFigure(
        "efs_hct_months", median=float(yes["median_months"].iloc[0]) if len(yes) else None,
        n=int(yes["n"].iloc[0]) if len(yes) else 0, source=source + ", grouped by allogeneic HCT")
    return out


_TABLE_ONE_KEYS = {"patients", "institutions", *_TABLE_ONE_PROPORTIONS, *_TABLE_ONE_MEDIANS}


def _table_one_figures(db: CohortDatabase, cohort_filter: CohortFilter) -> dict[str, CohortFigure]:
    t1 = overview.table_one(db, cohort_filter)
    out: dict[str, CohortFigure] = {}
    patients = int(t1.loc[t1["characteristic"] == "Patients", "n"].iloc[0])
    out["patients"] = CohortFigure("patients", numerator=patients, n=patients, source=_SOURCE_TABLE_ONE)
    institutions = t1[(t1["characteristic"] == "Institution") & (t1["kind"] == "categorical") & (t1["n"] > 0)]
    out["institutions"] = CohortFigure("institutions", numerator=len(institutions), n=patients,
                                       source=_SOURCE_TABLE_ONE)
    for key, (label, level) in _TABLE_ONE_PROPORTIONS.items():
        rows = t1[(t1["characteristic"] == label) & (t1["level"] == level)]
        n, evaluable = (int(rows["n"].iloc[0]), int(rows["evaluable"].iloc[0])) if len(rows) else (0, 0)
        out[key] = CohortFigure(key, numerator=n, denominator=evaluable, n=evaluable, source=_SOURCE_TABLE_ONE)
    for key, column in _TABLE_ONE_MEDIANS.items():
        row = t1[(t1["characteristic"] == _continuous_label(column)) & (t1["kind"] == "continuous")].iloc[0]
        evaluable = int(row["evaluable"])
        present = evaluable > 0
        out[key] = CohortFigure(key, median=float(row["median"]) if present else None,
                                low=float(row["min"]) if present else None,
                                high=float(row["max"]) if present else None, n=evaluable,
                                source=_SOURCE_TABLE_ONE)
    return out


def cohort_figures(db: CohortDatabase, cohort_filter: CohortFilter,
                   keys: tuple[str, ...] | None = None) -> dict[str, CohortFigure]:
    """The characteristics `keys` (default: every one of `published.CHARACTERISTICS`) of the
    filtered cohort, computed by the analytics the other pages use (Table 1, best response,
    current status, Kaplan-Meier, withdrawal kinetics); only the analyses `keys` need run."""
    wanted = set(CHARACTERISTICS) if keys is None else set(keys)
    unknown = wanted - set(CHARACTERISTICS)
    if unknown:
        raise ValueError(f"unknown characteristic(s): {', '.join(sorted(unknown))}")
    out: dict[str, CohortFigure] = {}
    if wanted & _TABLE_ONE_KEYS:
        out |= _table_one_figures(db, cohort_filter)
    if "cr_cri_treated" in wanted:
        best = response.best_response_brief(db, cohort_filter)
        out["cr_cri_treated"] = CohortFigure("cr_cri_treated", numerator=best.n_responders,
                                             denominator=best.n_treated_assessed, n=best.n_treated_assessed,
                                             source="best response (analytics.response.best_response_brief)")
    if "alive_ned" in wanted:
        alive, total = response.alive_ned_count(db, cohort_filter)
        out["alive_ned"] = CohortFigure("alive_ned", numerator=alive, denominator=total, n=total,
                                        source="current status (analytics.response.alive_ned_count)")
    if "withdrawal_regression" in wanted:
        kinetics = withdrawal.kinetics_table(db, cohort_filter, withdrawal.LEUKEMIC, "marrow",
                                             withdrawal.RegressionRule())
        regressed = int(kinetics["classification"].isin(withdrawal.REGRESSION_CLASSES).sum()) if len(kinetics) else 0
        out["withdrawal_regression"] = CohortFigure(
            "withdrawal_regression", numerator=regressed, denominator=len(kinetics), n=len(kinetics),
            looked_in="with serial marrow values",
            source="withdrawal kinetics, default regression rule, marrow leukemic B cells "
                   "(analytics.withdrawal.kinetics_table)")
    if wanted & {"efs_treated_months", "efs_hct_months"}:
        out |= _efs_medians(db, cohort_filter)
    missing = wanted - set(out)
    assert not missing, f"no computation for {missing}"  # a new characteristic needs its analytics
    return {key: out[key] for key in CHARACTERISTICS if key in wanted}


# --- statistics ---------------------------------------------------------------------------------
def exact_ci(k: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95% interval of k of n (NaNs for n = 0)."""
    return clopper_pearson(int(k), int(n))


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher's exact test of k1/n1 against k2/n2 (scipy)."""
    return float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)


def logit_effect(k: int, n: int) -> tuple[float, float, bool]:
    """Logit of k/n and its variance 1/k + 1/(n-k); with 0.5 added to both cells when k is 0 or n.
    Returns (effect, variance, corrected)."""
    corrected = k == 0 or k == n
    a, b = (k + CONTINUITY, n - k + CONTINUITY) if corrected else (k, n - k)
    return math.log(a / b), 1 / a + 1 / b, corrected


@dataclass(frozen=True)
class Pooled:
    """Random-effects pooled proportion (back-transformed from the logit scale)."""

    estimate: float
    ci_low: float
    ci_high: float
    tau2: float        # between-series variance, logit scale
    i2: float          # share of variability beyond chance, 0..1
    q: float           # Cochran's Q
    df: int
    k: int             # series pooled
    method: str
    logit_estimate: float
    logit_se: float
    corrected: int     # series with the 0.5 continuity correction

    def text(self) -> str:
        return (f"pooled {percent(self.estimate, 0)} (95% CI {percent_range(self.ci_low, self.ci_high, 0, separator=' to ')}), "
                f"I² {percent(self.i2, 0)}, τ² {number(self.tau2, 3)}, Q {number(self.q, 2)} on {self.df} df "
                f"({POOLING_METHODS[self.method]}, {self.k} series)")


@dataclass(frozen=True)
class RandomEffects:
    """Inverse-variance random-effects combination of effects (any scale)."""

    mean: float
    se: float
    tau2: float
    i2: float
    q: float
    df: int


def random_effects(effects, variances, method: str = "dl") -> RandomEffects:
    """Combine `effects` with within-series `variances` (statsmodels `combine_effects`), with the
    DerSimonian-Laird tau² truncated at 0 and I² at 0."""
    if method not in POOLING_METHODS:
        raise ValueError(f"pooling method must be one of {', '.join(POOLING_METHODS)}")
    with warnings.catch_warnings():  # its random-effects weights with a negative tau² (not used below)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = combine_effects(np.asarray(effects, float), np.asarray(variances, float),
                              method_re=_STATSMODELS_METHOD[method])
    tau2 = float(res.tau2)
    if tau2 <= 0:  # DerSimonian-Laird truncates at zero (statsmodels does not): fixed-effect weights
        tau2, mean, se = 0.0, float(res.mean_effect_fe), float(res.sd_eff_w_fe)
    else:
        mean, se = float(res.mean_effect_re), float(res.sd_eff_w_re)
    q, df = float(res.q), int(res.df)
    return RandomEffects(mean=mean, se=se, tau2=tau2, i2=max(0.0, (q - df) / q) if q > 0 else 0.0, q=q, df=df)


def pool_proportions(counts: list[tuple[int, int]], method: str = "dl") -> Pooled | None:
    """Random-effects pooled proportion of `counts` [(k, n), ...] on the logit scale; None for
    fewer than 2 series with n > 0."""
    if method not in POOLING_METHODS:
        raise ValueError(f"pooling method must be one of {', '.join(POOLING_METHODS)}")
    counts = [(int(k), int(n)) for k, n in counts if n > 0]
    if len(counts) < 2:
        return None
    effects = [logit_effect(k, n) for k, n in counts]
    re = random_effects([e for e, _, _ in effects], [v for _, v, _ in effects], method)
    z = 1.959963984540054  # standard normal 97.5% quantile
    return Pooled(estimate=float(expit(re.mean)), ci_low=float(expit(re.mean - z * re.se)),
                  ci_high=float(expit(re.mean + z * re.se)), tau2=re.tau2, i2=re.i2, q=re.q, df=re.df,
                  k=len(counts), method=method, logit_estimate=re.mean, logit_se=re.se,
                  corrected=sum(c for _, _, c in effects))


def agrees(published: dict, figure: CohortFigure) -> bool:
    """Whether a computed figure equals a published one at the precision the source reports
    (counts exactly; a median and range rounded to the published decimals; NR = not reached)."""
    kind = CHARACTERISTICS[published["characteristic"]].kind
    if kind in (PROPORTION, COUNT):
        same_num = figure.numerator == published["numerator"]
        has_den = published["denominator"] is not None and not _isna(published["denominator"])
        return same_num and (not has_den or figure.denominator == published["denominator"])
    assert kind == MEDIAN
    decimals = int(published["decimals"])

    def same(value, target) -> bool:
        if target is None or _isna(target):
            return True
        if value is None or _isna(value):
            return False
        if math.isinf(target) or math.isinf(value):
            return math.isinf(target) and math.isinf(value)
        return math.isclose(round(value, decimals), target, abs_tol=1e-9)

    return (figure.median is not None and same(figure.median, published["median"])
            and same(figure.low, published["range_low"]) and same(figure.high, published["range_high"]))


def _isna(value) -> bool:
    return value is None or bool(pd.isna(value))
