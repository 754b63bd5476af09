"""KM figures stay small at registry size and draw only exact Kaplan-Meier points."""
import json

import numpy as np
import pandas as pd
import pytest

from analytics.survival import curves_from_counts
from analytics.survival.chart import MAX_CURVE_ROWS, km_chart, thin_curves


def _counts(n_patients: int, groups: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.integers(1, 4000, n_patients)
    event = rng.random(n_patients) < 0.6
    g = rng.integers(0, groups, n_patients)
    df = pd.DataFrame({"group": [f"g{i}" for i in g], "time_days": t, "event": event.astype(int)})
    out = df.groupby(["group", "time_days"]).agg(n_event=("event", "sum"), n_total=("event", "size")).reset_index()
    out["n_censored"] = out["n_total"] - out["n_event"]
    return out[["group", "time_days", "n_event", "n_censored"]]


def _chart_data(chart) -> list[dict]:
    spec = chart.to_dict()
    return max(spec["datasets"].values(), key=len)


@pytest.mark.parametrize("groups", [1, 3, 6])
def test_large_cohort_figure_is_small_and_exact_points(groups):
    counts = _counts(200_000, groups)
    curves = curves_from_counts(counts)
    assert len(curves) > MAX_CURVE_ROWS  # thousands of distinct days: would be MBs as is
    thin, thinned = thin_curves(curves)
    assert thinned and len(thin) <= MAX_CURVE_ROWS + groups
    full = curves.set_index(["group", "time_days"])
    kept = thin.set_index(["group", "time_days"])
    # every drawn point is an exact KM value of that day (survival, CI, number at risk)
    for col in ("survival", "ci_lower", "ci_upper", "at_risk"):
        np.testing.assert_array_equal(kept[col].to_numpy(), full.loc[kept.index, col].to_numpy())
    # events and censorings are all accounted for (summed since the previous point)
    for col in ("n_event", "n_censored"):
        assert kept.groupby(level=0)[col].sum().to_dict() == full.groupby(level=0)[col].sum().to_dict()
    # each group keeps its first point (time 0) and its last day
    for g, c in curves.groupby("group"):
        t = thin[thin["group"] == g]
        assert t["time_days"].iloc[0] == c["time_days"].iloc[0] == 0
        assert t["survival"].iloc[0] == c["survival"].iloc[0]
        assert t["time_days"].iloc[-1] == c["time_days"].iloc[-1]
    chart = km_chart(curves, counts, title="OS", group_title="Group" if groups > 1 else None)
    assert len(chart.to_json(indent=None)) <= 200_000


def test_small_cohort_figure_draws_every_step():
    counts = _counts(60, 2, seed=3)
    curves = curves_from_counts(counts)
    thin, thinned = thin_curves(curves)
    assert not thinned and thin is curves
    data = _chart_data(km_chart(curves, counts, title="OS", group_title="Group"))
    assert len(data) == len(curves)
    assert json.dumps(data)  # plain JSON values


def test_cif_figure_is_small_and_draws_exact_values():
    from analytics.survival.chart import cif_chart, thin_steps
    rng = np.random.default_rng(1)
    rows = []
    for group in ("a", "b"):
        for cause in ("Relapse", "Non-relapse mortality"):
            t = np.sort(rng.integers(1, 4000, 3000)) / 30.4375
            c = np.cumsum(rng.random(3000)) / 3000 * 0.4
            rows.append(pd.DataFrame({"group": group, "cause": cause, "time_months": t, "cif": c,
                                      "ci_lower": c * 0.9, "ci_upper": c * 1.1}))
    cif = pd.concat(rows, ignore_index=True)
    thin = thin_steps(cif, ["group", "cause"])
    assert len(thin) <= MAX_CURVE_ROWS
    merged = thin.merge(cif, on=["group", "cause", "time_months", "cif"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # every drawn point is a row of the estimate
    for (g, cause), c in cif.groupby(["group", "cause"]):  # each curve keeps its last value
        assert thin[(thin["group"] == g) & (thin["cause"] == cause)]["cif"].iloc[-1] == c["cif"].iloc[-1]
    assert len(cif_chart(cif, title="CIF").to_json(indent=None)) <= 200_000
