"""The sidebar cohort filters, shared by every page and mirrored in the URL."""
from __future__ import annotations

import streamlit as st

from analytics import cohort
from analytics.disclosure import selection_count
from analytics.filters import FILTER_COLUMNS, FILTER_LABELS, NOT_EVALUATED, CohortFilter
from ui import access
from ui.state import FILTER_KEY, cached

ANY, YES, NO = "Any", "Yes", "No"
_WIDGET = "flt_"  # widget keys: flt_<filter field>
_ALL_FIELDS = (*FILTER_COLUMNS, "age", "treated", "hct")
_URL_NOTES = "_filter_url_notes"  # (notes, the filter they were made for)

filter_options = cached(cohort.filter_options)
count_patients = cached(cohort.count_patients)


def _flag(value: str) -> bool | None:
    return None if value == ANY else value == YES


def clamped_age(requested: tuple[int, int] | None, low: int, high: int
                ) -> tuple[tuple[int, int], str | None]:
    """The age slider's value for a range from the URL, clamped to the cohort's [low, high],
    and a note when the link asked for something else (a range outside the cohort is dropped).

    >>> clamped_age((90, 100), 48, 81)
    ((48, 81), 'Age at B-ALL diagnosis 90-100 is outside this cohort (48-81): dropped')
    >>> clamped_age((60, 100), 48, 81)
    ((60, 81), 'Age at B-ALL diagnosis 60-100 clamped to 60-81')
    >>> clamped_age(None, 48, 81), clamped_age((50, 60), 48, 81)
    (((48, 81), None), ((50, 60), None))
    """
    if requested is None:
        return (low, high), None
    start, end = requested
    label = FILTER_LABELS["age"]
    if end < low or start > high:
        return (low, high), f"{label} {start}-{end} is outside this cohort ({low}-{high}): dropped"
    value = (max(low, start), min(high, end))
    return value, (None if value == (start, end) else
                   f"{label} {start}-{end} clamped to {value[0]}-{value[1]}")


def age_bounds(cohort_range: tuple[int, int], k: int) -> tuple[int, int]:
    """The age slider's ends: the cohort's youngest and oldest ages, widened to multiples of 5
    under small-cell suppression (the ends would otherwise be two patients' exact ages).

    >>> age_bounds((48, 81), 5), age_bounds((48, 81), 0)
    ((45, 85), (48, 81))
    """
    low, high = cohort_range
    if k > 1:
        return low // 5 * 5, -(-high // 5) * 5
    return low, high


def live_count_text(n: int, total: int, k: int) -> str:
    """The sidebar's "n of total patients", with counts under k (and zero, which would tell a
    withheld selection from an empty one) shown as "<k" under small-cell suppression.

    >>> live_count_text(1, 32, 5), live_count_text(0, 32, 5), live_count_text(7, 32, 5), live_count_text(1, 32, 0)
    ('<5 of 32 patients', '<5 of 32 patients', '7 of 32 patients', '1 of 32 patients')
    """
    return f"{selection_count(n, k)} of {selection_count(total, k)} patients"


def dropped_query_string() -> str | None:
    """Why the link's query string was ignored as a whole, or None.

    Streamlit drops a query string of more than 1,000 parameters or 512 Ki characters
    entirely (a denial-of-service guard), before the app sees any of it; the raw string is
    still on the script run context, so the user can at least be told."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
        from streamlit.runtime.state.query_params import (
            CLIENT_STATE_QUERY_STRING_MAX_FIELDS, sanitize_query_string)
    except ImportError:  # private API moved: nothing to report rather than an error
        return None
    ctx = get_script_run_ctx()
    raw = getattr(ctx, "query_string", "") or ""
    if not raw or sanitize_query_string(raw):
        return None
    return (f"the whole link ({raw.count('&') + 1:,} parameters, {len(raw):,} characters; Streamlit "
            f"ignores a link of more than {CLIENT_STATE_QUERY_STRING_MAX_FIELDS:,} parameters or "
            "512 Ki characters)")


def sidebar_filters() -> CohortFilter:
    """Render the filters, keep the URL in step, store and return the active filter."""
    options = filter_options()
    url_filter = CohortFilter.from_query_params(st.query_params.to_dict() | {
        k: st.query_params.get_all(k) for k in FILTER_COLUMNS if k in st.query_params})
    # Seed the widgets from the URL on a session's first run, and again whenever Streamlit has
    # dropped their state (st.switch_page clears widget state; the URL carries the filters).
    ignored: list[str] = []
    if any(_WIDGET + name not in st.session_state for name in _ALL_FIELDS):
        dropped = dropped_query_string()
        if dropped:
            ignored.append(dropped)
        for name in FILTER_COLUMNS:
            chosen = [v for v in getattr(url_filter, name) if v in options[name]]
            unknown = [v for v in getattr(url_filter, name) if v not in options[name]]
            if unknown:
                ignored.append(f"{FILTER_LABELS[name]}: {len(unknown)} value(s) not in this cohort")
            st.session_state[_WIDGET + name] = chosen
        low, high = age_bounds(options["age"], access.small_cell_k())
        st.session_state[_WIDGET + "age"], note = clamped_age(url_filter.age, low, high)
        if note:
            ignored.append(note)
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
        low, high = age_bounds(options["age"], access.small_cell_k())
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
        status.markdown(f"**{live_count_text(n, total, access.small_cell_k())}**")
        if ignored:  # values a link gave that this cohort cannot show: said, never an error
            st.session_state[_URL_NOTES] = (tuple(ignored), active)
        notes = st.session_state.get(_URL_NOTES)
        if notes and notes[1] == active:  # until the user changes the filters
            st.caption("From the link, not applied: " + "; ".join(notes[0]) + ".")
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
