"""One chart theme for the whole app: colour-blind-safe palette, fonts legible on a projector.

Chart builders in `analytics` import `PALETTE`/`CATEGORY_COLORS` and call `apply_theme` once
(at import of this module) so every Altair chart shares the same look.
"""
from __future__ import annotations

import threading

import altair as alt

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NOT_EVALUATED_COLOR = "#BDBDBD"   # grey: never confused with a result
NOT_EVALUATED_LINE_COLOR = "#808080"  # the same meaning for lines: darker, to stay visible on white
NEGATIVE_COLOR = "#F2F2F2"        # near white: tested, no alteration
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
BASE_FONT_SIZE = 14

THEME_NAME = "ball_cohort"
PRESENTATION_THEME_NAME = "ball_cohort_presentation"
PRESENTATION_FONT_SIZE = 20  # legible from the back of a seminar room


def _config(font_size: int, *, presentation: bool = False) -> dict:
    """The theme's Vega-Lite config: same palette and greys in both modes; presentation mode
    only scales text, lines and points (patient order and colours stay the same)."""
    config: dict = {
        "font": FONT,
        "view": {"stroke": None, "continuousWidth": 600, "continuousHeight": 320},
        "range": {"category": PALETTE},
        "axis": {"labelFontSize": font_size, "titleFontSize": font_size + 1,
                 "titleFontWeight": "normal", "grid": True, "gridColor": "#EBEBEB"},
        "legend": {"labelFontSize": font_size, "titleFontSize": font_size,
                   "titleFontWeight": "normal", "orient": "bottom"},
        "header": {"labelFontSize": font_size, "titleFontSize": font_size + 1},
        "title": {"fontSize": font_size + 4, "anchor": "start", "fontWeight": "normal"},
        "text": {"fontSize": font_size},
    }
    if presentation:
        config["axis"] |= {"labelColor": "#000000", "titleColor": "#000000", "tickWidth": 1.5,
                           "domainWidth": 1.5}
        config["title"] |= {"subtitleFontSize": font_size - 2}
        config["legend"] |= {"symbolSize": 220, "symbolStrokeWidth": 3, "labelLimit": 360}
        config["line"] = {"strokeWidth": 3.5}
        config["point"] = {"size": 140, "strokeWidth": 2.5}
        config["circle"] = {"size": 140}
        config["square"] = {"size": 140}
        config["rule"] = {"strokeWidth": 2.5}
        config["tick"] = {"thickness": 3}
    return config


# Presentation mode is per session, but Altair's enabled theme is one global for the whole
# server process: switching it would switch every session. So the enabled theme reads a flag
# that is local to the thread running this session's script (`use_presentation`).
_mode = threading.local()


def use_presentation(on: bool) -> None:
    """Draw charts built *in this thread* with the presentation variant (or not)."""
    _mode.presentation = bool(on)


def presenting() -> bool:
    return getattr(_mode, "presentation", False)


@alt.theme.register(THEME_NAME, enable=True)
def _theme() -> alt.theme.ThemeConfig:
    if presenting():
        return {"config": _config(PRESENTATION_FONT_SIZE, presentation=True)}
    return {"config": _config(BASE_FONT_SIZE)}


@alt.theme.register(PRESENTATION_THEME_NAME, enable=False)
def _presentation_theme() -> alt.theme.ThemeConfig:
    """The presentation variant by name (e.g. `with alt.theme.enable(PRESENTATION_THEME_NAME)`)."""
    return {"config": _config(PRESENTATION_FONT_SIZE, presentation=True)}


def apply_theme() -> None:
    """Enable the theme (idempotent; registration above already enables it)."""
    alt.theme.enable(THEME_NAME)


# Font-size keys a chart builder may set explicitly (the theme cannot reach those).
_SIZE_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize")
SMALLEST_SCALED_TEXT = 13  # smaller texts sit inside fixed-size cells (oncoprint VAFs): kept


def _enlarge(node, factor: float, parent_key: str | None = None) -> None:
    """Scale explicit font sizes in place, walking Altair objects (never the data)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _enlarge(item, factor, parent_key)
        return
    if isinstance(node, alt.SchemaBase):
        attrs = node._kwds
    elif isinstance(node, dict):
        attrs = node
    else:
        return
    is_text_mark = parent_key == "mark" and attrs.get("type") == "text"
    glyph = is_text_mark and isinstance(attrs.get("text"), str)  # a constant symbol (hatch, flag)
    for key, value in list(attrs.items()):
        if key in ("data", "datasets", "config"):  # the data; the theme's own sizes
            continue
        if key in _SIZE_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not glyph and not (is_text_mark and value < SMALLEST_SCALED_TEXT):
                attrs[key] = round(value * factor, 1)
        else:
            _enlarge(value, factor, key)


def for_projector(chart: alt.TopLevelMixin, factor: float = PRESENTATION_FONT_SIZE / BASE_FONT_SIZE
                  ) -> alt.TopLevelMixin:
    """The same chart with the font sizes its builder set explicitly (value labels, risk
    tables, titles) scaled like the presentation theme's; in-cell texts and glyphs are kept.

    >>> for_projector(alt.Chart().mark_text(fontSize=14)).to_dict()["mark"]["fontSize"]
    20.0
    >>> for_projector(alt.Chart().mark_text(fontSize=11)).to_dict()["mark"]["fontSize"]  # in a cell
    11
    >>> original = alt.Chart().mark_text(fontSize=15)
    >>> _ = for_projector(original); original.to_dict()["mark"]["fontSize"]  # a copy is enlarged
    15
    """
    enlarged = chart.copy(deep=True)
    _enlarge(enlarged, factor)
    return enlarged
