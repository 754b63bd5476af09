"""The survival page's Kaplan-Meier work three ways, on one cohort file, in this process.

    python -m bench.survival_compare --db FILE --approach ours --group tp53_status --repeats 5

- ours:  what pages/survival.py computes for its KM tab, through analytics/ with no cache:
         km_counts (DuckDB aggregates per exact day and group) -> curves_from_counts +
         summary_from_counts (lifelines on weighted counts) + log-rank + the Altair chart.
         `ours_km` is the KM curve alone (km_counts + curves_from_counts), like the floor.
- naive: what most Streamlit survival apps do: pandas load of the whole tables, per-patient
         endpoints in pandas, lifelines on raw rows (KM per group, summary, multivariate
         log-rank), and an Altair chart with one row per patient.
- floor: the DuckDB aggregation query alone + a numpy Kaplan-Meier (product-limit with
         Greenwood variance) per group: the least work that yields the same curve.

Prints one JSON object: seconds per repeat, peak RSS, chart bytes (len of the Vega-Lite JSON
with inline data), and the KM values so the three can be checked against each other.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

import altair as alt
import numpy as np
import pandas as pd

from analytics import survival
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH

alt.data_transformers.disable_max_rows()  # measure the inline JSON at any size (Streamlit has no cap)
SPEC = survival.SurvivalSpec()  # the page's default view: EFS from diagnosis, all patients


def spec_for(group: str | None) -> survival.SurvivalSpec:
    return SPEC.with_(group=group or None)


# --- ours --------------------------------------------------------------------------------------
def ours(db: CohortDatabase, group: str | None, km_only: bool = False) -> dict:
    spec = spec_for(group)
    f = CohortFilter()
    counts = survival.km_counts(db, f, spec)
    curves = survival.curves_from_counts(counts)
    out = {"curves": curves}
    if km_only:
        return out
    summary = survival.summary_from_counts(counts, (12, 24, 36))
    lr = survival.logrank_from_counts(counts) if group else None
    chart = survival.chart.km_chart(curves, counts, title=spec.endpoint_label(),
                                    group_title=spec.group_label() if group else None)
    out.update(summary=summary, p=None if lr is None else lr.p_value, chart_bytes=len(chart.to_json(indent=None)))
    return out


# --- floor -------------------------------------------------------------------------------------
def numpy_km(t: np.ndarray, d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Product-limit estimate and Greenwood variance from per-time counts (t sorted)."""
    leaving = d + c
    at_risk = leaving[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / at_risk)
        var = s ** 2 * np.cumsum(np.where(at_risk > d, d / (at_risk * (at_risk - d)), 0.0))
    return t, s, var


def floor(db: CohortDatabase, group: str | None) -> dict:
    counts = survival.km_counts(db, CohortFilter(), spec_for(group))
    curves = {}
    for g, c in counts.groupby("group", sort=False):
        curves[g] = numpy_km(c["time_days"].to_numpy(float), c["n_event"].to_numpy(float),
                             c["n_censored"].to_numpy(float))
    return {"curves": curves}


# --- naive -------------------------------------------------------------------------------------
def naive(path: str, group: str | None) -> dict:
    import duckdb
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    con = duckdb.connect(path, read_only=True)
    patients = con.execute("SELECT * FROM patients").df()
    events = con.execute("SELECT * FROM events").df()
    mutations = con.execute("SELECT * FROM mutations").df()
    con.close()
    by = lambda kind: events[events["event_type"] == kind].groupby("patient_id")["day"]  # noqa: E731
    df = patients.set_index("patient_id")
    relapse, death, last = by("relapse").min(), by("death").min(), by("last_contact").max()
    first_line = events[(events["event_type"] == "response_assessment") & (events["line"] == 1)]
    cr = first_line.assign(cr=first_line["response"].isin(["CR", "CRi"])).groupby("patient_id")
    failed = cr["cr"].any()
    induction_failure = cr["day"].min()[~failed]
    efs_event_day = pd.concat([induction_failure.rename("a"), relapse.rename("b"), death.rename("c")],
                              axis=1).min(axis=1)
    df["event_day"] = efs_event_day.reindex(df.index)
    df["time"] = df["event_day"].fillna(last.reindex(df.index))
    df["event"] = df["event_day"].notna().astype(int)
    if group == "tp53_status":
        tp53 = set(mutations.loc[mutations["gene"] == "TP53", "patient_id"])
        df["group"] = np.where(df["sequencing_assay"].isna(), "not evaluated",
                               np.where(df.index.isin(tp53), "mutated", "wild-type"))
    elif group:
        df["group"] = df[group].astype(str)
    else:
        df["group"] = "All"
    df = df[df["time"].notna() & (df["time"] >= 0)].reset_index()
    rows, survival_col = [], np.empty(len(df))
    for g, sub in df.groupby("group"):
        kmf = KaplanMeierFitter().fit(sub["time"], sub["event"], label=str(g))
        median = kmf.median_survival_time_
        milestones = kmf.survival_function_at_times([m * DAYS_PER_MONTH for m in (12, 24, 36)])
        rows.append({"group": g, "median": median, **{f"S{m}": v for m, v in zip((12, 24, 36), milestones)}})
        survival_col[sub.index.to_numpy()] = kmf.survival_function_at_times(sub["time"]).to_numpy()
        fu = KaplanMeierFitter().fit(sub["time"], 1 - sub["event"])  # reverse KM follow-up
        rows[-1]["followup"] = fu.median_survival_time_
    p = None
    if group:
        evaluated = df[df["group"] != "not evaluated"]
        p = multivariate_logrank_test(evaluated["time"], evaluated["group"], evaluated["event"]).p_value
    df["survival"] = survival_col
    df["months"] = df["time"] / DAYS_PER_MONTH
    chart = alt.Chart(df[["patient_id", "group", "months", "survival", "event"]]).mark_line(
        interpolate="step-after").encode(x="months:Q", y="survival:Q", color="group:N",
                                         tooltip=["patient_id", "months", "survival"])
    return {"summary": pd.DataFrame(rows), "p": p, "chart_bytes": len(chart.to_json(indent=None))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--approach", choices=["ours", "ours_km", "naive", "floor"], required=True)
    parser.add_argument("--group", default="")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    group = args.group or None
    db = CohortDatabase.open_file(args.db) if args.approach != "naive" else None
    if db is not None:  # opening the file once is the server's start-up, not per request
        db.scalar("SELECT count(*) FROM patients")
    times, out = [], {}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        if args.approach == "naive":
            out = naive(args.db, group)
        elif args.approach == "floor":
            out = floor(db, group)
        else:
            out = ours(db, group, km_only=args.approach == "ours_km")
        times.append(time.perf_counter() - t0)
    result = {"approach": args.approach, "group": group or "All", "times_s": times,
              "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
              "chart_bytes": out.get("chart_bytes")}
    if "summary" in out:
        s = out["summary"]
        med = s["median_days"] if "median_days" in s else s["median"]
        result["medians_days"] = {str(g): float(m) for g, m in zip(s["group"], med)}
    if out.get("p") is not None:
        result["logrank_p"] = float(out["p"])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
