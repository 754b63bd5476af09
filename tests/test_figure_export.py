"""Figure export: formats, provenance footer, content hash, and risk tables aligned in the file."""
import re
import struct
import xml.etree.ElementTree as ET
from collections import defaultdict

import altair as alt
import pandas as pd
import pytest

from analytics import survival
from analytics.survival import chart as survival_chart
from analytics.figure_export import Provenance, data_hash, export_figure
from analytics.filters import CohortFilter

PROVENANCE = Provenance("Synthetic reference cohort", True, 32, "TP53: mutated", "2026-11-24")


@pytest.fixture(scope="module")
def km_figure(demo_db):
    spec = survival.SurvivalSpec(endpoint="OS", group="tp53_status")
    counts = survival.km_counts(demo_db, CohortFilter(), spec)
    return survival_chart.km_chart(survival.curves_from_counts(counts), counts, title="OS",
                                   group_title="TP53")


def _absolute_text_positions(svg: str) -> list[tuple[float, float, str]]:
    """(x, y, text) of every <text>, with the translations of all enclosing groups applied."""
    root = ET.fromstring(svg)
    found = []

    def offset(element) -> tuple[float, float]:
        match = re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", element.get("transform", ""))
        return (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)

    def walk(element, x, y):
        dx, dy = offset(element)
        x, y = x + dx, y + dy
        if element.tag.endswith("text") and element.text:
            found.append((round(x, 3), round(y, 3), element.text))
        for child in element:
            walk(child, x, y)

    walk(root, 0.0, 0.0)
    return found


def test_svg_carries_the_footer(km_figure):
    svg = export_figure(km_figure, PROVENANCE, "svg").decode()
    assert "Synthetic cohort, not patient data: Synthetic reference cohort" in svg
    assert "n = 32 patients · filters: TP53: mutated" in svg
    assert f"data sha256 {data_hash(km_figure)} · exported 2026-11-24" in svg
    assert "Number at risk" in svg


def test_risk_table_stays_aligned_with_the_x_ticks_in_the_export(km_figure):
    rows = defaultdict(list)
    for x, y, text in _absolute_text_positions(export_figure(km_figure, PROVENANCE, "svg").decode()):
        if text.strip().isdigit():
            rows[y].append(x)
    # The month tick row and the three number-at-risk rows: same columns, to the pixel.
    columns = [sorted(xs) for xs in rows.values() if len(xs) >= 6]
    assert len(columns) >= 4
    for xs in columns[1:]:
        assert xs == pytest.approx(columns[0], abs=0.5)


def test_png_is_print_resolution(km_figure):
    png = export_figure(km_figure, PROVENANCE, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 2000 and height > 1500  # ~ 300 ppi for a figure a page wide


def test_pdf_is_a_pdf(km_figure):
    assert export_figure(km_figure, PROVENANCE, "pdf")[:5] == b"%PDF-"


def test_unknown_format_is_refused(km_figure):
    with pytest.raises(ValueError, match="unknown figure format"):
        export_figure(km_figure, PROVENANCE, "gif")


def test_hash_follows_the_data_not_the_styling():
    frame = pd.DataFrame({"x": [1, 2, 3]})
    plain = alt.Chart(frame).mark_point().encode(x="x")
    restyled = alt.Chart(frame).mark_point(size=200).encode(x="x").properties(title="other")
    changed = alt.Chart(pd.DataFrame({"x": [1, 2, 4]})).mark_point().encode(x="x")
    assert data_hash(plain) == data_hash(restyled)
    assert data_hash(plain) != data_hash(changed)


def test_real_cohort_footer_does_not_say_synthetic():
    lines = Provenance("Site registry", False, 10, "no filters", "2026-01-01").footer_lines("abc")
    assert lines[0] == "Cohort: Site registry" and "synthetic" not in " ".join(lines).lower()
