"""The lab-meeting deck (.pptx) and HTML report: the pages' own view results, caveats that
travel, slide geometry, LibreOffice rendering, and small-cell suppression."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from itertools import combinations

import pandas as pd
import pytest
from hypothesis import given, strategies as st
from pptx import Presentation
from pptx.util import Emu

from analytics import deck, deck_html, disclosure, overview
from analytics.build import build_in_memory
from analytics.figure_export import data_hash
from analytics.filters import CohortFilter
from analytics.views import compare as compare_views, survival as survival_views
from analytics.views.registry import pages as registered_pages
from tests.apptest_helpers import ROOT

ARTIFACTS = ROOT / "artifacts" / "deck"
# Non-default options on every page (a page without views yet in the registry is skipped).
VIEWS = (("genomics", (("gen_tab", "Oncoprint"), ("onco_sort", "TP53"))),
         ("survival", (("endpoint", "OS"), ("group", "tp53_status"), ("ci", "no"))),
         ("response", (("resp_sort", "duration"),)),
         ("withdrawal", (("wd_scale", "log"),)),
         ("patient", (("patient", "S05"),)))
HCT_VIEWS = (("survival", (("group", "hct"), ("population", "treated"))),)


@pytest.fixture(scope="module")
def db():
    return build_in_memory(ROOT / "data" / "demo_cohort")


@pytest.fixture(scope="module")
def default_results(db):
    return deck.page_results(db, CohortFilter())


@pytest.fixture(scope="module")
def results(db):
    return deck.page_results(db, CohortFilter(), VIEWS)


@pytest.fixture(scope="module")
def hct_results(db):
    return deck.page_results(db, CohortFilter(), HCT_VIEWS, pages=("survival",))


def _deck(db, results, views, name, k=0) -> bytes:
    data = deck.build_pptx(db, CohortFilter(), results, small_cell_k=k, created="2026-01-02", views=views)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pptx").write_bytes(data)
    return data


@pytest.fixture(scope="module")
def decks(db, default_results, results, hct_results):
    return {"default": _deck(db, default_results, (), "deck_default"),
            "views": _deck(db, results, VIEWS, "deck_views"),
            "hct": _deck(db, hct_results, HCT_VIEWS, "deck_hct")}


def _texts(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


def test_results_are_the_pages_own_views(db, results):
    survival = [r for r in results if r.page == "survival"]
    assert survival[0].title == "Survival: Overall survival by TP53"
    spec, _ = survival_views.SurvivalPageSpec.from_params({"endpoint": "OS", "group": "tp53_status", "ci": "no"})
    same = survival_views.km(db, CohortFilter(), spec)
    assert survival[0].caption == same.caption and survival[0].lines == same.lines
    assert data_hash(survival[0].figure) == data_hash(same.figure)
    assert [r.page for r in results] == sorted((r.page for r in results), key=deck.PAGE_ORDER.index)


def test_invalid_view_parameters_fall_back_to_defaults(db):
    bad = (("survival", (("endpoint", "DFS"), ("group", "drop table"), ("landmark", "1e309"))),)
    results = deck.page_results(db, CohortFilter(), bad, pages=("survival",))
    assert [r.title for r in results] == ["Survival: Event-free survival"]


def test_empty_filter_gives_no_results(db):
    assert deck.page_results(db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))) == []


def test_naive_hct_comparison_carries_its_warning_and_the_honest_analyses(db, hct_results, decks):
    assert [r.key for r in hct_results] == ["survival.km", "survival.simon_makuch", "survival.landmark",
                                            "survival.landmark_sensitivity", "survival.time_dependent_hct"]
    assert any(c.heading == "Immortal-time bias" for c in hct_results[0].caveats)
    slides = list(Presentation(io.BytesIO(decks["hct"])).slides)
    km_slide, sm_slide, landmark_slide, sensitivity_slide, cox_slide = slides[2:7]
    assert "Simon-Makuch" in sm_slide.shapes.title.text and "delayed entry" in _texts(sm_slide)
    assert "Day 180:" in _texts(sensitivity_slide) and "Day 365:" in _texts(sensitivity_slide)
    assert "naive 'HCT ever'" in _texts(cox_slide)
    assert "Caution: Immortal-time bias" in _texts(km_slide)
    assert "landmark analysis of HCT at day 180" in landmark_slide.shapes.title.text
    assert "Landmark log-rank test" in _texts(landmark_slide)
    assert re.search(r"HR \d+\.\d\d \(95% CI", _texts(cox_slide))
    assert "time-dependent covariate" in _texts(cox_slide)
    report = deck_html.build_html(db, CohortFilter(), hct_results, created="2026-01-02", views=HCT_VIEWS)
    (ARTIFACTS / "report_hct.html").write_text(report)
    assert "Immortal-time bias" in report and "landmark analysis of HCT" in report
    assert "time-dependent covariate" in report and re.search(r"HR \d+\.\d\d", report)
    km_svg = re.findall(r"<svg.*?</svg>", report, flags=re.S)[0]
    assert "Caution: Immortal-time bias" in km_svg  # the figure itself carries it


def test_deck_has_title_headline_and_one_slide_per_result(decks, results):
    slides = list(Presentation(io.BytesIO(decks["views"])).slides)
    assert len(slides) == 2 + len(results)
    title = _texts(slides[0])
    assert "Synthetic cohort, not patient data" in title and "32 patients" in title
    headline = slides[1]
    assert headline.shapes.title.text == "Headline results"
    cells = [c.text for s in headline.shapes if s.has_table for row in s.table.rows for c in row.cells]
    assert cells[cells.index("TP53 mutated (of evaluable)") + 1].startswith("9/19 (47%)")
    assert cells[cells.index("Low hypodiploid (of evaluable)") + 1].startswith("8/26 (31%)")
    assert cells[cells.index("CR or CRi among treated patients with an assessment") + 1].startswith("25/28")
    assert "16/32" in cells[cells.index("Alive without evidence of B-ALL at last contact") + 1]
    assert re.match(r"(\d+\.\d months|not reached) \(95% CI", cells[cells.index("Median overall survival") + 1])
    for slide, result in zip(slides[2:], results):
        text = _texts(slide)
        assert slide.shapes.title.text == result.title
        assert result.caption in text
        footers = [s for s in slide.shapes if s.name == "Footer"]
        assert len(footers) == 1  # one footer per slide
        footer = footers[0].text_frame.text
        assert "filters: no filters" in footer and "exported 2026-01-02" in footer
        assert " · app " in footer and f"view: /{'' if result.page == 'overview' else result.page}" in footer
        if result.figure is not None:
            assert f"data sha256 {data_hash(result.figure)}" in footers[0].text_frame.text
        assert not re.search(r"\b1 patients\b", text)
        assert "**" not in text  # plain sentences, no Markdown


def _box(shape):
    return shape.left, shape.top, shape.left + shape.width, shape.top + shape.height


@pytest.mark.parametrize("name", ["default", "views", "hct"])
def test_slide_geometry(decks, name):
    """Every shape inside the slide, no two shapes overlapping, text that fits its box, figures
    whose smallest text is at least 14 pt at 100% zoom."""
    presentation = Presentation(io.BytesIO(decks[name]))
    width, height = presentation.slide_width, presentation.slide_height
    for number, slide in enumerate(presentation.slides, start=1):
        shapes = [s for s in slide.shapes if not (s.is_placeholder and not s.has_text_frame)]
        for shape in shapes:
            left, top, right, bottom = _box(shape)
            assert left >= 0 and top >= 0 and right <= width and bottom <= height, (name, number, shape.name)
            if shape.has_text_frame and shape.text_frame.text and number > 1:
                pt = max((r.font.size.pt for p in shape.text_frame.paragraphs for r in p.runs if r.font.size),
                         default=18)
                needed = deck.text_height(shape.text_frame.text, Emu(shape.width).inches, round(pt))
                assert needed <= Emu(shape.height).inches + 0.02, (name, number, shape.name)
            if shape.shape_type == 13:  # picture
                smallest = float(re.search(r"smallest text ([\d.]+) pt", shape.name).group(1))
                assert smallest >= deck.MIN_FIGURE_PT - 0.05, (name, number, slide.shapes.title.text, smallest)
        for a, b in combinations(shapes, 2):
            ax0, ay0, ax1, ay1 = _box(a)
            bx0, by0, bx1, by1 = _box(b)
            overlap = min(ax1, bx1) - max(ax0, bx0) > 0 and min(ay1, by1) - max(ay0, by0) > 0
            assert not overlap, (name, number, a.name, b.name)


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None and not os.environ.get("CI"), reason="LibreOffice not installed")
def test_libreoffice_renders_every_slide(decks, tmp_path):
    """LibreOffice Impress opens each deck and renders every slide (PDF pages and PNG images in
    artifacts/deck/ to look at); every slide's footer text is on its page (nothing pushed off)."""
    assert _soffice(), "LibreOffice is required in CI (scripts/ensure_libreoffice.sh)"
    sources = []
    for name, data in decks.items():
        sources.append(tmp_path / f"deck_{name}.pptx")
        sources[-1].write_bytes(data)
    # one LibreOffice start converts every deck (each start costs seconds)
    subprocess.run([_soffice(), "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, sources)],
                   check=True, capture_output=True, timeout=240)
    for name, data in decks.items():
        pdf = tmp_path / f"deck_{name}.pdf"
        n_slides = len(Presentation(io.BytesIO(data)).slides)
        pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout.split("\f")
        pages = [p for p in pages if p.strip()]
        assert len(pages) == n_slides, name
        for page in pages[1:]:
            assert "data sha256" in page.replace("\n", " "), name
        shutil.copy(pdf, ARTIFACTS / pdf.name)
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(ARTIFACTS / f"deck_{name}")], check=True)


def test_html_report_is_self_contained_with_svg_footers(db, results):
    report = deck_html.build_html(db, CohortFilter(), results, small_cell_k=5, created="2026-01-02", views=VIEWS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "cohort_report.html").write_text(report)
    assert report.count("<svg") == sum(r.figure is not None for r in results)
    assert "<script" not in report.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)  # nothing fetched
    for result in results:
        assert result.title in report.replace("&amp;", "&")
    svgs = re.findall(r"<svg.*?</svg>", report, flags=re.S)
    assert all("data sha256" in svg and "Synthetic cohort, not patient data" in svg for svg in svgs)
    assert "Hover" not in report


def test_export_files_each_format(results, db):
    from analytics.figure_export import Provenance, export_figure
    survival = [r for r in results if r.page == "survival"][0]
    provenance = Provenance(db.label, db.synthetic, survival.n_patients, "no filters", "2026-01-02")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF")):
        data = export_figure(survival.figure, provenance, fmt)
        (ARTIFACTS / f"survival.{fmt}").write_bytes(data)
        assert magic in data[:200]
    svg = (ARTIFACTS / "survival.svg").read_text()
    assert "n = 32 patients" in svg and "Number at risk" in svg


def test_deck_images_are_crisp_pngs(decks):
    with zipfile.ZipFile(io.BytesIO(decks["views"])) as z:
        for name in (n for n in z.namelist() if n.startswith("ppt/media/")):
            head = z.read(name)[:24]
            assert head.startswith(b"\x89PNG")
            assert int.from_bytes(head[16:20], "big") >= 1200  # 200 ppi: sharp on a projector


# --- small-cell suppression --------------------------------------------------------------------
@given(st.integers(0, 500), st.integers(0, 20))
def test_suppress_count(n, k):
    shown = disclosure.suppress_count(n, k)
    if 0 < n < k:
        assert shown == f"<{k}"
    else:
        assert shown == str(n)


def test_table_one_suppression_is_consistent(db):
    t1 = overview.table_one(db, CohortFilter())
    out = disclosure.suppress_table_one(t1, 5)
    for (characteristic, block), (_, original) in zip(out.groupby("characteristic", sort=False),
                                                      t1.groupby("characteristic", sort=False)):
        cat = block[block["kind"] == "categorical"]
        shown_small = cat[(cat["n"] > 0) & (cat["n"] < 5)]
        assert shown_small["suppressed"].all(), characteristic  # every small cell hidden
        assert cat.loc[cat["suppressed"], "percent"].isna().all()
        assert not any(re.search(r"(?<![<\d])[1-4]/", d) for d in cat["display"]), characteristic
        # never exactly one hidden cell among non-zero cells: it would follow from the total
        hidden = cat[cat["suppressed"]]
        assert len(hidden) != 1 or (cat["n"] > 0).sum() == 1, characteristic
    assert disclosure.suppress_table_one(t1, 0)["display"].tolist() == t1["display"].tolist()


def test_suppress_frame_blanks_dependent_columns():
    frame = pd.DataFrame({"g": ["a", "b", "c"], "n": [0, 3, 12], "pct": [0.0, 20.0, 80.0]})
    out = disclosure.suppress_frame(frame, ["n"], 5, ["pct"])
    assert out["n"].tolist() == ["0", "<5", "12"] and out["pct"].tolist() == [0.0, "", 80.0]


def test_suppressed_deck_has_no_small_counts(db):
    k = 5
    pages = tuple(p for p, v in registered_pages().items() if not v.patient_level)
    results = deck.page_results(db, CohortFilter(), (("survival", (("group", "tp53_status"),)),),
                                pages=pages, small_cell_k=k)
    assert "survival.km" in [r.key for r in results]
    small = re.compile(r"(?<![<\w./])[1-4]/\d+")
    for result in results:
        spec = result.figure.to_dict() if result.figure is not None else {}
        for dataset in spec.get("datasets", {}).values():
            for row in dataset:
                if row.get("group") == compare_views.PUBLISHED:
                    continue  # a published series' figures are public aggregates, not the cohort's counts
                for key, value in row.items():
                    assert not (isinstance(value, str) and small.search(value)), (result.title, key, value)
                    if key in {"at_risk", "n_event", "n_censored", "n", "altered", "not_evaluated"}:
                        assert not (isinstance(value, (int, float)) and 1 <= value < k), (result.title, key, value)
        assert not small.search(result.caption)
    rows = deck.headline(db, CohortFilter(), small_cell_k=k).tables["rows"]
    assert not any(small.search(v) for v in rows["Value"])
