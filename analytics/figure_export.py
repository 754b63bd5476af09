"""Figures as files that carry their own provenance (PNG at print resolution, SVG, PDF).

Every exported figure gets a footer: the cohort's name (marked synthetic for the demo), the
number of patients, the active filters, a content hash of the data drawn, and the export date.
The figure is stacked above the footer as one Vega-Lite spec, so composite figures (a KM curve
with its number-at-risk table) keep their internal alignment. Conversion uses vl-convert (a
Rust build of Vega shipped inside the PyPI wheel: no browser, no network).

Example
-------
>>> import altair as alt, pandas as pd
>>> chart = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x")
>>> provenance = Provenance("Demo cohort", True, 32, "no filters", "2026-01-01")
>>> svg = export_figure(chart, provenance, "svg").decode()
>>> "Synthetic cohort, not patient data" in svg and "n = 32" in svg
True
"""
from __future__ import annotations

import hashlib
import json
import re
import textwrap
from dataclasses import dataclass
from datetime import date

import altair as alt
import pandas as pd

from analytics.theme import FONT
from analytics.units import patients_text

CAVEAT_COLOR = "#8A4B00"  # dark amber: read as a warning, legible in print and greyscale

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PRINT_PPI = 300  # journals ask for 300 ppi or more for line art with text


@dataclass(frozen=True)
class Provenance:
    """Where a figure's data came from, stated in its footer."""

    cohort_name: str
    synthetic: bool
    n_patients: int
    filters: str
    created: str = ""  # ISO date of the export; today when empty
    caveats: tuple[str, ...] = ()  # the view's warnings: they travel with the figure
    app_version: str = ""  # git commit of the app that drew it
    link: str = ""         # the view's link

    def footer_lines(self, data_hash: str) -> list[str]:
        cohort = (f"Synthetic cohort, not patient data: {self.cohort_name}" if self.synthetic
                  else f"Cohort: {self.cohort_name}")
        version = f" · app {self.app_version}" if self.app_version else ""
        lines = [cohort,
                 f"n = {patients_text(self.n_patients)} · filters: {self.filters}",
                 f"data sha256 {data_hash}{version} · exported {self.created or date.today().isoformat()}"]
        return lines + ([f"view: {self.link}"] if self.link else [])

    def caveat_lines(self, width: int = 110) -> list[str]:
        """The caveats wrapped to lines of at most `width` characters, each opened by "Caution"."""
        lines: list[str] = []
        for caveat in self.caveats:
            lines += textwrap.wrap(f"Caution: {caveat}", width) or [""]
        return lines


def data_hash(chart: alt.TopLevelMixin | dict) -> str:
    """First 12 hex digits of the SHA-256 of the data drawn (inline datasets, canonical JSON).

    `chart` is an Altair chart or its Vega-Lite dict (as `chart.to_dict()` gives it)."""
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    payload = {"datasets": spec.get("datasets", {}), "data": spec.get("data", {})}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _text_block(lines: list[str], color: str, size: int = 11) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"line": lines, "row": range(len(lines))})).mark_text(
        align="left", baseline="top", font=FONT, fontSize=size, color=color, dx=0,
    ).encode(
        text="line:N",
        y=alt.Y("row:O", axis=None),
        x=alt.value(0),
    ).properties(height=int(size * 1.45) * len(lines), width=10)


def with_footer(chart: alt.TopLevelMixin, provenance: Provenance, *, footer: bool = True) -> alt.VConcatChart:
    """The chart as a static figure, stacked above its caveats (if any) and its provenance
    footer (left-aligned small text). `footer=False` keeps the caveats only (a slide has its
    own footer)."""
    parts = [without_hover_hints(chart)]
    caveats = provenance.caveat_lines()
    if caveats:
        parts.append(_text_block(caveats, CAVEAT_COLOR, 12))
    if footer:
        parts.append(_text_block(provenance.footer_lines(data_hash(chart)), "#444444"))
    figure = alt.vconcat(*parts, spacing=14).resolve_scale(color="independent")
    # Legends and axis labels in full: a file cannot show the rest on hover.
    return figure.configure_legend(labelLimit=0, titleLimit=0).configure_axis(labelLimit=0, titleLimit=0)


_HOVER_HINT = re.compile(r"\s*(Hover|Point at)[^.]*\.\s*", re.IGNORECASE)


def _without_hover_hints(value):
    if isinstance(value, str):
        return _HOVER_HINT.sub(" ", value).strip()
    if isinstance(value, list):
        return [_without_hover_hints(v) for v in value]
    return value


def without_hover_hints(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """A copy of the chart whose titles and subtitles do not invite the reader to hover."""
    chart = chart.copy(deep=True)

    def visit(node) -> None:
        title = getattr(node, "title", alt.Undefined)
        if isinstance(title, alt.TitleParams):
            for attribute in ("text", "subtitle"):
                value = getattr(title, attribute, alt.Undefined)
                if value is not alt.Undefined:
                    setattr(title, attribute, _without_hover_hints(value))
        elif isinstance(title, (str, list)):
            node.title = _without_hover_hints(title)
        for attribute in ("layer", "vconcat", "hconcat", "concat"):
            children = getattr(node, attribute, alt.Undefined)
            if isinstance(children, list):
                for child in children:
                    visit(child)
        spec = getattr(node, "spec", alt.Undefined)
        if spec is not alt.Undefined and spec is not None:
            visit(spec)

    visit(chart)
    return chart


def _text_block_spec(lines: list[str], color: str, size: int = 11) -> dict:
    """`_text_block` as a Vega-Lite dict."""
    return {"data": {"values": [{"line": line, "row": i} for i, line in enumerate(lines)]},
            "mark": {"type": "text", "align": "left", "baseline": "top", "font": FONT, "fontSize": size,
                     "color": color, "dx": 0},
            "encoding": {"text": {"field": "line", "type": "nominal"},
                         "y": {"field": "row", "type": "ordinal", "axis": None}, "x": {"value": 0}},
            "height": int(size * 1.45) * len(lines), "width": 10}


def spec_without_hover_hints(node: dict) -> None:
    """`without_hover_hints` on a Vega-Lite dict, in place: view titles and subtitles only."""
    title = node.get("title")
    if isinstance(title, dict):
        for attribute in ("text", "subtitle"):
            if attribute in title:
                title[attribute] = _without_hover_hints(title[attribute])
    elif isinstance(title, (str, list)):
        node["title"] = _without_hover_hints(title)
    for attribute in ("layer", "vconcat", "hconcat", "concat"):
        for child in node.get(attribute) or ():
            if isinstance(child, dict):
                spec_without_hover_hints(child)
    if isinstance(node.get("spec"), dict):
        spec_without_hover_hints(node["spec"])


# Properties that belong to the top level of a Vega-Lite spec, not to a view in a concatenation.
_TOP_LEVEL = ("$schema", "config", "datasets", "autosize", "background", "padding", "usermeta")


def footer_spec(chart: alt.TopLevelMixin | dict, provenance: Provenance, *, footer: bool = True) -> dict:
    """`with_footer(chart, provenance).to_dict()` composed on the Vega-Lite dict: the same figure
    without Altair's deep copies and schema validation of an already built chart (which cost
    more than rendering it). `chart` may be the chart's dict (`chart.to_dict()`)."""
    spec = json.loads(json.dumps(chart if isinstance(chart, dict) else chart.to_dict(validate=False)))
    top = {key: spec.pop(key) for key in _TOP_LEVEL if key in spec}
    variables = [p for p in spec.get("params", []) if "select" not in p]  # top-level only in Vega-Lite
    if variables:
        spec["params"] = [p for p in spec["params"] if "select" in p]
        if not spec["params"]:
            del spec["params"]
        top["params"] = variables
    spec_without_hover_hints(spec)
    parts = [spec]
    caveats = provenance.caveat_lines()
    if caveats:
        parts.append(_text_block_spec(caveats, CAVEAT_COLOR, 12))
    if footer:
        digest = data_hash({"datasets": top.get("datasets", {}), "data": spec.get("data", {})})
        parts.append(_text_block_spec(provenance.footer_lines(digest), "#444444"))
    config = top.setdefault("config", {})
    for section in ("legend", "axis"):  # a file cannot show the rest of a label on hover
        config[section] = {**config.get(section, {}), "labelLimit": 0, "titleLimit": 0}
    return {**top, "vconcat": parts, "spacing": 14, "resolve": {"scale": {"color": "independent"}}}


def export_figure(chart: alt.TopLevelMixin | dict, provenance: Provenance, fmt: str, *, footer: bool = True,
                  ppi: int = PRINT_PPI) -> bytes:
    """The chart (or its Vega-Lite dict) with its caveats and footer as PNG (`ppi`), SVG or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose one of {sorted(FORMATS)}")
    import vl_convert  # here, not at start: a Rust/V8 build only a download needs

    spec = footer_spec(chart, provenance, footer=footer)
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, ppi=ppi)
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    return vl_convert.vegalite_to_pdf(spec)
