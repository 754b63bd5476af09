"""Lab-meeting deck (.pptx, python-pptx) and a self-contained HTML report of the same.

Slides: a title slide, the cohort summary (Table 1, key rows), then the current figure of each
page, with its caption and a provenance footer (cohort, n, filters, data SHA-256, date). Each
page's figure is rebuilt here from that page's own URL parameters (`views`), so the deck shows
what the researcher last looked at on each page; pages never visited use their defaults.
Figures are rendered through analytics.figure_export (the same footer as every download), with
the theme's presentation variant (larger text for projection).

Example
-------
>>> from analytics.filters import CohortFilter
>>> from analytics.build import build_in_memory
>>> import io, pptx
>>> db = build_in_memory("data/demo_cohort")
>>> figures = page_figures(db, CohortFilter(), (("response", (("resp_sort", "duration"),)),),
...                        pages=("response",))
>>> [f.page for f in figures]
['Response']
>>> deck = pptx.Presentation(io.BytesIO(build_pptx(db, CohortFilter(), figures, created="2026-01-01")))
>>> [len(deck.slides), deck.slides[2].shapes.title.text]
[3, 'Response: swimmer plot']
"""
from __future__ import annotations

import html
import io
import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Iterator

import altair as alt
import pandas as pd
from PIL import Image

from analytics import (cohort, disclosure, genomics, overview, patient, response, survival, survival_chart,
                       swimmer, withdrawal)
from analytics.db import CohortDatabase
from analytics.figure_export import Provenance, data_hash, export_figure
from analytics.filters import CohortFilter
from analytics import theme

PAGE_ORDER = ("overview", "patient", "genomics", "withdrawal", "response", "survival")
PATIENT_LEVEL_PAGES = {"patient"}  # left out of a public deployment's deck

Views = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # hashable: page -> URL parameters


@dataclass(frozen=True)
class DeckFigure:
    """One page's figure as it goes on a slide."""

    page: str
    title: str
    caption: str
    chart: alt.TopLevelMixin
    n_patients: int


def _choice(params: dict, key: str, options, default):
    value = params.get(key, default)
    return value if value in options else default


def _number(params: dict, key: str, default: float, low: float, high: float) -> float:
    try:
        value = float(params.get(key, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high and math.isfinite(value) else default


def _overview(db, f, params) -> DeckFigure | None:
    values = overview.exposure_values(db, f)
    n = int(values["latency_months"].notna().sum())
    return DeckFigure("Overview", "Overview: latency from first lenalidomide to B-ALL",
                      "One dot per patient at the exact value; dashed line: median. Months = days / 30.4375.",
                      overview.dot_plot(values, "latency_months", width=700), n)


def _patient(db, f, params) -> DeckFigure | None:
    ids = cohort.patient_order(db, f)
    pid = _choice(params, "patient", ids, ids[0])
    window = _choice(params, "window", list(patient.WINDOWS), list(patient.WINDOWS)[0])
    events = patient.timeline_events(db, f, pid)
    if events.empty:
        return None
    chart = patient.timeline_chart(events, window=window).copy(deep=False)
    # The page's chart fits the container width (autosize), which Vega-Lite does not allow
    # inside the footer's vconcat; on a slide the chart's own width is what we want anyway.
    chart.autosize = alt.Undefined
    return DeckFigure("Patient", f"Patient {pid}: timeline ({window})",
                      "Bars: lenalidomide courses and B-ALL treatment lines; markers: response "
                      "assessments, HCT, relapse, death or last contact. Day 0 = B-ALL diagnosis.",
                      chart, 1)


def _genomics(db, f, params) -> DeckFigure | None:
    options = genomics.oncoprint_sort_options(db)
    sort = _choice(params, "onco_sort", options, options[0])
    return DeckFigure("Genomics", f"Genomics: oncoprint (sorted by {sort})",
                      "Columns are patients. Grey hatched = not evaluated (no test), never counted "
                      "as no alteration; near white = tested, no alteration.",
                      genomics.oncoprint_chart(db, f, sort, max_patients=genomics.ONCOPRINT_MAX_PATIENTS),
                      cohort.count_patients(db, f))


def _withdrawal(db, f, params) -> DeckFigure | None:
    analyte = _choice(params, "wd_analyte", list(withdrawal.ANALYTE_OPTIONS), withdrawal.LEUKEMIC)
    specimen = _choice(params, "wd_specimen", withdrawal.SPECIMENS, "marrow")
    axis = _choice(params, "wd_axis", list(withdrawal.TIME_AXES), "withdrawal")
    scale = _choice(params, "wd_scale", withdrawal.SCALES, "linear")
    facet = params.get("wd_layout") == "facet"
    default = withdrawal.RegressionRule()
    rule = withdrawal.RegressionRule(
        partial_reduction_pct=_number(params, "wd_partial", default.partial_reduction_pct, 1, 100),
        progression_rise_pct=_number(params, "wd_rise", default.progression_rise_pct, 1, 1000),
        baseline_window_days=int(_number(params, "wd_window", default.baseline_window_days, 0, 365)))
    ids, n_series = withdrawal.drawn_series(db, f, analyte, specimen, withdrawal.PATIENTS_DRAWN_MAX)
    if not ids:
        return None
    # the page's figure: the first PATIENTS_DRAWN_MAX patients with a series, only theirs read
    chart = withdrawal.trajectory_figure(db, f, analyte, specimen, rule, axis, scale, facet)
    return DeckFigure("Withdrawal", f"Withdrawal: {withdrawal.SHORT_LABELS[analyte]} after lenalidomide stop",
                      rule.describe() + " Solid: before B-ALL therapy; dashed: after therapy started.",
                      chart, n_series)


def _response(db, f, params) -> DeckFigure | None:
    sort = _choice(params, "resp_sort", list(swimmer.SORTS), "default")
    return DeckFigure("Response", "Response: swimmer plot",
                      f"Patients sorted by {swimmer.SORTS[sort].lower()}. Phases: induction, "
                      "consolidation/maintenance, after HCT, relapse/later lines, observation; "
                      "arrow = alive at last contact.",
                      swimmer.swimmer_chart(db, f, sort, max_patients=swimmer.PATIENTS_DRAWN_MAX),
                      cohort.count_patients(db, f))


def _suppressed_genomics(db, f, params, k: int) -> DeckFigure | None:
    freq = genomics.alteration_frequencies(db, f)
    if not (freq["evaluable"] > 0).any():
        return None
    return DeckFigure("Genomics", "Genomics: alteration frequencies among evaluable patients",
                      f"Exact 95% CIs; counts below {k} shown as <{k} (no point drawn). Not evaluated "
                      "is never counted as no alteration.",
                      genomics.frequency_chart(freq, small_cell_k=k), cohort.count_patients(db, f))


def _suppressed_response(db, f, params, k: int) -> DeckFigure | None:
    summary = response.best_response_summary(db, f)
    if not summary.n_treated_assessed:
        return None
    return DeckFigure("Response", "Response: best response among treated patients",
                      f"Exact 95% CIs; counts below {k} shown as <{k} (no bar drawn).",
                      response.best_response_chart(summary, small_cell_k=k), cohort.count_patients(db, f))


def _survival(db, f, params, k: int = 0) -> DeckFigure | None:
    efs = params.get("efs")
    efs_events = tuple(e for e in survival.ALL_EFS_EVENTS if e in (efs if isinstance(efs, (list, tuple)) else
                                                                  [efs] if efs else survival.ALL_EFS_EVENTS))
    group = params.get("group") or None
    if group not in survival.CATEGORICAL_GROUPS and group not in survival.CONTINUOUS_GROUPS:
        group = None
    cutoff = None
    if group in survival.CONTINUOUS_GROUPS:
        cutoff = _number(params, f"cutoff_{group}", survival.continuous_median(db, group), -1e9, 1e9)
    spec = survival.SurvivalSpec(
        endpoint=_choice(params, "endpoint", list(survival.ENDPOINTS), "EFS"),
        efs_events=efs_events or survival.ALL_EFS_EVENTS,
        origin=_choice(params, "origin", list(survival.ORIGINS), "diagnosis"),
        population=_choice(params, "population", list(survival.POPULATIONS), "all"),
        group=group, cutoff=cutoff).validate()
    counts = survival.km_counts(db, f, spec)
    if k > 1:  # small-cell suppression: groups of fewer than k patients are not drawn
        sizes = counts.groupby("group")[["n_event", "n_censored"]].sum().sum(axis=1)
        counts = counts[counts["group"].isin(sizes[sizes >= k].index)]
    if counts.empty:
        return None
    curves = survival.curves_from_counts(counts)
    summary = survival.summary_from_counts(counts)
    n = int(summary["n"].sum())
    chart = survival_chart.km_chart(
        curves, counts, title=spec.endpoint_label(), group_title=spec.group_label() if group else None,
        show_ci=params.get("ci", "yes") != "no",
        y_title=f"{spec.endpoint_label().split(' (')[0]} (%)",
        x_title=f"Months from {survival.ORIGINS[spec.origin]}", small_cell_k=k)
    n_text, events_text = (disclosure.suppress_count(x, k) for x in (n, int(summary["events"].sum())))
    return DeckFigure("Survival", f"Survival: {spec.endpoint_label()}" + (f" by {spec.group_label()}" if group else ""),
                      f"Kaplan-Meier with 95% CI (log(-log) Greenwood) and number at risk; "
                      f"{survival.POPULATIONS[spec.population]}, time from {survival.ORIGINS[spec.origin]}; "
                      f"n = {n_text}, {events_text} events.", chart, n)


BUILDERS = {"overview": _overview, "patient": _patient, "genomics": _genomics,
            "withdrawal": _withdrawal, "response": _response, "survival": _survival}
# Under small-cell suppression: aggregate figures that honour it; patient-level pages are left out.
SUPPRESSED_BUILDERS = {"genomics": _suppressed_genomics, "response": _suppressed_response,
                       "survival": _survival}


def page_figures(db: CohortDatabase, cohort_filter: CohortFilter, views: Views = (),
                 pages: tuple[str, ...] = PAGE_ORDER, small_cell_k: int = 0) -> list[DeckFigure]:
    """The current figure of each page in `pages`, from that page's URL parameters in `views`.

    Parameters that are unknown or invalid fall back to the page's defaults (a hand-edited
    link never raises). Pages with nothing to draw under the filters are left out. With
    `small_cell_k` > 1 only aggregate figures with small counts suppressed are built
    (SUPPRESSED_BUILDERS); patient-level figures are left out.
    """
    by_page = {page: dict(params) for page, params in views}
    if cohort.count_patients(db, cohort_filter) == 0:
        return []
    figures = []
    for page in pages:
        if small_cell_k > 1:
            if page not in SUPPRESSED_BUILDERS:
                continue
            figure = SUPPRESSED_BUILDERS[page](db, cohort_filter, by_page.get(page, {}), small_cell_k)
        else:
            figure = BUILDERS[page](db, cohort_filter, by_page.get(page, {}))
        if figure is not None:
            figures.append(figure)
    return figures


def summary_rows(db: CohortDatabase, cohort_filter: CohortFilter, small_cell_k: int = 0) -> pd.DataFrame:
    """Key rows of Table 1 for one slide: every continuous row and the first level of each
    categorical characteristic (n / evaluable), small cells suppressed when k is set."""
    t1 = disclosure.suppress_table_one(overview.table_one(db, cohort_filter), small_cell_k)
    keep = t1[(t1["kind"].isin(["count", "continuous"]))
              | ((t1["kind"] == "categorical") & (t1["characteristic"] != t1["characteristic"].shift()))]
    label = [c if kind in ("count", "continuous") else f"{c}: {lvl}"
             for c, lvl, kind in zip(keep["characteristic"], keep["level"], keep["kind"])]
    return pd.DataFrame({"Characteristic": label, "Value": keep["display"].astype(str)})


def _provenance(db: CohortDatabase, cohort_filter: CohortFilter, n: int, created: str) -> Provenance:
    return Provenance(db.label, db.synthetic, n, cohort_filter.describe(), created)


@contextmanager
def _projector_theme() -> Iterator[None]:
    before = theme.presenting()
    theme.use_presentation(True)
    try:
        yield
    finally:
        theme.use_presentation(before)


def _title(db: CohortDatabase, cohort_filter: CohortFilter) -> tuple[str, str]:
    kind = "Synthetic cohort, not patient data" if db.synthetic else "Cohort"
    return (f"{db.label}", f"{kind} · {cohort.count_patients(db, cohort_filter)} patients · "
                           f"filters: {cohort_filter.describe()}")


def build_pptx(db: CohortDatabase, cohort_filter: CohortFilter, figures: list[DeckFigure], *,
               small_cell_k: int = 0, created: str = "") -> bytes:
    """The deck as .pptx bytes (16:9): title, cohort summary, one slide per figure."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    created = created or date.today().isoformat()
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    title_text, subtitle = _title(db, cohort_filter)

    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = title_text
    slide.placeholders[1].text = f"{subtitle}\nLab meeting · {created}"

    def footer(slide, lines: list[str]) -> None:
        box = slide.shapes.add_textbox(Inches(0.4), Inches(6.85), Inches(12.5), Inches(0.6))
        frame = box.text_frame
        frame.word_wrap = True
        frame.text = " · ".join(lines)
        for paragraph in frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(11)

    def titled(text: str):
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        slide.shapes.title.text = text
        title = slide.shapes.title
        title.left, title.top, title.width, title.height = Inches(0.4), Inches(0.2), Inches(12.5), Inches(0.9)
        for paragraph in title.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(30)
        return slide

    summary = summary_rows(db, cohort_filter, small_cell_k)
    slide = titled("Cohort summary")
    half = math.ceil(len(summary) / 2)
    for column, part in enumerate((summary.iloc[:half], summary.iloc[half:])):
        if part.empty:
            continue
        shape = slide.shapes.add_table(len(part) + 1, 2, Inches(0.4 + column * 6.4), Inches(1.2),
                                       Inches(6.2), Inches(0.3 * (len(part) + 1)))
        table = shape.table
        table.columns[0].width, table.columns[1].width = Inches(4.0), Inches(2.2)
        for j, head in enumerate(summary.columns):
            table.cell(0, j).text = head
        for i, row in enumerate(part.itertuples(index=False), start=1):
            table.cell(i, 0).text, table.cell(i, 1).text = str(row[0]), str(row[1])
        for cell in (table.cell(i, j) for i in range(len(part) + 1) for j in range(2)):
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(13)
    note = "n / evaluable (%); not evaluated is never counted as negative."
    if small_cell_k > 1:
        note += f" Counts below {small_cell_k} shown as <{small_cell_k}."
    footer(slide, [note] + _provenance(db, cohort_filter, cohort.count_patients(db, cohort_filter),
                                       created).footer_lines(data_hash(alt.Chart(summary).mark_text()))[:1])

    with _projector_theme():
        for figure in figures:
            provenance = _provenance(db, cohort_filter, figure.n_patients, created)
            png = export_figure(theme.for_projector(figure.chart), provenance, "png")
            slide = titled(figure.title)
            width_px, height_px = Image.open(io.BytesIO(png)).size
            box_w, box_h = Inches(12.5), Inches(4.95)
            scale = min(box_w / width_px, box_h / height_px)
            w, h = int(width_px * scale), int(height_px * scale)
            slide.shapes.add_picture(io.BytesIO(png), Emu(int(Inches(0.4) + (box_w - w) / 2)), Inches(1.15),
                                     Emu(w), Emu(h))
            caption = slide.shapes.add_textbox(Inches(0.4), Inches(6.15), Inches(12.5), Inches(0.65))
            caption.text_frame.word_wrap = True
            caption.text_frame.text = figure.caption
            for run in caption.text_frame.paragraphs[0].runs:
                run.font.size = Pt(15)
            footer(slide, provenance.footer_lines(data_hash(figure.chart)))
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def build_html(db: CohortDatabase, cohort_filter: CohortFilter, figures: list[DeckFigure], *,
               small_cell_k: int = 0, created: str = "") -> str:
    """The same content as one self-contained HTML file: inline SVG figures (with their
    footers), no scripts, no external resources."""
    created = created or date.today().isoformat()
    title_text, subtitle = _title(db, cohort_filter)
    summary = summary_rows(db, cohort_filter, small_cell_k)
    rows = "\n".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                     for a, b in summary.itertuples(index=False))
    sections = []
    for figure in figures:
        provenance = _provenance(db, cohort_filter, figure.n_patients, created)
        svg = export_figure(figure.chart, provenance, "svg").decode("utf-8")
        svg = svg[svg.index("<svg"):]  # drop an XML prolog, if any, for inline use
        footer = "<br>".join(html.escape(line) for line in provenance.footer_lines(data_hash(figure.chart)))
        sections.append(f"""<section class="figure">
<h2>{html.escape(figure.title)}</h2>
<div class="svg">{svg}</div>
<p class="caption">{html.escape(figure.caption)}</p>
<p class="footer">{footer}</p>
</section>""")
    note = "n / evaluable (%); not evaluated is never counted as negative."
    if small_cell_k > 1:
        note += f" Counts below {small_cell_k} are shown as &lt;{small_cell_k}."
    banner = ('<p class="synthetic">Synthetic cohort: invented patients, not patient data.</p>'
              if db.synthetic else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title_text)}</title>
<style>
body {{ font-family: {theme.FONT}; margin: 2rem auto; max-width: 1100px; color: #111; line-height: 1.4; }}
h1 {{ font-weight: normal; margin-bottom: .2rem; }} h2 {{ font-weight: normal; border-top: 1px solid #ccc; padding-top: 1rem; }}
.synthetic {{ background: #E8F1F8; border-left: 4px solid {theme.PALETTE[0]}; padding: .5rem 1rem; }}
table {{ border-collapse: collapse; }} td {{ padding: .2rem 1rem .2rem 0; border-bottom: 1px solid #eee; }}
.svg svg {{ max-width: 100%; height: auto; }} .caption {{ font-size: 1.05rem; }} .footer {{ font-size: .85rem; color: #444; }}
</style></head><body>
<h1>{html.escape(title_text)}</h1>
<p>{html.escape(subtitle)} · report of {created}</p>
{banner}
<h2>Cohort summary</h2>
<table>{rows}</table>
<p class="footer">{note}</p>
{''.join(sections)}
</body></html>
"""
