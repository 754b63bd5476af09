"""The floor for the browser benchmark: what bare Streamlit costs for a page like ours.

Two pages (so page switches, revisits and filter changes can be timed as in the app), each with
one Altair chart, and a sidebar with as many widgets of the same kinds as the app's cohort
filters (6 multiselects, an age slider, 2 radios, the presentation toggle) and a count line.
No database, no analytics: only Streamlit, Altair and pandas, on the same server config.

    .venv/bin/streamlit run bench/floor/floor_app.py
"""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")

DATA = pd.DataFrame({"day": np.arange(400), "group": np.tile(["F", "M"], 200),
                     "treated": np.tile([True, True, False, True], 100),
                     "value": np.cumsum(np.random.default_rng(0).normal(size=400))})


def sidebar() -> pd.DataFrame:
    with st.sidebar:
        st.header("Filters")
        status = st.empty()
        sex = st.multiselect("Sex", ["F", "M"], key="sex", placeholder="All")
        for name in ("Institution", "BCR::ABL1", "TP53", "Ploidy", "Regimen"):
            st.multiselect(name, ["a", "b", "c"], key=name, placeholder="All")
        low, high = st.slider("Age", 40, 85, (40, 85), key="age")
        treated = st.radio("Treated", ("Any", "Yes", "No"), horizontal=True, key="treated")
        st.radio("HCT", ("Any", "Yes", "No"), horizontal=True, key="hct")
        st.toggle("Presentation mode", key="present")
        shown = DATA[DATA["group"].isin(sex or ["F", "M"]) & DATA["day"].between(low * 4, high * 4 + 60)
                     & (DATA["treated"] == (treated == "Yes") if treated != "Any" else True)]
        status.markdown(f"**{len(shown)} of {len(DATA)} patients**")
    return shown


def show(title: str) -> None:
    st.title(title)
    shown = sidebar()
    st.altair_chart(alt.Chart(shown).mark_line().encode(x="day:Q", y="value:Q", color="group:N"),
                    width="stretch")


def first() -> None:  # pages are told apart by their function's name: one function each
    show("First")


def second() -> None:
    show("Second")


st.navigation([st.Page(first, title="First", url_path="first", default=True),
               st.Page(second, title="Second", url_path="second")]).run()
