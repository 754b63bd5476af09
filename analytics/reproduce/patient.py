"""Script that reproduces the patient page's timeline: the patient's events as the page lists
them (lane, marker, days and months from B-ALL diagnosis) and the swim-lane figure (DuckDB,
pandas, Altair; no app code)."""
from __future__ import annotations

from analytics import consistency, patient, survival
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.reproduce import Provenance, comment, inline, preamble, register
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

# %% 4. Key facts: the patient's row of patient_summary (endpoints derived from the events),
# as the page words them; NULL reads "not evaluated", never negative
r = con.execute(f"SELECT * FROM patient_summary WHERE patient_id = ? AND {COHORT}", [PATIENT_ID]).df().iloc[0]


def missing(x):
    return x is None or pd.isna(x)


def or_not_evaluated(x, fmt=str):
    return "not evaluated" if missing(x) else fmt(x)


def months(days):
    return "not recorded" if missing(days) else f"{float(days) / DAYS_PER_MONTH:.1f} months"


def day(days):
    return "day not recorded" if missing(days) else f"day {int(days):+d}" if int(days) else "day 0"


def exposure_text():
    """Cumulative exposure as derived from the courses; a value stored beside the courses is shown
    when it disagrees by more than a day per course (first and last day both counted)."""
    text = or_not_evaluated(r["len_cumulative_days"], months)
    courses = con.execute("SELECT count(*) FROM events WHERE patient_id = ? AND event_type = 'lenalidomide_course'",
                          [PATIENT_ID]).fetchone()[0]
    if not courses or missing(r["len_cumulative_days"]):
        return text
    reported = con.execute("SELECT len_cumulative_days FROM patients WHERE patient_id = ?",
                           [PATIENT_ID]).fetchone()[0]
    if reported is None:
        return text + " (from the lenalidomide courses)"
    if abs(float(reported) - float(r["len_cumulative_days"])) <= EXPOSURE_SLACK_DAYS_PER_COURSE * courses:
        return text
    return (f"{text} from the lenalidomide courses; the source states {int(reported)} days "
            f"({months(reported)}), which disagrees")


yes_no = {True: "yes", False: "no"}
immuno = " ".join(f"{m.upper()}{'+' if r[m] == 'positive' else '−'}" if not missing(r[m]) else f"{m.upper()} n.e."
                  for m in ("cd10", "cd19", "cd20", "cd22"))
tp53 = or_not_evaluated(r["tp53_status"]) + (
    " (not sequenced)" if missing(r["sequencing_assay"]) else f" ({r['sequencing_assay']})")
facts = [
    ("Patient", "Institution", r["institution"]),
    ("Patient", "Sex", or_not_evaluated(r["sex"], lambda v: {"F": "female", "M": "male"}.get(v, v))),
    ("Patient", "Age at B-ALL diagnosis", or_not_evaluated(r["age_at_ball_dx"], lambda v: f"{int(v)} years")),
    ("Patient", "Age at myeloma diagnosis", or_not_evaluated(r["age_at_myeloma_dx"], lambda v: f"{int(v)} years")),
    ("Patient", "Autologous HCT for myeloma", or_not_evaluated(r["myeloma_auto_hct"], lambda v: yes_no[bool(v)])),
    ("Lenalidomide", "Latency from first exposure", or_not_evaluated(r["latency_days"], months)),
    ("Lenalidomide", "Cumulative exposure", exposure_text()),
    ("Lenalidomide", "Myeloma lines with lenalidomide", or_not_evaluated(r["myeloma_lines_with_len"], lambda v: str(int(v)))),
    ("Lenalidomide", "Last stopped", or_not_evaluated(r["len_stop_day"], day)),
    ("B-ALL at diagnosis", "WBC", or_not_evaluated(r["wbc_k_per_ul"], lambda v: f"{v:g} ×10³/µL")),
    ("B-ALL at diagnosis", "Marrow blasts", or_not_evaluated(r["marrow_blast_pct"], lambda v: f"{v:g}%")),
    ("B-ALL at diagnosis", "Immunophenotype", immuno),
    ("B-ALL at diagnosis", "CNS status", or_not_evaluated(r["cns_status"])),
    ("B-ALL at diagnosis", "BCR::ABL1", or_not_evaluated(r["bcr_abl1"])),
    ("B-ALL at diagnosis", "Karyotype", or_not_evaluated(r["karyotype_iscn"])),
    ("B-ALL at diagnosis", "Ploidy", or_not_evaluated(r["ploidy_category"]) + (
        "" if missing(r["modal_chromosome_number"]) else f" (modal number {int(r['modal_chromosome_number'])})")),
    ("B-ALL at diagnosis", "TP53", tp53),
]
treated = bool(r["treated"])
# the event that ended event-free survival: the first EFS event on the EFS event day (None = censored)
efs_kind = None if missing(r["efs_event_day"]) else next(
    (label for column, label in EFS_EVENTS if not missing(r[column]) and r[column] == r["efs_event_day"]), "event")
if missing(r["os_days"]):  # no follow-up recorded: not evaluable, never zero
    os_text = efs_text = "not evaluated (no last contact or death recorded)"
else:
    cause = "cause not recorded" if missing(r["death_cause"]) else r["death_cause"]
    os_text = months(r["os_days"]) + (f", died ({cause})" if bool(r["os_event"])
                                      else ", alive (censored at last contact)")
    efs_text = months(r["efs_days"]) + (f", event: {efs_kind} ({day(r['efs_event_day'])})" if efs_kind
                                        else ", censored at last contact")
facts += [
    ("Course", "First-line regimen", f"{r['first_line_regimen']} ({r['first_line_regimen_category']})"
     if treated else "untreated"),
    ("Course", "Best response", or_not_evaluated(r["best_response"]) if treated else "untreated"),
    ("Course", "First CR/CRi", "never" if missing(r["first_cr_day"]) else day(r["first_cr_day"])),
    ("Course", "Allogeneic HCT", day(r["hct_day"]) if bool(r["hct"]) else "no"),
    ("Course", "Relapse", "none recorded" if missing(r["relapse_day"]) else day(r["relapse_day"])),
    ("Endpoints", "Overall survival", os_text),
    ("Endpoints", "Event-free survival", efs_text),
    ("Endpoints", "Status at last contact", r["status_at_last_contact"] + (
        "" if missing(r["last_contact_day"]) else f" ({day(r['last_contact_day'])})")),
]
print("\\t".join(["section", "fact", "value"]))
for fact in facts:
    print("\\t".join(str(x) for x in fact))

# %% 5. The figure: bars for lenalidomide courses and treatment lines, markers for the rest,
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


def _lines(mapping: dict) -> str:
    """A dict literal with one item per line."""
    return "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in mapping.items()) + "}"


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
    constants = f"""# Cohort filters: {comment(cohort_filter.describe())}
COHORT = {inline(*cohort_filter.where_sql())!r}
PATIENT_ID = {pid!r}  # {_patient_comment(resolution, spec.patient)}
TITLE = {title!r}
NOTICE = {(f"{text} Patient {pid} is shown instead." if text else "")!r}
FIRST_DAY = {patient.WINDOWS[spec.window]!r}  # time axis "{spec.window}": first day shown (None = whole history)
DAYS_PER_MONTH = 30.4375
LANES = {patient.LANES!r}
BAR_COLORS = {_lines(patient.BAR_COLORS)}
MARKERS = {_lines(patient.MARKERS)}  # category: (colour, shape)
# Event-free survival's events (the survival page's definition): (patient_summary column, label)
EFS_EVENTS = {[(column, survival.EFS_EVENT_LABELS[event]) for event, column in survival.EFS_EVENT_COLUMNS.items()]!r}
EXPOSURE_SLACK_DAYS_PER_COURSE = {consistency.EXPOSURE_SLACK_DAYS_PER_COURSE!r}"""
    return preamble(f"Patient {pid}: timeline", provenance,
                    ["import sys", "import altair as alt", "import duckdb", "import numpy as np", "import pandas as pd"],
                    constants) + SCRIPT
