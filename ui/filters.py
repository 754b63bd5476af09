"""The sidebar cohort filters, shared by every page and mirrored in the URL."""
from __future__ import annotations

import streamlit as st

from analytics import cohort
from analytics.filters import FILTER_COLUMNS, FILTER_LABELS, NOT_EVALUATED, CohortFilter
from ui.state import FILTER_KEY, cached

ANY, YES, NO = "Any", "Yes", "No"
_WIDGET = "flt_"  # widget keys: flt_<filter field>
_ALL_FIELDS = (*FILTER_COLUMNS, "age", "treated", "hct")

filter_options = cached(cohort.filter_options)
count_patients = cached(cohort.count_patients)


def _flag(value: str) -> bool | None:
    return None if value == ANY else value == YES


def sidebar_filters() -> CohortFilter:
    """Render the filters, keep the URL in step, store and return the active filter."""
    options = filter_options()
    url_filter = CohortFilter.from_query_params(st.query_params.to_dict() | {
        k: st.query_params.get_all(k) for k in FILTER_COLUMNS if k in st.query_params})
    # Seed the widgets from the URL on a session's first run, and again whenever Streamlit has
    # dropped their state (st.switch_page clears widget state; the URL carries the filters).
    if any(_WIDGET + name not in st.session_state for name in _ALL_FIELDS):
        for name in FILTER_COLUMNS:
            chosen = [v for v in getattr(url_filter, name) if v in options[name]]
            st.session_state[_WIDGET + name] = chosen
        low, high = options["age"]
        if url_filter.age is not None:
            st.session_state[_WIDGET + "age"] = (max(low, url_filter.age[0]), min(high, url_filter.age[1]))
        else:
            st.session_state[_WIDGET + "age"] = (low, high)
        for name in ("treated", "hct"):
            flag = getattr(url_filter, name)
            st.session_state[_WIDGET + name] = ANY if flag is None else (YES if flag else NO)

    with st.sidebar:
        st.header("Cohort filters")
        status = st.empty()
        kwargs: dict = {}
        for name in ("institution", "sex"):
            kwargs[name] = tuple(st.multiselect(FILTER_LABELS[name], options[name], key=_WIDGET + name,
                                                placeholder="All"))
        low, high = options["age"]
        if low < high:
            age = st.slider(FILTER_LABELS["age"], low, high, key=_WIDGET + "age")  # seeded as a range
            kwargs["age"] = None if tuple(age) == (low, high) else tuple(int(a) for a in age)
        for name in ("bcr_abl1", "tp53", "ploidy"):
            kwargs[name] = tuple(st.multiselect(FILTER_LABELS[name], options[name], key=_WIDGET + name,
                                                placeholder="All",
                                                help=f"'{NOT_EVALUATED}' selects patients never tested."))
        kwargs["treated"] = _flag(st.radio(FILTER_LABELS["treated"], (ANY, YES, NO), horizontal=True,
                                           key=_WIDGET + "treated"))
        kwargs["regimen"] = tuple(st.multiselect(FILTER_LABELS["regimen"], options["regimen"],
                                                 key=_WIDGET + "regimen", placeholder="All"))
        kwargs["hct"] = _flag(st.radio(FILTER_LABELS["hct"], (ANY, YES, NO), horizontal=True,
                                       key=_WIDGET + "hct"))
        active = CohortFilter(**kwargs)
        n, total = count_patients(active), count_patients(CohortFilter())
        status.markdown(f"**{n} of {total} patients**")
        if not active.is_empty() and st.button("Clear filters", width="stretch"):
            for key in [k for k in st.query_params if k in _ALL_FIELDS]:
                del st.query_params[key]
            for key in [k for k in st.session_state if str(k).startswith(_WIDGET)]:
                del st.session_state[key]  # re-seeded from the (now filter-free) URL
            st.rerun()

    # Mirror the filter in the URL (page switches clear query parameters).
    for key in _ALL_FIELDS:
        if key in st.query_params:
            del st.query_params[key]
    for key, value in active.to_query_params().items():
        st.query_params[key] = value
    st.session_state[FILTER_KEY] = active
    return active
