"""What the withdrawal page measures and how a series is classified: the analytes, specimens,
time axes, the regression classes and `RegressionRule` (the thresholds, stated on the page)."""
from __future__ import annotations

from dataclasses import dataclass

from analytics.theme import NOT_EVALUATED_COLOR, PALETTE


ANALYTES = {
    "b_lymphoblasts_pct": "B lymphoblasts",
    "immature_b_pct": "Immature B cells (B-ALL immunophenotype)",
    "marrow_blasts_pct": "Marrow blasts",
}
# Default: each patient's leukemic population: B lymphoblasts, else immature B cells with a
# B-ALL immunophenotype (the two populations whose regression the study reports).
LEUKEMIC = "leukemic"
ANALYTE_OPTIONS = {LEUKEMIC: "B lymphoblasts, else immature B cells (per patient)", **ANALYTES}
SHORT_LABELS = {LEUKEMIC: "Leukemic B cells", "b_lymphoblasts_pct": "B lymphoblasts",
                "immature_b_pct": "Immature B cells", "marrow_blasts_pct": "Marrow blasts"}
SPECIMENS = ("marrow", "blood")
TIME_AXES = {"withdrawal": "Days since lenalidomide discontinuation (day 0)",
             "diagnosis": "Days since B-ALL diagnosis (day 0)"}
SCALES = ("linear", "log")

COMPLETE, PARTIAL, NONE, PROGRESSION, NOT_ASSESSABLE = (
    "complete", "partial", "none", "progression", "not assessable")
CLASSES = (COMPLETE, PARTIAL, NONE, PROGRESSION, NOT_ASSESSABLE)
REGRESSION_CLASSES = (COMPLETE, PARTIAL)
CLASS_LABELS = {COMPLETE: "complete regression", PARTIAL: "partial regression",
                NONE: "no regression", PROGRESSION: "progression", NOT_ASSESSABLE: "not assessable"}
CLASS_COLORS = {COMPLETE: PALETTE[2], PARTIAL: PALETTE[0], NONE: PALETTE[1],
                PROGRESSION: PALETTE[5], NOT_ASSESSABLE: NOT_EVALUATED_COLOR}
NO_SERIES_TREATED = "no serial measurements, B-ALL therapy"
NO_SERIES_UNTREATED = "no serial measurements, no B-ALL therapy"
FOLLOWED_COLORS = {**{CLASS_LABELS[c]: CLASS_COLORS[c] for c in CLASSES},
                   NO_SERIES_TREATED: PALETTE[3], NO_SERIES_UNTREATED: PALETTE[7]}
BELOW = "below detection (at limit)"
DETECTED = "measured"
THERAPY = "B-ALL therapy start"
BEFORE, AFTER = "before B-ALL therapy", "after B-ALL therapy start"


@dataclass(frozen=True)
class RegressionRule:
    """The rule that turns a series into a regression class. Frozen: it keys caches.

    >>> RegressionRule().partial_reduction_pct
    50.0
    """

    partial_reduction_pct: float = 50.0
    progression_rise_pct: float = 25.0
    baseline_window_days: int = 30
    min_measurements: int = 2

    def threshold_texts(self) -> tuple[str, str]:
        """The partial-reduction and progression-rise thresholds as the page writes them."""
        return _fmt(self.partial_reduction_pct), _fmt(self.progression_rise_pct)

    def describe(self) -> str:
        p, r = self.threshold_texts()
        return (
            "**Level at withdrawal** = last measurement on or before the lenalidomide stop day, "
            f"else the first within {self.baseline_window_days} days after it. "
            "**Only measurements before the first B-ALL therapy** (strictly earlier day) count; "
            "a nadir reached after therapy started is response to therapy, not regression. "
            "Values below detection are taken at the detection limit. "
            f"**Complete**: a below-detection measurement before therapy. "
            f"**Partial**: reduction ≥ {p}% from the level at withdrawal. "
            f"**Progression**: a rise ≥ {r}% above it (and no regression). **None**: otherwise. "
            f"**Not assessable**: fewer than {self.min_measurements} measurements from withdrawal "
            "to therapy, no level at withdrawal, or a level at withdrawal already below detection. "
            "Days to a 50% reduction are linearly interpolated between the bracketing "
            "measurements.")

    def summary(self) -> str:
        """The rule in short plain sentences (no Markdown), for a slide or a figure caption.

        >>> len(RegressionRule().summary()) < 300
        True
        """
        p, r = self.threshold_texts()
        return (f"Baseline: last value on or before the lenalidomide stop, else the first within "
                f"{self.baseline_window_days} days after it. Only values before B-ALL therapy count. "
                f"Complete: below detection. Partial: reduction of {p}% or more. "
                f"Progression: rise of {r}% or more. Not assessable: fewer than "
                f"{self.min_measurements} values.")


def _fmt(x: float) -> str:
    return f"{x:g}"
