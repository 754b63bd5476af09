"""Script that reproduces the patient page's timeline: the patient's events as the page lists
them (lane, marker, days and months from B-ALL diagnosis) and the swim-lane figure (DuckDB,
pandas, Altair; no app code)."""
from __future__ import annotations

from analytics import patient
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, inline, preamble, register
from analytics.views.patient import PatientSpec, notice, resolve

SCRIPT = '''
# %% 2. The patient must be in the filtered cohort
if PATIENT_ID is None:
    print("No patient matches the cohort filters.")
    sys.exit()
in_cohort = con.execute(f"SELECT count(*) FROM patient_summary WHERE patient_id = ? AND {COHORT}",
                        [PATIENT_ID]).fetchone()[0]
if not in_cohort:
    sys.exit(f"Patient {PATIENT_ID} is not in this file's filtered cohort.")
print(TITLE)
if NOTICE:
    print(NOTICE)

# %% 3. The patient's events (days relative to B-ALL diagnosis, day 0), one drawable row each:
# lane, bar or point, start and end day, category (colour), label and detail
events = con.execute("SELECT * FROM events WHERE patient_id = ? ORDER BY day, event_id", [PATIENT_ID]).df()


def value(event, name):
    """A field of the event; None when not recorded (NULL)."""
    x = getattr(event, name)
    return None if x is None or pd.isna(x) else x


def response_marker(response, mrd):
    if response in ("CR", "CRi"):
        return {"negative": "CR/CRi, MRD-negative", "positive": "CR/CRi, MRD-positive"}.get(
            mrd, "CR/CRi, MRD not evaluated")
    return {"PR": "PR", "refractory": "Refractory"}.get(response, "Response not evaluable")


rows = []
for e in events.itertuples(index=False):
    end, line, regimen = value(e, "end_day"), value(e, "line"), value(e, "regimen")
    if e.event_type == "lenalidomide_course":  # a course without an end is drawn as one day
        rows.append(dict(lane="Lenalidomide", kind="bar", start=e.day, end=e.day if end is None else end,
                         category="Lenalidomide", label="", detail=regimen or "lenalidomide"))
    elif e.event_type == "treatment_line":
        rows.append(dict(lane="B-ALL treatment", kind="bar", start=e.day, end=e.day if end is None else end,
                         category=value(e, "regimen_category") or "other",
                         label=f"L{int(line)} {regimen or ''}".strip() if line else (regimen or ""),
                         detail=f"line {line and int(line)}: {regimen} ({value(e, 'regimen_category')})"))
    elif e.event_type == "response_assessment":
        response, mrd, sensitivity = value(e, "response"), value(e, "mrd_status"), value(e, "mrd_sensitivity")
        mrd_text = "MRD not evaluated" if mrd is None else (
            f"MRD {mrd} ({value(e, 'mrd_method')}" + (f", sensitivity {sensitivity:g}" if sensitivity else "") + ")")
        short = {"negative": " MRD−", "positive": " MRD+"}.get(mrd, "") if response in ("CR", "CRi") else ""
        rows.append(dict(lane="Response", kind="point", start=e.day, end=e.day,
                         category=response_marker(response, mrd), label=f"{response or 'n.e.'}{short}",
                         detail=f"line {int(line) if line else '?'}: {response}; {mrd_text}"))
    elif e.event_type == "hct":
        rows.append(dict(lane="HCT / relapse", kind="point", start=e.day, end=e.day, category="Allogeneic HCT",
                         label="HCT", detail="; ".join(x for x in (regimen, value(e, "note")) if x)
                         or "allogeneic HCT"))
    elif e.event_type == "relapse":
        rows.append(dict(lane="HCT / relapse", kind="point", start=e.day, end=e.day, category="Relapse",
                         label="Relapse", detail=value(e, "note") or "B-ALL relapse"))
    elif e.event_type == "death":
        rows.append(dict(lane="Outcome", kind="point", start=e.day, end=e.day, category="Death",
                         label="Death", detail=f"death: {value(e, 'cause') or 'cause not recorded'}"))
    elif e.event_type == "last_contact":
        status = value(e, "disease_status")
        category = {"no evidence of B-ALL": "Alive, no evidence of B-ALL",
                    "B-ALL present": "Alive, B-ALL present"}.get(status, "Alive, disease status unknown")
        rows.append(dict(lane="Outcome", kind="point", start=e.day, end=e.day, category=category,
                         label="Last contact", detail=f"last contact: {status or 'disease status unknown'}"))
timeline = pd.DataFrame(rows, columns=["lane", "kind", "start", "end", "category", "label", "detail"])
if (timeline["category"] == "Death").any():  # dead: a last-contact marker before it would only repeat it
    last_death = timeline.loc[timeline["category"] == "Death", "start"].max()
    timeline = timeline[~(timeline["category"].str.startswith("Alive") & (timeline["start"] <= last_death))]
timeline = timeline.astype({"start": int, "end": int})
timeline["start_months"] = (timeline["start"] / DAYS_PER_MONTH).round(1)
timeline["end_months"] = (timeline["end"] / DAYS_PER_MONTH).round(1)
timeline = timeline.reset_index(drop=True)
print("\\t".join(timeline.columns))
for row in timeline.itertuples(index=False):
    print("\\t".join(str(cell) for cell in row))

# %% 4. The figure: bars for lenalidomide courses and treatment lines, markers for the rest,
# a dashed line at diagnosis (Altair), saved beside the script as PNG
if timeline.empty:
    print("No events recorded for this patient.")
    sys.exit()
drawn = timeline if FIRST_DAY is None else timeline[timeline["end"] >= FIRST_DAY].copy()
low = min(0, int(drawn["start"].min()))
if FIRST_DAY is not None:
    low = max(low, FIRST_DAY)  # earlier lenalidomide is cut at the edge
high = max(0, int(drawn["end"].max()))
pad = max(30, int(0.04 * (high - low)))
x_scale = alt.Scale(domain=[low - pad, high + pad], nice=False)
lanes = alt.Y("lane:N", sort=LANES, scale=alt.Scale(domain=LANES), title=None)
tooltip = ["detail:N", "start:Q", "end:Q", "start_months:Q", "end_months:Q"]
bars = drawn[drawn["kind"] == "bar"].copy()
bars["start_drawn"] = bars["start"].clip(lower=low - pad)
bars["end_drawn"] = np.maximum(bars["end"], bars["start_drawn"] + (high - low + 2 * pad) / 250)  # one-day lines stay visible
bar_categories = [c for c in BAR_COLORS if c in set(bars["category"])]
points = drawn[drawn["kind"] == "point"]
point_categories = [c for c in MARKERS if c in set(points["category"])]
layers = [
    alt.Chart(bars).mark_bar(height=22, cornerRadius=3).encode(
        x=alt.X("start_drawn:Q", scale=x_scale, title="Days from B-ALL diagnosis (day 0)"), x2="end_drawn:Q",
        y=lanes, tooltip=tooltip,
        color=alt.Color("category:N", title="Therapy", legend=alt.Legend(orient="bottom"), scale=alt.Scale(
            domain=bar_categories, range=[BAR_COLORS[c] for c in bar_categories]))),
    alt.Chart(bars[bars["label"] != ""]).mark_text(align="left", dy=-14).encode(
        x=alt.X("start_drawn:Q", scale=x_scale), y=lanes, text="label:N"),
    alt.Chart(points).mark_point(size=260, filled=True, opacity=1).encode(
        x=alt.X("start:Q", scale=x_scale), y=lanes, tooltip=tooltip,
        color=alt.Color("category:N", title="Events", legend=alt.Legend(orient="bottom"), scale=alt.Scale(
            domain=point_categories, range=[MARKERS[c][0] for c in point_categories])),
        shape=alt.Shape("category:N", title="Events", scale=alt.Scale(
            domain=point_categories, range=[MARKERS[c][1] for c in point_categories]))),
    alt.Chart(points).mark_text(dy=-16).encode(x=alt.X("start:Q", scale=x_scale), y=lanes, text="label:N"),
    alt.Chart(pd.DataFrame({"start": [0]})).mark_rule(strokeDash=[5, 3], size=2, color="firebrick").encode(
        x=alt.X("start:Q", scale=x_scale)),
]
chart = alt.layer(*layers).resolve_scale(color="independent", shape="independent").properties(
    width=720, height=380, title=TITLE)
chart.save(f"timeline_{PATIENT_ID}.png")
print(f"Figure: timeline_{PATIENT_ID}.png")
'''


def _patient_comment(resolution, requested: str) -> str:
    if resolution.status == "default":
        return "the first patient of the filtered cohort (the link names none)"
    if resolution.status == "in cohort":
        return "the patient of the link"
    return f"the link's patient {requested} is {resolution.status}: the first patient of the filtered cohort"


@register("patient.timeline")
def timeline_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: PatientSpec,
                    provenance: Provenance) -> str:
    spec = spec.validated()
    resolution = resolve(db, cohort_filter, spec)
    pid = resolution.patient_id
    text = notice(resolution, cohort_filter)
    title = f"Patient {pid}: timeline ({spec.window})"
    constants = f"""# Cohort filters: {cohort_filter.describe()}
COHORT = {inline(*cohort_filter.where_sql())!r}
PATIENT_ID = {pid!r}  # {_patient_comment(resolution, spec.patient)}
TITLE = {title!r}
NOTICE = {(f"{text} Patient {pid} is shown instead." if text else "")!r}
FIRST_DAY = {patient.WINDOWS[spec.window]!r}  # time axis "{spec.window}": first day shown (None = whole history)
DAYS_PER_MONTH = 30.4375
LANES = {patient.LANES!r}
BAR_COLORS = {patient.BAR_COLORS!r}
MARKERS = {patient.MARKERS!r}  # category: (colour, shape)"""
    return preamble(f"Patient {pid}: timeline", provenance,
                    ["import sys", "import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd"],
                    constants) + SCRIPT
