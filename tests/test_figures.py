"""Figures cached per view (ui.figures): same spec as st.altair_chart, built once per view."""
from __future__ import annotations

import json

import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics import patient
from tests.apptest_helpers import run_page


def _altair_and_cached_script():
    import altair as alt
    import pandas as pd
    import streamlit as st

    from analytics import theme  # noqa: F401  (registers the app theme, as the app does)
    from ui.figures import rendered_spec

    data = pd.DataFrame({"day": [0, 30, 61, 95], "pct": [100.0, 80.5, None, 40.0],
                         "group": ["a", "b", "a", "b"]})
    chart = alt.Chart(data, title="Check").mark_line(point=True).encode(
        x="day:Q", y="pct:Q", color="group:N", tooltip=["day", "pct"])
    st.altair_chart(chart, theme=None, width="content")
    st.vega_lite_chart(spec=rendered_spec(chart), theme=None, width="content")


def _chart_elements(at: AppTest) -> list:
    found = []

    def walk(node):
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else []):
            walk(child)
        if getattr(node, "type", "") in ("arrow_vega_lite_chart", "vega_lite_chart"):
            found.append(node.proto)

    walk(at._tree)
    return found


def test_cached_spec_is_what_st_altair_chart_sends():
    at = AppTest.from_function(_altair_and_cached_script, default_timeout=60)
    at.run()
    assert not at.exception
    via_altair, via_cache = _chart_elements(at)
    assert json.loads(via_altair.spec) == json.loads(via_cache.spec)
    assert [(d.name, d.data.data) for d in via_altair.datasets] == \
        [(d.name, d.data.data) for d in via_cache.datasets]
    assert via_altair.datasets and via_altair.datasets[0].data.data  # the data went as Arrow


def test_timeline_is_built_once_per_view(monkeypatch):
    built = []
    original = patient.timeline_chart

    def counting(*args, **kwargs):
        built.append(kwargs.get("window"))
        return original(*args, **kwargs)

    monkeypatch.setattr(patient, "timeline_chart", counting)
    st.cache_data.clear()
    at = run_page("pages/patient.py", {"patient": "S05"})
    assert not at.exception and len(built) == 1
    at.run()  # a rerun of the same view sends the cached spec
    assert len(built) == 1 and len(_chart_elements(at)) == 1
    at.segmented_control(key="patient.window").set_value("B-ALL course").run()  # a new view is built
    assert not at.exception and built == ["whole history", "B-ALL course"]
    at.segmented_control(key="patient.window").set_value("whole history").run()  # and the first is kept
    assert len(built) == 2


def _font_sizes(spec: dict) -> list:
    sizes = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("datasets", "config"):
                    continue
                if k == "fontSize" and isinstance(v, (int, float)):
                    sizes.append(v)
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    walk(spec)
    return sizes


def test_presentation_mode_is_its_own_cached_view():
    st.cache_data.clear()
    plain = run_page("pages/patient.py", {"patient": "S05"})
    presented = run_page("pages/patient.py", {"patient": "S05", "present": "1"})
    assert not plain.exception and not presented.exception
    plain_spec = json.loads(_chart_elements(plain)[0].spec)
    presented_spec = json.loads(_chart_elements(presented)[0].spec)
    assert max(_font_sizes(presented_spec)) > max(_font_sizes(plain_spec))
    assert presented_spec["config"]["axis"]["labelFontSize"] > plain_spec["config"]["axis"]["labelFontSize"]


def _rebuild_script():
    import streamlit as st

    from analytics import patient
    from analytics.filters import CohortFilter
    from ui import figures, state

    _, st.session_state["db_token"] = state.open_database()
    timeline = figures.cached_figure(patient.timeline_figure)
    figure = timeline(CohortFilter(), "S05", "B-ALL course")
    again = timeline(CohortFilter(), "S05", "B-ALL course")  # from the cache
    st.text(f"{figure.name} {figures.rendered_spec(figure.rebuild()) == figure.spec == again.spec}")


def test_export_rebuilds_the_figure_that_was_shown():
    at = AppTest.from_function(_rebuild_script, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.text[0].value.split() == ["figure", "True"]


def test_a_figure_of_cached_data_computes_the_data_once(monkeypatch):
    from analytics import genomics
    calls = []
    original = genomics.alteration_frequencies

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(genomics, "alteration_frequencies", counting)
    st.cache_data.clear()
    at = run_page("pages/genomics.py")
    assert not at.exception and "9/19" in " ".join(m.value for m in at.metric)
    assert len(calls) == 1  # the table and the figure share one computation
    at.run()
    assert len(calls) == 1 and len(_chart_elements(at)) == 1


def _app_figures(db):
    from analytics import genomics, overview, patient, response, survival
    from analytics.response import flow
    from analytics.survival import chart as survival_chart
    from analytics.filters import CohortFilter
    everyone = CohortFilter()
    return {
        "km (vconcat, layers, CI bands)": survival_chart.km_figure(db, everyone, survival.SurvivalSpec()),
        "oncoprint (concat of layers)": genomics.oncoprint_chart(db, everyone),
        "flow (alluvial layers)": flow.flow_chart(db, everyone),
        "exposure": overview.exposure_chart(db, everyone, "latency_months"),
        "best response": response.best_response_figure(db, everyone),
        "timeline (dates as days, gaps)": patient.timeline_figure(db, everyone, "S05", "whole history"),
    }


def test_rendered_spec_equals_streamlits_own_conversion_on_app_figures(demo_db):
    """The public conversion gives, figure by figure, the spec and Arrow bytes Streamlit's own
    (private) conversion gives, on the app's composite charts, not only a one-layer chart."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as streamlits  # the oracle

    from ui.figures import rendered_spec
    for what, chart in _app_figures(demo_db).items():
        ours, theirs = rendered_spec(chart), streamlits(chart)
        assert ours == theirs, what
        assert ours["datasets"] and all(isinstance(b, bytes) for b in ours["datasets"].values()), what
