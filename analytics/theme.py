"""One chart theme for the whole app: colour-blind-safe palette, fonts legible on a projector.

Chart builders in `analytics` import `PALETTE`/`CATEGORY_COLORS` and call `apply_theme` once
(at import of this module) so every Altair chart shares the same look.
"""
from __future__ import annotations

import altair as alt

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NOT_EVALUATED_COLOR = "#BDBDBD"   # grey: never confused with a result
NEGATIVE_COLOR = "#F2F2F2"        # near white: tested, no alteration
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
BASE_FONT_SIZE = 14

THEME_NAME = "ball_cohort"


@alt.theme.register(THEME_NAME, enable=True)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 600, "continuousHeight": 320},
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": BASE_FONT_SIZE, "titleFontSize": BASE_FONT_SIZE + 1,
                     "titleFontWeight": "normal", "grid": True, "gridColor": "#EBEBEB"},
            "legend": {"labelFontSize": BASE_FONT_SIZE, "titleFontSize": BASE_FONT_SIZE,
                       "titleFontWeight": "normal", "orient": "bottom"},
            "header": {"labelFontSize": BASE_FONT_SIZE, "titleFontSize": BASE_FONT_SIZE + 1},
            "title": {"fontSize": BASE_FONT_SIZE + 4, "anchor": "start", "fontWeight": "normal"},
            "text": {"fontSize": BASE_FONT_SIZE},
        }
    }


def apply_theme() -> None:
    """Enable the theme (idempotent; registration above already enables it)."""
    alt.theme.enable(THEME_NAME)
