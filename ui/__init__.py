"""Streamlit-side helpers shared by the entrypoint and pages (widgets, URL state, caching).

Everything here is presentation glue; statistics and SQL live in `analytics/`.
"""
