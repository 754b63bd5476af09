"""The HTML report: the deck's content (analytics.deck) as one self-contained HTML file."""
from __future__ import annotations

import html
from datetime import date

from analytics import theme
from analytics.db import CohortDatabase
from analytics.deck import (Views, data_hash_of_table, deck_provenance, deck_title, survival_spec,
                            view_link)
from analytics.disclosure import suppression_note
from analytics.figure_export import data_hash, export_figure
from analytics.filters import CohortFilter
from analytics.views.headline import headline
from analytics.views.result import ViewResult


def build_html(db: CohortDatabase, cohort_filter: CohortFilter, results: list[ViewResult], *,
               small_cell_k: int = 0, created: str = "", views: Views = (), base_url: str = "") -> str:
    """The same content as one self-contained HTML file: inline SVG figures (with their caveats
    and footers), no scripts, no external resources."""
    created = created or date.today().isoformat()
    title_text, subtitle = deck_title(db, cohort_filter)
    top_line = headline(db, cohort_filter, survival_spec(views), small_cell_k)
    rows = "\n".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                     for a, b in top_line.tables["rows"].itertuples(index=False))
    sections = []
    for result in results:
        caveats = tuple(result.caveat_sentences())
        provenance = deck_provenance(db, cohort_filter, result.n_patients, created, caveats,
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

