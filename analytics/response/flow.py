"""Treatment flow: first-line regimen -> best response -> allogeneic HCT -> status at last contact.

An alluvial chart built from Altair marks: one rectangle per (stage, category) whose height is
its number of patients, and one band per (first-line regimen, category here, category next)
between consecutive stages, so each band keeps the colour of the first-line regimen all the
way across. Counts are printed on every node and given in the link tooltips; `flow_counts`
gives the same numbers as a table.

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> paths = flow_paths(db, CohortFilter())
>>> list(paths.columns[:4]), int(paths["n"].sum())
(['regimen', 'response', 'hct', 'status'], 32)
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.response.rates import NO_ASSESSMENT, RESPONSES
from analytics.response.status import ALIVE_NED, STATUS_ORDER, STATUS_SQL
from analytics.theme import NOT_EVALUATED_COLOR, PALETTE

NOT_TREATED = "no B-ALL therapy"
STAGES = {"regimen": "First-line regimen", "response": "Best response",
          "hct": "Allogeneic HCT", "status": "Status at last contact"}
RESPONSE_SHORT = {"CR": "CR", "CRi": "CRi", "PR": "PR", "refractory": "Refractory",
                  "not evaluable": "NE", NO_ASSESSMENT: "No assessment", "not treated": "Not treated"}
HCT_LABELS = ("HCT", "no HCT")
NODE_WIDTH = 0.6
GAP = 1.2          # vertical gap between nodes, in patients
PX_PER_PATIENT = 22
REFERENCE_PATIENTS = 32  # above it, vertical units grow with the cohort: the figure keeps its size
MIN_HEIGHT_PX = 300      # one or two patients still leave room for the stage headings
_SAMPLES = 24


def _stage_order_counted(present: list[str], counts: dict, stage: str) -> list[str]:
    """Category order of one stage from its categories (in order of first appearance in the
    default patient order) and their counts: fixed orders for response, HCT and status; regimens
    by count (most frequent first), untreated last."""
    if stage == "response":
        fixed = [*RESPONSES, NO_ASSESSMENT, "not treated"]
    elif stage == "hct":
        fixed = list(HCT_LABELS)
    elif stage == "status":
        fixed = list(STATUS_ORDER)
    else:  # regimen: most frequent first, untreated last
        fixed = sorted((v for v in present if v != NOT_TREATED), key=lambda v: (-counts[v], v))
        fixed.append(NOT_TREATED)
    return [v for v in fixed if v in present] + [v for v in present if v not in fixed]


IDS_LISTED = 25  # patient ids spelled out per node/path; more read "... and N more"


# The stage categories of each patient, in SQL (constants only, no user text).
def _paths_sql(cohort_filter: CohortFilter) -> tuple[str, list]:
    where, params = cohort_filter.where_sql()
    sql = f"""
        SELECT CASE WHEN coalesce(treated, FALSE) THEN coalesce(first_line_regimen_category, ?) ELSE ? END AS regimen,
               CASE WHEN coalesce(treated, FALSE) THEN coalesce(best_response, ?) ELSE 'not treated' END AS response,
               CASE WHEN coalesce(hct, FALSE) THEN ? ELSE ? END AS hct,
               coalesce({STATUS_SQL}, 'unknown') AS status, patient_id
        FROM patient_summary WHERE {where}"""
    return sql, ["category not recorded", NOT_TREATED, NO_ASSESSMENT, *HCT_LABELS, *params]


def flow_paths(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """One row per path regimen -> response -> HCT -> status, counted in DuckDB: patients, the
    first IDS_LISTED + 1 ids (by id) and the first id, rows in order of first appearance in the
    default patient order."""
    sql, params = _paths_sql(cohort_filter)
    keys = ", ".join(STAGES)
    df = db.query(f"""
        WITH p AS ({sql}),
        c AS (SELECT {keys}, count(*) AS n, min(patient_id) AS first,
                     min(patient_id, {int(IDS_LISTED) + 1}) AS ids FROM p GROUP BY {keys})
        SELECT * FROM c ORDER BY first""", params)
    return df


def _group_paths(paths: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Paths merged by `keys`: n, ids (first IDS_LISTED + 1), listed ids text; first-appearance order."""
    rows = []
    for key, s in paths.groupby(keys, sort=False):
        first_ids = sorted(i for ids in s["ids"] for i in ids)[:IDS_LISTED + 1]
        n = int(s["n"].sum())
        rows.append((*((key,) if not isinstance(key, tuple) else key), n, s["first"].min(),
                     _list_counted(first_ids, n)))
    g = pd.DataFrame(rows, columns=[*keys, "n", "first", "ids"])
    return g.sort_values("first", kind="mergesort").reset_index(drop=True)


def _list_counted(first_ids, n: int) -> str:
    """n ids listed up to IDS_LISTED, then '... and N more', given their first ones (at least
    IDS_LISTED + 1 of them when n is larger).

    >>> _list_counted(["S01", "S02"], 2), _list_counted([f"P{i:02d}" for i in range(26)], 30)[-19:]
    ('S01, S02', 'P24, ... and 5 more')
    """
    if n <= IDS_LISTED:
        return ", ".join(first_ids[:n])
    return ", ".join(first_ids[:IDS_LISTED]) + f", ... and {n - IDS_LISTED:,} more"


def flow_counts(db: CohortDatabase, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Patients per path regimen -> response -> HCT -> status (the table behind the chart)."""
    paths = flow_paths(db, cohort_filter)
    if paths.empty:
        return pd.DataFrame(columns=[*STAGES.values(), "patients", "ids"])
    g = _group_paths(paths, list(STAGES)).rename(columns={"n": "patients"})[[*STAGES, "patients", "ids"]]
    g = g.sort_values(["patients", "regimen"], ascending=[False, True]).reset_index(drop=True)
    return g.rename(columns=STAGES)


def _label(stage: str, value: str) -> str:
    return RESPONSE_SHORT.get(value, value) if stage == "response" else value


def flow_chart(db: CohortDatabase, cohort_filter: CohortFilter) -> alt.LayerChart:
    """The alluvial chart of the patients' paths (Altair rect + area + text layers)."""
    paths = flow_paths(db, cohort_filter)
    stages = list(STAGES)
    n_patients = int(paths["n"].sum())
    nodes_by = {s: _group_paths(paths, [s]) for s in stages}
    # category order per stage (first appearance, counts)
    orders = {s: _stage_order_counted(list(nodes_by[s][s]), dict(zip(nodes_by[s][s], nodes_by[s]["n"])), s)
              for s in stages}
    regimen_order = orders["regimen"]
    colors = {r: (NOT_EVALUATED_COLOR if r == NOT_TREATED else PALETTE[i % len(PALETTE)])
              for i, r in enumerate(r for r in regimen_order if r != NOT_TREATED)}
    colors[NOT_TREATED] = NOT_EVALUATED_COLOR

    # Vertical units are patients; `unit` patients per drawn unit keep gaps, headings and the
    # pixel height of a registry-size cohort those of the reference cohort (not 22 px per patient).
    unit = max(1.0, n_patients / REFERENCE_PATIENTS)
    nodes, pos = [], {}
    for i, s in enumerate(stages):
        y = 0.0
        node_n = dict(zip(nodes_by[s][s], nodes_by[s]["n"]))
        node_ids = dict(zip(nodes_by[s][s], nodes_by[s]["ids"]))
        for v in orders[s]:
            n = node_n[v]
            pos[(s, v)] = y
            nodes.append({"stage": STAGES[s], "category": v, "n": n, "x": i, "x2": i + NODE_WIDTH,
                          "y": y, "y2": y + n, "label": f"{_label(s, v)} · {n}",
                          "ids": node_ids[v],
                          "side": "left" if i == 0 else ("right" if i == len(stages) - 1 else "in")})
            y += n + GAP * unit
    nodes_df = pd.DataFrame(nodes, columns=["stage", "category", "n", "x", "x2", "y", "y2", "label",
                                            "ids", "side"])

    links, link_info = [], []
    # points per band: 24 for a smooth S-curve, fewer when a large cohort has many paths, so
    # the figure stays under ~200 KB (bench/: 1.3 MB at 10,000 patients, 131 bands)
    pair_groups = [_group_paths(paths, list(dict.fromkeys(["regimen", stages[i], stages[i + 1]])))
                   for i in range(len(stages) - 1)] if len(paths) else []
    n_links = sum(len(g) for g in pair_groups)
    samples = int(max(6, min(_SAMPLES, 900 // max(n_links, 1))))
    out_off = dict.fromkeys(pos, 0.0)
    in_off = dict.fromkeys(pos, 0.0)
    for i in range(len(pair_groups)):
        a, b = stages[i], stages[i + 1]
        g = pair_groups[i]
        ra = {v: k for k, v in enumerate(orders[a])}
        rb = {v: k for k, v in enumerate(orders[b])}
        rr = {v: k for k, v in enumerate(regimen_order)}
        g["_a"], g["_b"], g["_r"] = g[a].map(ra), g[b].map(rb), g["regimen"].map(rr)
        # leave each source in target order, enter each target in source order
        out_order = g.sort_values(["_a", "_b", "_r"]).index
        in_order = g.sort_values(["_b", "_a", "_r"]).index
        y_out, y_in = {}, {}
        for k in out_order:
            key = (a, g.at[k, a])
            y_out[k] = pos[key] + out_off[key]
            out_off[key] += g.at[k, "n"]
        for k in in_order:
            key = (b, g.at[k, b])
            y_in[k] = pos[key] + in_off[key]
            in_off[key] += g.at[k, "n"]
        for k in g.index:
            n = g.at[k, "n"]
            link_id = f"{i}|{g.at[k, 'regimen']}|{g.at[k, a]}|{g.at[k, b]}"
            desc = f"{_label(a, g.at[k, a])} → {_label(b, g.at[k, b])}"
            # the band's shape per sample point; its texts once per link (joined in the browser)
            link_info.append({"link": link_id, "n": int(n), "path": desc, "ids": g.at[k, "ids"]})
            for t in np.linspace(0, 1, samples):
                sm = 3 * t ** 2 - 2 * t ** 3
                top = y_out[k] + (y_in[k] - y_out[k]) * sm
                links.append({"link": link_id, "x": round(i + NODE_WIDTH + t * (1 - NODE_WIDTH), 4),
                              "y": round(top, 3), "y2": round(top + n, 3), "regimen": g.at[k, "regimen"]})
    links_df = pd.DataFrame(links, columns=["link", "x", "y", "y2", "regimen"])
    link_info_df = pd.DataFrame(link_info, columns=["link", "n", "path", "ids"])

    height_units = max((nodes_df.groupby("stage")["y2"].max()).max() if len(nodes_df) else 1, 1)
    yscale = alt.Scale(domain=[-2.4 * unit, height_units + 0.5 * unit], reverse=True, nice=False, zero=False)
    xscale = alt.Scale(domain=[-1.45, len(stages) - 1 + NODE_WIDTH + 1.55], nice=False, zero=False)
    x = alt.X("x:Q", scale=xscale, axis=None)
    y = alt.Y("y:Q", scale=yscale, axis=None)
    color = alt.Color("regimen:N", title="First-line regimen",
                      scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                      legend=alt.Legend(orient="top", columns=3, labelLimit=400))
    band = alt.Chart(links_df).transform_lookup(
        lookup="link", from_=alt.LookupData(link_info_df, "link", ["n", "path", "ids"])
    ).mark_area(opacity=0.55, interpolate="linear").encode(
        x=x, y=y, y2="y2:Q", color=color, detail="link:N",
        tooltip=[alt.Tooltip("regimen:N", title="First-line regimen"),
                 alt.Tooltip("path:N", title="Flow"), alt.Tooltip("n:Q", title="Patients"),
                 alt.Tooltip("ids:N", title="Patient ids")])
    node_tip = [alt.Tooltip("stage:N"), alt.Tooltip("category:N"), alt.Tooltip("n:Q", title="Patients"),
                alt.Tooltip("ids:N", title="Patient ids")]
    rect = alt.Chart(nodes_df).mark_rect(fill="#EBEBEB", stroke="#333333", strokeWidth=1).encode(
        x=x, x2="x2:Q", y=y, y2="y2:Q", tooltip=node_tip)
    nodes_df["xm"] = nodes_df["x"] + NODE_WIDTH / 2
    nodes_df["ym"] = (nodes_df["y"] + nodes_df["y2"]) / 2
    text_in = alt.Chart(nodes_df[nodes_df["side"] == "in"]).mark_text(fontSize=14, baseline="middle").encode(
        x=alt.X("xm:Q", scale=xscale, axis=None), y=alt.Y("ym:Q", scale=yscale, axis=None),
        text="label:N", tooltip=node_tip)
    text_left = alt.Chart(nodes_df[nodes_df["side"] == "left"]).mark_text(
        fontSize=14, align="right", dx=-6, baseline="middle").encode(
        x=x, y=alt.Y("ym:Q", scale=yscale, axis=None), text="label:N", tooltip=node_tip)
    text_right = alt.Chart(nodes_df[nodes_df["side"] == "right"]).mark_text(
        fontSize=14, align="left", dx=6, baseline="middle").encode(
        x=alt.X("x2:Q", scale=xscale, axis=None), y=alt.Y("ym:Q", scale=yscale, axis=None),
        text="label:N", tooltip=node_tip)
    heads = pd.DataFrame({"x": [i + NODE_WIDTH / 2 for i in range(len(stages))], "y": -1.2 * unit,
                          "label": list(STAGES.values())})
    head = alt.Chart(heads).mark_text(fontSize=16, fontWeight="bold", baseline="middle").encode(
        x=x, y=y, text="label:N")
    return (band + rect + text_in + text_left + text_right + head).properties(
        height=max(MIN_HEIGHT_PX, int(PX_PER_PATIENT * (height_units / unit + 3))), width="container",
        title=alt.Title("Treatment flow", subtitle="Band colour = first-line regimen; node labels give "
                        "patients per category (NE = not evaluable). Hover for patient ids."))


__all__ = ["flow_paths", "flow_counts", "flow_chart", "STAGES", "ALIVE_NED"]
