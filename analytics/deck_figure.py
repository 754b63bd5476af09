"""Text and figures at a slide's size: text boxes measured with the deck's font, and each
figure fitted to its box with its smallest text legible at 100% zoom (analytics.deck lays out
the slides with these)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from analytics import theme
from analytics.figure_export import spec_without_hover_hints
from analytics.views.result import ViewResult

MIN_FIGURE_PT = 14   # the smallest text of a figure on the slide at 100% zoom

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


def _svg(spec: dict) -> tuple[str, float, float]:
    """The figure rendered as SVG, and its width and height in Vega pixels."""
    import vl_convert  # here, not at start: only the deck and exports render files
    svg = vl_convert.vegalite_to_svg(spec)
    match = re.search(r'<svg[^>]*width="([\d.]+)"[^>]*height="([\d.]+)"', svg)
    return svg, float(match.group(1)), float(match.group(2))


@dataclass(frozen=True)
class SlideFigure:
    """A figure fitted to a box: its Vega-Lite spec (JSON), its size on the slide (inches), the
    smallest text on the slide in points and the SVG the fitting rendered; `png()` rasterises that
    SVG (the same pixels as rendering the spec to PNG, without running Vega again)."""

    spec: str
    width_in: float
    height_in: float
    smallest_pt: float
    svg: str = field(default="", repr=False, compare=False)

    def png(self) -> bytes:
        return _png(self.svg)


SLIDE_PPI = 150  # 12.5 in at 150 ppi is 1,875 px: sharp on a 1080p projector, quick to render


@lru_cache(maxsize=32)  # a deck built twice with the same views rasterises each figure once
def _png(svg: str) -> bytes:
    import vl_convert
    return vl_convert.svg_to_png(svg, ppi=SLIDE_PPI)


def slide_spec(result: ViewResult) -> str:
    """The result's figure as a slide shows it (JSON): projector text sizes, no title (the
    slide has it), no hover hints (caveats and footer are slide text)."""
    chart = theme.for_projector(result.figure)
    chart.title = ""
    spec = chart.to_dict(validate=False)  # validated when built
    spec_without_hover_hints(spec)
    return json.dumps(spec, sort_keys=True)


@lru_cache(maxsize=32)
def _natural(spec: str) -> tuple[str, float, float]:
    return _svg(json.loads(spec))


@lru_cache(maxsize=64)
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
    # Measured as drawn (explicit widths), once per figure whatever the layout.
    svg, width, height = _natural(json.dumps(fitted, sort_keys=True))
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
        svg, width, height = _svg(fitted)
    scale = min(box_w * 72 / width, box_h * 72 / height, 1.3)
    return SlideFigure(json.dumps(fitted, sort_keys=True), width * scale / 72, height * scale / 72,
                       smallest_px * scale, svg)
