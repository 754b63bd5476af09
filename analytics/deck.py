"""Lab-meeting deck (.pptx, python-pptx) and a self-contained HTML report of the same views.

Both render the `ViewResult`s the pages show (analytics.views): each page's spec is read from
that page's last link in the session (`views`), and the page's own `slides` function returns
its results; nothing is recomputed here. Slides: a title slide, the headline results, then
one slide per result: the figure rendered for the slide's own size (text at least 14 pt at
100% zoom), the caption as plain sentences, the view's caveats (a naive HCT comparison never
appears without its warning, and then with the landmark and time-dependent Cox results), and
one provenance footer.

Example
-------
>>> from analytics.filters import CohortFilter
>>> from analytics.build import build_in_memory
>>> import io, pptx
>>> db = build_in_memory("data/demo_cohort")
>>> results = page_results(db, CohortFilter(), (("survival", (("group", "hct"),)),), pages=("survival",))
>>> [r.key for r in results]
['survival.km', 'survival.simon_makuch', 'survival.landmark', 'survival.landmark_sensitivity', 'survival.time_dependent_hct']
>>> deck = pptx.Presentation(io.BytesIO(build_pptx(db, CohortFilter(), results, created="2026-01-01")))
>>> [len(deck.slides), deck.slides[2].shapes.title.text]
[7, 'Survival: Event-free survival by Allogeneic HCT (ever)']
"""
from __future__ import annotations

import html
import io
import json
import math
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from analytics import cohort, theme
from analytics.db import CohortDatabase
from analytics.disclosure import suppression_note
from analytics.figure_export import Provenance, data_hash, export_figure, spec_without_hover_hints
from analytics.filters import CohortFilter
from analytics.units import patients_text
from analytics.views.headline import headline
from analytics.views.registry import pages as registered_pages
from analytics.views.result import ViewResult
from analytics.views.spec import params_mapping

Views = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # hashable: page -> URL parameters

PAGE_ORDER = ("overview", "patient", "genomics", "withdrawal", "response", "survival", "compare")

# --- slide geometry (inches; 16:9) ---------------------------------------------------------------
SLIDE_W, SLIDE_H = 13.333, 7.5
MARGIN = 0.4
CONTENT_W = SLIDE_W - 2 * MARGIN
TITLE_TOP, TITLE_H = 0.2, 0.95
BODY_TOP = TITLE_TOP + TITLE_H + 0.05
FOOTER_H = 0.62  # room for the provenance footer: three lines at FOOTER_PT
FOOTER_TOP = SLIDE_H - FOOTER_H - 0.05
GAP = 0.08
TITLE_PT, CAPTION_PT, CAVEAT_PT, FOOTER_PT, TABLE_PT, TEXT_ONLY_PT = 28, 16, 15, 11, 16, 22
SIDE_TEXT_W = 4.2  # the text column beside a figure
FONT_NAME = "Arial"  # on every PowerPoint; LibreOffice draws it with its metric twin Liberation Sans
MIN_FIGURE_PT = 14   # the smallest text of a figure on the slide at 100% zoom
CAVEAT_RGB = (0x8A, 0x4B, 0x00)


def page_results(db: CohortDatabase, cohort_filter: CohortFilter, views: Views = (),
                 pages: tuple[str, ...] = PAGE_ORDER, small_cell_k: int = 0) -> list[ViewResult]:
    """Each page's results for the deck, from that page's last link (`views`); pages never
    visited show their defaults. Invalid link values fall back to defaults (never raise)."""
    if cohort.count_patients(db, cohort_filter) == 0:
        return []
    by_page = dict(views)
    return [result for page in pages
            for result in page_slides(db, cohort_filter, page, by_page.get(page, ()), small_cell_k)]


def page_slides(db: CohortDatabase, cohort_filter: CohortFilter, page: str,
                params: tuple[tuple[str, str], ...] = (), small_cell_k: int = 0) -> list[ViewResult]:
    """One page's results for the deck, for that page's link parameters `params` (a page can
    cache them on their own: another page's link does not change them)."""
    registry = registered_pages()
    if page not in registry:
        return []
    spec, _ = registry[page].spec.from_params(params_mapping(params))
    return registry[page].slides(db, cohort_filter, spec, small_cell_k)


def deck_views(views: Views, pages: tuple[str, ...] = PAGE_ORDER) -> Views:
    """Only the pages' views the deck uses, so a visit to another page (the share page itself,
    the dictionary), or to a page left at its defaults, does not make the same deck a new one."""
    return tuple((page, params) for page, params in views if page in pages and params)


def survival_spec(views: Views):
    """The survival page's current spec (the headline's median follows its endpoint)."""
    from analytics.views.survival import SurvivalPageSpec
    return SurvivalPageSpec.from_params(params_mapping(dict(views).get("survival", ())))[0]


def _provenance(db: CohortDatabase, cohort_filter: CohortFilter, n: int, created: str,
                caveats: tuple[str, ...] = (), link: str = "") -> Provenance:
    from analytics.reproduce import app_version
    return Provenance(db.label, db.synthetic, n, cohort_filter.describe(), created, caveats,
                      app_version=app_version(), link=link)


def view_link(base_url: str, page: str, cohort_filter: CohortFilter, views: Views) -> str:
    """The link of a page's view as the deck shows it: the page's options and the filters."""
    from urllib.parse import urlencode
    pairs = list(dict(views).get(page, ()))
    pairs = [(k, v) for k, v in pairs if k not in cohort_filter.to_query_params()]
    for key, value in cohort_filter.to_query_params().items():
        pairs += [(key, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    query = urlencode(pairs)
    return f"{base_url.rstrip('/')}/{'' if page == 'overview' else page}" + (f"?{query}" if query else "")


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
    return (f"{db.label}", f"{kind} · {patients_text(cohort.count_patients(db, cohort_filter))} · "
                           f"filters: {cohort_filter.describe()}")


# --- text measurement (the deck's font, for boxes that fit their text) ---------------------------
_FONT_FILES = {False: "LiberationSans-Regular.ttf", True: "LiberationSans-Bold.ttf"}


@lru_cache(maxsize=32)
def _font(pt: int, bold: bool = False):
    from PIL import ImageFont
    for folder in ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/liberation2"):
        path = Path(folder) / _FONT_FILES[bold]
        if path.exists():
            return ImageFont.truetype(str(path), pt * 10)  # 10 units per point: sub-point precision
    return None


def text_lines(text: str, width_in: float, pt: int, bold: bool = False) -> int:
    """Lines `text` takes in a box `width_in` wide at `pt` (word wrap, as PowerPoint does).

    Measured with the Liberation Sans metrics (Arial's); without the font file, a conservative
    estimate of 0.55 em per character."""
    font = _font(pt, bold)
    limit = (width_in - 0.2) * 72 * 10  # the text box's default insets: 0.1 in each side
    lines = 0
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), ""
        count = 1
        for word in words:
            candidate = f"{line} {word}".strip()
            width = font.getlength(candidate) if font else len(candidate) * pt * 0.55 * 10
            if width > limit and line:
                count += 1
                line = word
            else:
                line = candidate
        lines += count
    return lines


def text_height(text: str, width_in: float, pt: int, bold: bool = False) -> float:
    """Inches a text box needs for `text` (1.2 line spacing, default top/bottom insets)."""
    return text_lines(text, width_in, pt, bold) * pt * 1.2 / 72 + 0.1


# --- figures at the slide's size ------------------------------------------------------------------
_FONT_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize")


def _smallest_font(spec) -> float:
    """The smallest font size (px) set anywhere in a compiled Vega-Lite spec (config included)."""
    smallest = math.inf
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in _FONT_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
                smallest = min(smallest, float(value))
            else:
                smallest = min(smallest, _smallest_font(value))
    elif isinstance(spec, list):
        for item in spec:
            smallest = min(smallest, _smallest_font(item))
    return smallest


def _scale_sizes(node, key: str, factor: float) -> None:
    """Multiply every view's `key` ("width" or "height") by `factor`, a fixed size or a step per
    row (`{"step": n}`: a step keeps room for a line of text); rows of text (a risk table) keep
    their height, or their lines would overlap."""
    if isinstance(node, dict):
        mark = node.get("mark")
        is_text = (mark == "text" or (isinstance(mark, dict) and mark.get("type") == "text"))
        for name, value in node.items():
            if name == key and not (key == "height" and is_text):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    node[name] = max(20, round(value * factor))
                elif isinstance(value, dict) and isinstance(value.get("step"), (int, float)):
                    value["step"] = max(24, round(value["step"] * factor))
            else:
                _scale_sizes(value, key, factor)
    elif isinstance(node, list):
        for item in node:
            _scale_sizes(item, key, factor)


def _stack_legends(node) -> None:
    """Legends laid out one entry per line: a wide horizontal legend can set a figure's width."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "legend" and isinstance(value, dict):
                value.update(direction="vertical", columns=1)
            else:
                _stack_legends(value)
    elif isinstance(node, list):
        for item in node:
            _stack_legends(item)


def _explicit_widths(spec: dict) -> None:
    """Give every plot that takes its width from the theme (config.view.continuousWidth) that
    width explicitly, so that fitting a figure to a slide can narrow it."""
    default = spec.get("config", {}).get("view", {}).get("continuousWidth", 300)

    def visit(node) -> None:
        if isinstance(node, dict):
            is_view = "mark" in node or "layer" in node
            if is_view and "width" not in node and "facet" not in node and "repeat" not in node:
                node["width"] = default
            for key, value in node.items():
                if key not in ("datasets", "config", "encoding", "data", "transform"):
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)
    visit(spec)


def _svg_size(spec: dict) -> tuple[float, float]:
    import vl_convert  # here, not at start: only the deck and exports render files
    svg = vl_convert.vegalite_to_svg(spec)
    match = re.search(r'<svg[^>]*width="([\d.]+)"[^>]*height="([\d.]+)"', svg)
    return float(match.group(1)), float(match.group(2))


@dataclass(frozen=True)
class SlideFigure:
    """A figure fitted to a box: its Vega-Lite spec (JSON), its size on the slide (inches) and
    the smallest text on the slide in points; `png()` renders it."""

    spec: str
    width_in: float
    height_in: float
    smallest_pt: float

    def png(self) -> bytes:
        return _png(self.spec)


SLIDE_PPI = 150  # 12.5 in at 150 ppi is 1,875 px: sharp on a 1080p projector, quick to render


@lru_cache(maxsize=64)  # a deck built twice with the same views renders each figure once
def _png(spec: str) -> bytes:
    import vl_convert
    return vl_convert.vegalite_to_png(json.loads(spec), ppi=SLIDE_PPI)


def slide_spec(result: ViewResult) -> str:
    """The result's figure as a slide shows it (JSON): projector text sizes, no title (the
    slide has it), no hover hints (caveats and footer are slide text)."""
    chart = theme.for_projector(result.figure)
    chart.title = ""
    spec = chart.to_dict(validate=False)  # validated when built
    spec_without_hover_hints(spec)
    return json.dumps(spec, sort_keys=True)


@lru_cache(maxsize=256)
def _natural_size(spec: str) -> tuple[float, float]:
    return _svg_size(json.loads(spec))


@lru_cache(maxsize=256)
def fit_figure(spec: str, box_w: float, box_h: float) -> SlideFigure:
    """The figure `spec` fitted to a box of `box_w` x `box_h` inches: its plot areas shrink
    until the whole figure fits with its smallest text at MIN_FIGURE_PT or more at 100% zoom,
    where the box allows (measured by rendering the SVG: once as it is, at most three times resized)."""
    fitted = json.loads(spec)
    _explicit_widths(fitted)
    smallest_px = _smallest_font(fitted)
    if not math.isfinite(smallest_px):
        smallest_px = theme.PRESENTATION_FONT_SIZE
    needed = MIN_FIGURE_PT / smallest_px  # points per Vega pixel for legible text
    width, height = _natural_size(spec)  # measured once per figure, whatever the layout
    for attempt in range(3):
        fits_w, fits_h = box_w * 72 / width >= needed, box_h * 72 / height >= needed
        if fits_w and fits_h:
            break
        if not fits_w and attempt == 1:  # narrowing the plots was not enough: stack the legends
            _stack_legends(fitted)
        if not fits_w:
            _scale_sizes(fitted, "width", max(0.4, 0.94 * box_w * 72 / needed / width))
        if not fits_h:
            _scale_sizes(fitted, "height", max(0.4, 0.94 * box_h * 72 / needed / height))
        width, height = _svg_size(fitted)
    scale = min(box_w * 72 / width, box_h * 72 / height, 1.3)
    return SlideFigure(json.dumps(fitted, sort_keys=True), width * scale / 72, height * scale / 72,
                       smallest_px * scale)


def _layout(result: ViewResult, text: list[tuple[str, int, object, str]]) -> tuple[SlideFigure, bool]:
    """The figure for its slide and whether the text goes beside it (True) or below it: the
    layout that gives the larger figure whose text is legible and whose text fits."""
    spec = slide_spec(result)
    body_h = FOOTER_TOP - GAP - BODY_TOP
    below_h = sum(text_height(t, CONTENT_W, pt) for t, pt, _, _ in text)
    side_h = sum(text_height(t, SIDE_TEXT_W, pt) for t, pt, _, _ in text)
    options = []
    if body_h - below_h - GAP > 1.5:
        options.append((fit_figure(spec, CONTENT_W, round(body_h - below_h - GAP, 3)), False))
    if side_h <= body_h:
        options.append((fit_figure(spec, round(CONTENT_W - SIDE_TEXT_W - 0.25, 3), round(body_h, 3)), True))
    if not options:  # text longer than any layout allows: below, with what room is left
        options.append((fit_figure(spec, CONTENT_W, round(max(1.0, body_h - below_h - GAP), 3)), False))
    legible = [o for o in options if o[0].smallest_pt >= MIN_FIGURE_PT] or options
    return max(legible, key=lambda o: o[0].width_in * o[0].height_in)


# --- the deck -------------------------------------------------------------------------------------
def build_pptx(db: CohortDatabase, cohort_filter: CohortFilter, results: list[ViewResult], *,
               small_cell_k: int = 0, created: str = "", views: Views = (), base_url: str = "") -> bytes:
    """The deck as .pptx bytes (16:9): title, headline results, one slide per result."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    created = created or date.today().isoformat()
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
    title_text, subtitle = _title(db, cohort_filter)

    def style(frame, pt: int, *, bold: bool = False, rgb=None) -> None:
        for paragraph in frame.paragraphs:
            for run in paragraph.runs:
                run.font.size, run.font.name, run.font.bold = Pt(pt), FONT_NAME, bold
                if rgb is not None:
                    run.font.color.rgb = RGBColor(*rgb)

    def textbox(slide, text: str, top: float, pt: int, width: float = CONTENT_W, left: float = MARGIN, *,
                rgb=None, bold: bool = False, name: str = ""):
        height = text_height(text, width, pt, bold)
        # positions rounded (not truncated) to whole EMUs: stacked boxes meet exactly
        box = slide.shapes.add_textbox(Emu(round(left * 914400)), Emu(round(top * 914400)),
                                       Emu(round(width * 914400)), Emu(round(height * 914400)))
        box.name = name or box.name
        frame = box.text_frame
        frame.word_wrap = True
        frame.text = text
        style(frame, pt, bold=bold, rgb=rgb)
        return (box.top + box.height) / 914400

    def footer(slide, provenance: Provenance, digest: str) -> None:
        text = " · ".join(provenance.footer_lines(digest))
        height = text_height(text, CONTENT_W, FOOTER_PT)
        box = slide.shapes.add_textbox(Inches(MARGIN), Inches(SLIDE_H - 0.05 - height), Inches(CONTENT_W),
                                       Inches(height))
        box.name = "Footer"
        box.text_frame.word_wrap = True
        box.text_frame.text = text
        style(box.text_frame, FOOTER_PT, rgb=(0x44, 0x44, 0x44))

    def titled(text: str):
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        title = slide.shapes.title
        title.text = text
        title.left, title.top, title.width, title.height = (Inches(MARGIN), Inches(TITLE_TOP),
                                                            Inches(CONTENT_W), Inches(TITLE_H))
        title.text_frame.word_wrap = True
        pt = TITLE_PT if text_lines(text, CONTENT_W, TITLE_PT) == 1 else 22
        style(title.text_frame, pt)
        return slide

    def notes(slide, result: ViewResult) -> None:
        parts = [result.caption, *result.caveat_sentences(), *result.lines,
                 *(["Methods: " + result.methods] if result.methods else [])]
        slide.notes_slide.notes_text_frame.text = "\n\n".join(p for p in parts if p)

    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = title_text
    slide.placeholders[1].text = f"{subtitle}\nLab meeting · {created}"
    style(slide.shapes.title.text_frame, 40)
    style(slide.placeholders[1].text_frame, 20)

    top_line = headline(db, cohort_filter, survival_spec(views), small_cell_k)
    rows = top_line.tables["rows"]
    slide = titled(top_line.title)
    row_h = 0.5
    shape = slide.shapes.add_table(len(rows) + 1, 2, Inches(MARGIN), Inches(BODY_TOP + 0.1),
                                   Inches(CONTENT_W), Inches(row_h * (len(rows) + 1)))
    shape.name = "Headline table"
    table = shape.table
    table.columns[0].width, table.columns[1].width = Inches(5.6), Inches(CONTENT_W - 5.6)
    for j, head in enumerate(rows.columns):
        table.cell(0, j).text = head
    for i, row in enumerate(rows.itertuples(index=False), start=1):
        table.cell(i, 0).text, table.cell(i, 1).text = str(row[0]), str(row[1])
    for i in range(len(rows) + 1):
        table.rows[i].height = Inches(row_h)
        for j in range(2):
            style(table.cell(i, j).text_frame, TABLE_PT, bold=i == 0)
    note = " ".join(filter(None, (top_line.caption, suppression_note(small_cell_k))))
    textbox(slide, note, BODY_TOP + 0.2 + row_h * (len(rows) + 1), CAPTION_PT, name="Caption")
    footer(slide, _provenance(db, cohort_filter, top_line.n_patients, created), data_hash_of_table(rows))

    with _projector_theme():
        for result in results:
            caveats = tuple(result.caveat_sentences())
            provenance = _provenance(db, cohort_filter, result.n_patients, created, caveats,
                                     view_link(base_url, result.page, cohort_filter, views))
            slide = titled(result.title)
            notes(slide, result)
            plain = result.figure is None
            text = [(result.caption, TEXT_ONLY_PT if plain else CAPTION_PT, None, "Caption")]
            text += [(line, TEXT_ONLY_PT if plain else CAPTION_PT, None, "Result") for line in result.lines]
            text += [(f"Caution: {c}", CAVEAT_PT, CAVEAT_RGB, "Caveat") for c in caveats]
            digest = (data_hash(result.figure) if not plain else
                      data_hash_of_table(next(iter(result.tables.values()), None)))
            if plain:
                top = BODY_TOP + 0.2
                for body, pt, rgb, name in text:
                    top = textbox(slide, body, top, pt, CONTENT_W, MARGIN, rgb=rgb, name=name)
            else:
                figure, side = _layout(result, text)
                if side:  # figure left, text in a column on the right
                    fig_left, text_left, text_w = MARGIN, SLIDE_W - MARGIN - SIDE_TEXT_W, SIDE_TEXT_W
                    text_top = BODY_TOP
                else:     # figure centred, text below it
                    fig_left = MARGIN + (CONTENT_W - figure.width_in) / 2
                    text_left, text_w, text_top = MARGIN, CONTENT_W, BODY_TOP + figure.height_in + GAP
                picture = slide.shapes.add_picture(io.BytesIO(figure.png()), Inches(fig_left), Inches(BODY_TOP),
                                                   Inches(figure.width_in), Inches(figure.height_in))
                picture.name = f"Figure (smallest text {figure.smallest_pt:.1f} pt)"
                picture._element.nvPicPr.cNvPr.set("descr", f"{result.title}. {result.caption}")
                top = text_top
                for body, pt, rgb, name in text:
                    top = textbox(slide, body, top, pt, text_w, text_left, rgb=rgb, name=name)
            footer(slide, provenance, digest)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def data_hash_of_table(frame) -> str:
    """SHA-256 (first 12 hex digits) of a table's CSV text: the data of a slide without a figure."""
    import hashlib
    text = "" if frame is None else frame.to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build_html(db: CohortDatabase, cohort_filter: CohortFilter, results: list[ViewResult], *,
               small_cell_k: int = 0, created: str = "", views: Views = (), base_url: str = "") -> str:
    """The same content as one self-contained HTML file: inline SVG figures (with their caveats
    and footers), no scripts, no external resources."""
    created = created or date.today().isoformat()
    title_text, subtitle = _title(db, cohort_filter)
    top_line = headline(db, cohort_filter, survival_spec(views), small_cell_k)
    rows = "\n".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                     for a, b in top_line.tables["rows"].itertuples(index=False))
    sections = []
    for result in results:
        caveats = tuple(result.caveat_sentences())
        provenance = _provenance(db, cohort_filter, result.n_patients, created, caveats,
                                 view_link(base_url, result.page, cohort_filter, views))
        warnings = "".join(f'<p class="caveat"><strong>Caution.</strong> {html.escape(c)}</p>' for c in caveats)
        body = ""
        if result.figure is not None:
            svg = export_figure(result.figure, provenance, "svg").decode("utf-8")
            body = f'<div class="svg">{svg[svg.index("<svg"):]}</div>'  # drop an XML prolog, if any
            digest = data_hash(result.figure)
        else:
            digest = data_hash_of_table(next(iter(result.tables.values()), None))
        lines = "".join(f"<p class=\"result\">{html.escape(line)}</p>" for line in result.lines)
        if result.methods:
            methods = "".join(f"<p>{html.escape(part)}</p>" for part in result.methods.split("\n\n"))
            lines += f'<details class="methods"><summary>Methods</summary>{methods}</details>'

        footer = "<br>".join(html.escape(line) for line in provenance.footer_lines(digest))
        sections.append(f"""<section class="figure">
<h2>{html.escape(result.title)}</h2>
{warnings}
{body}
<p class="caption">{html.escape(result.caption)}</p>
{lines}
<p class="footer">{footer}</p>
</section>""")
    note = html.escape(" ".join(filter(None, (top_line.caption, suppression_note(small_cell_k)))))
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
.caveat {{ background: #FFF4E0; border-left: 4px solid #8A4B00; padding: .5rem 1rem; color: #5A3200; }}
table {{ border-collapse: collapse; }} td {{ padding: .2rem 1rem .2rem 0; border-bottom: 1px solid #eee; }}
.svg svg {{ max-width: 100%; height: auto; }} .caption {{ font-size: 1.05rem; }} .footer {{ font-size: .85rem; color: #444; }}
</style></head><body>
<h1>{html.escape(title_text)}</h1>
<p>{html.escape(subtitle)} · report of {created}</p>
{banner}
<h2>{html.escape(top_line.title)}</h2>
<table>{rows}</table>
<p class="footer">{note}</p>
{''.join(sections)}
</body></html>
"""


# --- built ahead -----------------------------------------------------------------------------------
# The share page starts the deck and the report of the view it shows as soon as it is drawn, in one
# background thread, so a click mostly finds the file ready (or part-built: it waits for the rest,
# never builds twice). Keys are the views, filters, date and link base: a changed view is a new build.
# The newest request is built first (older ones are views the user has left); a click on a build
# not started yet builds it at once in the click's own thread.
T = TypeVar("T")
_AHEAD_MAX = 6  # builds kept (a deck is ~1-3 MB); the oldest go first
_ahead: "OrderedDict[tuple, Future]" = OrderedDict()
_pending: "OrderedDict[tuple, Callable[[], object]]" = OrderedDict()  # not started, newest last
_ahead_lock = threading.Lock()
_ahead_wake = threading.Condition(_ahead_lock)
_ahead_worker: threading.Thread | None = None


def _run(future: Future, build: Callable[[], object]) -> None:
    try:
        future.set_result(build())
    except BaseException as error:  # noqa: BLE001 - handed to whoever waits for the file
        future.set_exception(error)


def _work() -> None:
    while True:
        with _ahead_wake:
            while not _pending:
                _ahead_wake.wait()
            key, build = _pending.popitem(last=True)  # the newest view first
            future = _ahead.get(key)
        if future is not None and future.set_running_or_notify_cancel():
            _run(future, build)


def built_ahead(key: tuple, build: Callable[[], T]) -> "Future[T]":
    """The one build of `key`: queued now for the background thread if it was not yet, else the
    queued, running or finished one. `.result()` gives the bytes (or raises the build's error)."""
    global _ahead_worker
    with _ahead_wake:
        future = _ahead.get(key)
        if future is not None and not (future.done() and future.exception() is not None):
            _ahead.move_to_end(key)
            if key in _pending:
                _pending.move_to_end(key)
            return future
        future = Future()
        _ahead[key] = future
        _pending[key] = build
        while len(_ahead) > _AHEAD_MAX:
            old_key, old = _ahead.popitem(last=False)
            if _pending.pop(old_key, None) is not None:
                old.cancel()  # never started: nobody waits for a view this old
        if _ahead_worker is None or not _ahead_worker.is_alive():
            _ahead_worker = threading.Thread(target=_work, name="deck-ahead", daemon=True)
            _ahead_worker.start()
        _ahead_wake.notify()
        return future


def ahead_result(key: tuple, build: Callable[[], T]) -> T:
    """The file of `key`: the finished build, the rest of a running one, or (not started yet)
    built now in this thread."""
    from concurrent.futures import CancelledError
    future = built_ahead(key, build)
    with _ahead_lock:
        mine = _pending.pop(key, None) is not None and future.set_running_or_notify_cancel()
    if mine:
        _run(future, build)
    try:
        return future.result()
    except CancelledError:  # dropped by newer views while waiting: build it here
        return build()
