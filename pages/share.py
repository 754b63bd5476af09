"""Share & present: the lab-meeting deck (.pptx), a self-contained HTML report, links, hosting."""
import streamlit as st

from analytics.units import patients_text
from analytics import cohort, deck
from ui import access, components, share_link, state
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

page_figures = state.cached(deck.page_figures)
count_patients = state.cached(cohort.count_patients)

st.title("Share & present")
f = state.current_filter()
n = count_patients(f)
components.require_patients(n)

public = access.public_mode()
k = access.small_cell_k()
pages = tuple(p for p in deck.PAGE_ORDER if not (public and p in deck.PATIENT_LEVEL_PAGES)
              and (k <= 1 or p in deck.SUPPRESSED_BUILDERS))  # the deck holds only these then
views = share_link.page_views()
visited = {page for page, _ in views}

st.markdown(
    f"A deck for the lab meeting: a title slide, the cohort summary (Table 1, key rows) and the "
    f"current figure of each page, each with its caption and a provenance footer (cohort, n, "
    f"filters, data SHA-256, date). **{patients_text(n)}**, filters: {md_escape(f.describe())}.")
st.caption("Each page's figure uses that page's options as you last left them in this session "
           "(open a page, set it up, come back here); pages you have not opened use their "
           "defaults. The figures use the larger presentation style.")
rows = []
for page in pages:
    params = dict(views).get(page, ())
    options = ", ".join(f"{key}={value}" for key, value in params
                        if key not in {"present", *f.to_query_params()}) or "defaults"
    rows.append({"Page": page.capitalize(), "View": options,
                 "Visited": "yes" if page in visited else "no (defaults)"})
st.dataframe(rows, hide_index=True, width="stretch")
if public:
    st.info("Public deployment: the patient page is left out of the deck.", icon=":material/public:")
if k > 1:
    st.caption(f"Small-cell suppression is on: counts below {k} are shown as <{k}; the deck holds "
               "only aggregate figures that honour it (frequencies, best response, Kaplan-Meier with "
               f"groups of {k} or more), no patient-level figure.")

figures = page_figures(f, views, pages, k)
db = state.current_database()
left, right = st.columns(2)
left.download_button(
    "Build the deck (.pptx)", icon=":material/slideshow:", type="primary", key="share_pptx",
    data=lambda: deck.build_pptx(db, f, figures, small_cell_k=k),
    file_name="lab_meeting_deck.pptx",
    mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    help="Rendered when you click (about half a minute for six figures at 300 ppi).")
right.download_button(
    "Build the HTML report", icon=":material/html:", key="share_html",
    data=lambda: deck.build_html(db, f, figures, small_cell_k=k).encode("utf-8"),
    file_name="cohort_report.html", mime="text/html",
    help="One self-contained file (inline SVG figures): open it in any browser, attach it to an e-mail.")
st.caption(f"{len(figures)} figure slides: " + ", ".join(fig.title for fig in figures))

st.subheader("Present at a lab meeting")
st.markdown("Switch on **Presentation mode** in the sidebar (or add `present=1` to any link): "
            "larger text, lines and points, the same colours and patient order; a link with "
            "`present=1` opens with the sidebar collapsed.")
