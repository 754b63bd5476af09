"""The lab-meeting deck (.pptx) and HTML report, and small-cell suppression."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, strategies as st
from pptx import Presentation

from analytics import deck, disclosure, overview
from analytics.build import build_in_memory
from analytics.figure_export import data_hash
from analytics.filters import CohortFilter
from tests.apptest_helpers import ROOT

ARTIFACTS = ROOT / "artifacts" / "deck"
VIEWS = (("genomics", (("onco_sort", "TP53"),)),
         ("survival", (("endpoint", "OS"), ("group", "tp53_status"), ("ci", "no"))),
         ("response", (("resp_sort", "duration"),)),
         ("withdrawal", (("wd_scale", "log"),)),
         ("patient", (("patient", "S05"),)))


@pytest.fixture(scope="module")
def db():
    return build_in_memory(ROOT / "data" / "demo_cohort")


@pytest.fixture(scope="module")
def figures(db):
    return deck.page_figures(db, CohortFilter(), VIEWS)


@pytest.fixture(scope="module")
def pptx_bytes(db, figures):
    data = deck.build_pptx(db, CohortFilter(), figures, small_cell_k=5, created="2026-01-02")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "lab_meeting_deck.pptx").write_bytes(data)
    return data


def _texts(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


def test_figures_follow_each_pages_view(figures):
    by_page = {f.page: f for f in figures}
    assert list(by_page) == ["Overview", "Patient", "Genomics", "Withdrawal", "Response", "Survival"]
    assert "sorted by TP53" in by_page["Genomics"].title
    assert by_page["Survival"].title == "Survival: Overall survival by TP53"
    assert by_page["Patient"].title.startswith("Patient S05")
    assert "follow-up duration" in by_page["Response"].caption.lower()
    spec = by_page["Withdrawal"].chart.to_dict()
    assert '"type": "log"' in str(spec).replace("'", '"')
    assert by_page["Survival"].n_patients == 32


def test_invalid_view_parameters_fall_back_to_defaults(db):
    bad = (("survival", (("endpoint", "DFS"), ("group", "drop table"))), ("genomics", (("onco_sort", "x"),)))
    figures = deck.page_figures(db, CohortFilter(), bad, pages=("genomics", "survival"))
    assert [f.title for f in figures] == ["Genomics: oncoprint (sorted by " +
                                          deck.genomics.oncoprint_sort_options(db)[0] + ")",
                                          "Survival: Event-free survival"]


def test_empty_filter_gives_no_figures(db):
    assert deck.page_figures(db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",))) == []


def test_deck_has_title_summary_and_one_slide_per_page(pptx_bytes, figures):
    slides = list(Presentation(io.BytesIO(pptx_bytes)).slides)
    assert len(slides) == 2 + len(figures) == 8
    title = _texts(slides[0])
    assert "Synthetic cohort, not patient data" in title and "32 patients" in title
    summary = slides[1]
    assert summary.shapes.title.text == "Cohort summary"
    cells = [c.text for s in summary.shapes if s.has_table for row in s.table.rows for c in row.cells]
    assert "TP53: mutated" in cells
    tp53 = cells[cells.index("TP53: mutated") + 1]
    assert tp53 == "9/19 (47%)"  # evaluable denominator, as published (computed, not typed in analytics)
    assert "<5/32" in cells  # BCR::ABL1 positive is a small cell under k = 5
    for slide, figure in zip(slides[2:], figures):
        text = _texts(slide)
        assert slide.shapes.title.text == figure.title
        assert figure.caption in text
        assert f"n = {figure.n_patients} patients" in text and "filters: no filters" in text
        assert f"data sha256 {data_hash(figure.chart)}" in text and "exported 2026-01-02" in text
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == 1
        pic = pictures[0]  # inside the slide
        assert pic.left >= 0 and pic.top >= 0
        assert pic.left + pic.width <= Presentation(io.BytesIO(pptx_bytes)).slide_width
        assert pic.top + pic.height <= slide.shapes[-1].top  # above the footer


def test_deck_images_are_print_resolution_pngs(pptx_bytes):
    with zipfile.ZipFile(io.BytesIO(pptx_bytes)) as z:
        media = [n for n in z.namelist() if n.startswith("ppt/media/")]
        assert len(media) == 6
        for name in media:
            head = z.read(name)[:24]
            assert head.startswith(b"\x89PNG")
            width = int.from_bytes(head[16:20], "big")
            assert width >= 2000  # 300 ppi, not a screen capture


def test_html_report_is_self_contained_with_svg_footers(db, figures):
    report = deck.build_html(db, CohortFilter(), figures, small_cell_k=5, created="2026-01-02")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "cohort_report.html").write_text(report)
    assert report.count("<svg") >= len(figures)
    assert "<script" not in report.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)  # nothing fetched
    for figure in figures:
        assert figure.title in report.replace("&amp;", "&")
    svgs = re.findall(r"<svg.*?</svg>", report, flags=re.S)
    assert all("data sha256" in svg and "Synthetic cohort, not patient data" in svg for svg in svgs)
    assert "&lt;5/32" in report and "9/19 (47%)" in report


def test_export_files_each_format(figures, db):
    from analytics.figure_export import Provenance, export_figure
    survival = [f for f in figures if f.page == "Survival"][0]
    provenance = Provenance(db.label, db.synthetic, survival.n_patients, "no filters", "2026-01-02")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF")):
        data = export_figure(survival.chart, provenance, fmt)
        (ARTIFACTS / f"survival.{fmt}").write_bytes(data)
        assert magic in data[:200]
    svg = (ARTIFACTS / "survival.svg").read_text()
    assert "n = 32 patients" in svg and "Number at risk" in svg


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


def test_suppressed_deck_has_only_aggregate_figures_without_small_counts(db):
    k = 5
    figures = deck.page_figures(db, CohortFilter(), (("survival", (("group", "tp53_status"),)),),
                                small_cell_k=k)
    assert [f.page for f in figures] == ["Genomics", "Response", "Survival"]
    small = re.compile(r"(?<![<\w./])[1-4]/\d+")
    for figure in figures:
        spec = figure.chart.to_dict()
        for dataset in spec.get("datasets", {}).values():
            for row in dataset:
                for key, value in row.items():
                    assert not (isinstance(value, str) and small.search(value)), (figure.title, key, value)
                    if key in {"at_risk", "n_event", "n_censored", "n", "altered", "not_evaluated"}:
                        assert not (isinstance(value, (int, float)) and 1 <= value < k), (figure.title, key, value)
        assert not small.search(figure.caption)
