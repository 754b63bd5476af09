"""Lab-meeting deck (.pptx, python-pptx) of the pages' current views; analytics.deck_html renders
the same content as a self-contained HTML report, analytics.deck_figure fits text and figures to a
slide, analytics.deck_ahead builds both files in the background.

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

import io
from contextlib import contextmanager
from datetime import date
from typing import Iterator

from analytics import cohort, theme
from analytics.db import CohortDatabase
from analytics.deck_figure import (MIN_FIGURE_PT, SlideFigure, fit_figure, slide_spec, text_height,
                                   text_lines)
from analytics.disclosure import suppression_note
from analytics.figure_export import Provenance, data_hash
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


def deck_provenance(db: CohortDatabase, cohort_filter: CohortFilter, n: int, created: str,
                    caveats: tuple[str, ...] = (), link: str = "") -> Provenance:
    """The provenance footer of a slide or report section: cohort, filters, n, date, link."""
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


def deck_title(db: CohortDatabase, cohort_filter: CohortFilter) -> tuple[str, str]:
    """The title and subtitle of the deck and the report: the cohort, its patients, the filters."""
    kind = "Synthetic cohort, not patient data" if db.synthetic else "Cohort"
    return (f"{db.label}", f"{kind} · {patients_text(cohort.count_patients(db, cohort_filter))} · "
                           f"filters: {cohort_filter.describe()}")


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
    title_text, subtitle = deck_title(db, cohort_filter)

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
    footer(slide, deck_provenance(db, cohort_filter, top_line.n_patients, created), data_hash_of_table(rows))

    with _projector_theme():
        for result in results:
            caveats = tuple(result.caveat_sentences())
            provenance = deck_provenance(db, cohort_filter, result.n_patients, created, caveats,
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
