"""Entrypoint: page config, the cohort, shared sidebar filters, routing with st.navigation.

Run with `streamlit run streamlit_app.py` (see README for the one-command setup).
"""
import streamlit as st

import analytics.theme  # noqa: F401  (registers and enables the app's chart theme)
from analytics.db import CohortDatabaseError
from ui import access, components, filters, presentation, routing, share_link, state

st.set_page_config(page_title="Lenalidomide-associated B-ALL cohort", page_icon=":material/biotech:",
                   layout="wide",
                   # a link with present=1 opens for the projector: sidebar collapsed
                   initial_sidebar_state=presentation.initial_sidebar_state())
access.gate()  # off by default; when on, nothing below runs for a user not on the allow-list

# Pages live in pages/ but are routed explicitly; st.navigation turns off the legacy
# auto-discovery of that folder (tests/test_navigation.py proves it).
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/groups:", url_path="overview",
            default=True),
    st.Page("pages/patient.py", title="Patient", icon=":material/person:", url_path="patient"),
    st.Page("pages/genomics.py", title="Genomics", icon=":material/genetics:", url_path="genomics"),
    st.Page("pages/withdrawal.py", title="Withdrawal", icon=":material/trending_down:", url_path="withdrawal"),
    st.Page("pages/response.py", title="Response", icon=":material/monitoring:", url_path="response"),
    st.Page("pages/survival.py", title="Survival", icon=":material/timeline:", url_path="survival"),
    st.Page("pages/compare.py", title="Compare with published series", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page("pages/dictionary.py", title="Data dictionary", icon=":material/menu_book:",
            url_path="dictionary"),
    st.Page("pages/share.py", title="Share & present", icon=":material/co_present:", url_path="share"),
    st.Page("pages/upload.py", title="Load a cohort", icon=":material/upload_file:", url_path="upload"),
]

try:
    database, token = state.open_database()
except CohortDatabaseError as error:
    st.error(str(error), icon=":material/database:")
    st.stop()
st.session_state["db_token"] = token

page = st.navigation(PAGES)
try:
    filters.sidebar_filters()
except CohortDatabaseError as error:  # the file broke under the running app (e.g. truncated)
    st.error(str(error), icon=":material/database:")
    st.stop()
presentation.sidebar_toggle()
components.cohort_notice(database)
link = share_link.link_slot()
routing.mark_routed()
st.session_state["_current_page_path"] = page.url_path  # exports name the view they come from
try:
    page.run()
except CohortDatabaseError as error:
    st.error(str(error), icon=":material/database:")
finally:  # also when the page stops early: its options are in the URL by then
    share_link.show_link(link, page.url_path, [p.url_path for p in PAGES])
