"""Reproduce scripts of the Response page's course views: current status, untreated patients, swimmer
plot and treatment flow (builders register with `@register(key)`; the rate views are in `response`)."""
from __future__ import annotations

from analytics import response
from analytics.response import flow, swimmer
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.units import DAYS_PER_MONTH
from analytics.reproduce import Provenance, cohort_where, preamble, register
from analytics.views.response import UNTREATED_LISTED, ResponseSpec
from analytics.reproduce.response import HELPERS, PRINT_TABLE, script_imports


# --- current status -----------------------------------------------------------------------------------
def _status_case() -> str:
    return ("CASE status_at_last_contact\n" + "\n".join(
        f"               WHEN '{k}' THEN '{v}'" for k, v in response.STATUS_AT_LAST_CONTACT.items())
        + "\n           END")


def _pathway_case() -> str:
    hct, therapy, none = response.PATHWAYS
    return (f"CASE WHEN coalesce(hct, FALSE) THEN '{hct}'\n"
            f"                WHEN coalesce(treated, FALSE) THEN '{therapy}' ELSE '{none}' END")


@register("response.status")
def status_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                  provenance: Provenance) -> str:
    return preamble("Response: current status", provenance, script_imports(figure=False), f"""
STATUS_ORDER = {response.STATUS_ORDER!r}
PATHWAYS = {response.PATHWAYS!r}
""") + HELPERS + f'''
# %% 2. Status at last contact and treatment pathway of every selected patient
patients = con.execute("""
    SELECT patient_id,
           {_status_case()} AS status,  -- NULL: a status not recorded as one of these
           {_pathway_case()} AS pathway
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
""").df()

# %% 3. Status by pathway, with % of the patients and exact 95% CIs
n = len(patients)
rows = []
for status in STATUS_ORDER:
    part = patients[patients["status"] == status]
    k = len(part)
    low, high = clopper_pearson(k, n)
    rows.append({{"status": status, **{{p: int((part["pathway"] == p).sum()) for p in PATHWAYS}},
                 "total": k, "% of patients": pct(k / n if n else math.nan), "exact 95% CI": ci_text(low, high)}})
print_table(pd.DataFrame(rows))
alive_ned = int((patients["status"] == STATUS_ORDER[0]).sum())
print(f"Alive without evidence of B-ALL at last contact: {{alive_ned}} of {{patients_text(n)}}.")
'''


# --- untreated patients -------------------------------------------------------------------------------
@register("response.untreated")
def untreated_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                     provenance: Provenance) -> str:
    return preamble("Response: untreated patients", provenance, script_imports(figure=False), f"""
LISTED = {UNTREATED_LISTED}  # patients listed (by id); the page's CSV download has all of them
""") + HELPERS + f'''
# %% 2. Untreated patients (no B-ALL treatment line recorded), the first LISTED by id
UNTREATED = """
    SELECT patient_id FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
      AND NOT treated"""
LISTED_IDS = UNTREATED + f" ORDER BY patient_id LIMIT {{LISTED}}"
n_untreated = con.execute(f"SELECT count(*) FROM ({{UNTREATED}})").fetchone()[0]
print(f"Untreated patients ({{n_untreated}})")
if n_untreated > LISTED:
    print(f"The first {{LISTED}} of {{n_untreated:,}} untreated patients are listed; the CSV download has all of them.")
patients = con.execute(f"""
    SELECT patient_id, age_at_ball_dx, vital_status, death_day, death_cause, last_contact_day,
           status_at_last_contact, len_stop_day
    FROM patient_summary WHERE patient_id IN ({{LISTED_IDS}}) ORDER BY patient_id""").df()
notes = con.execute(f"""
    SELECT patient_id, string_agg(note, '; ' ORDER BY day) AS notes FROM events
    WHERE note IS NOT NULL AND patient_id IN ({{LISTED_IDS}}) GROUP BY patient_id""").df()
measurements = con.execute(f"""
    SELECT patient_id, analyte, specimen, day, value, below_detection, lower_limit_of_detection, unit
    FROM measurements WHERE patient_id IN ({{LISTED_IDS}})
    ORDER BY patient_id, analyte, specimen, day""").df()

# %% 3. Why, where recorded: lenalidomide stop, serial measurements (d = day from B-ALL diagnosis),
# notes, death or last contact
def measured(m):
    if m.below_detection:
        return f"<{{m.lower_limit_of_detection:g}}{{m.unit}} (d{{int(m.day)}})"
    return f"{{m.value:g}}{{m.unit}} (d{{int(m.day)}})"


notes_by = dict(zip(notes["patient_id"], notes["notes"]))
whys = []
for p in patients.itertuples():
    parts = []
    if pd.notna(p.len_stop_day):
        parts.append(f"lenalidomide stopped on day {{int(p.len_stop_day)}}")
    own = measurements[measurements["patient_id"] == p.patient_id]
    for (analyte, specimen), series in own.groupby(["analyte", "specimen"], sort=False):
        name = analyte.replace("_pct", "").replace("_", " ")
        parts.append(f"{{name}} ({{specimen}}): " + " → ".join(measured(m) for m in series.itertuples()))
    if p.patient_id in notes_by:
        parts.append(str(notes_by[p.patient_id]))
    if pd.notna(p.death_cause):
        parts.append(f"died on day {{int(p.death_day)}}: {{p.death_cause}}")
    elif p.vital_status == "alive" and pd.notna(p.last_contact_day):
        parts.append(f"alive at day {{int(p.last_contact_day)}}: {{p.status_at_last_contact}}")
    elif p.vital_status == "alive":
        parts.append("alive, day of last contact not recorded")
    whys.append("; ".join(parts) if parts else "no reason recorded")
print_table(patients.assign(why=whys)[["patient_id", "age_at_ball_dx", "vital_status", "why"]])
'''


# --- swimmer plot -------------------------------------------------------------------------------------
def _swimmer_order_sql(sort: str) -> str:
    """The SQL ORDER BY of a swimmer sort (the patient id last: the default order of every page)."""
    rank = ("CASE best_response " + " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(response.RESPONSES))
            + f" ELSE {len(response.RESPONSES)} END")
    return {"default": "patient_id",
            "duration": "-coalesce(os_days, 0), patient_id",
            "response": f"{rank}, -coalesce(os_days, 0), patient_id",
            "regimen": "lower(coalesce(first_line_regimen_category, '~ no B-ALL therapy')), -coalesce(os_days, 0), "
                       "patient_id"}[sort]


@register("response.swimmer")
def swimmer_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                   provenance: Provenance) -> str:
    from_treatment = spec.swimmer_origin == "treatment"
    origin_text = swimmer.ORIGINS[spec.swimmer_origin]
    return preamble(f"Response: swimmer plot ({swimmer.SORTS[spec.sort].lower()}, from {origin_text})", provenance,
                    script_imports(rates=False), f"""
DAYS_PER_MONTH = {DAYS_PER_MONTH}
DRAWN_MAX = {swimmer.PATIENTS_DRAWN_MAX}  # bars drawn: the first N of the sort order
FROM_TREATMENT = {from_treatment}  # option "Bars start at": {origin_text}
PHASE_COLORS = {swimmer.PHASE_COLORS!r}
MARKERS = {swimmer.MARKERS!r}
""") + PRINT_TABLE + f'''
# %% 2. The patients drawn: the first DRAWN_MAX in the chosen order
# Order (option "Sort patients by"): {swimmer.SORTS[spec.sort]}; ties by patient id.
SELECTED = """
    SELECT * FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
"""
n_total = con.execute(f"SELECT count(*) FROM ({{SELECTED}})").fetchone()[0]
capped = n_total > DRAWN_MAX
if capped:
    print(f"The first {{DRAWN_MAX}} of {{n_total:,}} patients in the chosen order are drawn; every count and test "
          "uses all of them.")
# From first treatment, never-treated patients have no time zero and are not drawn.
order = con.execute(f"""
    SELECT patient_id FROM ({{SELECTED}})
    WHERE {{"first_treatment_day IS NOT NULL" if FROM_TREATMENT else "TRUE"}}
    ORDER BY {_swimmer_order_sql(spec.sort)}
    LIMIT {{DRAWN_MAX}}""").df()["patient_id"].tolist()
never = con.execute(f"SELECT patient_id FROM ({{SELECTED}}) WHERE first_treatment_day IS NULL "
                    "ORDER BY patient_id").df()["patient_id"].tolist() if FROM_TREATMENT else []
subtitle = "Open circle below the bar: MRD-negative CR/CRi. Hover for details."
if capped:
    subtitle += f" First {{len(order):,}} of {{n_total - len(never):,}} patients in this sort order."
if never:  # a long list is counted, not spelled out, when only the first bars are drawn
    subtitle += " Not shown (never treated): " + (f"{{len(never):,}} patients" if capped and len(never) > 20
                                                   else ", ".join(never)) + "."
print(subtitle)

ids = ", ".join("'" + p.replace("'", "''") + "'" for p in order) or "NULL"  # the drawn patients
patients = con.execute(f"""
    SELECT patient_id, first_treatment_day, first_cr_day, hct_day, relapse_day, death_day, death_cause,
           last_contact_day, os_days, status_at_last_contact
    FROM patient_summary WHERE patient_id IN ({{ids}})""").df().set_index("patient_id").loc[order]
lines = con.execute(f"""SELECT patient_id, line, day, end_day FROM events
    WHERE event_type = 'treatment_line' AND patient_id IN ({{ids}}) ORDER BY patient_id, line, day""").df()
assessments = con.execute(f"""SELECT patient_id, line, day, response, mrd_status, mrd_method FROM events
    WHERE event_type = 'response_assessment' AND patient_id IN ({{ids}}) ORDER BY patient_id, day""").df()
transplants = con.execute(f"""SELECT patient_id, day, regimen, note FROM events
    WHERE event_type = 'hct' AND patient_id IN ({{ids}}) ORDER BY patient_id, day""").df()


# %% 3. Each patient's lane: phases from day 0 (diagnosis) to death or last contact, and events
# Phase at day t, first rule that holds: relapse / later lines (on or after the first relapse, or
# in a line >= 2); after HCT; induction (first line, before its first response assessment);
# consolidation / maintenance (first line, from that assessment to the line's end; a line without
# an end runs to the end of follow-up); observation (anything else).
def phase_at(t, p, own_lines, end, induction_end):
    if pd.notna(p.relapse_day) and t >= p.relapse_day:
        return "relapse / later lines"
    if pd.notna(p.hct_day) and t >= p.hct_day:
        return "after HCT"
    for line in own_lines.itertuples():
        stop = end if pd.isna(line.end_day) else line.end_day
        if line.day <= t < stop or line.day == t == stop:
            if line.line >= 2:
                return "relapse / later lines"
            return "consolidation / maintenance" if induction_end is not None and t >= induction_end else "induction"
    return "observation"


lanes, events = [], []
for p in patients.itertuples():
    end = max(float(p.os_days) if pd.notna(p.os_days) else 0.0, 1.0)
    own_lines = lines[lines["patient_id"] == p.Index]
    own_assessments = assessments[assessments["patient_id"] == p.Index]
    induction_end = None
    if len(own_lines):
        first = own_lines[own_lines["line"] == own_lines["line"].min()]
        after = own_assessments[(own_assessments["line"] == first["line"].iloc[0])
                                & (own_assessments["day"] >= first["day"].min())]
        induction_end = float(after["day"].min()) if len(after) else None
    cuts = {{0.0, end, *[float(x) for x in (p.hct_day, p.relapse_day) if pd.notna(x)]}}
    cuts |= {{float(x) for x in pd.concat([own_lines["day"], own_lines["end_day"]]) if pd.notna(x)}}
    if induction_end is not None:
        cuts.add(induction_end)
    cuts = sorted(c for c in cuts if 0 <= c <= end)
    for start, stop in zip(cuts[:-1], cuts[1:]):  # consecutive pieces of one phase are one segment
        phase = phase_at(start, p, own_lines, end, induction_end)
        if lanes and lanes[-1]["Patient"] == p.Index and lanes[-1]["Phase"] == phase:
            lanes[-1]["to"] = stop
        else:
            lanes.append({{"Patient": p.Index, "Phase": phase, "from": start, "to": stop}})

    def event(kind, day, detail):
        events.append({{"Patient": p.Index, "Event": kind, "day": float(day), "Detail": detail}})

    if pd.notna(p.first_cr_day):
        reached = own_assessments.loc[own_assessments["day"] == p.first_cr_day, "response"]
        event("CR/CRi", p.first_cr_day, f"first {{reached.iloc[0] if len(reached) else 'CR/CRi'}}")
    negative = own_assessments[(own_assessments["mrd_status"] == "negative")
                               & own_assessments["response"].isin(["CR", "CRi"])]
    if len(negative):
        event("MRD-negative", negative["day"].min(), f"MRD-negative ({{negative['mrd_method'].iloc[0]}})")
    own_hct = transplants[transplants["patient_id"] == p.Index]
    if len(own_hct):
        h = own_hct.iloc[0]
        event("allogeneic HCT", h["day"], "; ".join(str(x) for x in (h["regimen"], h["note"]) if pd.notna(x)))
    if pd.notna(p.relapse_day):
        event("relapse", p.relapse_day, "first relapse")
    if pd.notna(p.death_day):
        event("death", p.death_day, f"cause: {{p.death_cause}}" if pd.notna(p.death_cause) else "cause not recorded")
    elif pd.notna(p.last_contact_day):
        event("alive at last contact", p.last_contact_day, str(p.status_at_last_contact))
lanes = pd.DataFrame(lanes, columns=["Patient", "Phase", "from", "to"]).astype({{"from": float, "to": float}})
events = pd.DataFrame(events, columns=["Patient", "Event", "day", "Detail"]).astype({{"day": float}})
if FROM_TREATMENT:  # time zero at each patient's first treatment (time before it is negative)
    zero = patients["first_treatment_day"].astype(float)
    lanes["from"] -= lanes["Patient"].map(zero)
    lanes["to"] -= lanes["Patient"].map(zero)
    events["day"] -= events["Patient"].map(zero)
lanes["From day"] = lanes["from"].round().astype(int)
lanes["To day"] = lanes["to"].round().astype(int)
events["Day"] = events["day"].round().astype(int)
print_table(lanes[["Patient", "Phase", "From day", "To day"]])
print_table(events[["Patient", "Event", "Day", "Detail"]])

# %% 4. The figure: one bar per patient, coloured by phase, with event markers (Altair), as PNG
lanes["start_months"], lanes["end_months"] = lanes["from"] / DAYS_PER_MONTH, lanes["to"] / DAYS_PER_MONTH
events["months"] = events["day"] / DAYS_PER_MONTH
y = alt.Y("Patient:N", sort=order, title=None, scale=alt.Scale(paddingInner=0.3))
bars = alt.Chart(lanes).mark_bar(cornerRadius=2).encode(
    x=alt.X("start_months:Q", title="Months from {origin_text}"), x2="end_months:Q", y=y,
    color=alt.Color("Phase:N", scale=alt.Scale(domain=list(PHASE_COLORS), range=list(PHASE_COLORS.values()))))
shape = alt.Shape("Event:N", scale=alt.Scale(domain=list(MARKERS), range=list(MARKERS.values())))
marks = alt.Chart(events[events["Event"] != "MRD-negative"]).mark_point(
    filled=True, size=150, fill="#000000", stroke="#FFFFFF", opacity=1).encode(x="months:Q", y=y, shape=shape)
mrd = alt.Chart(events[events["Event"] == "MRD-negative"]).mark_point(
    filled=True, size=90, fill="#FFFFFF", stroke="#000000", opacity=1, yOffset=9).encode(x="months:Q", y=y, shape=shape)
chart = (bars + marks + mrd).properties(
    width=640, height=max(140, 30 * len(order)),
    title=alt.Title("Swimmer plot: {origin_text} to death or last contact", subtitle=subtitle))
chart.save("swimmer_{spec.swimmer_origin}.png")
print("Figure: swimmer_{spec.swimmer_origin}.png")
'''


# --- treatment flow -----------------------------------------------------------------------------------
@register("response.flow")
def flow_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ResponseSpec,
                provenance: Provenance) -> str:
    no_category, no_therapy = "category not recorded", flow.NOT_TREATED
    hct, no_hct = flow.HCT_LABELS
    return preamble("Response: treatment flow", provenance, script_imports(rates=False), f"""
STAGES = {flow.STAGES!r}
IDS_LISTED = {flow.IDS_LISTED}  # patient ids spelled out per path; more read "... and N more"
NO_THERAPY = {no_therapy!r}
STAGE_ORDERS = {{  # category order on the figure (first-line regimens: most frequent first)
    "response": {[*response.RESPONSES, response.NO_ASSESSMENT, "not treated"]!r},
    "hct": {list(flow.HCT_LABELS)!r},
    "status": {list(response.STATUS_ORDER)!r}}}
""") + PRINT_TABLE + f'''
# %% 2. Each patient's path: first-line regimen -> best response -> allogeneic HCT -> status
paths = con.execute("""
    SELECT patient_id,
           CASE WHEN coalesce(treated, FALSE) THEN coalesce(first_line_regimen_category, '{no_category}')
                ELSE '{no_therapy}' END AS regimen,
           CASE WHEN coalesce(treated, FALSE) THEN coalesce(best_response, '{response.NO_ASSESSMENT}')
                ELSE 'not treated' END AS response,
           CASE WHEN coalesce(hct, FALSE) THEN '{hct}' ELSE '{no_hct}' END AS hct,
           coalesce({_status_case()}, 'unknown') AS status
    FROM patient_summary
    WHERE {cohort_where(cohort_filter)}
""").df()


# %% 3. Patients per path (the table behind the chart): most patients first
def listed(ids):
    ids = sorted(ids)
    more = len(ids) - IDS_LISTED
    return ", ".join(ids[:IDS_LISTED]) + (f", ... and {{more:,}} more" if more > 0 else "")


counts = (paths.groupby(list(STAGES))["patient_id"]
          .agg(patients="size", first="min", ids=listed).reset_index()
          .sort_values(["patients", "regimen", "first"], ascending=[False, True, True]))
print_table(counts[[*STAGES, "patients", "ids"]].rename(columns=STAGES))

# %% 4. The figure: an alluvial chart (Altair): a box per stage and category, a band per
# first-line regimen between consecutive stages (straight bands; the page draws them curved)
regimens = paths.loc[paths["regimen"] != NO_THERAPY, "regimen"].value_counts()
STAGE_ORDERS["regimen"] = sorted(regimens.index, key=lambda r: (-regimens[r], r)) + [NO_THERAPY]
UNIT = max(1.0, len(paths) / 32)  # patients per drawn unit: a large cohort keeps the figure's size
nodes, top, rank = [], {{}}, {{}}
for x, stage in enumerate(STAGES):
    present = list(paths[stage].unique())
    order = [c for c in STAGE_ORDERS[stage] if c in present] + [c for c in present if c not in STAGE_ORDERS[stage]]
    y = 0.0
    for i, category in enumerate(order):
        n = int((paths[stage] == category).sum())
        nodes.append({{"x": x, "x2": x + 0.6, "xm": x + 0.3, "y": y, "y2": y + n, "ym": y + n / 2,
                      "side": "left" if x == 0 else "right" if x == len(STAGES) - 1 else "in",
                      "label": f"{{category}} · {{n}}"}})
        top[(stage, category)], rank[(stage, category)] = y, i
        y += n + 1.2 * UNIT
bands, offset_out, offset_in = [], dict(top), dict(top)
stages = list(STAGES)
for i, (a, b) in enumerate(zip(stages[:-1], stages[1:])):
    keys = list(dict.fromkeys(["regimen", a, b]))
    links = [(dict(zip(keys, key)), len(part)) for key, part in paths.groupby(keys)]
    ranks = {{id(v): (rank[(a, v[a])], rank[(b, v[b])], rank[("regimen", v["regimen"])]) for v, _ in links}}
    start, end = {{}}, {{}}
    # leave each source box in target order, enter each target box in source order (fewer crossings)
    for v, n in sorted(links, key=lambda link: ranks[id(link[0])]):
        start[id(v)] = offset_out[(a, v[a])]
        offset_out[(a, v[a])] += n
    for v, n in sorted(links, key=lambda link: (ranks[id(link[0])][1], ranks[id(link[0])][0], ranks[id(link[0])][2])):
        end[id(v)] = offset_in[(b, v[b])]
        offset_in[(b, v[b])] += n
    for v, n in links:
        link = f"{{i}}|{{v['regimen']}}|{{v[a]}}|{{v[b]}}"
        bands += [{{"link": link, "x": i + 0.6, "y": start[id(v)], "y2": start[id(v)] + n, "regimen": v["regimen"]}},
                  {{"link": link, "x": i + 1, "y": end[id(v)], "y2": end[id(v)] + n, "regimen": v["regimen"]}}]
nodes, bands = pd.DataFrame(nodes), pd.DataFrame(bands)
xscale = alt.Scale(domain=[-1.45, len(STAGES) - 1 + 0.6 + 1.55], nice=False, zero=False)
yscale = alt.Scale(reverse=True, nice=False, zero=False)
x, y = alt.X("x:Q", scale=xscale, axis=None), alt.Y("y:Q", scale=yscale, axis=None)
ym = alt.Y("ym:Q", scale=yscale, axis=None)
band = alt.Chart(bands).mark_area(opacity=0.55).encode(
    x=x, y=y, y2="y2:Q", detail="link:N",
    color=alt.Color("regimen:N", title="First-line regimen", sort=STAGE_ORDERS["regimen"],
                    legend=alt.Legend(orient="top", columns=3, labelLimit=400)))
box = alt.Chart(nodes).mark_rect(fill="#EBEBEB", stroke="#333333").encode(x=x, x2="x2:Q", y=y, y2="y2:Q")
labels = [  # first stage: left of the boxes; last: right of them; between: inside
    alt.Chart(nodes[nodes["side"] == "left"]).mark_text(align="right", dx=-6).encode(x=x, y=ym, text="label:N"),
    alt.Chart(nodes[nodes["side"] == "in"]).mark_text().encode(
        x=alt.X("xm:Q", scale=xscale, axis=None), y=ym, text="label:N"),
    alt.Chart(nodes[nodes["side"] == "right"]).mark_text(align="left", dx=6).encode(
        x=alt.X("x2:Q", scale=xscale, axis=None), y=ym, text="label:N")]
chart = alt.layer(band, box, *labels).properties(
    width=900, height=max(300, int(22 * (nodes["y2"].max() / UNIT + 3))),
    title=alt.Title("Treatment flow", subtitle=" → ".join(STAGES.values())))
chart.save("treatment_flow.png")
print("Figure: treatment_flow.png")
'''
