"""Simon-Makuch plot: survival by a time-dependent exposure (HCT, first CR/CRi).

Each patient contributes to the "before" curve from time zero until the day of the exposure
and to the "after" curve from then on (delayed entry), so nobody's pre-exposure time is
credited to the exposed group. Each curve is a product-limit estimate over its own risk set,
which changes as patients switch: S(t) = prod over event times (1 - d/n), with Greenwood's
variance and the same log(-log) 95% CI as the Kaplan-Meier curves (Simon & Makuch, Stat Med
1984;3:35-44; Snapinn, Jiang & Iglewicz, Am Stat 2005;59:301-307). It describes how survival
differs between patients in the two states; it does not estimate what HCT would do for any
one patient, and the "after" curve starts with the few patients exposed early.

Example
-------
>>> rows = pd.DataFrame({"start": [0, 0, 10, 0], "stop": [10, 20, 30, 5], "exposed": [0, 0, 1, 0],
...                      "event": [0, 1, 1, 1], "switch": [1, 0, 0, 0], "weight": [1, 1, 1, 1]})
>>> curves = extended_km(rows, ("before", "after"))
>>> curves[curves["group"] == "before"]["survival"].round(3).tolist()
[1.0, 0.667, 0.0]
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from analytics.units import DAYS_PER_MONTH

CURVE_COLUMNS = ["group", "time_days", "time_months", "survival", "ci_lower", "ci_upper", "at_risk",
                 "n_event", "n_censored"]


def _one_state(rows: pd.DataFrame, label: str, alpha: float) -> pd.DataFrame:
    """Product-limit curve of the intervals of one state (start, stop] with weights."""
    start, stop = rows["start"].to_numpy(float), rows["stop"].to_numpy(float)
    weight = rows["weight"].to_numpy(float)
    event = rows["event"].to_numpy(int) == 1
    censored = (~event) & (rows["switch"].to_numpy(int) == 0)  # leaving by switching is not censoring
    times = np.unique(stop)
    # at risk at t: intervals with start < t <= stop
    entered = np.searchsorted(np.sort(start), times, side="left")
    start_order = np.argsort(start)
    entered_w = np.concatenate([[0.0], np.cumsum(weight[start_order])])[entered]
    stop_order = np.argsort(stop)
    left_before = np.concatenate([[0.0], np.cumsum(weight[stop_order])])[
        np.searchsorted(stop[stop_order], times, side="left")]
    at_risk = entered_w - left_before
    d = np.bincount(np.searchsorted(times, stop[event]), weights=weight[event], minlength=len(times))
    c = np.bincount(np.searchsorted(times, stop[censored]), weights=weight[censored], minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - d / at_risk, 1.0)
        survival = np.cumprod(factor)
        greenwood = np.cumsum(np.where((at_risk > d) & (at_risk > 0), d / (at_risk * (at_risk - d)), 0.0))
        z = norm.ppf(1 - alpha / 2)
        log_s = np.log(survival)
        spread = z * np.sqrt(greenwood) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - spread))
        upper = np.exp(-np.exp(np.log(-log_s) + spread))
    undefined = survival >= 1.0  # no drop yet: the interval is the point itself
    lower, upper = np.where(undefined, 1.0, lower), np.where(undefined, 1.0, upper)
    zero = survival <= 0.0
    lower, upper = np.where(zero, 0.0, lower), np.where(zero, 0.0, upper)
    frame = pd.DataFrame({"group": label, "time_days": times, "survival": survival,
                          "ci_lower": np.minimum(lower, upper), "ci_upper": np.maximum(lower, upper),
                          "at_risk": at_risk, "n_event": d, "n_censored": c})
    frame = frame[(frame["n_event"] > 0) | (frame["n_censored"] > 0)]
    first = float(start.min()) if len(start) else 0.0
    origin = pd.DataFrame([{"group": label, "time_days": first, "survival": 1.0, "ci_lower": 1.0,
                            "ci_upper": 1.0, "at_risk": float(weight[start <= first].sum()),
                            "n_event": 0.0, "n_censored": 0.0}])
    return pd.concat([origin, frame], ignore_index=True)


def extended_km(rows: pd.DataFrame, labels: Sequence[str], alpha: float = 0.05) -> pd.DataFrame:
    """Simon-Makuch curves of counting-process rows (start, stop, exposed, event, switch,
    weight): one curve per state, labelled `labels[exposed]`, in the shape of
    `survival.curves_from_counts` (the KM chart draws both)."""
    frames = [_one_state(rows[rows["exposed"] == state], labels[state], alpha)
              for state in (0, 1) if (rows["exposed"] == state).any()]
    if not frames:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["time_months"] = out["time_days"] / DAYS_PER_MONTH
    out[["at_risk", "n_event", "n_censored"]] = out[["at_risk", "n_event", "n_censored"]].round().astype(int)
    return out[CURVE_COLUMNS]


def at_risk_table(rows: pd.DataFrame, labels: Sequence[str], ticks_months: Sequence[float]) -> pd.DataFrame:
    """Patients at risk in each state at each tick (start < t <= stop; at time zero, those who
    start in the state): the "before" row falls as patients switch, the "after" row grows."""
    out = []
    for state in (0, 1):
        part = rows[rows["exposed"] == state]
        if part.empty:
            continue
        for tick in ticks_months:
            t = float(tick) * DAYS_PER_MONTH
            inside = (part["start"] <= t) & (part["stop"] >= t) if t == 0 else \
                (part["start"] < t) & (part["stop"] >= t)
            out.append({"group": labels[state], "time_months": float(tick),
                        "at_risk": int(round(part.loc[inside, "weight"].sum()))})
    return pd.DataFrame(out, columns=["group", "time_months", "at_risk"])
