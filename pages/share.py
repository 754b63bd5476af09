"""Share & present: the lab-meeting deck (.pptx), a self-contained HTML report, links, hosting.

The deck and the report render each page's own view results (analytics.views) for that page's
last link in this session: what the page showed, with its caveats.
"""
from datetime import date

import streamlit as st

from analytics import cohort, deck, deck_ahead, deck_html
from analytics.disclosure import suppression_note
from analytics.units import patients_text
from analytics.views.registry import pages as registered_pages
from analytics.views.spec import params_mapping
from ui import access, components, share_link, state
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

page_slides = state.cached(deck.page_slides)  # per page: another page's link keeps them

st.title("Share & present")
f = state.current_filter()
n = state.cached(cohort.count_patients)(f)
components.require_patients(n)

public = access.public_mode()
k = access.small_cell_k()
registry = registered_pages()
pages = tuple(p for p in deck.PAGE_ORDER if p in registry and not (public and registry[p].patient_level))
visited = {page for page, _ in share_link.page_views()}
views = deck.deck_views(share_link.page_views(), pages)

st.markdown(
    f"A deck for the lab meeting: a title slide, the headline results, and the current view of each "
    f"page, each with its caption, its caveats and a provenance footer (cohort, n, filters, data "
    f"SHA-256, date); the HTML report holds the same. {patients_text(n)}, filters: {md_escape(f.describe())}.")
st.caption("Each page's view uses that page's options as you last left them in this session (open a "
           "page, set it up, come back here); pages you have not opened use their defaults.")
by_page = dict(views)
results = [r for page in pages for r in page_slides(f, page, by_page.get(page, ()), k)]
in_deck = {r.page for r in results}
rows = []
for page in pages:
    if k > 1 and page not in in_deck:
        continue  # under suppression only pages with an aggregate view that honours it are in the deck
    spec, _ = registry[page].spec.from_params(params_mapping(dict(views).get(page, ())))
    rows.append({"Page": registry[page].title, "View": spec.describe(),
                 "Visited": "yes" if page in visited else "no (defaults)",
                 "Slides": sum(r.page == page for r in results)})
st.dataframe(rows, hide_index=True, width="stretch")
if public:
    st.info("Public deployment: the patient page is left out of the deck.", icon=":material/public:")
if k > 1:
    st.caption(f"Small-cell suppression is on. {suppression_note(k)} The deck holds only aggregate views "
               "that honour it, no patient-level figure.")

db = state.current_database()
base_url = share_link.app_address(("share",))  # the app's address: slides link their views
# Both files are started in the background now (analytics.deck_ahead.built_ahead): a click takes the
# finished file, or waits for the rest of its build.
ahead = (state.current_token(), f, views, pages, k, date.today().isoformat(), base_url)


def build_deck() -> bytes:
    return deck.build_pptx(db, f, results, small_cell_k=k, views=views, base_url=base_url)


def build_report() -> bytes:
    return deck_html.build_html(db, f, results, small_cell_k=k, views=views, base_url=base_url).encode("utf-8")


left, right = st.columns(2)
left.download_button(
    "Build the deck (.pptx)", icon=":material/slideshow:", type="primary", key="share_pptx",
    data=lambda: deck_ahead.ahead_result(("pptx", *ahead), build_deck),
    file_name="lab_meeting_deck.pptx", on_click="ignore",  # no rerun: it would compete with the build
    mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    help="Built in the background when this page opens: ready when you click, or soon after.")
right.download_button(
    "Build the HTML report", icon=":material/html:", key="share_html",
    data=lambda: deck_ahead.ahead_result(("html", *ahead), build_report),
    file_name="cohort_report.html", mime="text/html", on_click="ignore",
    help="One self-contained file (inline SVG figures): open it in any browser, attach it to an e-mail.")
st.caption(f"{len(results)} view slides: " + "; ".join(md_escape(r.title) for r in results))
for result in results:
    if result.caveats:
        st.warning(f"{md_escape(result.title)}: the slide and the report carry its caveats ("
                   + "; ".join(c.heading or "note" for c in result.caveats) + ").", icon=":material/warning:")

st.subheader("Present at a lab meeting")
st.markdown("Switch on **Presentation mode** in the sidebar (or add `present=1` to any link): "
            "larger text, lines and points, the same colours and patient order; a link with "
            "`present=1` opens with the sidebar collapsed.")
deck_ahead.built_ahead(("pptx", *ahead), build_deck)
deck_ahead.built_ahead(("html", *ahead), build_report)
